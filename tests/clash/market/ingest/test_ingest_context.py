"""Polymarket and DefiLlama actors: compact context rows, as-of reads, bad input, health."""

from __future__ import annotations

import pytest

from clash.market import memory
from clash.market.messages import DefiLlamaPoll, PolymarketPoll
from clash.market.module import DEFILLAMA, POLYMARKET

pytestmark = pytest.mark.anyio


def counters(rows):
    return {(c.source, c.channel): c for c in rows}


async def test_polymarket_snapshots_and_as_of(tmp_path, kit) -> None:
    async with kit.world(tmp_path) as w:
        await w.clock.advance(0)  # first poll at boot
        first = w.clock.now_ms()
        ctx = await memory.polymarket_context(w.db, "BTC", first)
        assert ctx.t_ms == first
        assert ctx.immediate is not None and ctx.later is not None
        assert ctx.immediate.end_ms <= ctx.later.end_ms and not ctx.immediate.closed
        assert ctx.recently_closed and all(
            m.closed or m.end_ms <= first for m in ctx.recently_closed
        )
        assert ctx.linked and all("bitcoin" in m.slug or "btc" in m.slug for m in ctx.linked)
        eth = await memory.polymarket_context(w.db, "ETH", first)
        assert eth.linked and {m.market_id for m in eth.linked}.isdisjoint(
            m.market_id for m in ctx.linked
        )
        assert (await memory.polymarket_context(w.db, None, first)).linked == []

        await w.clock.advance(300)  # the next poll
        later = await memory.polymarket_context(w.db, "BTC", w.clock.now_ms())
        assert later.t_ms == first + 300_000
        between = await memory.polymarket_context(w.db, "BTC", first + 299_999)
        assert between.t_ms == first and between == ctx
        assert (await memory.polymarket_context(w.db, "BTC", first - 1)).t_ms is None


async def test_defillama_rows_are_linked_to_assets_and_bounded_by_fetch_time(tmp_path, kit) -> None:
    async with kit.world(tmp_path) as w:
        await w.clock.advance(0)
        now = w.clock.now_ms()
        eth = await memory.macro_context(w.db, "ETH", now)
        families = {m.family for m in eth}
        assert families == {"capital_base", "capital_flows", "economic_throughput"}
        chain = [m for m in eth if m.scope == "chain"]
        assert chain and all(m.subject == "Ethereum" and m.linked_symbol == "ETH" for m in chain)
        btc = await memory.macro_context(w.db, "BTC", now)
        assert all(m.scope == "global" for m in btc)  # Bitcoin is not a configured chain here
        assert await memory.macro_context(w.db, "ETH", now - 1) == []
        keys = [(m.scope, m.subject, m.metric) for m in eth]
        assert len(keys) == len(set(keys))


async def test_truncated_gamma_payload_is_counted_and_skipped(tmp_path, kit) -> None:
    async with kit.world(tmp_path, autostart=False) as w:
        w.faults.truncate["/polymarket"] = 1
        bad = await w.ask(POLYMARKET, PolymarketPoll())
        assert bad.decode_error
        good = await w.ask(POLYMARKET, PolymarketPoll())
        assert good.error is None and good.rows > 0
        c = counters(await memory.health_counters(w.db))[("polymarket", "markets")]
        assert (c.decode_errors_total, c.errors_total, c.consecutive_failures) == (1, 0, 0)


async def test_one_failing_defillama_scope_does_not_drop_the_others(tmp_path, kit) -> None:
    async with kit.world(tmp_path, autostart=False) as w:
        w.faults.status["/defillama/v2/historicalChainTvl/Ethereum"] = 503
        result = await w.ask(DEFILLAMA, DefiLlamaPoll())
        assert result.rows > 0 and "chain:Ethereum" in result.error
        rows = await memory.macro_context(w.db, "ETH", w.clock.now_ms())
        assert rows and all(m.scope == "global" for m in rows)
        c = counters(await memory.health_counters(w.db))[("defillama", "macro")]
        assert c.errors_total == 1 and c.consecutive_failures == 0


async def test_health_goes_failing_then_stale(tmp_path, kit) -> None:
    async with kit.world(tmp_path) as w:
        module_health = w.health
        await w.clock.advance(0)
        assert (await module_health()).status == "ok"
        pm = lambda h: next(s for s in h.sources if s.source == "polymarket")  # noqa: E731

        w.faults.status["/polymarket"] = 500
        await w.clock.advance(
            301
        )  # the poll at 300 s fails after its retries (backoff on the clock)
        assert pm(await module_health()).status == "failing"
        del w.faults.status["/polymarket"]
        await w.clock.advance(300)
        assert pm(await module_health()).status == "ok"

        await w.system.stop(POLYMARKET)  # no data for a while
        await w.clock.advance(15 * 60 + 1)
        health = await module_health()
        channel = pm(health).channels[0]
        assert channel.status == "stale" and channel.lag_ms > 15 * 60_000
        assert health.status == "stale"
