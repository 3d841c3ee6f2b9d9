"""The effective context packet (seed 003 §E) over real market memory: the market module's actors
ingest the simulator on a VirtualClock; the packet is read back through its as-of reads."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest

from clash.market import memory
from clash.market.candles import HOUR_MS, MINUTE_MS, Candle
from clash.market.indicators import IndicatorPoint, IndicatorState
from clash.market.memory import (
    AssetProfile,
    FundingRow,
    LiquidityProfile,
    MacroObservation,
    PolymarketRow,
    PositioningProfile,
    SettledFunding,
    VolatilityProfile,
)
from clash.market.polymarket.summary import MarketSummary
from clash.prop.gates import Action
from clash.trading.candidates import SCORE_HOURS, score
from clash.trading.context import build_block
from clash.trading.module import TradingError
from clash.trading.packet import (
    CandleData,
    FundingData,
    IndicatorData,
    MacroData,
    MemoryRead,
    PolymarketData,
    ReadPlan,
    encode,
)

from tests.helpers.trading_world import seed_graph, trading_world

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def known_times(packet) -> list[int]:
    """When every datum in the packet became known."""
    out = []
    for a in packet.assets:
        for b in a.blocks:
            d = b.data
            if b.latest_ms is not None:
                out.append(b.latest_ms)
            if isinstance(d, CandleData):
                step = HOUR_MS if d.interval in ("1h", "4h", "1d") else MINUTE_MS
                out += [bar.t_ms + step for bar in d.bars]
            elif isinstance(d, IndicatorData):
                out += [row[0] + MINUTE_MS for row in d.rows]
            elif isinstance(d, FundingData):
                out += [p[0] for p in d.polls] + [s[0] for s in d.settled]
            elif isinstance(d, MacroData):
                out += [r.observed_ms for r in d.rows]
            elif isinstance(d, PolymarketData):
                out.append(d.t_ms)
    return out


async def test_seed_packet_btc_branch_reads_eth_from_market_memory(tmp_path) -> None:
    async with trading_world(tmp_path) as w:
        cid = await w.clone(seed_graph())
        preview = await w.trading.preview(cid)
        p = preview.packet
        as_of = w.clock.now_ms()
        assert p.as_of_ms == as_of and p.format == "clash.context.v1" and preview.problems == []
        assert (
            p.clone.clone_id,
            p.clone.owner_id,
            p.clone.ref,
            p.clone.revision,
            p.clone.tier,
        ) == (cid, "ada", "draft", 2, "starter")  # created (1), then saved (2)
        assert [u.symbol for u in p.compiled.universe] == ["BTC"]
        assert [(c.prompt_node_id, [x.symbol for x in c.selected]) for c in p.candidates] == [
            ("momentum", ["BTC"])
        ]
        (btc,) = p.assets
        blocks = {b.stream_node_id: b for b in btc.blocks}
        assert {k: b.status for k, b in blocks.items()} == dict.fromkeys(
            ["eth-candles", "own-rsi", "own-funding", "macro", "pm"], "ok"
        )

        eth = blocks["eth-candles"]
        assert (eth.symbol, eth.context_symbol, eth.granularity) == ("BTC", "ETH", "1h")
        stored = await memory.candles(w.db, "ETH", "1h", as_of, 168)
        assert [(b.t_ms, b.c) for b in eth.data.bars] == [(c.t_ms, c.c) for c in stored]
        assert eth.data.bars[-1].t_ms + HOUR_MS <= as_of

        rsi = blocks["own-rsi"].data
        last = (await memory.indicators(w.db, "BTC", as_of, 1))[-1]
        assert rsi.fields == ["rsi"] and rsi.rows[-1] == [last.t_ms, last.rsi]
        assert all(b - a == 5 * MINUTE_MS for (a, *_), (b, *_) in zip(rsi.rows, rsi.rows[1:]))

        funding = blocks["own-funding"].data
        assert funding.polls and all(
            as_of - 60 * MINUTE_MS < row[0] <= as_of for row in funding.polls
        )
        macro = blocks["macro"].data
        assert macro.rows and {(r.family, r.scope, r.subject) for r in macro.rows} == {
            ("capital_flows", "chain", "Ethereum")
        }
        pm = blocks["pm"].data
        assert pm.markets and all("bitcoin" in m.slug or "btc" in m.slug for m in pm.markets)

        titles = [s.title for s in btc.sections]
        assert titles[:2] == ["Task", "Strategy"] and btc.sections[1].text == "Trade the trend."
        assert "ETH ohlcv (hyperliquid, 1h, " in titles[2] and titles[2].endswith("context for BTC")
        assert btc.estimated_prompt_tokens == sum(s.estimated_tokens for s in btc.sections) > 100
        assert p.estimated_prompt_tokens == btc.estimated_prompt_tokens
        assert max(known_times(p)) <= as_of
        assert preview.packet_bytes == len(encode(p))


async def test_the_packet_never_holds_data_stamped_after_as_of(tmp_path) -> None:
    async with trading_world(tmp_path) as w:
        cid = await w.clone(seed_graph())
        as_of = w.clock.now_ms()
        before = encode((await w.trading.preview(cid, as_of)).packet)

        await w.clock.advance(20 * 60)  # the actors keep ingesting: candles, funding, Polymarket
        minute = as_of // MINUTE_MS * MINUTE_MS
        async with w.db.transaction() as tx:  # and rows stamped just after as_of, written by hand
            for symbol in ("BTC", "ETH"):
                candle = Candle(minute, 1e6, 1e6, 1e6, 1e6, 1.0, 1)
                await memory.write_closed(
                    tx, symbol, [(candle, IndicatorPoint(*[99.0] * 8))], IndicatorState(), as_of + 1
                )
            await memory.insert_funding(
                tx,
                [
                    FundingRow(
                        symbol="BTC",
                        t_ms=as_of + 1,
                        rate=0.5,
                        premium=0.5,
                        oracle_px=1e6,
                        mark_px=1e6,
                        open_interest=1.0,
                    )
                ],
                as_of + 1,
            )
            await memory.upsert_funding_history(
                tx, [SettledFunding("BTC", as_of + 1, 0.5, 0.5)], as_of + 1
            )
            await memory.insert_macro(
                tx,
                [
                    MacroObservation(
                        observed_ms=as_of + 1,
                        family="capital_flows",
                        scope="chain",
                        subject="Ethereum",
                        metric="tvl_change_1d",
                        usd_micros=1,
                        change_pct=99.0,
                        as_of_ms=as_of + 1,
                        linked_symbol="ETH",
                    )
                ],
                as_of + 1,
            )
            leak = MarketSummary(
                market_id="leak",
                slug="btc-leak",
                question="Leak?",
                outcomes=("Yes", "No"),
                prices=(Decimal("0.5"), Decimal("0.5")),
                volume_usd_micros=1,
                liquidity_usd_micros=1,
                end_ms=None,
                closed=False,
            )
            await memory.insert_polymarket(
                tx, as_of + 1, [PolymarketRow("asset", "BTC", 0, leak)], as_of + 1
            )
            await memory.insert_profiles(
                tx,
                [
                    AssetProfile(
                        "BTC",
                        as_of + 1,
                        LiquidityProfile(
                            day_ntl_vlm=1,
                            open_interest=1,
                            oi_ntl=1,
                            impact_bid=None,
                            impact_ask=None,
                            impact_spread_bps=None,
                        ),
                        VolatilityProfile(
                            rv_1h=None,
                            rv_24h=None,
                            range_1h_pct=None,
                            range_24h_pct=None,
                            change_24h_pct=None,
                        ),
                        PositioningProfile(
                            oi_change_1h_pct=None,
                            oi_change_24h_pct=None,
                            funding_rate=0.5,
                            funding_apr=1.0,
                            premium=None,
                            predicted_rate=None,
                            pressure="neutral",
                        ),
                    )
                ],
                as_of + 1,
            )

        again = await w.trading.preview(cid, as_of)
        assert encode(again.packet) == before
        assert max(known_times(again.packet)) <= as_of
        assert (await memory.candles(w.db, "ETH", "1m", minute + MINUTE_MS, 1))[
            -1
        ].c == 1e6  # the rows are there
        assert (await memory.funding(w.db, "BTC", as_of + 1, 1))[-1].rate == 0.5
        now = (await w.trading.preview(cid)).packet
        assert max(known_times(now)) > as_of


async def test_a_candle_corrected_or_gap_filled_after_as_of_leaves_its_packet_unchanged(
    tmp_path,
) -> None:
    async with trading_world(tmp_path) as w:  # ETH minutes from 05:00 (the boot backfill) to now
        cid = await w.clone(seed_graph())
        as_of = w.clock.now_ms()
        before = encode((await w.trading.preview(cid, as_of)).packet)
        hour6 = as_of // HOUR_MS * HOUR_MS - 3 * HOUR_MS
        assert hour6 % (24 * HOUR_MS) == 6 * HOUR_MS
        (minute,) = [
            c
            for c in await memory.candles(w.db, "ETH", "1m", as_of, 1440)
            if c.t_ms == hour6 + 30 * MINUTE_MS
        ]

        await w.clock.advance(5 * 60)
        async with w.db.transaction() as tx:  # a late correction of 06:30, and 04:59 filled in
            await memory.upsert_candle(
                tx,
                "ETH",
                Candle(minute.t_ms, minute.o, 1e6, minute.l, minute.c, minute.v, minute.n),
                w.clock.now_ms(),
            )
            await memory.upsert_candle(
                tx,
                "ETH",
                Candle(hour6 - HOUR_MS - MINUTE_MS, 3000.0, 3001.0, 2999.0, 3000.5, 1.0, 1),
                w.clock.now_ms(),
            )

        assert encode((await w.trading.preview(cid, as_of)).packet) == before
        eth = next(
            b
            for b in (await w.trading.preview(cid)).packet.assets[0].blocks
            if b.stream_node_id == "eth-candles"
        )
        live = {b.t_ms: b for b in eth.data.bars}
        assert live[hour6].h == 1e6 and live[hour6 - 2 * HOUR_MS].c == 3000.5


async def test_same_inputs_give_byte_identical_packets(tmp_path) -> None:
    async with trading_world(tmp_path) as w:
        cid = await w.clone(seed_graph())
        await w.clones.publish("ada", cid)
        as_of = w.clock.now_ms()
        a = await w.trading.preview(cid, as_of)
        b = await w.trading.preview(cid, as_of)
        assert encode(a.packet) == encode(b.packet) and a.packet_sha256 == b.packet_sha256
        v = await w.trading.preview(cid, as_of, ref=1)
        assert (v.packet.clone.ref, v.packet.clone.version) == ("version", 1)
        assert v.packet.compiled == a.packet.compiled and v.packet.assets == a.packet.assets
        await w.clock.advance(5 * 60)
        assert encode((await w.trading.preview(cid, as_of)).packet) == encode(a.packet)


async def test_account_state_and_open_positions_come_first(tmp_path) -> None:
    async with trading_world(tmp_path) as w:
        graph = seed_graph(symbols=("BTC", "ETH", "SOL"), candidatePolicy={"maxCandidates": 2})
        cid = await w.clone(graph)
        account = await w.prop.open_account(
            cid, "sandbox", universe=["BTC", "ETH"], owner_user_id="ada"
        )
        result = await w.prop.submit(
            account,
            Action(
                action_id="a1", kind="open_long", symbol="ETH", size_usd=1_000_000_000, leverage=2
            ),
        )
        assert result.outcome == "filled"
        p = (await w.trading.preview(cid, account_id=account)).packet
        (chosen,) = p.candidates
        assert [(c.symbol, c.reason) for c in chosen.selected] == [
            ("ETH", "open_position"),
            ("BTC", "universe"),
        ]
        assert [c.symbol for c in chosen.over_cap] == ["SOL"]
        a = p.account
        assert a.account_id == account and a.status == "active" and a.equity_micro > 0
        assert [(x.symbol, x.side) for x in a.positions] == [("ETH", "long")]
        assert [f.symbol for f in a.fills] == ["ETH"] and [o.symbol for o in a.orders] == ["ETH"]
        assert a.ledger.deposits_micro == 10_000_000_000 and a.ledger.fees_paid_micro > 0
        assert {c.name: c.ok for c in a.checks} == {
            "status": True,
            "drawdown": True,
            "daily_loss": True,
            "gross_exposure": True,
        }
        eth = p.asset("momentum", "ETH")
        text = next(s for s in eth.sections if s.id == "account").text
        assert "position ETH long" in text and "<- this asset" in text and "fill " in text

        with pytest.raises(TradingError) as err:
            await w.trading.preview(cid, w.clock.now_ms() - 1, account_id=account)
        assert err.value.code == "account_state_is_live"
        other = await w.clone(seed_graph())
        with pytest.raises(TradingError) as err:
            await w.trading.preview(other, account_id=account)
        assert err.value.code == "account_not_of_clone"
        with pytest.raises(TradingError) as err:
            await w.trading.preview(cid, account_id="pa_nope")
        assert err.value.code == "account_not_found"


async def test_prefilter_ranks_by_memory_and_spot_skips_funding(tmp_path) -> None:
    async with trading_world(tmp_path) as w:
        graph = seed_graph(
            symbols=("BTC", "SOL", "HYPE/USDC"),
            candidatePolicy={"maxCandidates": 2, "prefilter": "momentum"},
        )
        cid = await w.clone(graph)
        as_of = w.clock.now_ms()
        p = (await w.trading.preview(cid, as_of)).packet
        expected = {
            s: score("momentum", await memory.candles(w.db, s, "1h", as_of, SCORE_HOURS))
            for s in ("BTC", "SOL", "HYPE/USDC")
        }
        ranked = sorted(expected, key=lambda s: -expected[s])
        (chosen,) = p.candidates
        assert [(c.symbol, c.score) for c in chosen.selected + chosen.over_cap] == [
            (s, expected[s]) for s in ranked
        ]
        assert [a.symbol for a in p.assets] == ranked[:2]
        latest = await w.trading.latest_data(cid, "HYPE/USDC")
        (ctx,) = latest.contexts
        assert [s.stream_node_id for s in ctx.skipped] == ["own-funding"]
        assert ctx.skipped[0].reason == "unsupported_channel"
        assert [b.stream_node_id for b in ctx.blocks] == ["eth-candles", "own-rsi", "macro", "pm"]
        assert latest.asset.kind == "spot" and ctx.candidate.reason == "latest_data"


async def test_latest_data_for_a_connected_asset(tmp_path) -> None:
    async with trading_world(tmp_path) as w:
        cid = await w.clone(seed_graph())
        as_of = w.clock.now_ms()
        latest = await w.trading.latest_data(cid, "BTC", as_of_ms=as_of)
        preview = await w.trading.preview(cid, as_of)
        (ctx,) = latest.contexts
        assert (
            ctx.blocks == preview.packet.assets[0].blocks
            and ctx.sections == preview.packet.assets[0].sections
        )
        with pytest.raises(TradingError) as err:
            await w.trading.latest_data(cid, "ETH")  # read as context, not traded
        assert err.value.code == "symbol_not_connected"
        with pytest.raises(TradingError) as err:
            await w.trading.latest_data(cid, "BTC", as_of_ms=as_of + 1)
        assert err.value.code == "as_of_in_future"


async def test_stale_sources_are_skipped_or_flagged(tmp_path) -> None:
    async with trading_world(tmp_path) as w:  # DefiLlama polls hourly: 30 minutes old here
        graph = seed_graph()
        macro = next(n for n in graph["nodes"] if n["id"] == "macro")
        macro["config"]["sourcePolicy"] = {"maxStalenessSec": 600}
        cid = await w.clone(graph)
        block = next(
            b
            for b in (await w.trading.preview(cid)).packet.assets[0].blocks
            if b.stream_node_id == "macro"
        )
        assert (block.status, block.data, block.points > 0) == ("stale", None, True)
        macro["config"]["sourcePolicy"] = {"maxStalenessSec": 600, "onStale": "include"}
        cid = await w.clone(graph)
        asset = (await w.trading.preview(cid)).packet.assets[0]
        block = next(b for b in asset.blocks if b.stream_node_id == "macro")
        assert block.status == "stale" and isinstance(block.data, MacroData)
        assert any(s.title.endswith(", stale") for s in asset.sections)


def plan(channel="ohlcv", granularity="5m", lookback=30, points=4, table="candles_1m") -> ReadPlan:
    return ReadPlan(
        stream_node_id="s",
        selection_node_id="sel",
        symbol="BTC",
        context_symbol="BTC",
        cross_asset=False,
        source="hyperliquid",
        channel=channel,
        profile="balanced",
        lookback_minutes=lookback,
        granularity=granularity,
        max_datapoints=points,
        include_in_prompt=True,
        reads=[MemoryRead(table=table, rows=lookback)],
    )


def test_minute_candles_bucket_into_the_plan_granularity() -> None:
    t0 = 1_767_225_600_000
    minutes = [
        Candle(t0 + i * MINUTE_MS, 100 + i, 101 + i, 99 + i, 100.5 + i, 1.0, 1) for i in range(12)
    ]
    as_of = t0 + 12 * MINUTE_MS + 5_000
    block = build_block(plan(), {("candles_1m", "BTC"): minutes}, as_of)
    assert block.status == "ok" and block.latest_ms == t0 + 12 * MINUTE_MS
    assert [tuple(msgspec.to_builtins(b)) for b in block.data.bars] == [
        (t0, 100, 105, 99, 104.5, 5.0),
        (t0 + 5 * MINUTE_MS, 105, 110, 104, 109.5, 5.0),
        (t0 + 10 * MINUTE_MS, 110, 112, 109, 111.5, 2.0),
    ]
    short = build_block(plan(lookback=6, points=2), {("candles_1m", "BTC"): minutes}, as_of)
    assert [b.t_ms for b in short.data.bars] == [t0 + 5 * MINUTE_MS, t0 + 10 * MINUTE_MS]
    empty = build_block(plan(), {}, as_of)
    assert (empty.status, empty.data, empty.points, empty.latest_ms) == ("empty", None, 0, None)
