import hashlib
import itertools
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from clash.store import (
    Database,
    MigrationEdited,
    MigrationError,
    discover_migrations,
    discover_migrations_in,
)
from clash.store.migrations import split_statements

pytestmark = pytest.mark.anyio

_names = itertools.count()

MakePackage = Callable[[dict[str, str] | None], str]


@pytest.fixture
def make_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MakePackage:
    """Create an importable package, with a migrations folder holding ``files`` unless None."""
    monkeypatch.syspath_prepend(str(tmp_path))

    def make(files: dict[str, str] | None) -> str:
        name = f"store_test_pkg_{next(_names)}"
        package = tmp_path / name
        package.mkdir()
        (package / "__init__.py").write_text("")
        if files is not None:
            (package / "migrations").mkdir()
            for file_name, sql in files.items():
                (package / "migrations" / file_name).write_text(sql)
        return name

    return make


ACCOUNTS = {
    "0001_accounts.sql": "CREATE TABLE accounts (id INTEGER PRIMARY KEY, owner TEXT NOT NULL);\n",
    "0002_balance.sql": "ALTER TABLE accounts ADD COLUMN balance INTEGER NOT NULL DEFAULT 0;\n",
}


def test_discover_loads_each_package_in_order(make_package: MakePackage) -> None:
    accounts = make_package(ACCOUNTS | {"README.txt": "not a migration"})
    empty = make_package(None)
    ledger = make_package({"0001_ledger.sql": "CREATE TABLE ledger (account_id INTEGER);"})

    found = discover_migrations([accounts, empty, ledger])

    assert [(m.module, m.number, m.name) for m in found] == [
        (accounts, 1, "accounts"),
        (accounts, 2, "balance"),
        (ledger, 1, "ledger"),
    ]
    assert found[0].sql == ACCOUNTS["0001_accounts.sql"]
    assert found[0].checksum == hashlib.sha256(ACCOUNTS["0001_accounts.sql"].encode()).hexdigest()
    assert found[1].file == "0002_balance.sql"


@pytest.mark.parametrize(
    ("files", "error"),
    [
        ({"1_accounts.sql": ""}, "bad migration file name '1_accounts.sql'"),
        ({"0001-accounts.sql": ""}, "bad migration file name"),
        ({"0001_Accounts.sql": ""}, "bad migration file name"),
        ({"0001_a.sql": "", "0001_b.sql": ""}, "two migrations numbered 0001"),
        ({"0001_a.sql": "", "0003_c.sql": ""}, r"numbered 1, 2, 3... got \[1, 3\]"),
        ({"0002_b.sql": ""}, "numbered 1, 2, 3"),
    ],
)
def test_discover_refuses_bad_folders(tmp_path: Path, files: dict[str, str], error: str) -> None:
    for name, sql in files.items():
        (tmp_path / name).write_text(sql)
    with pytest.raises(MigrationError, match=error):
        discover_migrations_in(tmp_path, "clash.test")


async def test_migrations_apply_once_and_are_recorded(
    db: Database, make_package: MakePackage
) -> None:
    module = make_package(ACCOUNTS)
    migrations = discover_migrations([module])

    applied = await db.migrate(migrations, now_ms=1_700_000_000_000)
    assert applied == migrations
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO accounts (owner, balance) VALUES ('ada', 5)")
    assert await db.migrate(migrations, now_ms=1_700_000_999_999) == []

    async with db.read() as r:
        assert await r.fetchall(
            "SELECT module, number, name, checksum, applied_at_ms FROM schema_migrations"
            " ORDER BY number"
        ) == [
            (module, 1, "accounts", migrations[0].checksum, 1_700_000_000_000),
            (module, 2, "balance", migrations[1].checksum, 1_700_000_000_000),
        ]
        assert await r.fetchall("SELECT owner, balance FROM accounts") == [("ada", 5)]


async def test_only_new_migrations_apply(
    db: Database, make_package: MakePackage, tmp_path: Path
) -> None:
    module = make_package({"0001_accounts.sql": ACCOUNTS["0001_accounts.sql"]})
    await db.migrate(discover_migrations([module]), now_ms=1)

    (tmp_path / module / "migrations" / "0002_balance.sql").write_text(ACCOUNTS["0002_balance.sql"])
    applied = await db.migrate(discover_migrations([module]), now_ms=2)

    assert [m.file for m in applied] == ["0002_balance.sql"]
    async with db.read() as r:
        assert await r.fetchall("SELECT number, applied_at_ms FROM schema_migrations") == [
            (1, 1),
            (2, 2),
        ]


async def test_modules_apply_in_the_order_given(db: Database, make_package: MakePackage) -> None:
    accounts = make_package(ACCOUNTS)
    ledger = make_package(
        {"0001_ledger.sql": "CREATE TABLE ledger (account_id INTEGER REFERENCES accounts (id));"}
    )
    applied = await db.migrate(discover_migrations([accounts, ledger]), now_ms=0)
    assert [(m.module, m.number) for m in applied] == [(accounts, 1), (accounts, 2), (ledger, 1)]


async def test_an_edited_applied_migration_is_refused(
    db: Database, make_package: MakePackage, tmp_path: Path
) -> None:
    module = make_package(ACCOUNTS)
    await db.migrate(discover_migrations([module]), now_ms=0)

    folder = tmp_path / module / "migrations"
    (folder / "0002_balance.sql").write_text("ALTER TABLE accounts ADD COLUMN cash INTEGER;\n")
    (folder / "0003_notes.sql").write_text("CREATE TABLE notes (body TEXT);\n")

    with pytest.raises(MigrationEdited) as refused:
        await db.migrate(discover_migrations([module]), now_ms=1)
    message = str(refused.value)
    assert module in message and "0002" in message and "0002_balance.sql" in message

    async with db.read() as r:  # refused before anything was applied
        assert await r.fetchval("SELECT count(*) FROM schema_migrations") == 2
        assert await r.fetchval("SELECT name FROM sqlite_master WHERE name = 'notes'") is None


async def test_an_applied_migration_whose_file_is_gone_is_refused(
    db: Database, make_package: MakePackage, tmp_path: Path
) -> None:
    module = make_package(ACCOUNTS)
    await db.migrate(discover_migrations([module]), now_ms=0)
    (tmp_path / module / "migrations" / "0002_balance.sql").unlink()
    with pytest.raises(MigrationError, match="0002 is applied but its file is missing"):
        await db.migrate(discover_migrations([module]), now_ms=1)


async def test_a_failing_migration_rolls_back_and_is_not_recorded(
    db: Database, make_package: MakePackage
) -> None:
    module = make_package(
        {
            "0001_ok.sql": "CREATE TABLE a (x INTEGER);",
            "0002_broken.sql": "CREATE TABLE b (x INTEGER);\nINSERT INTO nowhere VALUES (1);",
        }
    )
    with pytest.raises(sqlite3.OperationalError, match="nowhere"):
        await db.migrate(discover_migrations([module]), now_ms=0)
    async with db.read() as r:
        assert await r.fetchall("SELECT number FROM schema_migrations") == [(1,)]
        tables = {name for (name,) in await r.fetchall("SELECT name FROM sqlite_master")}
    assert "a" in tables and "b" not in tables


async def test_a_migration_may_hold_triggers_strings_and_comments(
    db: Database, make_package: MakePackage
) -> None:
    sql = """
    -- accounts; and their audit trail
    CREATE TABLE accounts (id INTEGER PRIMARY KEY, note TEXT);
    CREATE TABLE audit (account_id INTEGER, what TEXT);
    /* every insert; is audited */
    CREATE TRIGGER accounts_audit AFTER INSERT ON accounts BEGIN
        INSERT INTO audit VALUES (new.id, 'created;');
    END;
    INSERT INTO accounts (note) VALUES ('semi; colon');  -- trailing comment
    """
    module = make_package({"0001_accounts.sql": sql})
    await db.migrate(discover_migrations([module]), now_ms=0)
    async with db.read() as r:
        assert await r.fetchall("SELECT note FROM accounts") == [("semi; colon",)]
        assert await r.fetchall("SELECT * FROM audit") == [(1, "created;")]


def test_split_statements() -> None:
    assert split_statements("") == []
    assert split_statements("SELECT 1") == ["SELECT 1;"]
    assert split_statements("SELECT 'open") == ["SELECT 'open"]  # sqlite3 reports the error
    assert split_statements("SELECT 1; SELECT ';'\n;") == ["SELECT 1;", " SELECT ';'\n;"]
