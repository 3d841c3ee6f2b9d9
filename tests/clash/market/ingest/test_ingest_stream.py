"""The WebSocket path: the simulator served by hypercorn on 127.0.0.1, the actor on a VirtualClock.

The simulator reads the virtual clock, so moving it closes minutes on the wire; the stream itself
runs in real time, hence the bounded waits.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import anyio
import pytest

from actors.testkit import virtual_system
from clash.market import memory
from clash.market.candles import MINUTE_MS
from clash.market.indicators import IndicatorState
from clash.market.module import HYPERLIQUID, serve_sim, sim_endpoints, spawn_sources

pytestmark = pytest.mark.anyio


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 10.0) -> None:
    with anyio.fail_after(seconds):
        while not await check():
            await anyio.sleep(0.02)


async def test_stream_closes_candles_and_fills_the_gap_after_a_reconnect(tmp_path, kit) -> None:
    cfg = kit.config(
        websocket=True,
        assets=["BTC", "ETH"],
        boot_backfill_minutes=30,
        candle_sweep_interval_s=3600.0,
    )  # only the stream (and its gap fill) closes minutes
    db = await kit.open_db(tmp_path / "m.db", kit.T0_MS)
    try:
        async with virtual_system(kit.T0 + 30) as (system, clock):
            url, app = serve_sim(system, clock, cfg)
            spawn_sources(system, db, clock, cfg, sim_endpoints(url), artifacts_dir=None)
            await clock.advance(0)  # boot over real HTTP: registry, backfill, stream started
            actor = system.actor(HYPERLIQUID)

            async def last_t(symbol: str = "BTC") -> int | None:
                return actor.feed.tracks[symbol].last_t

            assert await last_t() == kit.T0_MS - MINUTE_MS

            async def partial_seen() -> bool:
                track = actor.feed.tracks["BTC"]
                return track.partial is not None and track.partial.open_ms == kit.T0_MS

            await eventually(partial_seen)
            await clock.advance(60)  # the minute closes on the wire
            await eventually(lambda: _eq(last_t(), kit.T0_MS))

            sim = app.state.hyperliquid
            assert sim.drop_connections() == 1
            await clock.advance(180)  # three minutes pass while the stream reconnects
            await eventually(lambda: _eq(last_t(), kit.T0_MS + 3 * MINUTE_MS))
            await eventually(lambda: _eq(last_t("ETH"), kit.T0_MS + 3 * MINUTE_MS))
            assert actor.slot.pump.stats.reconnects >= 1

            async with db.read() as r:
                candles = await memory.candles_between(r, "BTC", 0, 2**62)
            assert [c.t_ms for c in candles] == list(
                range(kit.T0_MS - 30 * MINUTE_MS, kit.T0_MS + 4 * MINUTE_MS, MINUTE_MS)
            )
            expected = [
                b.close
                for b in app.state.hyperliquid.market.candles(
                    "BTC", "1m", candles[0].t_ms, candles[-1].t_ms + MINUTE_MS - 1
                )
            ]
            assert [c.c for c in candles] == expected
            state = IndicatorState()
            rows = [memory.IndicatorRow.of(c.t_ms, state.update(c.c)) for c in candles]
            assert await memory.indicators(db, "BTC", 2**62, 10**6) == rows
    finally:
        await db.close()


async def _eq(value: Awaitable[object], want: object) -> bool:
    return await value == want
