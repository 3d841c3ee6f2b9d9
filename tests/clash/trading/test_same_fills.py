"""Same inputs, same fills, in any process: the runs of one tick reach their account in a fixed
order (asset, then run id), whatever order the tasks are scheduled in."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import anyio
import msgspec
import pytest

from clash.trading.tick_order import TickOrder

SCENARIO = "tests.helpers.same_fills_scenario"
REPO = Path(__file__).parents[3]


def test_one_scenario_gives_one_hash_in_processes_with_different_hash_seeds() -> None:
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", SCENARIO],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
        for seed in ("1", "2", "3")
    ]
    outs = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=120)
        assert p.returncode == 0, stderr.decode()[-2000:]
        outs.append(msgspec.json.decode(stdout.splitlines()[-1]))
    assert outs[0]["runs"] == 72  # three assets, 24 ticks of 15 minutes
    assert outs[0]["fills"] == 72 and outs[0]["ledger"] > 72
    assert (
        outs[0]["most_fills_in_one_tick"] == 3
    )  # the three entries (or exits) of one tick share an account
    assert [o["sha256"] for o in outs] == [outs[0]["sha256"]] * 3


@pytest.mark.anyio
async def test_a_tick_commits_in_its_order_whatever_order_its_runs_finish_deciding() -> None:
    order = TickOrder(["a", "b", "c", "d"])
    committed: list[str] = []

    async def run(run_id: str, decide_s: float, gives_up: bool = False) -> None:
        await anyio.sleep(decide_s)
        try:
            if not gives_up:
                await order.turn(run_id)
                committed.append(run_id)
        finally:
            order.done(run_id)

    async with anyio.create_task_group() as tg:
        for run_id, delay in (("d", 0), ("c", 0.01), ("b", 0.02), ("a", 0.03)):
            tg.start_soon(run, run_id, delay, run_id == "b")
        tg.start_soon(run, "alone", 0.0)  # not in the order (a retry): never waits
    assert committed == ["alone", "a", "c", "d"]
