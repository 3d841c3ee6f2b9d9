"""Same inputs, same fills, in any process: the runs of one tick reach their account in a fixed
order (asset, then run id), whatever order the tasks are scheduled in."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import msgspec

SCENARIO = Path(__file__).with_name("_same_fills_scenario.py")


def test_one_scenario_gives_one_hash_in_processes_with_different_hash_seeds() -> None:
    procs = [subprocess.Popen([sys.executable, str(SCENARIO)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              env={**os.environ, "PYTHONHASHSEED": seed})
             for seed in ("1", "2", "3")]
    outs = []
    for p in procs:
        stdout, stderr = p.communicate(timeout=120)
        assert p.returncode == 0, stderr.decode()[-2000:]
        outs.append(msgspec.json.decode(stdout.splitlines()[-1]))
    assert outs[0]["runs"] == 72  # three assets, 24 ticks of 15 minutes
    assert outs[0]["fills"] == 72 and outs[0]["ledger"] > 72
    assert outs[0]["most_fills_in_one_tick"] == 3  # the three entries (or exits) of one tick share an account
    assert [o["sha256"] for o in outs] == [outs[0]["sha256"]] * 3
