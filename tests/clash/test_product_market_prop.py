"""The modules together: prop accounts trading at the prices the market module ingests from the simulator."""

from decimal import Decimal

import msgspec
import pytest

from actors import VirtualClock
from actors.testkit import EPOCH_2026
from clash.config import Secrets, load_config
from clash.market.module import MarketModule
from clash.ops.module import OpsModule
from clash.prop.gates import Action
from clash.prop.module import PropModule
from clash.runtime import boot

pytestmark = pytest.mark.anyio


def config(tmp_path):
    base = load_config(environ={})
    hl = msgspec.structs.replace(
        base.market.hyperliquid,
        assets=["BTC", "ETH", "HYPE/USDC"],
        boot_backfill_minutes=30,
        websocket=False,
    )
    return msgspec.structs.replace(
        base,
        system=msgspec.structs.replace(base.system, data_dir=str(tmp_path / "var")),
        market=msgspec.structs.replace(base.market, hyperliquid=hl),
    )


async def test_an_account_fills_at_the_ingested_mark_with_slippage_against_the_trader(tmp_path):
    clock = VirtualClock(EPOCH_2026 + 30)
    async with boot(
        config(tmp_path), Secrets(admin_token="t"), clock, [OpsModule, MarketModule, PropModule]
    ) as rt:
        await clock.advance(120)
        market, prop = rt.module(MarketModule), rt.module(PropModule)
        account = await prop.open_account(1, "sandbox", universe=["BTC", "ETH"], owner_user_id="u1")

        mark = (await market.latest_marks(["BTC"]))["BTC"]
        result = await prop.submit(
            account,
            Action(
                action_id="a1", kind="open_long", symbol="BTC", size_usd=1_000_000_000, leverage=2
            ),
        )
        assert result.outcome == "filled", result
        assert result.fill.ref_px == mark
        assert (
            mark < result.fill.px <= mark * Decimal("1.0006")
        )  # 5 bps slippage, rounded against us

        unknown = await prop.submit(
            account,
            Action(action_id="a2", kind="open_long", symbol="HYPE/USDC", size_usd=50_000_000),
        )
        assert unknown.outcome == "rejected" and unknown.reason_code == "asset_not_in_universe"

        await clock.advance(60)
        snapshot = await prop.snapshot(account)
        assert snapshot.positions[0].symbol == "BTC"
        assert snapshot.balance_micro == 10_000_000_000 - result.fill.fee_micro
        report = await rt.db.check()
        assert report.ok, report.problems


async def test_a_stale_feed_rejects_entries_with_no_price(tmp_path):
    clock = VirtualClock(EPOCH_2026 + 30)
    async with boot(
        config(tmp_path), Secrets(admin_token="t"), clock, [OpsModule, MarketModule, PropModule]
    ) as rt:
        await clock.advance(60)
        prop = rt.module(PropModule)
        account = await prop.open_account(1, "sandbox", universe=["BTC"])
        await rt.system.stop("market.hyperliquid")  # the feed goes quiet
        await clock.advance(10 * 60)
        result = await prop.submit(
            account, Action(action_id="late", kind="open_long", symbol="BTC", size_usd=100_000_000)
        )
        assert result.outcome == "rejected" and result.reason_code == "no_price"
        assert (await prop.snapshot(account)).balance_micro == 10_000_000_000
