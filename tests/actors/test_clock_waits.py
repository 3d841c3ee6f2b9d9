"""Every wait of the kernel is on the actor's Clock: a VirtualClock reaches each one by advancing.

Each wait here lasts minutes or hours of clock time; on real time the tests would not finish.
"""

import anyio
import pytest

from actors import (
    Actor,
    AskTimeout,
    LiveClock,
    Message,
    RestartPolicy,
    VirtualClock,
    to_ms,
)
from actors.testkit import EPOCH_2026, virtual_system

pytestmark = pytest.mark.anyio

T0_MS = to_ms(EPOCH_2026)
HOUR = 3600.0


class Nap(Message, frozen=True):
    seconds: float


class Poke(Message, frozen=True):
    pass


class Sleeper(Actor):
    """Sleeps on its clock for `Nap.seconds` before answering: slow in virtual time only."""

    def __init__(self, log: list) -> None:
        self.log = log

    async def receive(self, msg):
        match msg:
            case Nap(seconds=seconds):
                await self.clock.sleep(seconds)
                self.log.append(("woke", self.clock.now_ms() - T0_MS))
                return "rested"
            case Poke():
                self.log.append(("poke", self.clock.now_ms() - T0_MS))
                return "poked"


def test_one_rounding_rule_nearest_millisecond_halves_up():
    assert to_ms(4.35) == 4350  # 4.35 * 1000 is 4349.999… in floating point
    assert to_ms(0.0625) == 63  # an exact half rounds up …
    assert to_ms(-0.0625) == -62  # … to the later instant
    assert to_ms(0.00025) == 0
    assert to_ms(EPOCH_2026 + 0.0015) == T0_MS + 2


def test_live_and_virtual_clocks_round_the_same(monkeypatch):
    for seconds in (EPOCH_2026 + 0.0625, EPOCH_2026 + 4.35, EPOCH_2026 + 0.0004):
        monkeypatch.setattr("actors.clock.time.time", lambda seconds=seconds: seconds)
        live, virtual = LiveClock(), VirtualClock(seconds)
        assert live.now_ms() == virtual.now_ms() == to_ms(seconds)
        assert live.now() == virtual.now() == to_ms(seconds) / 1000


async def test_an_actor_sleeps_on_the_clock_without_keeping_the_system_busy():
    log: list = []
    async with virtual_system() as (system, clock):
        ref = system.spawn("sleeper", lambda: Sleeper(log))
        await ref.tell(Nap(seconds=HOUR))
        await clock.settle()  # returns although the nap is still running: it waits for time
        assert log == []
        await clock.advance(HOUR - 0.001)
        assert log == []
        await clock.advance(0.001)
        assert log == [("woke", 3_600_000)]


async def test_an_ask_from_outside_times_out_when_the_clock_passes_its_deadline():
    log: list = []
    outcome: list = []
    async with virtual_system() as (system, clock):
        ref = system.spawn("sleeper", lambda: Sleeper(log))

        async def ask() -> None:
            try:
                outcome.append(await ref.ask(Nap(seconds=HOUR), timeout=600))
            except AskTimeout as exc:
                outcome.append((str(exc), clock.now_ms() - T0_MS))

        async with anyio.create_task_group() as tg:
            tg.start_soon(ask)
            await anyio.wait_all_tasks_blocked()  # the ask is out, its deadline set
            await clock.advance(599.999)
            await anyio.wait_all_tasks_blocked()
            assert outcome == []
            await clock.advance(0.001)
        assert outcome == [("sleeper did not answer Nap within 600 s", 600_000)]
        await clock.advance(HOUR)
        assert log == [("woke", 3_600_000)]  # the nap itself went on


class Client(Actor):
    """Asks the sleeper with a timeout from inside its own message, and notes what came back."""

    def __init__(self, log: list) -> None:
        self.log = log

    async def receive(self, msg):
        try:
            answer = await self.system.ref("sleeper").ask(msg, timeout=60)
        except AskTimeout:
            answer = "timed out"
        self.log.append((answer, self.clock.now_ms() - T0_MS))


async def test_an_ask_from_an_actor_times_out_on_the_clock_and_the_actor_goes_on():
    log: list = []
    async with virtual_system() as (system, clock):
        system.spawn("sleeper", lambda: Sleeper(log))
        client = system.spawn("client", lambda: Client(log))
        await client.tell(Nap(seconds=HOUR))
        await client.tell(Poke())  # queued behind the nap at the sleeper: times out as well
        await clock.advance(60)
        assert log == [("timed out", 60_000)]
        await clock.advance(60)
        assert log == [("timed out", 60_000), ("timed out", 120_000)]
        await clock.advance(HOUR)
        assert log[2:] == [("woke", 3_600_000), ("poke", 3_600_000)]


async def test_an_ask_answered_in_time_is_not_cut_by_its_deadline():
    log: list = []
    async with virtual_system() as (system, clock):
        system.spawn("sleeper", lambda: Sleeper(log))
        client = system.spawn("client", lambda: Client(log))
        await client.tell(Nap(seconds=59.999))
        await clock.advance(HOUR)
        assert log == [("woke", 59_999), ("rested", 59_999)]


class Fragile(Actor):
    """Crashes on its first message; notes each start."""

    def __init__(self, starts: list, crashes: list) -> None:
        self.starts = starts
        self.crashes = crashes

    async def on_start(self) -> None:
        self.starts.append(self.clock.now_ms() - T0_MS)

    async def receive(self, msg):
        if not self.crashes:
            self.crashes.append(self.clock.now_ms() - T0_MS)
            raise RuntimeError("first message crashes")
        return "handled"


async def test_restart_backoff_elapses_on_the_clock():
    starts, crashes = [], []
    policy = RestartPolicy(backoff=30.0, backoff_max=30.0)
    async with virtual_system(policy=policy) as (system, clock):
        ref = system.spawn("fragile", lambda: Fragile(starts, crashes))
        await ref.tell(Poke())
        await clock.settle()
        (stats,) = system.stats()
        assert (stats.state, stats.restarts, starts, crashes) == ("restarting", 1, [0], [0])
        await clock.advance(29.999)
        assert system.stats()[0].state == "restarting" and starts == [0]
        await clock.advance(0.001)
        (stats,) = system.stats()
        assert (stats.state, stats.processed, starts) == ("running", 1, [0, 30_000])
        assert await ref.ask(Poke()) == "handled"
    assert system.dead_letters.letters == []  # the crashed message was retried after the backoff


async def test_a_stop_whose_grace_runs_out_on_the_clock_cancels_the_actor():
    log: list = []
    async with virtual_system() as (system, clock):
        ref = system.spawn("sleeper", lambda: Sleeper(log))
        await ref.tell(Nap(seconds=HOUR))
        await ref.tell(Poke())
        async with anyio.create_task_group() as tg:
            tg.start_soon(system.stop, "sleeper", 10.0)
            await anyio.wait_all_tasks_blocked()
            await clock.advance(9.999)
            assert system.names() == ["sleeper"]
            await clock.advance(0.001)
        assert system.names() == []
        assert clock.now_ms() - T0_MS == 10_000
        await clock.advance(HOUR)
        assert log == []  # cancelled mid-nap; the ping behind it never ran
    letters = [(d.message, d.reason) for d in system.dead_letters.letters]
    assert letters == [(Nap(seconds=HOUR), "stopped"), (Poke(), "stopped")]


async def test_clock_fail_after_raises_when_the_clock_passes_the_deadline():
    async with virtual_system() as (system, clock):
        seen: list = []

        async def slow() -> None:
            with pytest.raises(TimeoutError), clock.fail_after(5):
                await clock.sleep(HOUR)
            seen.append(clock.now_ms() - T0_MS)
            with clock.move_on_after(5) as scope:
                await clock.sleep(4)
            seen.append((scope.cancelled_caught, clock.now_ms() - T0_MS))

        system.start_work(slow)
        await clock.advance(60)
        assert seen == [5_000, (False, 9_000)]


async def test_work_started_with_start_work_keeps_the_clock_until_it_is_done():
    steps: list = []
    async with virtual_system() as (system, clock):
        gate = anyio.Event()

        async def job() -> None:
            await gate.wait()  # outside work (a socket, a thread): the clock waits for it
            steps.append(("job", clock.now_ms() - T0_MS))

        system.start_work(job)
        async with anyio.create_task_group() as tg:
            tg.start_soon(clock.advance, 10.0)
            await anyio.wait_all_tasks_blocked()
            assert clock.now_ms() == T0_MS and steps == []
            gate.set()
        assert steps == [("job", 0)]
        assert clock.now_ms() - T0_MS == 10_000


async def test_an_actor_waiting_for_its_restart_stops_at_once_and_its_messages_are_dead_letters():
    starts, crashes = [], []
    policy = RestartPolicy(backoff=HOUR, backoff_max=HOUR)
    async with virtual_system(policy=policy) as (system, clock):
        ref = system.spawn("fragile", lambda: Fragile(starts, crashes))
        await ref.tell(Poke())
        await ref.tell(Nap(seconds=1))
        await clock.settle()
        assert system.stats()[0].state == "restarting"
        await system.stop("fragile")  # no need to advance the clock through the backoff
        assert system.names() == [] and clock.now_ms() == T0_MS
    assert starts == [0]
    letters = [(d.message, d.reason) for d in system.dead_letters.letters]
    assert letters == [(Poke(), "stopped"), (Nap(seconds=1), "stopped")]
