"""The prop account actor on a VirtualClock, a real SQLite file and scripted prices.

Every test runs inside `prop_runtime`, which asserts on exit that `db.check()` (SQLite's checks plus
`prop.ledger`: balances equal their ledger rows, positions equal the net of their fills) passes.
"""

import logging
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest

from clash.prop.book import DAY_MS, HOUR_MS
from clash.prop.config import PropConfig
from clash.prop.gates import Action
from clash.prop.manager import AccountFinalized, AccountNotFound, actor_name
from clash.prop.money import usd

from tests.helpers.prop_writer import prop_runtime

pytestmark = pytest.mark.anyio
D = Decimal
WIDE = {"max_leverage": 40, "max_asset_exposure": "40", "max_gross_exposure": "40"}
STATUS_REASONS = "SELECT reason FROM prop_status_changes WHERE account_id = ? ORDER BY change_id"


def long(action_id="a1", symbol="BTC", usd_size=5_000, leverage=5, **kw) -> Action:
    return Action(
        action_id=action_id,
        kind="open_long",
        symbol=symbol,
        size_usd=usd(usd_size),
        leverage=leverage,
        **kw,
    )


async def rows(env, sql, *params):
    async with env.db.read() as r:
        return await r.fetchall(sql, params)


async def ledger(env, account_id):
    return [
        (kind, amount, ref)
        for kind, amount, ref in await rows(
            env,
            "SELECT kind, amount_micro, ref FROM prop_ledger WHERE account_id = ? ORDER BY entry_id",
            account_id,
        )
    ]


async def open_btc(env, **kw) -> str:
    return await env.module.open_account(
        1, "sandbox", universe=["BTC", "ETH"], owner_user_id="u1", **kw
    )


async def test_opening_an_account_writes_one_deposit_row(tmp_path: Path):
    async with prop_runtime(tmp_path) as env:
        account = await open_btc(env)
        assert await ledger(env, account) == [("deposit", usd(10_000), "opening")]
        snap = await env.module.snapshot(account)
        assert (snap.status, snap.balance_micro, snap.equity_micro) == (
            "active",
            usd(10_000),
            usd(10_000),
        )
        assert (snap.clone_id, snap.kind, snap.universe, snap.owner_user_id) == (
            1,
            "sandbox",
            ["BTC", "ETH"],
            "u1",
        )
        assert actor_name(account) in env.system.names()
        custom = await env.module.open_account(
            1,
            "audition",
            universe=["ETH"],
            starting_equity_micro=usd(500),
            limits={"max_leverage": 3},
        )
        snap = await env.module.snapshot(custom)
        assert (snap.balance_micro, snap.limits.max_leverage, snap.kind) == (
            usd(500),
            3,
            "audition",
        )
        with pytest.raises(ValueError, match="unknown limits"):
            await open_btc(env, limits={"leverage_max": 3})
        with pytest.raises(AccountNotFound):
            await env.module.snapshot("pa_nope")
        with pytest.raises(ValueError, match="clone_id"):
            await env.module.open_account("1", "sandbox", universe=["BTC"])
        assert [a.account_id for a in await env.module.accounts_of_clone(1)] == [account, custom]


async def test_open_long_fills_with_slippage_and_a_fee_row(tmp_path: Path):
    async with prop_runtime(tmp_path) as env:
        account = await open_btc(env)
        result = await env.module.submit(account, long(stop_loss=D(90_000)))
        assert result.outcome == "filled" and result.order_no == 1
        # 5 bps slippage against the buyer, 4.5 bps taker fee on 0.05 * 100050
        fill = result.fill
        assert (fill.px, fill.size, fill.fee_micro) == (D(100_050), D("0.05"), 2_251_125)
        assert await ledger(env, account) == [
            ("deposit", usd(10_000), "opening"),
            ("fee", -2_251_125, "a1"),
        ]
        assert result.balance_micro == usd(10_000) - 2_251_125
        (order,) = await env.module.orders(account)
        assert (
            order.side,
            order.size,
            order.ref_px,
            order.leverage,
            order.stop_loss,
            order.cause,
        ) == ("buy", D("0.05"), D(100_000), 5, D(90_000), "action")
        (fill,) = await env.module.fills(account)
        assert (fill.px, fill.fee_micro, fill.action_id) == (D(100_050), 2_251_125, "a1")
        (position,) = await env.module.positions(account)
        assert (position.side, position.size, position.entry_px, position.stop_loss) == (
            "long",
            D("0.05"),
            D(100_050),
            D(90_000),
        )
        snap = await env.module.snapshot(account)
        assert snap.actions_filled == 1 and snap.positions == [position]


async def test_the_same_action_twice_fills_once(tmp_path: Path):
    async with prop_runtime(tmp_path) as env:
        account = await open_btc(env)
        first = await env.module.submit(account, long())
        env.prices.set(BTC=101_000)
        again = await env.module.submit(account, long())
        assert again.replayed and not first.replayed
        assert again == msgspec.structs.replace(first, replayed=True)
        assert len(await env.module.fills(account)) == 1
        assert len(await ledger(env, account)) == 2
        (action,) = await rows(env, "SELECT action_id, outcome FROM prop_actions")
        assert action == ("a1", "filled")
        rejected = await env.module.submit(account, long("r1", leverage=99))
        retried = await env.module.submit(account, long("r1", leverage=1))
        assert retried.replayed and retried.reason_code == rejected.reason_code


async def test_a_rejection_is_a_row_and_changes_no_balance(tmp_path: Path):
    async with prop_runtime(tmp_path) as env:
        account = await open_btc(env)
        result = await env.module.submit(account, long(leverage=50))
        assert (result.outcome, result.reason_code) == ("rejected", "leverage_above_cap")
        assert result.fill is None and result.balance_micro == usd(10_000)
        assert await rows(
            env, "SELECT action_id, outcome, reason_code, message FROM prop_actions"
        ) == [("a1", "rejected", "leverage_above_cap", "leverage 50x is above 10x")]
        assert await ledger(env, account) == [("deposit", usd(10_000), "opening")]
        assert await env.module.orders(account) == []
        off_universe = await env.module.submit(account, long("a2", symbol="DOGE"))
        assert off_universe.reason_code == "asset_not_in_universe"
        env.prices.remove("ETH")
        no_price = await env.module.submit(account, long("a3", symbol="ETH"))
        assert no_price.reason_code == "no_price"
        held = await env.module.submit(account, Action(action_id="h", kind="hold", symbol="BTC"))
        assert held.outcome == "held"
        snap = await env.module.snapshot(account)
        assert (snap.actions_rejected, snap.actions_held, snap.balance_micro) == (3, 1, usd(10_000))


async def test_a_stop_loss_closes_on_the_next_mark(tmp_path: Path):
    async with prop_runtime(tmp_path) as env:
        account = await open_btc(env)
        await env.module.submit(account, long(stop_loss=D(95_000), take_profit=D(120_000)))
        env.prices.set(BTC=96_000)
        await env.clock.advance(10)
        assert len(await env.module.positions(account)) == 1
        env.prices.set(BTC=94_000)
        await env.clock.advance(10)
        assert await env.module.positions(account) == []
        fills = await env.module.fills(account)
        assert [(f.cause, f.side, f.ref_px) for f in fills] == [
            ("stop_loss", "sell", D(94_000)),
            ("action", "buy", D(100_000)),
        ]
        kinds = [(k, ref) for k, _, ref in await ledger(env, account)]
        assert kinds[-2:] == [("fee", "stop_loss"), ("realized_pnl", "stop_loss")]
        series = await env.module.equity(account, since_ms=0)
        assert series[-1].gross_exposure_micro == 0 and series[-1].equity_micro < usd(10_000)
        assert any(s.gross_exposure_micro > 0 for s in series)


async def test_a_daily_loss_halt_flattens_blocks_entries_and_lifts_next_day(tmp_path: Path):
    async with prop_runtime(tmp_path) as env:
        account = await open_btc(env)
        await env.module.submit(account, long(usd_size=25_000, leverage=5))
        env.prices.set(BTC=97_000)  # -3% on 2.5x equity: about -7.5%, past the 5% daily loss
        await env.clock.advance(10)
        snap = await env.module.snapshot(account)
        assert (snap.status, snap.halt_reason, snap.positions) == ("halted", "daily_loss", [])
        assert (await env.module.fills(account))[0].cause == "daily_loss"
        blocked = await env.module.submit(account, long("a2", usd_size=100, leverage=1))
        assert blocked.reason_code == "account_halted"
        await env.clock.run_until((env.clock.now_ms() // DAY_MS + 1) * DAY_MS / 1000 + 10)
        assert (await env.module.snapshot(account)).status == "active"
        assert (
            await env.module.submit(account, long("a3", usd_size=100, leverage=1))
        ).outcome == "filled"
        changes = await rows(env, "SELECT before, after, reason FROM prop_status_changes")
        assert changes == [("active", "halted", "daily_loss"), ("halted", "active", "new_day")]


async def test_a_max_drawdown_halt_is_permanent(tmp_path: Path):
    async with prop_runtime(tmp_path) as env:
        account = await open_btc(env)
        await env.module.submit(account, long(usd_size=25_000, leverage=5))
        env.prices.set(BTC=90_000)
        await env.clock.advance(10)
        snap = await env.module.snapshot(account)
        assert (snap.status, snap.halt_reason, snap.positions) == ("halted", "max_drawdown", [])
        assert snap.max_drawdown_ppm >= 200_000
        await env.clock.advance(DAY_MS / 1000)
        assert (await env.module.snapshot(account)).status == "halted"
        assert (
            await env.module.submit(account, long("a2", usd_size=100))
        ).reason_code == "account_halted"


async def test_a_liquidation_closes_at_market_and_leaves_the_rest(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.INFO, "clash.prop")
    async with prop_runtime(tmp_path) as env:
        account = await open_btc(env, limits=WIDE)
        result = await env.module.submit(account, long(symbol="ETH", usd_size=150_000, leverage=20))
        assert result.outcome == "filled"  # 60 ETH at 2501.3, fee 67.5351
        env.prices.set(ETH=2_375)  # equity 2354.4649: below maintenance 2850, above 2/3 of it
        await env.clock.advance(10)
        snap = await env.module.snapshot(account)
        assert (snap.status, snap.positions, snap.liquidation_micro) == ("liquidated", [], 0)
        assert snap.balance_micro == 2_290_339_900  # less the close's fee 60 * 2375 * 0.00045
        assert (await ledger(env, account))[-2:] == [
            ("fee", -64_125_000, "liquidation"),
            ("realized_pnl", -7_578_000_000, "liquidation"),
        ]
        fill = (await env.module.fills(account))[0]
        assert (fill.cause, fill.px, fill.fee_micro) == ("liquidation", D(2375), 64_125_000)
        assert await rows(env, STATUS_REASONS, account) == [("liquidation",)]
        late = await env.module.submit(account, long("a2", usd_size=100))
        assert late.reason_code == "account_liquidated"
        (record,) = [r for r in caplog.records if getattr(r, "status", None) == "liquidated"]
        assert (record.levelname, record.account_id) == ("WARNING", account)


async def test_a_backstop_liquidation_zeroes_the_account(tmp_path: Path):
    async with prop_runtime(tmp_path) as env:
        account = await open_btc(env, limits=WIDE)
        await env.module.submit(account, long(symbol="ETH", usd_size=150_000, leverage=20))
        env.prices.set(ETH=2_300)  # equity -2145.5351: below 2/3 of the maintenance margin
        await env.clock.advance(10)
        snap = await env.module.snapshot(account)
        assert (snap.status, snap.balance_micro, snap.positions) == ("liquidated", 0, [])
        assert snap.liquidation_micro == 2_145_535_100  # the deficit written off
        assert [k for k, _, _ in await ledger(env, account)][-2:] == [
            "realized_pnl",
            "backstop_liquidation",
        ]
        assert (await env.module.fills(account))[0].cause == "backstop_liquidation"
        assert await rows(env, STATUS_REASONS, account) == [("backstop_liquidation",)]


async def test_funding_is_an_hourly_ledger_row(tmp_path: Path):
    async with prop_runtime(tmp_path) as env:
        account = await open_btc(env)
        await env.module.submit(account, long())
        env.prices.set_funding("BTC", "0.0001", oracle_px="100000")
        await env.clock.advance(HOUR_MS / 1000 + 10)  # funding runs just after the hour
        funding = [(a, ref) for k, a, ref in await ledger(env, account) if k == "funding"]
        assert funding == [(-500_000, "funding")]  # 0.05 BTC * 100000 * 0.0001, longs pay
        env.prices.set_funding("BTC", "-0.0002", oracle_px="100000")
        await env.clock.advance(HOUR_MS / 1000)
        funding = [a for k, a, _ in await ledger(env, account) if k == "funding"]
        assert funding == [-500_000, 1_000_000]
        assert (await env.module.snapshot(account)).funding_paid_micro == -500_000


async def test_a_crash_restarts_the_actor_which_reloads_and_loses_nothing(tmp_path: Path):
    async with prop_runtime(tmp_path) as env:
        account = await open_btc(env)
        await env.module.submit(account, long())
        before = await env.module.snapshot(account)
        env.prices.fail_next(RuntimeError("price feed bug"))
        await env.clock.advance(10)  # the mark crashes once, the restarted actor marks again
        (stats,) = [s for s in env.system.stats() if s.name == actor_name(account)]
        assert stats.restarts == 1
        async with env.runtime.db.read() as r:
            assert await r.fetchval("SELECT count(*) FROM dead_letters") == 0
        after = await env.module.snapshot(account)
        assert (after.balance_micro, after.positions[0].size) == (before.balance_micro, D("0.05"))
        env.prices.fail_next(RuntimeError("crash inside submit"))
        result = await env.module.submit(account, long("a2", usd_size=1_000, leverage=1))
        assert result.outcome == "filled" and not result.replayed
        assert len(await env.module.fills(account)) == 2


async def test_a_price_outage_skips_marks_and_rejects_actions(tmp_path: Path):
    from clash.prop.prices import PriceUnavailable

    async with prop_runtime(tmp_path) as env:
        account = await open_btc(env)
        env.prices.fail_next(PriceUnavailable("feed down"), times=2)
        result = await env.module.submit(account, long())
        assert result.reason_code == "no_price"
        (stats,) = [s for s in env.system.stats() if s.name == actor_name(account)]
        assert stats.restarts == 0


async def test_admin_controls_write_audit_rows(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.INFO, "clash.prop")
    async with prop_runtime(tmp_path) as env:
        account = await open_btc(env)
        await env.module.submit(account, long())
        assert (await env.module.pause(account, "alice")).status == "paused"
        assert (await env.module.submit(account, long("a2"))).reason_code == "account_paused"
        assert (await env.module.resume(account, "alice")).status == "active"
        flat = await env.module.flatten(account, "bob")
        assert flat.positions == [] and flat.status == "active"
        killed = await env.module.kill(account, "bob")
        assert (killed.status, killed.halt_reason) == ("halted", "killed")
        audit = [
            (a.admin, a.op, a.status_before, a.status_after, a.fills)
            for a in await env.module.admin_actions(account)
        ]
        assert audit == [
            ("alice", "pause", "active", "paused", 0),
            ("alice", "resume", "paused", "active", 0),
            ("bob", "flatten", "active", "active", 1),
            ("bob", "kill", "active", "halted", 0),
        ]
        assert (await env.module.fills(account))[0].cause == "admin"
        logged = [(r.op, r.admin, r.account_id) for r in caplog.records if hasattr(r, "op")]
        assert logged == [(op, who, account) for who, op, *_ in audit]
        (halt,) = [r for r in caplog.records if getattr(r, "status", None) == "halted"]
        assert (halt.levelname, halt.halt_reason) == ("WARNING", "killed")


async def test_finalize_freezes_the_result_and_stops_the_actor(tmp_path: Path):
    async with prop_runtime(tmp_path) as env:
        account = await open_btc(env)
        await env.module.submit(account, long())
        env.prices.set(BTC=101_000)
        result = await env.module.finalize(account)
        assert result.finalized_at_ms is not None and len(result.positions) == 1
        assert result.equity_micro > result.balance_micro  # marked at 101000 on the way out
        assert actor_name(account) not in env.system.names()
        assert await env.module.finalize(account) == result
        assert await env.module.snapshot(account) == result
        with pytest.raises(AccountFinalized):
            await env.module.submit(account, long("a2"))
        with pytest.raises(AccountFinalized):
            await env.module.pause(account, "alice")
        assert (await env.module.submit(account, long())).replayed
        await env.clock.advance(3 * HOUR_MS / 1000)
        assert len(await env.module.equity(account, since_ms=0)) == 2  # opening + final


async def test_a_new_runtime_reloads_open_accounts_from_sqlite(tmp_path: Path):
    path = tmp_path
    async with prop_runtime(path) as env:
        account = await open_btc(env)
        await env.module.submit(account, long(stop_loss=D(95_000)))
        done = await open_btc(env)
        await env.module.finalize(done)
        before = await env.module.snapshot(account)
    async with prop_runtime(path) as env:
        assert env.module.manager.open_accounts == [account]
        after = await env.module.snapshot(account)
        assert (after.balance_micro, after.positions, after.actions_filled) == (
            before.balance_micro,
            before.positions,
            before.actions_filled,
        )
        assert (await env.module.submit(account, long())).replayed
        env.prices.set(BTC=94_000)
        await env.clock.advance(10)
        assert await env.module.positions(account) == []


async def test_snapshots_older_than_a_day_are_thinned_to_one_per_hour(tmp_path: Path):
    config = PropConfig(mark_interval_s=300, snapshot_interval_s=300)
    async with prop_runtime(tmp_path, config=config) as env:
        account = await open_btc(env)
        await env.module.submit(account, long())
        for hour in range(27):
            env.prices.set(BTC=100_000 + hour)
            await env.clock.advance(HOUR_MS / 1000)
        now = env.clock.now_ms()
        series = await env.module.equity(account, since_ms=0)
        old = [s.at_ms for s in series if s.at_ms < now - DAY_MS - HOUR_MS]
        recent = [s.at_ms for s in series if s.at_ms >= now - DAY_MS]
        assert old and len({t // HOUR_MS for t in old}) == len(old)
        assert len(recent) >= 24 * 12 - 1


async def test_idle_accounts_write_no_snapshot_per_mark(tmp_path: Path):
    async with prop_runtime(tmp_path) as env:
        account = await open_btc(env)
        await env.clock.advance(600)
        assert len(await env.module.equity(account, since_ms=0)) == 1


async def test_the_ledger_check_catches_a_tampered_balance(tmp_path: Path):
    async with prop_runtime(tmp_path) as env:
        account = await open_btc(env)
        await env.module.submit(account, long())
        async with env.db.transaction() as tx:
            await tx.execute("UPDATE prop_accounts SET balance_micro = balance_micro + 1")
            await tx.execute("UPDATE prop_positions SET size = '0.06'")
        report = await env.db.check()
        assert not report.ok
        assert any("balance is" in p for p in report.problems)
        assert any("fills net to 0.05" in p for p in report.problems)
        async with env.db.transaction() as tx:
            await tx.execute("UPDATE prop_accounts SET balance_micro = balance_micro - 1")
            await tx.execute("UPDATE prop_positions SET size = '0.05'")
