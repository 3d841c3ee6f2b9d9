"""Migration 0002 upgrades a database that only 0001 built and that holds rows: clone ids become
integers, old liquidations become backstop liquidations, and the product boots on the result."""

import sqlite3
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest

from actors.testkit import EPOCH_2026
from clash.prop.book import DAY_MS, HOUR_MS
from clash.prop.gates import Action, Limits
from clash.prop.messages import SubmitResult
from clash.store import Database, discover_migrations

from tests.helpers.prop_writer import prop_runtime

pytestmark = pytest.mark.anyio
T0 = int(EPOCH_2026 * 1000)
_json = msgspec.json.Encoder(decimal_format="string")
LIMITS = _json.encode(Limits()).decode()
UNIVERSE = '["BTC","ETH"]'
ACCOUNT = (
    "INSERT INTO prop_accounts (account_id, clone_id, owner_user_id, kind, universe, limits,"
    " status, balance_micro, peak_equity_micro, day_start_equity_micro, day, funding_hour,"
    " deposits_micro, realized_pnl_micro, fees_paid_micro, funding_paid_micro, liquidation_micro,"
    " orders_count, actions_filled, created_at_ms, updated_at_ms, finalized_at_ms)"
    " VALUES (?, ?, 'u1', 'sandbox', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, 1, ?, ?, ?)"
)


def _action(account_id: str, action_id: str, symbol: str, usd_size: int) -> tuple:
    action = Action(action_id=action_id, kind="open_long", symbol=symbol, size_usd=usd_size)
    result = SubmitResult(
        account_id=account_id,
        action_id=action_id,
        outcome="filled",
        order_no=1,
        balance_micro=0,
        equity_micro=0,
        at_ms=T0,
    )
    return (
        account_id,
        action_id,
        "open_long",
        symbol,
        "filled",
        _json.encode(action).decode(),
        _json.encode(result).decode(),
        T0,
    )


async def _version_0001_with_rows(path: Path) -> None:
    """A database as the code before 0002 left it: clone ids as text, an open account holding BTC,
    and a finalized account that was liquidated (all collateral taken, the only kind there was)."""
    day, hour = T0 // DAY_MS, T0 // HOUR_MS
    first = [m for m in discover_migrations(["clash.prop"]) if m.number == 1]
    async with await Database.open(path) as db:
        await db.migrate(first, now_ms=T0)
        old_result = {
            "account_id": "pa_gone",
            "clone_id": "3",
            "owner_user_id": "u1",
            "kind": "sandbox",
            "status": "liquidated",
            "halt_reason": None,
            "universe": ["BTC", "ETH"],
            "limits": msgspec.json.decode(LIMITS),
            "balance_micro": 0,
            "equity_micro": 0,
            "unrealized_micro": 0,
            "peak_equity_micro": 10_000_000_000,
            "drawdown_micro": 10_000_000_000,
            "max_drawdown_ppm": 1_000_000,
            "return_ppm": -1_000_000,
            "day_start_equity_micro": 10_000_000_000,
            "deposits_micro": 10_000_000_000,
            "realized_pnl_micro": -500_000_000,
            "fees_paid_micro": 0,
            "funding_paid_micro": 0,
            "liquidation_micro": -9_500_000_000,
            "gross_exposure_micro": 0,
            "positions": [],
            "actions_filled": 1,
            "actions_rejected": 0,
            "actions_held": 0,
            "created_at_ms": T0,
            "updated_at_ms": T0 + 2,
            "at_ms": T0 + 3,
            "finalized_at_ms": T0 + 3,
        }
        async with db.transaction() as tx:
            await tx.executemany(
                ACCOUNT,
                [
                    (
                        "pa_open",
                        "2",
                        UNIVERSE,
                        LIMITS,
                        "active",
                        9_995_497_750,
                        10_000_000_000,
                        10_000_000_000,
                        day,
                        hour,
                        10_000_000_000,
                        0,
                        4_502_250,
                        0,
                        1,
                        T0,
                        T0,
                        None,
                    ),
                    (
                        "pa_gone",
                        "3",
                        UNIVERSE,
                        LIMITS,
                        "liquidated",
                        0,
                        10_000_000_000,
                        10_000_000_000,
                        day,
                        hour,
                        10_000_000_000,
                        -500_000_000,
                        0,
                        -9_500_000_000,
                        2,
                        T0,
                        T0 + 2,
                        T0 + 3,
                    ),
                ],
            )
            await tx.executemany(
                "INSERT INTO prop_actions (account_id, action_id, kind, symbol, outcome, action,"
                " result, at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    _action("pa_open", "a1", "BTC", 10_000_000_000),
                    _action("pa_gone", "b1", "ETH", 2_500_000_000),
                ],
            )
            await tx.executemany(
                "INSERT INTO prop_orders (account_id, order_no, action_id, cause, symbol, side,"
                " size, ref_px, leverage, at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    ("pa_open", 1, "a1", "action", "BTC", "buy", "0.1", "100000", 5, T0),
                    ("pa_gone", 1, "b1", "action", "ETH", "buy", "1", "2500", 20, T0),
                    ("pa_gone", 2, None, "liquidation", "ETH", "sell", "1", "2000", None, T0 + 2),
                ],
            )
            await tx.executemany(
                "INSERT INTO prop_fills (account_id, order_no, action_id, cause, symbol, side,"
                " size, px, ref_px, notional_micro, fee_micro, at_ms)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        "pa_open",
                        1,
                        "a1",
                        "action",
                        "BTC",
                        "buy",
                        "0.1",
                        "100050",
                        "100000",
                        10_005_000_000,
                        4_502_250,
                        T0,
                    ),
                    (
                        "pa_gone",
                        1,
                        "b1",
                        "action",
                        "ETH",
                        "buy",
                        "1",
                        "2500",
                        "2500",
                        2_500_000_000,
                        0,
                        T0,
                    ),
                    (
                        "pa_gone",
                        2,
                        None,
                        "liquidation",
                        "ETH",
                        "sell",
                        "1",
                        "2000",
                        "2000",
                        2_000_000_000,
                        0,
                        T0 + 2,
                    ),
                ],
            )
            await tx.executemany(
                "INSERT INTO prop_ledger (entry_id, account_id, kind, amount_micro, symbol, ref,"
                " at_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (1, "pa_open", "deposit", 10_000_000_000, None, "opening", T0),
                    (2, "pa_gone", "deposit", 10_000_000_000, None, "opening", T0),
                    (3, "pa_open", "fee", -4_502_250, "BTC", "a1", T0),
                    (4, "pa_gone", "realized_pnl", -500_000_000, "ETH", "liquidation", T0 + 2),
                    (5, "pa_gone", "liquidation", -9_500_000_000, None, "liquidation", T0 + 2),
                ],
            )
            await tx.execute(
                "INSERT INTO prop_positions (account_id, symbol, side, size, entry_px, leverage,"
                " margin_micro, mark_px, opened_at_ms, updated_at_ms)"
                " VALUES ('pa_open', 'BTC', 'long', '0.1', '100050', 5, 2001000000, '100000',"
                " ?, ?)",
                (T0, T0),
            )
            await tx.execute(
                "INSERT INTO prop_status_changes (account_id, before, after, reason, at_ms)"
                " VALUES ('pa_gone', 'active', 'liquidated', 'liquidation', ?)",
                (T0 + 2,),
            )
            await tx.execute(
                "INSERT INTO prop_results (account_id, snapshot, at_ms) VALUES ('pa_gone', ?, ?)",
                (msgspec.json.encode(old_result).decode(), T0 + 3),
            )


async def test_0002_upgrades_a_0001_database_and_keeps_every_row(tmp_path: Path):
    await _version_0001_with_rows(tmp_path / "clash.db")
    async with prop_runtime(tmp_path) as env:  # boots, applies 0002, checks the ledger on exit
        async with env.db.read() as r:
            assert await r.fetchall(
                "SELECT account_id, clone_id, typeof(clone_id) FROM prop_accounts ORDER BY 1"
            ) == [("pa_gone", 3, "integer"), ("pa_open", 2, "integer")]
            assert await r.fetchall(
                "SELECT entry_id, kind, ref FROM prop_ledger WHERE account_id = 'pa_gone'"
                " ORDER BY entry_id"
            ) == [
                (2, "deposit", "opening"),
                (4, "realized_pnl", "backstop_liquidation"),
                (5, "backstop_liquidation", "backstop_liquidation"),
            ]
            assert await r.fetchval("SELECT count(*) FROM prop_ledger") == 5
            assert await r.fetchval("SELECT reason FROM prop_status_changes") == (
                "backstop_liquidation"
            )
            names = {n for (n,) in await r.fetchall("SELECT name FROM sqlite_master")}
            indexes = {"prop_accounts_by_clone", "prop_accounts_open", "prop_ledger_by_account"}
            assert indexes <= names
            assert not {"prop_accounts_0001", "prop_ledger_0002"} & names
            assert await r.fetchall("PRAGMA foreign_key_check") == []

        assert (await env.module.account("pa_open")).clone_id == 2
        assert [a.account_id for a in await env.module.accounts_of_clone(3)] == ["pa_gone"]
        frozen = await env.module.snapshot("pa_gone")  # the stored result still decodes
        assert (frozen.clone_id, frozen.day, frozen.orders_count) == (3, T0 // DAY_MS, 2)
        assert frozen.liquidation_micro == -9_500_000_000
        assert [f.cause for f in await env.module.fills("pa_gone")] == [
            "backstop_liquidation",
            "action",
        ]

        # the open account's actor loaded the migrated row and trades on
        live = await env.module.snapshot("pa_open")
        assert (live.clone_id, live.balance_micro, [p.size for p in live.positions]) == (
            2,
            9_995_497_750,
            [Decimal("0.1")],
        )
        close = Action(action_id="a2", kind="close", symbol="BTC")
        closed = await env.module.submit("pa_open", close)
        assert closed.outcome == "filled"

        # the new constraints hold
        with pytest.raises(sqlite3.IntegrityError):
            async with env.db.transaction() as tx:
                await tx.execute(
                    "UPDATE prop_accounts SET clone_id = 'two' WHERE account_id = 'pa_open'"
                )
        with pytest.raises(sqlite3.IntegrityError):
            async with env.db.transaction() as tx:
                await tx.execute(
                    "INSERT INTO prop_ledger (account_id, kind, amount_micro, at_ms)"
                    " VALUES ('pa_open', 'liquidation', 0, 0)"
                )
