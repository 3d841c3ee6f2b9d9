import sqlite3
from pathlib import Path

import anyio
import anyio.lowlevel
import pytest

from clash.store import CheckReport, Database, Reader, Result

pytestmark = pytest.mark.anyio


class Boom(Exception):
    pass


async def make_table(db: Database, ddl: str = "CREATE TABLE t (x INTEGER)") -> None:
    async with db.transaction() as tx:
        await tx.execute(ddl)


async def xs(db: Database) -> list[int]:
    async with db.read() as r:
        return [x for (x,) in await r.fetchall("SELECT x FROM t ORDER BY x")]


async def test_open_creates_folders_and_sets_pragmas(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "clash.db"
    async with await Database.open(path) as db:
        async with db.transaction() as tx:
            assert await tx.fetchval("PRAGMA journal_mode") == "wal"
            assert await tx.fetchval("PRAGMA synchronous") == 1  # NORMAL
            assert await tx.fetchval("PRAGMA foreign_keys") == 1
        async with db.read() as r:
            assert await r.fetchval("PRAGMA foreign_keys") == 1
    assert path.is_file()


async def test_open_refuses_a_database_without_wal(anyio_backend: str) -> None:
    with pytest.raises(ValueError, match="WAL"):
        await Database.open(":memory:")


async def test_session_methods(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, x INTEGER)")
        assert await tx.execute("INSERT INTO t (x) VALUES (?)", (10,)) == Result(1, 1)
        many = await tx.executemany("INSERT INTO t (x) VALUES (?)", [(20,), (30,)])
        assert many.rowcount == 2
        assert (
            await tx.execute("UPDATE t SET x = x + 1 WHERE x > :min", {"min": 15})
        ).rowcount == 2

    async with db.read() as r:
        assert await r.fetchone("SELECT id, x FROM t WHERE x = ?", (10,)) == (1, 10)
        assert await r.fetchone("SELECT id FROM t WHERE x = 0") is None
        assert await r.fetchall("SELECT id, x FROM t ORDER BY id") == [(1, 10), (2, 21), (3, 31)]
        assert await r.fetchall("SELECT id FROM t WHERE x = 0") == []
        assert await r.fetchval("SELECT sum(x) FROM t") == 62
        assert await r.fetchval("SELECT x FROM t WHERE id = 99") is None


async def test_failing_transaction_rolls_back_completely(db: Database) -> None:
    await make_table(db)
    with pytest.raises(Boom):
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO t VALUES (1)")
            await tx.execute("CREATE TABLE other (y)")
            raise Boom
    assert await xs(db) == []
    async with db.read() as r:
        assert await r.fetchval("SELECT name FROM sqlite_master WHERE name = 'other'") is None

    async with db.transaction() as tx:  # the writer is usable again
        await tx.execute("INSERT INTO t VALUES (2)")
    assert await xs(db) == [2]


async def test_failing_statement_rolls_back_the_whole_transaction(db: Database) -> None:
    await make_table(db, "CREATE TABLE t (x INTEGER UNIQUE)")
    with pytest.raises(sqlite3.IntegrityError):
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO t VALUES (1)")
            await tx.execute("INSERT INTO t VALUES (1)")
    assert await xs(db) == []


async def test_cancelled_transaction_rolls_back(db: Database) -> None:
    await make_table(db)
    with anyio.CancelScope() as scope:
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO t VALUES (1)")
            scope.cancel()
            await anyio.sleep(1)
    assert scope.cancelled_caught
    assert await xs(db) == []
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO t VALUES (2)")
    assert await xs(db) == [2]


async def test_foreign_keys_are_enforced(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
        await tx.execute("CREATE TABLE child (parent_id INTEGER REFERENCES parent (id))")
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO child VALUES (7)")


async def test_concurrent_transactions_serialise(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.execute("CREATE TABLE counter (n INTEGER NOT NULL)")
        await tx.execute("INSERT INTO counter VALUES (0)")

    async def bump(times: int) -> None:
        for _ in range(times):
            async with db.transaction() as tx:
                n = await tx.fetchval("SELECT n FROM counter")
                await anyio.lowlevel.checkpoint()  # let every other task try to get in here
                await tx.execute("UPDATE counter SET n = ?", (n + 1,))

    async def read(times: int) -> None:
        for _ in range(times):
            async with db.read() as r:
                await r.fetchval("SELECT n FROM counter")

    async with anyio.create_task_group() as tg:
        for _ in range(20):
            tg.start_soon(bump, 10)
        for _ in range(8):
            tg.start_soon(read, 20)

    async with db.read() as r:
        assert await r.fetchval("SELECT n FROM counter") == 200


async def test_readers_see_committed_data_while_a_writer_is_busy(db: Database) -> None:
    await make_table(db)
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO t VALUES (1)")

    inside, release = anyio.Event(), anyio.Event()

    async def slow_writer() -> None:
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO t VALUES (2)")
            inside.set()
            await release.wait()

    async with anyio.create_task_group() as tg:
        tg.start_soon(slow_writer)
        await inside.wait()
        with anyio.fail_after(2):
            assert await xs(db) == [1]
        release.set()
    assert await xs(db) == [1, 2]


async def test_a_read_block_is_one_snapshot(db: Database) -> None:
    await make_table(db)
    async with db.read() as r:
        assert await r.fetchval("SELECT count(*) FROM t") == 0
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO t VALUES (1)")
        assert await r.fetchval("SELECT count(*) FROM t") == 0
    assert await xs(db) == [1]


async def test_readers_cannot_write(db: Database) -> None:
    await make_table(db)
    async with db.read() as r:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            await r.execute("INSERT INTO t VALUES (1)")


async def test_a_session_is_dead_after_its_block(db: Database) -> None:
    async with db.transaction() as tx:
        pass
    with pytest.raises(RuntimeError, match="after its block"):
        await tx.fetchval("SELECT 1")
    async with db.read() as r:
        pass
    with pytest.raises(RuntimeError, match="after its block"):
        await r.fetchval("SELECT 1")


async def test_transactions_do_not_nest(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.transaction():
            async with db.transaction():
                pass


async def test_a_closed_database_refuses_work(tmp_path: Path, anyio_backend: str) -> None:
    db = await Database.open(tmp_path / "clash.db")
    await db.close()
    await db.close()
    with pytest.raises(RuntimeError, match="closed"):
        async with db.transaction():
            pass
    with pytest.raises(RuntimeError, match="closed"):
        async with db.read():
            pass


async def test_backup_while_writing_is_a_valid_consistent_copy(
    db: Database, tmp_path: Path
) -> None:
    async with db.transaction() as tx:
        await tx.execute("CREATE TABLE t_tx (n INTEGER PRIMARY KEY)")
        await tx.execute("CREATE TABLE t_items (n INTEGER NOT NULL, k INTEGER NOT NULL)")

    committed = 0
    enough = anyio.Event()

    async def write_forever() -> None:
        nonlocal committed
        while True:
            async with db.transaction() as tx:
                await tx.execute("INSERT INTO t_tx (n) VALUES (?)", (committed + 1,))
                await tx.executemany(
                    "INSERT INTO t_items (n, k) VALUES (?, ?)",
                    [(committed + 1, k) for k in range(3)],
                )
            committed += 1
            if committed == 200:
                enough.set()

    dest = tmp_path / "backups" / "copy.db"
    async with anyio.create_task_group() as tg:
        tg.start_soon(write_forever)
        await enough.wait()
        await db.backup(dest)
        at_end_of_backup = committed
        tg.cancel_scope.cancel()

    assert not dest.with_name("copy.db.partial").exists()
    copy = sqlite3.connect(dest)
    try:
        assert copy.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert copy.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        n_tx, n_items = copy.execute(
            "SELECT (SELECT count(*) FROM t_tx), (SELECT count(*) FROM t_items)"
        ).fetchone()
    finally:
        copy.close()
    assert 200 <= n_tx <= at_end_of_backup + 1
    assert n_items == 3 * n_tx

    async with await Database.open(dest) as restored:
        assert (await restored.check()).ok


async def test_check_runs_sqlite_and_registered_checks(db: Database) -> None:
    assert await db.check() == CheckReport(ok=True, problems=[])

    async def balances(r: Reader) -> list[str]:
        n = await r.fetchval("SELECT 1 + 1")
        return [f"balance {n} != ledger 3"]

    async def fine(r: Reader) -> list[str]:
        return []

    async def broken(r: Reader) -> list[str]:
        await r.fetchval("SELECT * FROM missing_table")
        return []

    db.register_check("prop.balances", balances)
    db.register_check("fine", fine)
    db.register_check("broken", broken)
    with pytest.raises(ValueError):
        db.register_check("fine", fine)

    report = await db.check()
    assert not report.ok
    assert report.problems[0] == "prop.balances: balance 2 != ledger 3"
    assert report.problems[1].startswith("broken: check raised OperationalError")
    assert len(report.problems) == 2


async def test_check_reports_foreign_key_violations(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
        await tx.execute("CREATE TABLE child (parent_id INTEGER REFERENCES parent (id))")
    outside = sqlite3.connect(db.path)  # foreign keys are off by default here
    with outside:
        outside.execute("INSERT INTO child VALUES (7)")
    outside.close()

    report = await db.check()
    assert report.problems == ["foreign_key_check: child row 1 has no parent in parent"]


@pytest.mark.anyio
async def test_execute_batch_runs_every_statement_in_the_transaction(db):
    async with db.transaction() as tx:
        await tx.execute("CREATE TABLE pairs (a INTEGER, b TEXT)")
    async with db.transaction() as tx:
        changed = await tx.execute_batch(
            [
                ("INSERT INTO pairs (a, b) VALUES (?, ?)", [(1, "x"), (2, "y")]),
                ("UPDATE pairs SET b = ? WHERE a = ?", []),
                ("UPDATE pairs SET b = ? WHERE a = ?", [("z", 2)]),
            ]
        )
    assert changed == 3
    async with db.read() as r:
        assert await r.fetchall("SELECT a, b FROM pairs ORDER BY a") == [(1, "x"), (2, "z")]
    with pytest.raises(Exception, match="no such table"):
        async with db.transaction() as tx:
            await tx.execute_batch(
                [
                    ("INSERT INTO pairs (a, b) VALUES (?, ?)", [(3, "w")]),
                    ("INSERT INTO missing_table (a) VALUES (?)", [(1,)]),
                ]
            )
    async with db.read() as r:
        assert (
            await r.fetchval("SELECT count(*) FROM pairs") == 2
        )  # the whole transaction rolled back
