"""`clash run` on defaults: the demo clone is created once, trades, and comes back after a restart;
activations are persisted and re-activated at start."""

from __future__ import annotations

import pytest

from tests.helpers.decision_world import START, decision_world, trading_config

pytestmark = pytest.mark.anyio


async def test_the_demo_clone_trades_and_survives_a_restart(tmp_path) -> None:
    cfg = trading_config(demo_clone=True)
    async with decision_world(tmp_path, trading=cfg) as w:
        await w.clock.advance(600)
        (demo,) = await w.trading.activations()
        assert demo.demo and demo.active
        clone = await w.clones.get_clone("demo", demo.clone_id)
        assert clone.owner_id == "demo" and clone.latest_version == 1
        runs = await w.runs(demo.clone_id)
        assert {r.symbol for r in runs} == {"BTC", "ETH", "SOL"} and len(runs) >= 27
        assert {r.account_id for r in runs} == {demo.account_id}
        first = len(runs)

    async with decision_world(tmp_path, trading=cfg, warm_s=0, start=START + 3600) as w:
        await w.clock.advance(180)
        assert await w.trading.activations() == [demo]
        assert [c.id for c in await w.clones.list_clones("demo")] == [demo.clone_id]
        assert len(await w.prop.accounts_of_clone(str(demo.clone_id))) == 1
        assert len(await w.runs(demo.clone_id)) == first + 9


async def test_deactivate_stops_the_pair_for_good(tmp_path) -> None:
    async with decision_world(tmp_path) as w:
        cid = await w.publish(assets=["BTC"])
        account = await w.activate(cid, universe=["BTC"])
        await w.clock.advance(300)
        await w.trading.deactivate(cid, account)
        await w.clock.advance(600)
        assert len(await w.runs(cid)) == 1
        assert await w.trading.activations() == []
    async with decision_world(tmp_path, warm_s=0, start=START + 3600) as w:
        await w.clock.advance(600)
        assert len(await w.runs(cid)) == 1
