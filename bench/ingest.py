"""Ingest benchmarks. Run: .venv/bin/python bench/ingest.py [--assets N] [--days D] [--seed S]

Each section is a function of the shared `Workload` that prints its figures; `main` runs the
functions in SECTIONS in order, so a new section is one more function appended there.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np

from clash.market.indicators import FIRST_BAR, IndicatorBank, IndicatorState, compute_full

BASELINE_ASSETS = 5
WARM_MINUTES = max(FIRST_BAR.values()) + 1


@dataclass(frozen=True)
class Workload:
    """1-minute closes, shape (assets, minutes): geometric random walks from 1e-4 to 1e5."""

    closes: np.ndarray

    @property
    def assets(self) -> int:
        return self.closes.shape[0]

    @property
    def minutes(self) -> int:
        return self.closes.shape[1]


def make_workload(assets: int, minutes: int, seed: int) -> Workload:
    rng = np.random.default_rng(seed)
    start = 10.0 ** rng.uniform(-4, 5, (assets, 1))
    moves = rng.normal(0.0, 1e-3, (assets, minutes))
    moves[rng.random(moves.shape) < 0.1] = 0.0  # quiet minutes with an unchanged close
    return Workload(start * np.cumprod(1.0 + moves, axis=1))


def seconds(fn: Callable[[], object]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def row(label: str, value: str, note: str = "") -> None:
    print(f"  {label:<34} {value:>12}  {note}")


def bench_full_derivation(w: Workload) -> None:
    rows = w.assets * w.minutes
    print(f"full indicator derivation: {w.assets} assets x {w.minutes} closes = {rows:,} rows")
    numpy_s = statistics.median(seconds(lambda: compute_full(w.closes)) for _ in range(3))
    sample = w.closes[:BASELINE_ASSETS]

    def per_row_python() -> None:
        for series in sample.tolist():
            state = IndicatorState()
            for close in series:
                state.update(close)

    sample_s = seconds(per_row_python)
    baseline_s = sample_s / len(sample) * w.assets
    row("numpy compute_full (median of 3)", f"{numpy_s:.3f} s", "target < 10 s")
    scale = w.assets / len(sample)
    measured = f"{sample_s:.3f} s on {len(sample)} assets"
    row("pure-Python per-row loop", f"{baseline_s:.3f} s", f"extrapolated: {measured}, x{scale:g}")
    row("ratio", f"{baseline_s / numpy_s:.1f}x", "numpy faster")
    print()


def bench_incremental_update(w: Workload, bank_minutes: int = 300, loop_minutes: int = 30) -> None:
    print(f"incremental update per closed minute: {w.assets} assets, {WARM_MINUTES} minutes warm")
    bank = IndicatorBank(w.assets)
    for t in range(WARM_MINUTES):
        bank.update_many(w.closes[:, t])
    states = bank.states()
    columns = w.closes[:, WARM_MINUTES:].T

    bank_ms = [1e3 * seconds(partial(bank.update_many, c)) for c in columns[:bank_minutes]]

    def python_minute(c: np.ndarray) -> None:
        for state, close in zip(states, c.tolist()):
            state.update(close)

    loop_ms = [1e3 * seconds(partial(python_minute, c)) for c in columns[:loop_minutes]]
    bank_med, loop_med = statistics.median(bank_ms), statistics.median(loop_ms)
    spread = f"median of {len(bank_ms)} min, max {max(bank_ms):.3f} ms"
    row("IndicatorBank.update_many", f"{bank_med:.3f} ms", f"{spread}; target < 50 ms")
    row("pure-Python IndicatorState loop", f"{loop_med:.3f} ms", f"median of {len(loop_ms)} min")
    row("ratio", f"{loop_med / bank_med:.1f}x", "update_many faster")
    print()


def bench_persistence(w: Workload, backfill_minutes: int = 1500, live_minutes: int = 10) -> None:
    """Market memory on SQLite: the backfill write rate, one closed minute for every asset (one
    transaction per asset, as the candle feed commits), as-of reads, and a retention pass."""
    import anyio

    anyio.run(_persistence, w, min(backfill_minutes, w.minutes - live_minutes), live_minutes)


async def _persistence(w: Workload, backfill: int, live: int) -> None:
    import tempfile
    from pathlib import Path

    from clash.market import memory
    from clash.market.actors.retention import expire
    from clash.market.candles import MINUTE_MS, Candle
    from clash.market.config import RetentionSettings
    from clash.store import Database, discover_migrations

    t0 = 1_767_225_600_000
    symbols = [f"A{a:03d}" for a in range(w.assets)]

    def candle(a: int, i: int) -> Candle:
        c = float(w.closes[a, i])
        return Candle(t0 + i * MINUTE_MS, c, c * 1.001, c * 0.999, c, 1.0, 1)

    print(
        f"persistence: {w.assets} assets, {backfill} minutes backfilled, then {live} live minutes"
    )
    with tempfile.TemporaryDirectory() as tmp:
        db = await Database.open(Path(tmp) / "bench.db")
        await db.migrate(discover_migrations(["clash.market"]), now_ms=t0)
        states = [IndicatorState() for _ in symbols]
        started = time.perf_counter()
        for a, symbol in enumerate(symbols):
            rows = [(candle(a, i), states[a].update(w.closes[a, i])) for i in range(backfill)]
            async with db.transaction() as tx:
                await memory.write_closed(tx, symbol, rows, states[a], t0 + backfill * MINUTE_MS)
        took = time.perf_counter() - started
        n = w.assets * backfill
        row(
            "backfill write (candle+indicators+1h)",
            f"{n / took:,.0f} rows/s",
            f"{n:,} candles in {took:.2f} s",
        )
        batched = n / took

        base_n = 2_000
        started = time.perf_counter()
        for i in range(base_n):
            async with db.transaction() as tx:
                await memory.upsert_candle(tx, "BASELINE", candle(0, i % w.minutes), t0)
        took = time.perf_counter() - started
        row(
            "baseline: one candle per transaction",
            f"{base_n / took:,.0f} rows/s",
            f"candle only, no indicators; {base_n:,} rows in {took:.2f} s",
        )
        row("ratio", f"{batched / (base_n / took):.1f}x", "batched backfill faster")

        bank = IndicatorBank.from_states(states)
        minute_ms = []
        for i in range(backfill, backfill + live):
            now = t0 + (i + 1) * MINUTE_MS
            started = time.perf_counter()
            series = bank.update_many(w.closes[:, i])
            for a, symbol in enumerate(symbols):
                async with db.transaction() as tx:
                    await memory.write_closed(
                        tx, symbol, [(candle(a, i), series.point(a))], bank.state(a), now
                    )
                    await memory.record_success(
                        tx,
                        "hyperliquid",
                        "candles_1m",
                        now,
                        rows=1,
                        data_ms=now,
                        symbols={symbol: now},
                    )
            minute_ms.append(1e3 * (time.perf_counter() - started))
        row(
            "one closed minute, all assets",
            f"{statistics.median(minute_ms):.0f} ms",
            f"median of {live}; {statistics.median(minute_ms) / w.assets:.2f} ms per asset tx; budget 60 s",
        )

        now = t0 + (backfill + live) * MINUTE_MS
        reads = []
        for symbol in symbols[:50]:
            started = time.perf_counter()
            await memory.candles(db, symbol, "1m", now - 30 * MINUTE_MS, limit=500)
            await memory.indicators(db, symbol, now - 30 * MINUTE_MS, limit=500)
            reads.append(1e3 * (time.perf_counter() - started))
        row(
            "as-of read: 500 candles + indicators",
            f"{statistics.median(reads):.2f} ms",
            "median of 50 symbols",
        )
        async with db.transaction() as tx:
            await memory.upsert_mids(
                tx, {s: float(w.closes[a, -1]) for a, s in enumerate(symbols)}, now
            )
        for label, as_of in (
            ("latest prices (mids), all assets", None),
            ("as-of prices (closes), all assets", now),
        ):
            started = time.perf_counter()
            await memory.latest_prices(db, symbols, as_of)
            row(label, f"{1e3 * (time.perf_counter() - started):.1f} ms")

        started = time.perf_counter()
        removed = await expire(
            db, RetentionSettings(), now, Path(tmp) / "archive", max_batches=10**6
        )
        took = time.perf_counter() - started
        gone = sum(removed.values())
        row(
            "retention pass (archive + delete)",
            f"{gone / took:,.0f} rows/s",
            f"{gone:,} rows in {took:.2f} s",
        )
        await db.close()
    print()


SECTIONS: list[Callable[[Workload], None]] = [
    bench_full_derivation,
    bench_incremental_update,
    bench_persistence,
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=250)
    parser.add_argument("--days", type=float, default=7.0)
    parser.add_argument("--seed", type=int, default=20261121)
    args = parser.parse_args()
    minutes = int(args.days * 24 * 60)
    workload = make_workload(args.assets, minutes, args.seed)
    print(f"workload: {args.assets} assets x {args.days:g} days of 1m closes, seed {args.seed}\n")
    for section in SECTIONS:
        section(workload)


if __name__ == "__main__":
    main()
