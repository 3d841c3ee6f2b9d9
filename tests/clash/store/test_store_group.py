import anyio
import pytest

from clash.store import GroupCommit

pytestmark = pytest.mark.anyio


async def test_writes_arriving_during_a_commit_go_together_in_the_next_batch():
    batches: list[list[int]] = []
    gate = anyio.Event()

    async def commit(writes):
        batches.append(list(writes))
        if len(batches) == 1:
            await gate.wait()
        return [w * 10 for w in writes]

    group = GroupCommit(commit)
    results: dict[int, int] = {}

    async def submit(n: int) -> None:
        results[n] = await group.submit(n)

    async with anyio.create_task_group() as tg:
        tg.start_soon(submit, 1)
        await anyio.wait_all_tasks_blocked()
        for n in (2, 3, 4):
            tg.start_soon(submit, n)
        await anyio.wait_all_tasks_blocked()
        gate.set()
    # Tasks 2, 3 and 4 queue in the order they start, which trio randomises.
    assert [sorted(batch) for batch in batches] == [[1], [2, 3, 4]]
    assert results == {1: 10, 2: 20, 3: 30, 4: 40}
    assert group.batches == 2


async def test_a_failing_write_fails_alone_and_the_others_commit():
    committed: list[int] = []
    gate = anyio.Event()
    calls = 0

    async def commit(writes):
        nonlocal calls
        calls += 1
        if calls == 1:  # hold the first batch so the next three queue behind it
            await gate.wait()
        if 13 in writes:
            raise ValueError("unlucky")
        committed.extend(writes)
        return [None] * len(writes)

    group = GroupCommit(commit)
    outcomes: dict[int, str] = {}

    async def submit(n: int) -> None:
        try:
            await group.submit(n)
            outcomes[n] = "ok"
        except ValueError:
            outcomes[n] = "failed"

    async with anyio.create_task_group() as tg:
        tg.start_soon(submit, 1)
        await anyio.wait_all_tasks_blocked()
        for n in (12, 13, 14):
            tg.start_soon(submit, n)
        await anyio.wait_all_tasks_blocked()
        gate.set()
    assert outcomes == {1: "ok", 12: "ok", 13: "failed", 14: "ok"}
    assert sorted(committed) == [1, 12, 14]
