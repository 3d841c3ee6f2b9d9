"""A stdlib ``sqlite3`` connection owned by one thread, driven from async code.

    conn = await Connection.open(path, isolation_level=None)
    rows = await conn.run(lambda c: c.execute("SELECT 1").fetchall())
    await conn.close()

``run(fn, *args)`` queues ``fn(sqlite3_connection, *args)`` on the connection's thread and
awaits its result: a whole statement (execute and fetch) costs one thread round trip. Calls run
one at a time in the order they were made. An exception raised by ``fn`` reaches the caller as
is (``sqlite3.IntegrityError`` stays one). A caller cancelled while waiting stops waiting; the
call still runs to its end on the thread and its result is dropped, so the next call finds the
connection as that call left it, never half-way through it.

Works on asyncio and trio: the thread wakes the waiting task through the event loop's
thread-safe scheduling (``loop.call_soon_threadsafe`` / ``TrioToken.run_sync_soon``). A
connection is used from the event loop (the backend) that opened it.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import weakref
from collections.abc import Callable
from functools import partial
from pathlib import Path
from queue import SimpleQueue
from typing import Any, Generic, Protocol, TypeVar, TypeVarTuple, Unpack, cast

import anyio
import anyio.lowlevel

__all__ = ["Connection"]

T = TypeVar("T")
Ts = TypeVarTuple("Ts")


class _TrioToken(Protocol):
    def run_sync_soon(self, sync_fn: Callable[[], object]) -> None: ...


class _Job(Generic[T]):
    __slots__ = ("fn", "args", "notify", "result", "error")

    def __init__(self, fn: Callable[..., T], args: tuple[Any, ...]) -> None:
        self.fn = fn
        self.args = args
        self.notify: Callable[[], object] | None = None
        self.result: T | None = None
        self.error: BaseException | None = None

    def run(self, *conn: sqlite3.Connection) -> None:
        """On the connection's thread (the opening job, which makes the connection, gets none)."""
        try:
            self.result = self.fn(*conn, *self.args)
        except BaseException as exc:
            self.error = exc
        if self.notify is not None:
            try:
                self.notify()
            except RuntimeError:
                pass  # the event loop is closed: nobody is waiting any more

    def outcome(self) -> T:
        if self.error is not None:
            error, self.error = self.error, None
            try:
                raise error
            finally:
                del error  # no cycle through the traceback
        return self.result  # type: ignore[return-value]


def _wake(fut: asyncio.Future[None]) -> None:
    if not fut.done():  # a cancelled waiter's future is done already
        fut.set_result(None)


async def _await(job: _Job[Any], submit: Callable[[_Job[Any]], object], on_asyncio: bool) -> None:
    """Hand `job` to the thread and wait until it has run. On asyncio a bare future is the cheapest wake-up
    (a few microseconds per call less than an `anyio.Event`); elsewhere (trio) an `anyio.Event`
    set through the event loop's token."""
    if on_asyncio:
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        job.notify = partial(loop.call_soon_threadsafe, _wake, fut)
        submit(job)
        await fut
    else:
        token = cast(_TrioToken, anyio.lowlevel.current_token().native_token)
        done = anyio.Event()
        job.notify = partial(token.run_sync_soon, done.set)
        submit(job)
        await done.wait()


def _close(conn: sqlite3.Connection) -> None:
    conn.close()


def _serve(opening: _Job[sqlite3.Connection], jobs: SimpleQueue[_Job[Any]]) -> None:
    """The connection's thread: connect, then run jobs in order until ``_close``."""
    opening.run()
    conn = opening.result
    if conn is None:
        return
    while True:
        job = jobs.get()
        job.run(conn)
        if job.fn is _close:
            return


def _on_asyncio() -> bool:
    return isinstance(anyio.lowlevel.current_token().native_token, asyncio.AbstractEventLoop)


class Connection:
    """One ``sqlite3.Connection`` on its own thread. Open with ``await Connection.open(...)``;
    ``await close()`` when done (a connection dropped unclosed is closed by its thread)."""

    def __init__(self, jobs: SimpleQueue[_Job[Any]], thread: threading.Thread) -> None:
        self._jobs = jobs
        self._thread = thread
        self._on_asyncio = _on_asyncio()
        self._closed = False
        self._finalizer = weakref.finalize(self, jobs.put, _Job(_close, ()))

    @classmethod
    async def open(cls, database: str | Path, **connect_kwargs: Any) -> Connection:
        """``sqlite3.connect(database, **connect_kwargs)`` on a new thread."""
        jobs: SimpleQueue[_Job[Any]] = SimpleQueue()
        opening = _Job(partial(sqlite3.connect, database, **connect_kwargs), ())
        thread = threading.Thread(
            target=_serve, args=(opening, jobs), name=f"sqlite {database}", daemon=True
        )
        # Connecting is short and cannot be stopped half-way: wait for it whole, so that a
        # cancelled open leaves no thread behind (the caller's next await raises instead).
        with anyio.CancelScope(shield=True):
            await _await(opening, lambda _: thread.start(), _on_asyncio())
        if opening.error is not None:
            thread.join()
            opening.outcome()
        return cls(jobs, thread)

    async def run(self, fn: Callable[[sqlite3.Connection, Unpack[Ts]], T], *args: *Ts) -> T:
        """``fn(connection, *args)`` on the connection's thread, after every earlier call."""
        if self._closed:
            raise sqlite3.ProgrammingError("Cannot operate on a closed database.")
        job = _Job(fn, args)
        await _await(job, self._jobs.put, self._on_asyncio)
        return job.outcome()

    async def close(self) -> None:
        """Run the calls already queued, close the connection and join its thread. Idempotent;
        finishes even if the caller is cancelled meanwhile."""
        if self._closed:
            return
        self._closed = True
        self._finalizer.detach()
        job = _Job(_close, ())
        with anyio.CancelScope(shield=True):
            await _await(job, self._jobs.put, self._on_asyncio)
        self._thread.join()
        job.outcome()
