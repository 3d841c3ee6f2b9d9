"""`clash ingest backfill|run-once`: market data by hand, without the server.

    bin/clash ingest backfill --source hyperliquid --days 7 --assets BTC,ETH
    bin/clash ingest run-once --source all

Both run the source actors in-process (timers off) and ask them for the work; with
`market.source = "sim"` the simulator is served in-process too. Run a backfill while the server
is stopped: the running actor would not see the rebuilt indicator state until it restarts.
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import anyio
import httpx
import msgspec

from actors import LiveClock, Ref, System
from clash.market.candles import DAY_MS
from clash.market.messages import (
    DefiLlamaPoll,
    HlBackfill,
    HlFlushMids,
    HlPollContexts,
    HlPollFundingHistory,
    HlPollPredicted,
    HlRefreshRegistry,
    HlSweepCandles,
    MarketPollResult,
    PolymarketPoll,
)
from clash.market.module import (
    DEFILLAMA,
    HYPERLIQUID,
    POLYMARKET,
    MarketModule,
    live_endpoints,
    sim_endpoints,
    sim_market,
    spawn_sources,
)
from clash.market.sim.app import create_sim_app

if TYPE_CHECKING:
    from clash.config import Config

SOURCES = ("hyperliquid", "polymarket", "defillama")
POLLS: dict[str, tuple[str, list[Any]]] = {
    "hyperliquid": (
        HYPERLIQUID,
        [
            HlRefreshRegistry(),
            HlSweepCandles(),
            HlPollPredicted(),
            HlPollContexts(),
            HlPollFundingHistory(),
            HlFlushMids(),
        ],
    ),
    "polymarket": (POLYMARKET, [PolymarketPoll()]),
    "defillama": (DEFILLAMA, [DefiLlamaPoll()]),
}


class ProgressBar:
    """One line per symbol on stderr, redrawn in place: `BTC [#######-----]  3000/5000`."""

    def __init__(self, out: TextIO | None = None, width: int = 30) -> None:
        self._out = out
        self.width = width
        self.current: str | None = None

    @property
    def out(self) -> TextIO:
        return self._out or sys.stderr

    def __call__(self, label: str, done: int, total: int) -> None:
        if self.current not in (None, label):
            self.out.write("\n")
        self.current = label
        filled = self.width * done // max(total, 1)
        self.out.write(
            f"\r  {label:<12} [{'#' * filled}{'-' * (self.width - filled)}] {done:>6}/{total}"
        )
        self.out.flush()

    def close(self) -> None:
        if self.current is not None:
            self.out.write("\n")
            self.out.flush()
            self.current = None


def add_ingest_commands(subparsers: Any) -> None:
    """Register `ingest backfill` and `ingest run-once`; each sets `handler(args) -> exit code`."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", help="a TOML config file (default: config/default.toml)")
    common.add_argument(
        "--data-dir", help="where the database and artifacts live (env CLASH_DATA_DIR)"
    )
    ingest = subparsers.add_parser("ingest", help="market data by hand: backfill, run-once")
    sub = ingest.add_subparsers(dest="ingest_command", required=True)

    backfill = sub.add_parser(
        "backfill", parents=[common], help="refetch candles and rebuild indicators"
    )
    backfill.add_argument("--source", choices=["hyperliquid"], default="hyperliquid")
    backfill.add_argument("--days", type=float, default=1.0)
    backfill.add_argument(
        "--assets", help="comma-separated symbols, e.g. BTC,ETH (default: the enabled ones)"
    )
    backfill.set_defaults(handler=cmd_backfill)

    once = sub.add_parser(
        "run-once", parents=[common], help="poll sources once and print what they stored"
    )
    once.add_argument("--source", choices=[*SOURCES, "all"], default="all")
    once.set_defaults(handler=cmd_run_once)


def _config(args: argparse.Namespace) -> Config:
    from clash.config import load_config  # the composition root imports this module's package

    config = load_config(getattr(args, "config", None))
    data_dir = getattr(args, "data_dir", None)
    if data_dir is not None:
        config = msgspec.structs.replace(
            config, system=msgspec.structs.replace(config.system, data_dir=data_dir)
        )
    return config


Work = Callable[[dict[str, Ref], LiveClock], Awaitable[int]]


async def with_sources(config: Config, work: Work, *, progress: ProgressBar | None = None) -> int:
    """Open and migrate the database, spawn the market actors with timers off, run `work`."""
    from clash.runtime import open_database

    clock = LiveClock()
    cfg = config.market
    db = await open_database(config, clock, [MarketModule])
    try:
        async with System(clock) as system:
            transport = None
            endpoints = live_endpoints(cfg)
            if cfg.source == "sim":
                transport = httpx.ASGITransport(
                    create_sim_app(sim_market(cfg, clock.now_ms()), clock.now_ms)
                )
                endpoints = sim_endpoints("http://sim")
            refs = spawn_sources(
                system,
                db,
                clock,
                cfg,
                endpoints,
                artifacts_dir=Path(config.system.data_dir) / "artifacts",
                transport=transport,
                autostart=False,
                progress=progress,
            )
            return await work(refs, clock)
    finally:
        await db.close()


def _report(result: MarketPollResult, out: TextIO) -> bool:
    if result.error:
        kind = "decode error" if result.decode_error else "failed"
        out.write(f"{result.source} {result.channel}: {kind}: {result.error}\n")
        return False
    out.write(f"{result.source} {result.channel}: {result.rows} rows\n")
    return True


def cmd_backfill(args: argparse.Namespace) -> int:
    config = _config(args)
    symbols = [s.strip() for s in (args.assets or "").split(",") if s.strip()]
    bar = ProgressBar()

    async def work(refs: dict[str, Ref], clock: LiveClock) -> int:
        if HYPERLIQUID not in refs:
            sys.stderr.write("clash ingest: hyperliquid is disabled in this config\n")
            return 2
        ref = refs[HYPERLIQUID]
        if not _report(await ref.ask(HlRefreshRegistry(), timeout=120), sys.stdout):
            return 1
        start = clock.now_ms() - int(args.days * DAY_MS)
        result = await ref.ask(HlBackfill(start_ms=start, symbols=symbols), timeout=24 * 3600)
        bar.close()
        return 0 if _report(result, sys.stdout) else 1

    return anyio.run(functools.partial(with_sources, config, work, progress=bar), backend="asyncio")


def cmd_run_once(args: argparse.Namespace) -> int:
    config = _config(args)
    wanted = SOURCES if args.source == "all" else (args.source,)

    async def work(refs: dict[str, Ref], clock: LiveClock) -> int:
        ok = True
        for source in wanted:
            name, messages = POLLS[source]
            if name not in refs:
                sys.stdout.write(f"{source}: disabled\n")
                continue
            for msg in messages:
                ok &= _report(await refs[name].ask(msg, timeout=600), sys.stdout)
        return 0 if ok else 1

    return anyio.run(with_sources, config, work, backend="asyncio")
