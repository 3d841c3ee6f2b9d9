"""Context-packet benchmark. Run: .venv/bin/python bench/context.py [--runs N] [--warm-hours H]

Market memory is real: the market module's source actors ingest the simulator on a VirtualClock
(a day of 1-minute candles and indicators backfilled for 10 assets, then `--warm-hours` of live
polls: funding, profiles, Polymarket, DefiLlama). A 10-asset clone with 13 data streams each
(one of them cross-asset ETH context) is compiled and its packet resolved as of the end. The
baseline resolves the same plans with one market-memory query per datapoint.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import anyio
import httpx
import msgspec

from actors.testkit import EPOCH_2026, virtual_system
from clash.clones.catalog import MarketCatalog
from clash.clones.graph import GRANULARITY_MINUTES, decode_pipeline
from clash.market import MemoryReader, memory
from clash.market.candles import DAY_MS, MINUTE_MS
from clash.market.config import HyperliquidSettings, MarketConfig, RetrySettings
from clash.market.module import sim_endpoints, spawn_sources
from clash.market.sim.app import create_sim_app
from clash.market.sim.market import SimMarket
from clash.store import Database, discover_migrations
from clash.trading.compiler import compile_pipeline
from clash.trading.context import fetch, resolve_packet
from clash.trading.packet import CloneRef, CompiledPipeline, ReadPlan, encode

ASSETS = ["BTC", "ETH", "SOL", "HYPE", "XRP", "DOGE", "AVAX", "LINK", "LTC", "BNB"]
TARGET_MS = 5.0
FAST = RetrySettings(attempts=2, backoff_s=0.001, backoff_max_s=0.002, timeout_s=5.0)
CLONE = CloneRef(
    clone_id=1,
    owner_id="bench",
    name="Bench",
    ref="draft",
    version=None,
    revision=1,
    model_strength="light",
    tier="pro",
)


def pipeline_doc() -> dict:
    streams = {
        "candles": {"source": "hyperliquid", "channel": "ohlcv"},
        "eth-context": {
            "source": "hyperliquid",
            "channel": "ohlcv",
            "symbol": "ETH",
            "profile": "deep",
        },
        "rsi": {"source": "hyperliquid", "channel": "rsi"},
        "macd": {"source": "hyperliquid", "channel": "macd"},
        "bands": {"source": "hyperliquid", "channel": "bollinger_bands"},
        "averages": {"source": "hyperliquid", "channel": "moving_averages", "profile": "fast"},
        "funding": {"source": "hyperliquid", "channel": "funding_rates"},
        "mid": {"source": "hyperliquid", "channel": "mid_price"},
        "liquidity": {"source": "hyperliquid", "channel": "liquidity"},
        "volatility": {"source": "hyperliquid", "channel": "volatility"},
        "positioning": {"source": "hyperliquid", "channel": "positioning"},
        "polymarket": {"source": "polymarket", "channel": "market_discovery"},
        "macro": {"source": "defillama", "channel": "capital_flows"},
    }
    nodes = [{"type": "data_stream", "id": k, "config": v} for k, v in streams.items()]
    nodes += [
        {"type": "asset_selection", "id": "assets", "config": {"explicitlyEnabledSymbols": ASSETS}},
        {
            "type": "trading_prompt",
            "id": "p",
            "config": {"customBehaviorPrompt": "Trade the trend."},
        },
    ]
    edges = [{"source": k, "target": "assets"} for k in streams] + [
        {"source": "assets", "target": "p"}
    ]
    return {"nodes": nodes, "edges": edges}


async def ingest(path: Path, warm_hours: float) -> tuple[Database, int]:
    """A day of simulated market memory, then `warm_hours` of polls; returns the db and now."""
    start = EPOCH_2026 + 3 * 86_400
    db = await Database.open(path)
    await db.migrate(discover_migrations(["clash.market"]), now_ms=int(start * 1000))
    cfg = MarketConfig(
        hyperliquid=HyperliquidSettings(
            assets=ASSETS,
            websocket=False,
            boot_backfill_minutes=1440,
            weight_per_minute=10**9,
            retry=FAST,
        )
    )
    cfg = msgspec.structs.replace(
        cfg,
        polymarket=msgspec.structs.replace(cfg.polymarket, retry=FAST),
        defillama=msgspec.structs.replace(cfg.defillama, retry=FAST),
    )
    async with virtual_system(start) as (system, clock):
        app = create_sim_app(SimMarket(cfg.sim_seed, int(start * 1000) - 3 * DAY_MS), clock.now_ms)
        spawn_sources(
            system,
            db,
            clock,
            cfg,
            sim_endpoints("http://sim"),
            artifacts_dir=path.parent / "artifacts",
            transport=httpx.ASGITransport(app),
        )
        await clock.settle()
        await clock.advance(0)
        await clock.advance(warm_hours * 3600)
        now = clock.now_ms()
    return db, now


async def timed(fn: Callable[[], Awaitable[object]], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t = time.perf_counter()
        await fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


async def naive(reader: MemoryReader, compiled: CompiledPipeline, as_of: int) -> int:
    """The same plans, one query per datapoint; returns the query count."""
    queries = 0
    for asset in compiled.branches[0].assets:
        for plan in asset.reads:
            queries += await _naive_plan(reader, plan, as_of)
    return queries


async def _naive_plan(reader: MemoryReader, plan: ReadPlan, as_of: int) -> int:
    table = plan.reads[0].table
    step = GRANULARITY_MINUTES[plan.granularity] * MINUTE_MS
    points = range(plan.max_datapoints)
    s = plan.context_symbol
    if table in ("candles_1m", "candles_1h"):
        interval, per = (
            ("1m", step // MINUTE_MS)
            if table == "candles_1m"
            else ("1h", max(1, step // 3_600_000))
        )
        for i in points:
            await reader.candles(s, interval, as_of - i * step, per)  # type: ignore[arg-type]
    elif table == "indicators_1m":
        for i in points:
            await reader.indicators(s, as_of - i * step, 1)
    elif table == "funding":
        for i in points:
            await reader.funding(s, as_of - i * step, 1)
        await reader.settled_funding(s, as_of, plan.reads[1].rows)
        return len(points) + 1
    elif table == "mids":
        await reader.latest_prices([s], as_of)
        return 1
    elif table == "profiles":
        await reader.profile(s, as_of)
        return 1
    elif table == "polymarket":
        await reader.polymarket_context(s, as_of)
        return 1
    else:
        await reader.macro_context(plan.defillama.link_symbol if plan.defillama else s, as_of)
        return 1
    return len(points)


def row(label: str, value: str, note: str = "") -> None:
    print(f"  {label:<40} {value:>12}  {note}")


async def main(runs: int, warm_hours: float) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        db, as_of = await ingest(Path(tmp) / "market.db", warm_hours)
        counts = await memory.row_counts(db)
        print(
            f"market memory: {len(ASSETS)} assets, a day of 1m candles + {warm_hours:g} h of polls, "
            f"ingested in {time.perf_counter() - t:.1f} s"
        )
        print("  " + ", ".join(f"{k} {v:,}" for k, v in counts.items() if v))
        try:
            assets = await MarketCatalog(lambda: memory.assets(db)).assets()
            pipeline, problems = decode_pipeline(msgspec.json.encode(pipeline_doc()))
            assert pipeline is not None, problems
            compiled = compile_pipeline(pipeline, assets)
            plans = sum(len(a.reads) for a in compiled.branches[0].assets)
            print(f"\nclone: {len(ASSETS)} assets x 13 data streams = {plans} read plans")

            t_compile = []
            for _ in range(runs):
                t = time.perf_counter()
                compile_pipeline(pipeline, assets)
                t_compile.append((time.perf_counter() - t) * 1000)
            row("compile (median)", f"{statistics.median(t_compile):.3f} ms")

            reader = MemoryReader(db)
            packet = await resolve_packet(reader, CLONE, compiled, as_of)
            n = len(packet.assets)
            assert n == len(ASSETS), n
            size = len(encode(packet))
            same = encode(await resolve_packet(reader, CLONE, compiled, as_of)) == encode(packet)
            t_packet = await timed(lambda: resolve_packet(reader, CLONE, compiled, as_of), runs)
            per_asset = [x / n for x in t_packet]
            t_naive = await timed(lambda: naive(reader, compiled, as_of), max(1, runs // 5))
            queries = await naive(reader, compiled, as_of)
            fetched = await fetch(
                reader, [p for a in compiled.branches[0].assets for p in a.reads], as_of
            )
            planned = (
                len({k for k in fetched if k[0] != "mids"}) + 1
            )  # the mids of every symbol: one read
            print(
                f"\ncontext packet as of the end: {n} assets, {size:,} bytes, "
                f"{packet.estimated_prompt_tokens:,} estimated prompt tokens, byte-identical on repeat: {same}"
            )
            row(
                "packet, per asset (median)",
                f"{statistics.median(per_asset):.3f} ms",
                f"target < {TARGET_MS:g} ms",
            )
            row(
                "packet, per asset (best, p95)",
                f"{min(per_asset):.3f} ms",
                f"p95 {sorted(per_asset)[int(0.95 * (len(per_asset) - 1))]:.3f} ms",
            )
            row(
                "packet, whole round (median)",
                f"{statistics.median(t_packet):.2f} ms",
                f"{runs} runs, {planned} queries per round",
            )
            naive_asset = statistics.median(t_naive) / n
            row(
                "naive query-per-datapoint, per asset",
                f"{naive_asset:.3f} ms",
                f"{queries:,} queries per round",
            )
            row(
                "ratio",
                f"{naive_asset / statistics.median(per_asset):.1f}x",
                "planned reads faster",
            )
        finally:
            await db.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--warm-hours", type=float, default=2.0)
    args = parser.parse_args()
    anyio.run(main, args.runs, args.warm_hours)
