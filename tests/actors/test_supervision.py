import anyio
import pytest

from actors import Actor, ActorCrashed, ActorStopped, Escalation, Message, RestartPolicy
from actors.testkit import virtual_system

pytestmark = pytest.mark.anyio


class Add(Message, frozen=True):
    n: int


class Boom(Message, frozen=True):
    times: int = 99  # how many deliveries of this message crash before one succeeds


class Total(Message, frozen=True):
    pass


class Counter(Actor):
    """Keeps its total in `storage`, as a real actor keeps it in SQLite, and reloads it on start."""

    def __init__(self, storage: dict, starts: list) -> None:
        self.storage = storage
        self.starts = starts

    async def on_start(self) -> None:
        self.starts.append(self.name)
        self.total = self.storage.get(self.name, 0)

    async def receive(self, msg):
        match msg:
            case Add(n=n):
                self.total += n
                self.storage[self.name] = self.total
            case Boom(times=times):
                self.storage["booms"] = self.storage.get("booms", 0) + 1
                if self.storage["booms"] <= times:
                    raise RuntimeError("boom")
                return "survived"
            case Total():
                return self.total


async def test_a_crash_restarts_the_actor_which_reloads_its_state():
    storage, starts = {}, []
    async with virtual_system() as (system, _):
        ref = system.spawn("counter", lambda: Counter(storage, starts))
        await ref.tell(Add(n=5))
        await ref.tell(Boom(times=1))
        await ref.tell(Add(n=2))
        assert await ref.ask(Total()) == 7
        (stats,) = system.stats()
        assert stats.restarts == 1
    assert starts == ["counter", "counter"]
    assert system.dead_letters.letters == []


async def test_a_message_that_crashes_once_is_retried_and_its_asker_answered():
    storage = {}
    async with virtual_system() as (system, _):
        ref = system.spawn("counter", lambda: Counter(storage, []))
        assert await ref.ask(Boom(times=1)) == "survived"
    assert storage["booms"] == 2


async def test_a_message_that_crashes_twice_goes_to_the_dead_letters():
    storage = {}
    async with virtual_system() as (system, _):
        ref = system.spawn("counter", lambda: Counter(storage, []))
        with pytest.raises(ActorCrashed, match="counter crashed on Boom") as info:
            await ref.ask(Boom())
        assert isinstance(info.value.__cause__, RuntimeError)
        await ref.tell(Add(n=1))
        assert await ref.ask(Total()) == 1  # the actor goes on with the next message
    (letter,) = system.dead_letters.letters
    assert letter.actor == "counter" and letter.message == Boom()
    assert "boom" in letter.error
    assert storage["booms"] == 2


async def test_restart_intensity_escalates_and_the_parent_restarts_the_whole_subtree():
    storage, starts = {}, []
    async with virtual_system(policy=RestartPolicy(max_restarts=10, backoff=0.0)) as (system, _):
        system.supervisor("desk", policy=RestartPolicy(max_restarts=1, within=60, backoff=0.0))
        flaky = system.spawn("flaky", lambda: Counter(storage, starts), supervisor="desk")
        sibling = system.spawn("sibling", lambda: Counter(storage, starts), supervisor="desk")
        await sibling.tell(Add(n=3))
        await system.wait_idle()
        starts.clear()
        await flaky.tell(Boom(times=3))  # crash, restart, crash (dead letter), ...
        await flaky.tell(Boom(times=3))  # ... crash again: 2 restarts in 60 s > 1: escalate
        await system.wait_idle()
        assert await flaky.ask(Total()) == 0
        assert await sibling.ask(Total()) == 3  # reloaded from storage after the desk restarted
    assert starts.count("sibling") == 1, "the desk's restart restarts its other children too"
    assert len(system.dead_letters.letters) == 1


async def test_escalation_past_the_root_fails_the_system():
    with pytest.raises(BaseExceptionGroup) as info:
        async with virtual_system(policy=RestartPolicy(max_restarts=0, backoff=0.0)) as (system, _):
            ref = system.spawn("counter", lambda: Counter({}, []))
            await ref.tell(Boom())
            await anyio.sleep_forever()
    assert info.group_contains(Escalation, match="counter exceeded its restart intensity")


class Tidy(Actor):
    def __init__(self, log: list) -> None:
        self.log = log

    async def receive(self, msg):
        self.log.append((self.name, msg.n))

    async def on_stop(self) -> None:
        self.log.append((self.name, "stopped"))


async def test_stop_handles_queued_messages_first_and_shutdown_goes_newest_first():
    log: list = []
    async with virtual_system() as (system, _):
        first = system.spawn("first", lambda: Tidy(log))
        system.spawn("second", lambda: Tidy(log))
        await first.tell(Add(n=1))
        await first.tell(Add(n=2))
        await system.stop("first")
        assert log == [("first", 1), ("first", 2), ("first", "stopped")]
        with pytest.raises(ActorStopped):
            await first.ask(Total())
        await first.tell(Add(n=3))
        assert system.dead_letters.letters[-1].message == Add(n=3)
        system.spawn("third", lambda: Tidy(log))
        log.clear()
    assert log == [("third", "stopped"), ("second", "stopped")]
