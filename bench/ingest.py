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

    bank_ms = [1e3 * seconds(lambda c=c: bank.update_many(c)) for c in columns[:bank_minutes]]

    def python_minute(c: np.ndarray) -> None:
        for state, close in zip(states, c.tolist()):
            state.update(close)

    loop_ms = [1e3 * seconds(lambda c=c: python_minute(c)) for c in columns[:loop_minutes]]
    bank_med, loop_med = statistics.median(bank_ms), statistics.median(loop_ms)
    spread = f"median of {len(bank_ms)} min, max {max(bank_ms):.3f} ms"
    row("IndicatorBank.update_many", f"{bank_med:.3f} ms", f"{spread}; target < 50 ms")
    row("pure-Python IndicatorState loop", f"{loop_med:.3f} ms", f"median of {len(loop_ms)} min")
    row("ratio", f"{loop_med / bank_med:.1f}x", "update_many faster")
    print()


SECTIONS: list[Callable[[Workload], None]] = [bench_full_derivation, bench_incremental_update]


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
