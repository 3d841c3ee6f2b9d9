"""Kernel throughput beside a raw anyio memory-stream baseline measured in the same run.

    .venv/bin/python bench/kernel.py [--n 200000] [--backend asyncio|trio]

Prints, for each figure, the kernel's rate, the baseline's rate and their ratio (kernel / baseline):
  tell       one actor receiving N told messages   vs  one task receiving N sends on a memory stream
  ask        N sequential ask round trips          vs  N request/reply pairs over two memory streams
  timers     N VirtualClock timer firings, each delivered to an actor and the system settled
             vs  N sends from a heap-ordered loop into a memory stream read by a task
"""

from __future__ import annotations

import argparse
import heapq
import time

import anyio

from actors import Actor, Message
from actors.testkit import virtual_system


class Hit(Message, frozen=True):
    pass


class Sink(Actor):
    def __init__(self) -> None:
        self.count = 0

    async def receive(self, msg):
        self.count += 1
        return self.count


class Ticker(Actor):
    def __init__(self, every: float) -> None:
        self.interval = every
        self.count = 0

    async def on_start(self) -> None:
        self.every(self.interval, Hit())

    async def receive(self, msg):
        self.count += 1


async def kernel_tell(n: int) -> float:
    async with virtual_system() as (system, _):
        ref = system.spawn("sink", Sink, mailbox_size=1024)
        start = time.perf_counter()
        for _ in range(n):
            await ref.tell(Hit())
        await system.wait_idle()
        elapsed = time.perf_counter() - start
        sink = system.actor("sink")
        assert isinstance(sink, Sink) and sink.count == n
    return n / elapsed


async def raw_tell(n: int) -> float:
    send, recv = anyio.create_memory_object_stream[object](1024)
    received = 0

    async def consume() -> None:
        nonlocal received
        async with recv:
            async for _ in recv:
                received += 1

    start = time.perf_counter()
    async with anyio.create_task_group() as tg:
        tg.start_soon(consume)
        async with send:
            for _ in range(n):
                await send.send(Hit())
    elapsed = time.perf_counter() - start
    assert received == n
    return n / elapsed


async def kernel_ask(n: int) -> float:
    async with virtual_system() as (system, _):
        ref = system.spawn("sink", Sink)
        start = time.perf_counter()
        for _ in range(n):
            await ref.ask(Hit())
        elapsed = time.perf_counter() - start
    return n / elapsed


async def raw_ask(n: int) -> float:
    req_send, req_recv = anyio.create_memory_object_stream[object](1)
    rep_send, rep_recv = anyio.create_memory_object_stream[object](1)

    async def serve() -> None:
        async with req_recv, rep_send:
            async for msg in req_recv:
                await rep_send.send(msg)

    start = time.perf_counter()
    async with anyio.create_task_group() as tg:
        tg.start_soon(serve)
        async with req_send, rep_recv:
            for _ in range(n):
                await req_send.send(Hit())
                await rep_recv.receive()
    return n / (time.perf_counter() - start)


async def kernel_timers(n: int, actors: int = 10) -> float:
    async with virtual_system() as (system, clock):
        for i in range(actors):
            system.spawn(f"ticker{i}", lambda: Ticker(1.0))
        await clock.settle()
        start = time.perf_counter()
        fired_before = clock.fired
        await clock.advance(n // actors)
        elapsed = time.perf_counter() - start
        fired = clock.fired - fired_before
    assert fired == n, fired
    return fired / elapsed


async def raw_timers(n: int, actors: int = 10) -> float:
    send, recv = anyio.create_memory_object_stream[object](1)
    heap = [(1.0, i) for i in range(actors)]
    heapq.heapify(heap)

    async def consume() -> None:
        async with recv:
            async for _ in recv:
                pass

    start = time.perf_counter()
    async with anyio.create_task_group() as tg:
        tg.start_soon(consume)
        async with send:
            for _ in range(n):
                due, i = heapq.heappop(heap)
                await send.send(Hit())
                heapq.heappush(heap, (due + 1.0, i))
    return n / (time.perf_counter() - start)


async def main(n: int) -> None:
    rows = [
        ("tell", await kernel_tell(n), await raw_tell(n), "messages/s"),
        ("ask", await kernel_ask(n // 4), await raw_ask(n // 4), "round trips/s"),
        ("timers", await kernel_timers(n // 4), await raw_timers(n // 4), "firings/s"),
    ]
    print(f"{'figure':8} {'kernel':>14} {'raw anyio stream':>18} {'ratio':>7}")
    for name, kernel, raw, unit in rows:
        print(f"{name:8} {kernel:>14,.0f} {raw:>18,.0f} {kernel / raw:>7.2f}  {unit}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=200_000)
    parser.add_argument("--backend", default="asyncio", choices=["asyncio", "trio"])
    args = parser.parse_args()
    print(f"backend {args.backend}, n = {args.n:,}")
    anyio.run(main, args.n, backend=args.backend)
