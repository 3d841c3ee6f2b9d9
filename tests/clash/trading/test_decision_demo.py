"""`clash run` on defaults: the demo clone is created once, fills within minutes, and comes back
after a restart; activations are persisted and re-activated at start."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import msgspec
import pytest

from actors import VirtualClock
from clash.clones.module import ClonesModule
from clash.config import Secrets, load_config
from clash.http.app import create_app
from clash.ops.module import OpsModule
from clash.prop.module import PropModule
from clash.runtime import Runtime, boot
from clash.trading.module import TradingModule

from tests.helpers.decision_world import IN_PROCESS_MARKET, START, decision_world

pytestmark = pytest.mark.anyio


@asynccontextmanager
async def default_runtime(
    tmp_path: Path, start: float = START
) -> AsyncIterator[tuple[Runtime, VirtualClock]]:
    """config/default.toml as `clash run` reads it, on a VirtualClock, the simulator in-process
    (no websocket: the in-process simulator serves REST only) and no Anthropic key (rules)."""
    cfg = load_config(environ={})
    hl = msgspec.structs.replace(cfg.market.hyperliquid, websocket=False)
    cfg = msgspec.structs.replace(
        cfg,
        system=msgspec.structs.replace(cfg.system, data_dir=str(tmp_path / "var")),
        market=msgspec.structs.replace(cfg.market, hyperliquid=hl),
    )
    clock = VirtualClock(start)
    modules = [OpsModule, IN_PROCESS_MARKET, ClonesModule, PropModule, TradingModule]
    async with boot(cfg, Secrets(), clock, modules) as rt:
        await clock.settle()
        yield rt, clock


async def decisions(rt: Runtime, clone_id: int) -> list[dict]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(rt)), base_url="http://clash"
    ) as c:
        r = await c.get(
            f"/api/v1/clones/{clone_id}/decisions",
            params={"limit": 200},
            headers={"x-user-id": "demo"},
        )
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def test_the_demo_clone_fills_within_five_minutes_and_survives_a_restart(tmp_path) -> None:
    demo_cfg = load_config(environ={}).trading.demo
    assert demo_cfg is not None
    async with default_runtime(tmp_path) as (rt, clock):
        await clock.advance(300)
        (demo,) = await rt.module(TradingModule).activations()
        assert demo.demo and demo.active
        clone = await rt.module(ClonesModule).get_clone("demo", demo.clone_id)
        assert (clone.owner_id, clone.name, clone.latest_version) == ("demo", demo_cfg.name, 1)
        seen = await decisions(rt, demo.clone_id)
        assert {d["symbol"] for d in seen} == set(demo_cfg.assets)
        filled = [d for d in seen if d["status"] == "filled"]
        assert filled, [d["status"] for d in seen]
        fills = await rt.module(PropModule).fills(demo.account_id)
        assert {f.order_no for f in fills} == {d["action"]["fill"]["order_no"] for d in filled}
        first = len(seen)

    async with default_runtime(tmp_path, start=START + 3600) as (rt, clock):
        await clock.advance(180)
        assert await rt.module(TradingModule).activations() == [demo]
        assert [c.id for c in await rt.module(ClonesModule).list_clones("demo")] == [demo.clone_id]
        assert len(await rt.module(PropModule).accounts_of_clone(demo.clone_id)) == 1
        assert len(await decisions(rt, demo.clone_id)) == first + 3 * len(demo_cfg.assets)


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
