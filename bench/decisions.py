"""Decision-runtime benchmark. Run: .venv/bin/python bench/decisions.py [--clones N] [--ticks T] [--latency S]

The whole product on a VirtualClock over a real SQLite file: market memory ingested from the
simulator (in-process), published clones activated on sandbox prop accounts, the scheduler's
cadence timers. Every decision is end to end: legal actions, the context packet from market
memory, the engine, strict parsing, the prop gates and paper fill, the decision rows and the
artifacts written to the local artifact folder.

1. `rules` engine: decisions per second with many clones x assets due at each tick, beside a
   baseline of one clone (its three runs per tick are all that can overlap) and the 500/s target.
2. `anthropic` engine (the official SDK) against the fake Messages API answering in `--latency`
   (0.2 s), served by a separate process as the real API would be: decisions per second at 1, 4,
   16 and 64 concurrent model calls (`max_concurrent_model_calls`), about 12 x concurrency runs
   each, beside the latency bound (concurrency / latency).
"""

from __future__ import annotations

import argparse
import math
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import anyio
import msgspec

from actors import VirtualClock
from actors.testkit import EPOCH_2026
from clash.clones.basic import BasicChoices, build
from clash.clones.graph import TradingPromptNode
from clash.clones.module import ClonesModule
from clash.config import Config, Secrets, SystemConfig
from clash.market.config import HyperliquidSettings, MarketConfig, RetrySettings
from clash.market.module import MarketModule
from clash.ops.module import OpsModule
from clash.prop.config import PropConfig
from clash.prop.module import PropModule
from clash.runtime import Module, Runtime, boot, using
from clash.trading.config import AnthropicSettings, TradingConfig
from clash.trading.module import TradingModule

ASSETS = ["BTC", "ETH", "SOL", "HYPE", "XRP", "DOGE", "AVAX", "LINK", "LTC", "BNB"]
START = EPOCH_2026 + 9 * 3600 + 30
CADENCE = 60
TARGET = 500.0
FAST = RetrySettings(attempts=2, backoff_s=0.001, backoff_max_s=0.002, timeout_s=5.0)


IN_PROCESS_MARKET = using(MarketModule, in_process_sim=True)
"""The market module with its simulator served in-process instead of on a loopback port."""


def config(tmp: Path, trading: TradingConfig) -> Config:
    market = MarketConfig(
        hyperliquid=HyperliquidSettings(
            assets=ASSETS,
            websocket=False,
            weight_per_minute=10**9,
            boot_backfill_minutes=240,
            retry=FAST,
        )
    )
    market = msgspec.structs.replace(
        market,
        sim_history_days=2,
        polymarket=msgspec.structs.replace(market.polymarket, retry=FAST),
        defillama=msgspec.structs.replace(market.defillama, retry=FAST),
    )
    return Config(
        system=SystemConfig(data_dir=str(tmp / "var"), heartbeat_interval_s=0),
        market=market,
        prop=PropConfig(mark_interval_s=600.0, snapshot_interval_s=600.0),
        trading=trading,
    )


async def publish(rt: Runtime, n: int, assets: list[str], tier: str) -> list[tuple[int, str]]:
    """`n` clones (distinct names, so no two prompts are alike), each with a sandbox account."""
    clones, prop = rt.module(ClonesModule), rt.module(PropModule)
    out = []
    for i in range(n):
        clone = await clones.create_clone(f"u{i}", f"Bench {i}")
        await clones.grant_tier(clone.id, tier, source="admin", granted_by="bench")
        pipeline = build(
            BasicChoices(assets=assets, profile="balanced", prompt=f"Trend follower #{i}.")
        )
        nodes = [
            msgspec.structs.replace(
                x, config=msgspec.structs.replace(x.config, decision_cadence_sec=CADENCE)
            )
            if isinstance(x, TradingPromptNode)
            else x
            for x in pipeline.nodes
        ]
        await clones.save_pipeline(
            f"u{i}", clone.id, msgspec.structs.replace(pipeline, nodes=nodes)
        )
        await clones.publish(f"u{i}", clone.id)
        account = await prop.open_account(
            clone.id, "sandbox", universe=assets, owner_user_id=f"u{i}"
        )
        out.append((clone.id, account))
    return out


async def count(rt: Runtime, where: str = "1") -> int:
    async with rt.db.read() as r:
        return await r.fetchval(f"SELECT COUNT(*) FROM decision_runs WHERE {where}")


async def ticks(rt: Runtime, clock: VirtualClock, n: int) -> tuple[int, float]:
    """Advance `n` cadence ticks; (decisions recorded, wall seconds)."""
    before = await count(rt)
    t = time.perf_counter()
    await clock.advance(n * CADENCE)
    elapsed = time.perf_counter() - t
    return await count(rt) - before, elapsed


async def count_calls(rt: Runtime) -> int:
    async with rt.db.read() as r:
        return await r.fetchval(
            "SELECT COALESCE(SUM(attempts), 0) FROM decision_runs WHERE cached = 0"
        )


def line(label: str, value: str, note: str = "") -> None:
    print(f"  {label:<46} {value:>14}  {note}")


async def rules_bench(clones: int, n_ticks: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cfg = config(Path(tmp), TradingConfig(engine="rules", demo_clone=False))
        clock = VirtualClock(START)
        modules: list[Module] = [
            OpsModule,
            IN_PROCESS_MARKET,
            ClonesModule,
            PropModule,
            TradingModule,
        ]
        async with boot(cfg, Secrets(), clock, modules) as rt:
            await clock.advance(0)
            await clock.advance(120)
            trading = rt.module(TradingModule)
            pairs = await publish(rt, clones + 1, ASSETS, "pro")
            baseline, rest = pairs[0], pairs[1:]
            await trading.activate(*baseline)
            await clock.advance(CADENCE)
            base_n, base_s = await ticks(rt, clock, n_ticks)
            await trading.deactivate(*baseline)
            for pair in rest:
                await trading.activate(*pair)
            await clock.advance(CADENCE)
            many_n, many_s = await ticks(rt, clock, n_ticks)
            async with rt.db.read() as r:
                statuses = dict(
                    await r.fetchall("SELECT status, COUNT(*) FROM decision_runs GROUP BY status")
                )
                artifacts = await r.fetchval("SELECT COUNT(*) FROM decision_artifacts")
            report = await rt.db.check()
        print(
            f"\n1. rules engine, end to end with persistence ({len(ASSETS)} assets per clone, cadence {CADENCE} s, "
            f"{n_ticks} ticks)"
        )
        line(
            "baseline: 1 clone",
            f"{base_n / base_s:,.0f} /s",
            f"{base_n} decisions in {base_s:.2f} s",
        )
        line(
            f"{clones} clones x {len(ASSETS)} assets",
            f"{many_n / many_s:,.0f} /s",
            f"{many_n} decisions in {many_s:.2f} s; target >= {TARGET:.0f}/s: "
            f"{'met' if many_n / many_s >= TARGET else 'MISSED'}",
        )
        line("statuses (all runs)", "", ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())))
        line("artifact objects written", f"{artifacts:,}", f"ledger check ok: {report.ok}")


FAKE_API = """
import sys, anyio
from clash.trading.engines.fake_messages_api import FakeMessagesApi, serving

async def main():
    async with serving(FakeMessagesApi(latency_s=float(sys.argv[1])).app) as url:
        print(url, flush=True)
        await anyio.sleep_forever()

anyio.run(main)
"""


@contextmanager
def fake_api(latency: float) -> Iterator[str]:
    """The fake Messages API in its own process; yields its base URL."""
    proc = subprocess.Popen(
        [sys.executable, "-c", FAKE_API, str(latency)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    )
    try:
        assert proc.stdout is not None
        yield proc.stdout.readline().strip()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def anthropic_bench(latency: float, levels: list[int]) -> None:
    with fake_api(latency) as url:
        with tempfile.TemporaryDirectory() as tmp:
            trading_cfg = TradingConfig(
                engine="anthropic",
                demo_clone=False,
                max_concurrent_model_calls=1,
                anthropic=AnthropicSettings(base_url=url, timeout_s=30.0),
            )
            cfg = config(Path(tmp), trading_cfg)
            clock = VirtualClock(START)
            modules: list[Module] = [
                OpsModule,
                IN_PROCESS_MARKET,
                ClonesModule,
                PropModule,
                TradingModule,
            ]
            async with boot(cfg, Secrets(anthropic_api_key="sk-bench"), clock, modules) as rt:
                await clock.advance(0)
                await clock.advance(120)
                trading = rt.module(TradingModule)
                pairs = await publish(rt, math.ceil(12 * max(levels) / len(ASSETS)), ASSETS, "pro")
                print(
                    f"\n2. anthropic engine via the fake Messages API ({latency * 1000:.0f} ms per answer), "
                    "about 12 x concurrency decisions per level"
                )
                first = None
                for level in levels:
                    trading.scheduler.deps.limiter.total_tokens = level
                    active = pairs[: math.ceil(12 * level / len(ASSETS))]
                    for pair in active:
                        await trading.activate(*pair)
                    calls = await count_calls(rt)
                    n, s = await ticks(rt, clock, 1)
                    for pair in active:
                        await trading.deactivate(*pair)
                    rate = n / s
                    first = first or rate
                    line(
                        f"concurrency {level:>2}",
                        f"{rate:,.1f} /s",
                        f"{n} decisions ({await count_calls(rt) - calls} calls) in {s:.2f} s; latency bound "
                        f"{level / latency:,.0f}/s; x{rate / first:.1f} vs concurrency 1",
                    )


async def main(clones: int, n_ticks: int, latency: float) -> None:
    await rules_bench(clones, n_ticks)
    await anthropic_bench(latency, [1, 4, 16, 64])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clones", type=int, default=50)
    parser.add_argument("--ticks", type=int, default=3)
    parser.add_argument("--latency", type=float, default=0.2)
    args = parser.parse_args()
    anyio.run(main, args.clones, args.ticks, args.latency)
