"""Prop benchmarks. Run: .venv/bin/python bench/prop.py [--fills N] [--accounts A] [--duration S]

1. Fills per second through the account actors, each fill's transaction committed, beside the
   same fill math as a plain loop over `AccountBook.submit` (no actor, no SQLite).
2. A LiveClock run: A accounts (default 2,000) holding 5 positions each, marked every
   `--mark-s` seconds for `--duration` seconds, an equity snapshot written every `--snapshot-s`
   seconds per account. Timer lag p50/p99 (from `System(on_timer_lag=...)`), marks handled per
   second and CPU share (process time / wall, all threads), beside the same marks as a plain loop.
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path

import anyio

from actors import Clock, LiveClock, MemoryDeadLetters, System, VirtualClock
from clash.config import Config, Secrets
from clash.prop.book import AccountBook, open_account
from clash.prop.config import PropConfig
from clash.prop.fills import AssetSpec
from clash.prop.gates import Action, Limits
from clash.prop.manager import actor_name
from clash.prop.module import PropModule
from clash.prop.money import round_price, usd
from clash.prop.prices import ScriptedPrices
from clash.runtime import Runtime
from clash.store import Database, discover_migrations

SPECS = [
    AssetSpec(symbol="BTC", sz_decimals=5, max_leverage=40),
    AssetSpec(symbol="ETH", sz_decimals=4, max_leverage=25),
    AssetSpec(symbol="SOL", sz_decimals=2, max_leverage=20),
    AssetSpec(symbol="AVAX", sz_decimals=2, max_leverage=10),
    AssetSpec(symbol="kPEPE", sz_decimals=0, max_leverage=10),
]
START_PX = {"BTC": "100000", "ETH": "2500", "SOL": "150", "AVAX": "30", "kPEPE": "0.012345"}
UNIVERSE = [s.symbol for s in SPECS]


def row(label: str, value: str, note: str = "") -> None:
    print(f"  {label:<44} {value:>14}  {note}")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


@asynccontextmanager
async def prop_system(
    folder: Path, clock: Clock, config: PropConfig, lags: list[float] | None = None
) -> AsyncIterator[tuple[PropModule, System, ScriptedPrices]]:
    prices = ScriptedPrices(SPECS, START_PX)
    db = await Database.open(folder / "bench.db")
    try:
        await db.migrate(discover_migrations(["clash.prop"]), now_ms=clock.now_ms())
        on_lag = None if lags is None else (lambda name, lag: lags.append(lag))
        async with System(clock, dead_letters=MemoryDeadLetters(), on_timer_lag=on_lag) as system:
            rt = Runtime(Config(prop=config), Secrets(), clock, system, db, folder)
            module = await PropModule.start(rt, prices=prices)
            rt.modules["prop"] = module
            yield module, system, prices
            report = await db.check()
            if not report.ok:
                raise SystemExit(f"db check failed: {report.problems[:5]}")
    finally:
        await db.close()


def round_trip(i: int) -> Action:
    if i % 2:
        return Action(action_id=f"a{i}", kind="close", symbol="BTC")
    return Action(
        action_id=f"a{i}", kind="open_long", symbol="BTC", size_usd=usd(1_000), leverage=2
    )


# -- 1. fills per second ---------------------------------------------------------------------------


def pure_fills(n: int) -> float:
    assets = {s.symbol: s for s in SPECS}
    marks = {"BTC": Decimal(START_PX["BTC"])}
    limits = Limits()
    book = open_account(0, limits).book
    t = time.perf_counter()
    for i in range(n):
        outcome = book.submit(round_trip(i), assets, marks, i, limits)
        assert outcome.fills, outcome.rejection
        book = outcome.book
    return n / (time.perf_counter() - t)


async def actor_fills(n: int, accounts: int) -> tuple[float, int]:
    """Fills/s with `accounts` accounts each submitting its share in sequence, all at once."""
    with tempfile.TemporaryDirectory() as folder:
        clock = VirtualClock()
        async with prop_system(Path(folder), clock, PropConfig()) as (module, _, _):
            ids = [
                await module.open_account(1, "sandbox", universe=UNIVERSE) for _ in range(accounts)
            ]
            per = n // accounts

            async def trader(account_id: str) -> None:
                for i in range(per):
                    result = await module.submit(account_id, round_trip(i))
                    assert result.outcome == "filled", result

            tx_before = module.manager.writer.transactions
            t = time.perf_counter()
            async with anyio.create_task_group() as tg:
                for account_id in ids:
                    tg.start_soon(trader, account_id)
            elapsed = time.perf_counter() - t
            return per * accounts / elapsed, module.manager.writer.transactions - tx_before


async def bench_fills(n: int) -> None:
    print(f"fills per second ({n:,} market-order fills, alternating open/close, BTC)")
    pure = pure_fills(n)
    row("pure AccountBook.submit loop", f"{pure:,.0f}/s", "no actor, no SQLite")
    for accounts in (1, 10, 100):
        rate, transactions = await actor_fills(n, accounts)
        row(
            f"through actors, {accounts} account(s) at once",
            f"{rate:,.0f}/s",
            f"committed, {n / max(transactions, 1):.1f} fills per transaction (group commit)",
        )


# -- 2. live marks ---------------------------------------------------------------------------------


def plain_marks(accounts: int, rounds: int) -> float:
    """Seconds per round of `accounts` book.mark calls with 5 positions each (no actor, no I/O)."""
    assets = {s.symbol: s for s in SPECS}
    marks = {s: Decimal(px) for s, px in START_PX.items()}
    limits = Limits()
    book = open_account(0, limits).book
    for i, symbol in enumerate(UNIVERSE):
        action = Action(action_id=f"o{i}", kind="open_long", symbol=symbol, size_usd=usd(1_000))
        book = book.submit(action, assets, marks, 1, limits).book
    books: list[AccountBook] = [book] * accounts
    rng = random.Random(1)
    t = time.perf_counter()
    for r in range(rounds):
        moved = {s: walk(px, rng, s) for s, px in marks.items()}
        books = [b.mark(assets, moved, 1_000 * (r + 2), limits).book for b in books]
    return (time.perf_counter() - t) / rounds


def walk(px: Decimal, rng: random.Random, symbol: str) -> Decimal:
    spec = next(s for s in SPECS if s.symbol == symbol)
    return round_price(px * Decimal(1 + rng.uniform(-5e-4, 5e-4)), spec.sz_decimals)


async def bench_live(accounts: int, duration: float, mark_s: float, snapshot_s: float) -> None:
    print(
        f"live clock: {accounts:,} accounts x 5 positions, marked every {mark_s:g} s for"
        f" {duration:g} s, one equity snapshot per account every {snapshot_s:g} s"
    )
    lags: list[float] = []
    config = PropConfig(mark_interval_s=mark_s, snapshot_interval_s=snapshot_s)
    with tempfile.TemporaryDirectory() as folder:
        async with prop_system(Path(folder), LiveClock(), config, lags) as (module, system, prices):
            t = time.perf_counter()
            ids: list[str] = []

            async def open_one(k: int) -> None:
                account_id = await module.open_account(1, "sandbox", universe=UNIVERSE)
                for i, symbol in enumerate(UNIVERSE):
                    action = Action(
                        action_id=f"o{i}", kind="open_long", symbol=symbol, size_usd=usd(1_000)
                    )
                    result = await module.submit(account_id, action)
                    assert result.outcome == "filled", result
                ids.append(account_id)

            async with anyio.create_task_group() as tg:
                for k in range(accounts):
                    tg.start_soon(open_one, k)
            row("setup: open accounts + 5 fills each", f"{time.perf_counter() - t:.1f} s")

            rng = random.Random(7)
            stop = anyio.Event()

            async def move_prices() -> None:
                while not stop.is_set():
                    for symbol in UNIVERSE:
                        prices.prices[symbol] = walk(prices.prices[symbol], rng, symbol)
                    await anyio.sleep(0.1)

            names = {actor_name(a) for a in ids}

            def processed() -> int:
                return sum(s.processed for s in system.stats() if s.name in names)

            writer = module.manager.writer
            async with anyio.create_task_group() as tg:
                tg.start_soon(move_prices)
                await anyio.sleep(2 * mark_s)  # let every account's mark timer start
                lags.clear()
                done0, tx0 = processed(), writer.transactions
                cpu0, wall0 = time.process_time(), time.perf_counter()
                await anyio.sleep(duration)
                cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
                done, tx = processed() - done0, writer.transactions - tx0
                window = list(lags)
                stop.set()
            async with module.db.read() as r:
                snapshots = await r.fetchval("SELECT count(*) FROM prop_equity_snapshots")

    expected = accounts / mark_s
    row("marks handled", f"{done / wall:,.0f}/s", f"expected {expected:,.0f}/s")
    row("timer lag p50", f"{pct(window, 0.50) * 1000:.1f} ms", f"{len(window):,} timer firings")
    row("timer lag p99", f"{pct(window, 0.99) * 1000:.1f} ms", "target < 250 ms")
    row("timer lag max", f"{max(window, default=0) * 1000:.1f} ms")
    row("CPU share (process time / wall)", f"{cpu / wall:.0%}", "all threads, incl. SQLite")
    row("write transactions", f"{tx / wall:,.0f}/s", f"{snapshots:,} snapshot rows in the file")
    plain = plain_marks(accounts, 3)
    row(
        "baseline: same marks as a plain loop",
        f"{plain * 1000:,.0f} ms/round",
        f"= {plain / mark_s:.0%} of one core at one round per {mark_s:g} s, no I/O",
    )


async def main(args: argparse.Namespace) -> None:
    if not args.skip_fills:
        await bench_fills(args.fills)
        print()
    await bench_live(args.accounts, args.duration, args.mark_s, args.snapshot_s)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--fills", type=int, default=5_000)
    parser.add_argument("--accounts", type=int, default=2_000)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of the live run")
    parser.add_argument("--mark-s", type=float, default=1.0, help="mark interval of the live run")
    parser.add_argument(
        "--snapshot-s", type=float, default=10.0, help="snapshot cadence per account"
    )
    parser.add_argument("--skip-fills", action="store_true")
    anyio.run(main, parser.parse_args())
