"""The connection adapter: one thread per sqlite3 connection, calls in order, asyncio and trio."""

import gc
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import pytest

from clash.store.connection import Connection

pytestmark = pytest.mark.anyio


@pytest.fixture
async def conn(tmp_path: Path, anyio_backend: str) -> AsyncIterator[Connection]:
    conn = await Connection.open(tmp_path / "c.db", isolation_level=None)
    await conn.run(lambda c: c.execute("CREATE TABLE t (x INTEGER PRIMARY KEY)").close())
    yield conn
    await conn.close()


def threads_of(path: Path) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == f"sqlite {path}"]


def thread_of(path: Path) -> threading.Thread:
    (thread,) = threads_of(path)
    return thread


def insert(c: sqlite3.Connection, x: int) -> int | None:
    return c.execute("INSERT INTO t (x) VALUES (?)", (x,)).lastrowid


def xs(c: sqlite3.Connection) -> list[int]:
    return [x for (x,) in c.execute("SELECT x FROM t ORDER BY x")]


def slow_insert(c: sqlite3.Connection, x: int) -> int | None:
    time.sleep(0.2)
    return insert(c, x)


async def test_calls_run_on_the_connection_thread_and_return_results(
    conn: Connection, tmp_path: Path
) -> None:
    assert await conn.run(insert, 7) == 7
    assert await conn.run(xs) == [7]
    assert await conn.run(lambda c: threading.current_thread()) is thread_of(tmp_path / "c.db")


async def test_calls_run_in_the_order_they_were_made(conn: Connection) -> None:
    made: list[int] = []
    ran: list[int] = []

    async def call(i: int) -> None:
        made.append(i)  # nothing awaits between this line and the call being queued
        await conn.run(lambda c: ran.append(i))

    async with anyio.create_task_group() as tg:
        for i in range(200):
            tg.start_soon(call, i)
    assert ran == made
    assert sorted(made) == list(range(200))


async def test_a_later_call_waits_for_a_slow_earlier_one(conn: Connection) -> None:
    async with anyio.create_task_group() as tg:
        tg.start_soon(conn.run, slow_insert, 1)
        await anyio.sleep(0.05)  # the slow insert is running on the thread
        assert await conn.run(xs) == [1]


async def test_errors_propagate_with_their_sqlite3_type(conn: Connection) -> None:
    await conn.run(insert, 1)
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        await conn.run(insert, 1)
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        await conn.run(lambda c: c.execute("SELECT * FROM nope"))

    def boom(c: sqlite3.Connection) -> None:
        raise LookupError("from the thread")

    with pytest.raises(LookupError, match="from the thread"):
        await conn.run(boom)
    assert await conn.run(insert, 2) == 2  # the connection goes on
    assert await conn.run(xs) == [1, 2]


async def test_a_cancelled_caller_does_not_shift_results_onto_the_next(conn: Connection) -> None:
    with anyio.move_on_after(0.05) as scope:
        await conn.run(slow_insert, 1)
    assert scope.cancelled_caught
    # The cancelled call still ran to its end; the next caller gets its own answer, not that one.
    assert await conn.run(lambda c: c.execute("SELECT 'mine'").fetchone()) == ("mine",)
    assert await conn.run(xs) == [1]
    assert await conn.run(lambda c: c.in_transaction) is False


async def test_a_cancelled_caller_inside_a_transaction_can_roll_it_back(conn: Connection) -> None:
    await conn.run(lambda c: c.execute("BEGIN IMMEDIATE").close())
    with anyio.move_on_after(0.05):
        await conn.run(slow_insert, 1)
    with anyio.CancelScope(shield=True):
        await conn.run(lambda c: c.rollback())
    assert await conn.run(xs) == []
    assert await conn.run(insert, 2) == 2


async def test_close_finishes_queued_calls_then_joins_the_thread(
    tmp_path: Path, anyio_backend: str
) -> None:
    path = tmp_path / "closing.db"
    conn = await Connection.open(path, isolation_level=None)
    await conn.run(lambda c: c.execute("CREATE TABLE t (x INTEGER PRIMARY KEY)").close())
    thread = thread_of(path)
    async with anyio.create_task_group() as tg:
        tg.start_soon(conn.run, slow_insert, 5)
        await anyio.sleep(0.05)
        await conn.close()
    assert not thread.is_alive()
    with sqlite3.connect(path) as check:
        assert check.execute("SELECT x FROM t").fetchall() == [(5,)]
    with pytest.raises(sqlite3.ProgrammingError):
        await conn.run(xs)
    await conn.close()  # idempotent


async def test_close_completes_even_when_the_closer_is_cancelled(
    conn: Connection, tmp_path: Path
) -> None:
    thread = thread_of(tmp_path / "c.db")
    async with anyio.create_task_group() as tg:
        tg.start_soon(conn.run, slow_insert, 1)
        await anyio.sleep(0.05)
        with anyio.CancelScope() as scope:
            scope.cancel()
            await conn.close()
        assert not thread.is_alive()  # close waited for the slow call, then for the thread
    with sqlite3.connect(tmp_path / "c.db") as check:
        assert check.execute("SELECT x FROM t").fetchall() == [(1,)]


async def test_open_failure_raises_the_sqlite3_error_and_leaves_no_thread(
    tmp_path: Path, anyio_backend: str
) -> None:
    path = tmp_path / "missing" / "folder" / "x.db"
    with pytest.raises(sqlite3.OperationalError, match="unable to open"):
        await Connection.open(path)
    assert threads_of(path) == []


async def test_a_connection_dropped_unclosed_ends_its_thread(
    tmp_path: Path, anyio_backend: str
) -> None:
    conn = await Connection.open(tmp_path / "c.db")
    thread = thread_of(tmp_path / "c.db")
    del conn
    gc.collect()
    thread.join(timeout=5)
    assert not thread.is_alive()
