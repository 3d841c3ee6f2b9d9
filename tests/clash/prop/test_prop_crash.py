"""kill -9 a process submitting actions through an account actor: every action it reported is there
exactly once with its order, fill and ledger rows, balances equal their ledger, and resubmitting a
reported action fills nothing."""

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import anyio
import pytest
from anyio.streams.buffered import BufferedByteReceiveStream

from tests.helpers.prop_writer import CRASH_ACCOUNT, crash_action, prop_runtime

pytestmark = pytest.mark.anyio

WRITER = "tests.helpers.prop_writer"
REPO = Path(__file__).resolve().parents[3]


async def run_and_kill(data_dir: Path, lines_before_kill: int) -> list[str]:
    process = await anyio.open_process(
        [sys.executable, "-m", WRITER, str(data_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO,
    )
    async with process:
        assert process.stdout is not None and process.stderr is not None
        stdout = BufferedByteReceiveStream(process.stdout)
        reported: list[str] = []
        try:
            while len(reported) < lines_before_kill:
                reported.append((await stdout.receive_until(b"\n", 64)).decode())
        except (anyio.IncompleteRead, anyio.EndOfStream):
            stderr = (await process.stderr.receive()).decode()
            pytest.fail(f"writer exited early:\n{stderr}")
        os.kill(process.pid, signal.SIGKILL)
        assert await process.wait() == -signal.SIGKILL
        try:
            while True:
                reported.append((await stdout.receive_until(b"\n", 64)).decode())
        except (anyio.IncompleteRead, anyio.EndOfStream):
            pass
    return reported


async def verify(data_dir: Path, reported: list[str]) -> None:
    async with prop_runtime(data_dir) as env:
        async with env.db.read() as r:
            actions = dict(
                await r.fetchall(
                    "SELECT action_id, outcome FROM prop_actions WHERE account_id = ?",
                    (CRASH_ACCOUNT,),
                )
            )
            per_action = {
                action_id: (orders, fills, ledger)
                for action_id, orders, fills, ledger in await r.fetchall(
                    "SELECT a.action_id,"
                    " (SELECT count(*) FROM prop_orders o WHERE o.account_id = a.account_id"
                    "   AND o.action_id = a.action_id),"
                    " (SELECT count(*) FROM prop_fills f WHERE f.account_id = a.account_id"
                    "   AND f.action_id = a.action_id),"
                    " (SELECT count(*) FROM prop_ledger l WHERE l.account_id = a.account_id"
                    "   AND l.ref = a.action_id)"
                    " FROM prop_actions a WHERE a.account_id = ?",
                    (CRASH_ACCOUNT,),
                )
            }
        for action_id in reported:
            assert actions.get(action_id) == "filled", f"reported {action_id} is missing"
            orders, fills, ledger = per_action[action_id]
            n = int(action_id.removeprefix("act-"))
            assert (orders, fills) == (1, 1), action_id
            assert ledger == (1 if n % 2 == 0 else 2), action_id  # fee; fee + realized pnl
        report = await env.db.check()
        assert report.ok, report.problems

        before = await env.module.snapshot(CRASH_ACCOUNT)
        for action_id in random.Random(7).sample(reported, min(5, len(reported))):
            again = await env.module.submit(
                CRASH_ACCOUNT, crash_action(int(action_id.removeprefix("act-")))
            )
            assert again.replayed and again.outcome == "filled"
        after = await env.module.snapshot(CRASH_ACCOUNT)
        assert (after.balance_micro, after.positions) == (before.balance_micro, before.positions)


async def test_kill_9_mid_stream_loses_no_reported_action_and_fills_none_twice(tmp_path: Path):
    data_dir = tmp_path / "prop-crash"
    rng = random.Random(2026)
    reported: list[str] = []
    with anyio.fail_after(120):
        for _ in range(3):
            reported += await run_and_kill(data_dir, lines_before_kill=rng.randint(10, 60))
            await verify(data_dir, reported)
    assert len(reported) == len(set(reported)), "an action was reported twice"
