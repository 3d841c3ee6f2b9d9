"""kill -9 a process that is busy committing: nothing committed is lost, nothing is half-applied."""

import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import anyio
import pytest
from anyio.streams.buffered import BufferedByteReceiveStream

from clash.store import Database

pytestmark = pytest.mark.anyio

WRITER = Path(__file__).with_name("_writer_proc.py")
REPO = Path(__file__).resolve().parents[3]


async def run_and_kill(db_path: Path, lines_before_kill: int) -> list[int]:
    """Start the writer, kill -9 it after it has reported some commits; every n it reported."""
    process = await anyio.open_process(
        [sys.executable, str(WRITER), str(db_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=REPO,
    )
    async with process:
        assert process.stdout is not None and process.stderr is not None
        stdout = BufferedByteReceiveStream(process.stdout)
        committed: list[int] = []
        try:
            while len(committed) < lines_before_kill:
                committed.append(int(await stdout.receive_until(b"\n", 32)))
        except anyio.IncompleteRead:
            stderr = (await process.stderr.receive()).decode()
            pytest.fail(f"writer exited early:\n{stderr}")
        os.kill(process.pid, signal.SIGKILL)
        assert await process.wait() == -signal.SIGKILL
        # Lines it printed between our last read and the kill were committed too.
        try:
            while True:
                committed.append(int(await stdout.receive_until(b"\n", 32)))
        except (anyio.IncompleteRead, anyio.EndOfStream):
            pass
    return committed


async def test_kill_9_loses_nothing_committed_and_applies_nothing_by_half(tmp_path: Path) -> None:
    db_path = tmp_path / "crash.db"
    rng = random.Random(1234)
    reported: list[int] = []
    with anyio.fail_after(60):
        for _ in range(4):
            reported += await run_and_kill(db_path, lines_before_kill=rng.randint(5, 80))

            async with await Database.open(db_path) as db:
                async with db.read() as r:
                    present = {n for (n,) in await r.fetchall("SELECT n FROM t_tx")}
                    per_tx = await r.fetchall(
                        "SELECT t.n, count(i.n) FROM t_tx t LEFT JOIN t_items i USING (n)"
                        " GROUP BY t.n HAVING count(i.n) != 3"
                    )
                    orphans = await r.fetchval(
                        "SELECT count(*) FROM t_items WHERE n NOT IN (SELECT n FROM t_tx)"
                    )
                report = await db.check()

            assert set(reported) <= present, "a reported commit is missing"
            assert per_tx == [], "a transaction was half-applied"
            assert orphans == 0, "items without their transaction row"
            assert report.ok, report.problems
    assert reported == sorted(set(reported))
