"""The SQLite store: one database file, one writer, pooled readers, per-module migrations.

    db = await Database.open("var/clash.db")      # or: async with await Database.open(p) as db:
    await db.migrate(discover_migrations(["clash.market", "clash.prop"]), now_ms=clock.now_ms())

    async with db.transaction() as tx:            # the only way to write; one at a time
        await tx.execute("INSERT INTO t (a) VALUES (?)", (1,))

    async with db.read() as r:                    # a snapshot of committed data
        n = await r.fetchval("SELECT count(*) FROM t")

    await db.close()

The store owns no module's schema: modules bring their tables as migrations and decode rows
(plain tuples) into their own msgspec Structs. Each connection lives on a thread of its own
(``clash.store.connection``, internal), so the store works on asyncio and trio alike.
"""

from clash.store.db import Check, CheckReport, Database, Reader, Result, Session, Transaction
from clash.store.group import GroupCommit
from clash.store.migrations import (
    Migration,
    MigrationEdited,
    MigrationError,
    discover_migrations,
    discover_migrations_in,
)

__all__ = [
    "Check",
    "CheckReport",
    "Database",
    "GroupCommit",
    "Migration",
    "MigrationEdited",
    "MigrationError",
    "Reader",
    "Result",
    "Session",
    "Transaction",
    "discover_migrations",
    "discover_migrations_in",
]
