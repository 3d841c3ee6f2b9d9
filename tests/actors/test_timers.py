import pytest

from actors import Actor, Message
from actors.testkit import EPOCH_2026, Probe, virtual_system

pytestmark = pytest.mark.anyio


class Tick(Message, frozen=True):
    label: str = ""


class Ticker(Actor):
    def __init__(self, log: list) -> None:
        self.log = log

    async def on_start(self) -> None:
        self.minutely = self.every(60, Tick(label="minute"))
        self.after(90, Tick(label="once"))
        self.at(EPOCH_2026 + 3600, Tick(label="at-hour"))

    async def receive(self, msg):
        self.log.append((self.clock.now() - EPOCH_2026, msg.label))
        if msg.label == "at-hour":
            self.minutely.cancel()


async def test_timers_fire_at_their_times_in_order_and_cancel():
    log: list = []
    async with virtual_system() as (system, clock):
        system.spawn("ticker", lambda: Ticker(log))
        await clock.advance(2 * 3600)
    minutes = [t for t, label in log if label == "minute"]
    # At 3600 s both are due; "at-hour" was scheduled at start, the minute tick only at 3540 s,
    # so "at-hour" fires first and cancels the tick.
    assert minutes == [60.0 * k for k in range(1, 60)]
    assert (90.0, "once") in log
    assert log[-1] == (3600.0, "at-hour")


class Relay(Actor):
    """Forwards each message to the next actor after noting it: a causal chain."""

    def __init__(self, to: str | None, log: list) -> None:
        self.to = to
        self.log = log

    async def receive(self, msg):
        self.log.append((self.name, msg.label))
        if self.to:
            await self.system.ref(self.to).tell(Tick(label=f"{msg.label}>{self.name}"))


class Pulse(Actor):
    async def on_start(self) -> None:
        self.every(10, Tick(label="p"))

    async def receive(self, msg):
        await self.system.ref("a").tell(msg)


async def test_advance_waits_for_every_cascade_before_the_next_timer():
    log: list = []
    async with virtual_system() as (system, clock):
        system.spawn("c", lambda: Relay(None, log))
        system.spawn("b", lambda: Relay("c", log))
        system.spawn("a", lambda: Relay("b", log))
        system.spawn("pulse", Pulse)
        await clock.advance(30)
        assert log == [("a", "p"), ("b", "p>a"), ("c", "p>a>b")] * 3


async def test_virtual_time_only_moves_when_told():
    async with virtual_system() as (system, clock):
        probe = system.spawn("probe", Probe)
        await probe.tell(Tick())
        await clock.settle()
        assert clock.now() == EPOCH_2026
        await clock.run_until(EPOCH_2026 + 5)
        assert clock.now_ms() == int((EPOCH_2026 + 5) * 1000)
        with pytest.raises(ValueError, match="does not go back"):
            await clock.run_until(EPOCH_2026)


async def test_timer_lag_is_reported_to_the_system_hook():
    lags: list = []

    def on_lag(name: str, lag: float) -> None:
        lags.append((name, lag))

    async with virtual_system(on_timer_lag=on_lag) as (system, clock):
        system.spawn("ticker", lambda: Ticker([]))
        await clock.advance(180)
    assert ("ticker", 0.0) in lags
    assert len([1 for name, _ in lags if name == "ticker"]) == 4  # minutes 1, 2, 3 and the 90 s one


async def test_a_heartbeat_per_actor_shows_in_stats():
    async with virtual_system(heartbeat_interval=5.0) as (system, clock):
        system.spawn("probe", Probe)
        await clock.advance(60)
        (stats,) = system.stats()
        assert stats.name == "probe" and stats.state == "running"
        assert stats.last_heartbeat_ms == int((EPOCH_2026 + 60) * 1000)
        assert system.actor("probe").received == []  # heartbeats never reach receive
