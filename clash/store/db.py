"""The SQLite database: one writer connection, a small pool of reader connections.

All writes go through ``Database.transaction()``: an ``anyio.Lock`` lets one transaction at a time
onto the writer connection, so writers queue in the process instead of failing with "database is
locked". Readers see committed data only, each ``read()`` block one consistent snapshot, and never
wait for the writer (WAL).
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, TypeAlias, TypeVar, TypeVarTuple, Unpack

import anyio
import msgspec

from clash.store.connection import Connection
from clash.store.migrations import Migration, apply_migrations

__all__ = ["Check", "CheckReport", "Database", "Reader", "Result", "Session", "Transaction"]

Params: TypeAlias = Sequence[Any] | Mapping[str, Any]
T = TypeVar("T")
Ts = TypeVarTuple("Ts")

_BUSY_TIMEOUT_MS = 5_000


class Result(msgspec.Struct, frozen=True):
    lastrowid: int | None
    rowcount: int


class CheckReport(msgspec.Struct, frozen=True):
    ok: bool
    problems: list[str]


def _execute(conn: sqlite3.Connection, sql: str, params: Params) -> Result:
    cursor = conn.execute(sql, params)
    try:
        return Result(cursor.lastrowid, cursor.rowcount)
    finally:
        cursor.close()


def _executemany(conn: sqlite3.Connection, sql: str, seq: Iterable[Params]) -> Result:
    cursor = conn.executemany(sql, seq)
    try:
        return Result(cursor.lastrowid, cursor.rowcount)
    finally:
        cursor.close()


def _execute_batch(
    conn: sqlite3.Connection, statements: Sequence[tuple[str, Sequence[Params]]]
) -> int:
    changed = 0
    for sql, rows in statements:
        if rows:
            cursor = conn.executemany(sql, rows)
            changed += cursor.rowcount
            cursor.close()
    return changed


def _fetchone(conn: sqlite3.Connection, sql: str, params: Params) -> tuple[Any, ...] | None:
    cursor = conn.execute(sql, params)
    try:
        row: tuple[Any, ...] | None = cursor.fetchone()
        return row
    finally:
        cursor.close()


def _fetchall(conn: sqlite3.Connection, sql: str, params: Params) -> list[tuple[Any, ...]]:
    cursor = conn.execute(sql, params)
    try:
        return cursor.fetchall()
    finally:
        cursor.close()


def _fetchval(conn: sqlite3.Connection, sql: str) -> Any:
    row = _fetchone(conn, sql, ())
    return None if row is None else row[0]


def _begin_then(
    conn: sqlite3.Connection,
    begin: str,
    fn: Callable[[sqlite3.Connection, Unpack[Ts]], T],
    *args: *Ts,
) -> T:
    conn.execute(begin)
    return fn(conn, *args)


def _commit(conn: sqlite3.Connection) -> None:
    conn.commit()


def _rollback(conn: sqlite3.Connection) -> None:
    conn.rollback()


class Session:
    """SQL on one connection. Rows are plain tuples.

    Each call runs whole on the connection's thread (`Connection.run`), so a statement costs
    one thread round trip rather than one for the execute and one more per cursor call. The
    session's BEGIN rides along with its first statement.
    """

    def __init__(self, conn: Connection, begin: str) -> None:
        self._live: Connection | None = conn
        self._begin: str | None = begin

    @property
    def _conn(self) -> Connection:
        if self._live is None:
            raise RuntimeError(f"{type(self).__name__} used after its block ended")
        return self._live

    async def _run(self, fn: Callable[[sqlite3.Connection, Unpack[Ts]], T], *args: *Ts) -> T:
        conn = self._conn
        begin, self._begin = self._begin, None
        if begin is None:
            return await conn.run(fn, *args)
        return await conn.run(_begin_then, begin, fn, *args)

    async def execute(self, sql: str, params: Params = ()) -> Result:
        return await self._run(_execute, sql, params)

    async def executemany(self, sql: str, seq: Iterable[Params]) -> Result:
        return await self._run(_executemany, sql, seq)

    async def execute_batch(self, statements: Sequence[tuple[str, Sequence[Params]]]) -> int:
        """Run each `(sql, rows)` as an executemany, all in one round trip; returns rows changed.
        Statements with no rows are skipped."""
        return await self._run(_execute_batch, statements)

    async def fetchone(self, sql: str, params: Params = ()) -> tuple[Any, ...] | None:
        return await self._run(_fetchone, sql, params)

    async def fetchall(self, sql: str, params: Params = ()) -> list[tuple[Any, ...]]:
        return await self._run(_fetchall, sql, params)

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        """The first column of the first row, or None when there is no row."""
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]

    def _end(self) -> None:
        self._live = None


class Transaction(Session):
    """A write transaction on the writer connection: commits on exit, rolls back on error."""


class Reader(Session):
    """A read-only snapshot of committed data on a reader connection."""


Check: TypeAlias = Callable[[Reader], Awaitable[list[str]]]


class Database:
    """Open with ``db = await Database.open(path)`` and ``await db.close()`` at shutdown, or
    ``async with await Database.open(path) as db:`` for a scoped lifetime."""

    def __init__(self, path: Path, writer: Connection, readers: int) -> None:
        self.path = path
        self._writer = writer
        self._write_lock = anyio.Lock()
        self._read_slots = anyio.Semaphore(readers)
        self._idle_readers: list[Connection] = []
        self._checks: dict[str, Check] = {}
        self._closed = False

    @classmethod
    async def open(cls, path: str | Path, *, readers: int = 4) -> Database:
        """Open (creating it and its parent folders if needed) a database file in WAL mode."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        writer = await _connect(path)
        try:
            mode = await writer.run(_fetchval, "PRAGMA journal_mode = WAL")
            if mode != "wal":
                raise ValueError(f"{path}: needs a file that can use WAL, got journal_mode={mode}")
        except BaseException:
            with anyio.CancelScope(shield=True):
                await writer.close()
            raise
        return cls(path, writer, readers)

    async def close(self) -> None:
        """Wait for the running transaction and close the connections; a reader still in use
        closes when its block ends. Idempotent."""
        if self._closed:
            return
        self._closed = True
        with anyio.CancelScope(shield=True):
            async with self._write_lock:
                await self._writer.close()
            while self._idle_readers:
                await self._idle_readers.pop().close()

    async def __aenter__(self) -> Database:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """``async with db.transaction() as tx:`` — BEGIN IMMEDIATE, then COMMIT, or ROLLBACK and
        re-raise if the block raises (cancellation included). Keep the block short: every other
        writer waits for it. Not re-entrant."""
        async with self._write_lock:
            self._ensure_open()
            conn = self._writer
            tx = Transaction(conn, "BEGIN IMMEDIATE")
            try:
                yield tx
                with anyio.CancelScope(shield=True):
                    await conn.run(_commit)
            except BaseException:
                # A cancelled statement still runs on the connection's thread; this ROLLBACK is
                # queued after it, and is a no-op if no transaction is open.
                with anyio.CancelScope(shield=True):
                    await conn.run(_rollback)
                raise
            finally:
                tx._end()

    @asynccontextmanager
    async def read(self) -> AsyncIterator[Reader]:
        """``async with db.read() as r:`` — a consistent snapshot of committed data."""
        async with self._read_slots:
            self._ensure_open()
            if self._idle_readers:
                conn = self._idle_readers.pop()
            else:
                conn = await _connect(self.path, reader=True)
            reader = Reader(conn, "BEGIN")
            try:
                yield reader
            finally:
                reader._end()
                with anyio.CancelScope(shield=True):
                    await conn.run(_rollback)
                    if self._closed:
                        await conn.close()
                    else:
                        self._idle_readers.append(conn)

    async def migrate(self, migrations: Sequence[Migration], *, now_ms: int) -> list[Migration]:
        """Apply the migrations not applied yet, in the order given, each in its own transaction,
        and return them. Raises ``MigrationEdited`` (before applying anything) if an applied
        migration's file changed."""
        return await apply_migrations(self, migrations, now_ms=now_ms)

    def register_check(self, name: str, check: Check) -> None:
        """Add an invariant check run by ``check()``: it returns its problems, empty when fine."""
        if name in self._checks:
            raise ValueError(f"a check named {name!r} is already registered")
        self._checks[name] = check

    async def check(self) -> CheckReport:
        """Run SQLite's integrity and foreign-key checks, then every registered check, each on
        its own snapshot. A check that raises is reported as a problem, not propagated."""
        problems: list[str] = []
        async with self.read() as r:
            for (message,) in await r.fetchall("PRAGMA integrity_check"):
                if message != "ok":
                    problems.append(f"integrity_check: {message}")
            for table, rowid, parent, _ in await r.fetchall("PRAGMA foreign_key_check"):
                problems.append(f"foreign_key_check: {table} row {rowid} has no parent in {parent}")
        for name, check in self._checks.items():
            try:
                async with self.read() as r:
                    found = await check(r)
            except Exception as exc:
                found = [f"check raised {exc!r}"]
            problems += [f"{name}: {problem}" for problem in found]
        return CheckReport(ok=not problems, problems=problems)

    async def backup(self, dest: str | Path) -> Path:
        """Copy a consistent snapshot to ``dest`` while writes go on, with SQLite's online backup.

        The copy is written next to ``dest`` and renamed into place, so ``dest`` is never a
        half-written file. It is a single self-contained file (rollback journal, no WAL).
        """
        self._ensure_open()
        dest = Path(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        await anyio.to_thread.run_sync(_backup, self.path, dest)
        return dest

    def _ensure_open(self) -> None:
        if self._closed:
            raise RuntimeError(f"database {self.path} is closed")


def _set_pragmas(conn: sqlite3.Connection, pragmas: Sequence[str]) -> None:
    for pragma in pragmas:
        conn.execute(pragma).close()


async def _connect(path: Path, *, reader: bool = False) -> Connection:
    # isolation_level=None: sqlite3 never opens transactions behind our back; we BEGIN explicitly.
    conn = await Connection.open(path, isolation_level=None)
    pragmas = [
        f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}",
        "PRAGMA foreign_keys = ON",
        "PRAGMA synchronous = NORMAL",
        *(["PRAGMA query_only = ON"] if reader else []),
    ]
    try:
        await conn.run(_set_pragmas, pragmas)
    except BaseException:
        with anyio.CancelScope(shield=True):
            await conn.close()
        raise
    return conn


def _backup(source: Path, dest: Path) -> None:
    partial = dest.with_name(dest.name + ".partial")
    partial.unlink(missing_ok=True)
    src = sqlite3.connect(source, timeout=_BUSY_TIMEOUT_MS / 1000)
    try:
        out = sqlite3.connect(partial)
        try:
            # One step (pages=-1) reads one snapshot; a stepwise copy restarts whenever another
            # connection writes in between, and may never finish on a busy database.
            src.backup(out, pages=-1)
            out.execute("PRAGMA journal_mode = DELETE")
        finally:
            out.close()
    finally:
        src.close()
    partial.replace(dest)
