import anyio
import pytest

from actors import Actor, LiveClock, Message, System

pytestmark = pytest.mark.anyio


class Beat(Message, frozen=True):
    pass


class Metronome(Actor):
    def __init__(self, beats: list) -> None:
        self.beats = beats

    async def on_start(self) -> None:
        self.beats.append(self.clock.now_ms())
        self.every(0.02, Beat())

    async def receive(self, msg):
        self.beats.append(self.clock.now_ms())


async def test_live_timers_fire_in_wall_time():
    beats: list = []
    clock = LiveClock()
    async with System(clock) as system:
        system.spawn("metronome", lambda: Metronome(beats))
        await anyio.sleep(0.25)
    start, beats = beats[0], beats[1:]
    assert 5 <= len(beats) <= 13
    early = [beat for k, beat in enumerate(beats, 1) if beat < start + 20 * k]
    assert early == [], "a live timer fired early"


async def test_live_sleeps_and_timeouts_run_on_wall_time():
    clock = LiveClock()
    start = clock.now_ms()
    await clock.sleep(0.03)
    assert clock.now_ms() - start >= 29  # anyio's monotonic sleep against wall-clock readings
    with pytest.raises(TimeoutError), clock.fail_after(0.02):
        await anyio.sleep(5)
    with clock.move_on_after(5) as scope:
        await clock.sleep(0.01)
    assert not scope.cancelled_caught
    assert clock.now_ms() - start < 2_000
