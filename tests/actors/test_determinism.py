"""The same scripted scenario gives the same per-actor message order on asyncio and on trio."""

import hashlib

import anyio
import msgspec

from actors import Actor, Message
from actors.testkit import virtual_system


class Quote(Message, frozen=True):
    seq: int


class Fill(Message, frozen=True):
    desk: str
    seq: int
    px: int


class Report(Message, frozen=True):
    pass


class Desk(Actor):
    """Every `period` seconds asks the exchange for a price and books a fill with the ledger."""

    def __init__(self, period: float, log: list) -> None:
        self.period = period
        self.log = log
        self.seq = 0

    async def on_start(self) -> None:
        self.every(self.period, Quote(seq=0))

    async def receive(self, msg):
        self.seq += 1
        px = await self.system.ref("exchange").ask(Quote(seq=self.seq))
        self.log.append((self.name, self.clock.now(), self.seq, px))
        await self.system.ref("ledger").tell(Fill(desk=self.name, seq=self.seq, px=px))


class Exchange(Actor):
    def __init__(self) -> None:
        self.px = 100

    async def receive(self, msg):
        self.px = (self.px * 31 + msg.seq * 7) % 1009
        return self.px


class Ledger(Actor):
    def __init__(self, log: list) -> None:
        self.log = log

    async def receive(self, msg):
        self.log.append(("ledger", msg.desk, msg.seq, msg.px))


async def scenario() -> str:
    log: list = []
    async with virtual_system() as (system, clock):
        system.spawn("exchange", Exchange)
        system.spawn("ledger", lambda: Ledger(log))
        for name, period in [("d1", 7.0), ("d2", 11.0), ("d3", 7.0), ("d4", 60.0)]:
            system.spawn(name, lambda period=period: Desk(period, log))
        await clock.advance(2 * 3600)
    return hashlib.sha256(msgspec.json.encode(log)).hexdigest()


def test_same_inputs_same_outcome_on_both_backends_every_time():
    hashes = {
        (backend, run): anyio.run(scenario, backend=backend)
        for backend in ("asyncio", "trio")
        for run in (1, 2)
    }
    assert len(set(hashes.values())) == 1, hashes
