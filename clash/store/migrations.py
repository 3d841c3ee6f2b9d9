"""Numbered SQL migrations, one folder per module.

A module keeps its schema in ``clash/<module>/migrations/NNNN_name.sql``. Files are applied in
number order, each in its own transaction, and recorded in ``schema_migrations``. An applied file is
history: editing it is refused (``MigrationEdited``); change the schema with a new file instead.

Statements run one by one inside that transaction, so a file must not contain its own
``BEGIN``/``COMMIT``, and pragmas that SQLite ignores inside a transaction (``foreign_keys``)
do nothing there.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections.abc import Sequence
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

if TYPE_CHECKING:
    from clash.store.db import Database

__all__ = [
    "Migration",
    "MigrationEdited",
    "MigrationError",
    "discover_migrations",
    "discover_migrations_in",
]

_FILE_NAME = re.compile(r"(\d{4})_([a-z0-9_]+)\.sql")

_CREATE_TABLE = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    module        TEXT    NOT NULL,
    number        INTEGER NOT NULL,
    name          TEXT    NOT NULL,
    checksum      TEXT    NOT NULL,
    applied_at_ms INTEGER NOT NULL,
    PRIMARY KEY (module, number)
)
"""


class MigrationError(Exception):
    """A migration folder or the migration history is not in a state we can apply."""


class MigrationEdited(MigrationError):
    """A migration that is already applied no longer matches its file."""


class Migration(msgspec.Struct, frozen=True):
    module: str
    number: int
    name: str
    sql: str
    checksum: str
    """sha256 hex digest of the file's bytes."""

    @property
    def file(self) -> str:
        return f"{self.number:04d}_{self.name}.sql"


def discover_migrations(package_names: Sequence[str]) -> list[Migration]:
    """Load the ``migrations`` folder of each package, in the order given.

    ``package_names`` are importable packages (``"clash.market"``); the package name is the module
    recorded in ``schema_migrations``. A package without a migrations folder contributes nothing.
    """
    found: list[Migration] = []
    for package in package_names:
        folder = files(package) / "migrations"
        if folder.is_dir():
            found += discover_migrations_in(folder, package)
    return found


def discover_migrations_in(folder: Traversable | Path, module: str) -> list[Migration]:
    """Load ``NNNN_name.sql`` files from one folder, numbered 1, 2, 3... without gaps."""
    migrations: dict[int, Migration] = {}
    for entry in folder.iterdir():
        if not entry.name.endswith(".sql"):
            continue
        match = _FILE_NAME.fullmatch(entry.name)
        if match is None:
            raise MigrationError(
                f"{module}: bad migration file name {entry.name!r}, expected NNNN_name.sql "
                "(four digits, lowercase letters, digits and underscores)"
            )
        number, name = int(match[1]), match[2]
        if number in migrations:
            raise MigrationError(
                f"{module}: two migrations numbered {number:04d}: "
                f"{migrations[number].file} and {entry.name}"
            )
        data = entry.read_bytes()
        migrations[number] = Migration(
            module=module,
            number=number,
            name=name,
            sql=data.decode("utf-8"),
            checksum=hashlib.sha256(data).hexdigest(),
        )
    numbers = sorted(migrations)
    if numbers != list(range(1, len(numbers) + 1)):
        raise MigrationError(f"{module}: migrations must be numbered 1, 2, 3... got {numbers}")
    return [migrations[n] for n in numbers]


async def apply_migrations(
    db: Database, migrations: Sequence[Migration], *, now_ms: int
) -> list[Migration]:
    """Apply what is not applied yet, in the order given; see ``Database.migrate``."""
    async with db.transaction() as tx:
        await tx.execute(_CREATE_TABLE)
        rows = await tx.fetchall("SELECT module, number, checksum FROM schema_migrations")
    applied = {(module, number): checksum for module, number, checksum in rows}
    _verify_history(applied, migrations)

    done: list[Migration] = []
    for m in migrations:
        if (m.module, m.number) in applied:
            continue
        async with db.transaction() as tx:
            # Another process may have applied it since we looked.
            if await tx.fetchval(
                "SELECT 1 FROM schema_migrations WHERE module = ? AND number = ?",
                (m.module, m.number),
            ):
                continue
            for statement in split_statements(m.sql):
                await tx.execute(statement)
            await tx.execute(
                "INSERT INTO schema_migrations (module, number, name, checksum, applied_at_ms)"
                " VALUES (?, ?, ?, ?, ?)",
                (m.module, m.number, m.name, m.checksum, now_ms),
            )
        done.append(m)
    return done


def _verify_history(applied: dict[tuple[str, int], str], migrations: Sequence[Migration]) -> None:
    """Refuse before changing anything if the files and the recorded history disagree."""
    on_disk = {(m.module, m.number) for m in migrations}
    for m in migrations:
        checksum = applied.get((m.module, m.number))
        if checksum is not None and checksum != m.checksum:
            raise MigrationEdited(
                f"{m.module} migration {m.number:04d} ({m.file}) was edited after it was applied "
                f"(checksum {checksum[:12]}... recorded, {m.checksum[:12]}... on disk). "
                "Restore the file and add a new migration instead."
            )
    modules = {m.module for m in migrations}
    for module, number in sorted(applied):
        if module in modules and (module, number) not in on_disk:
            raise MigrationError(
                f"{module} migration {number:04d} is applied but its file is missing "
                "(is this an older build than the database?)"
            )


def split_statements(sql: str) -> list[str]:
    """Split a script into statements (``sqlite3`` executes one at a time).

    ``sqlite3.complete_statement`` knows about strings, comments and trigger bodies, so a ``;``
    inside any of them does not end a statement.
    """
    statements: list[str] = []
    pending = ""
    for piece in sql.split(";"):
        pending += piece + ";"
        if sqlite3.complete_statement(pending):
            statements.append(pending)
            pending = ""
    if pending[:-1].strip():
        statements.append(pending[:-1])
    return [s for s in statements if s.strip(" \t\r\n;")]
