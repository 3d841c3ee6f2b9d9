"""One rule for a message an actor does not handle: a dead letter, and the actor goes on."""

import pytest

from actors import Actor, Message, Unhandled
from actors.testkit import virtual_system

pytestmark = pytest.mark.anyio


class Pay(Message, frozen=True):
    amount: int


class Sum(Message, frozen=True):
    pass


class Stray(Message, frozen=True):
    note: str = ""


class Wallet(Actor):
    def __init__(self, starts: list) -> None:
        self.starts = starts
        self.balance = 0

    async def on_start(self) -> None:
        self.starts.append(self.name)

    async def receive(self, msg):
        match msg:
            case Pay(amount=amount):
                self.balance += amount
            case Sum():
                return self.balance
            case _:
                raise Unhandled(msg)


class Mute(Actor):
    """Does not override `receive`: every message is unhandled."""


async def test_an_unhandled_tell_goes_to_the_dead_letters_and_the_actor_goes_on():
    starts: list = []
    async with virtual_system() as (system, _):
        wallet = system.spawn("wallet", lambda: Wallet(starts))
        await wallet.tell(Pay(amount=5))
        await wallet.tell(Stray(note="lost"))
        await wallet.tell(Pay(amount=7))
        assert await wallet.ask(Sum()) == 12
        (stats,) = system.stats()
        assert (stats.restarts, stats.state) == (0, "running")
    (letter,) = system.dead_letters.letters
    assert (letter.actor, letter.message) == ("wallet", Stray(note="lost"))
    assert letter.reason == "unhandled"
    assert "wallet does not handle Stray" in letter.error
    assert starts == ["wallet"], "an unhandled message does not restart the actor"


async def test_an_unhandled_ask_fails_the_asker_with_a_clear_error():
    async with virtual_system() as (system, _):
        wallet = system.spawn("wallet", lambda: Wallet([]))
        with pytest.raises(Unhandled, match="wallet does not handle Stray"):
            await wallet.ask(Stray())
        assert await wallet.ask(Sum()) == 0
    assert [d.reason for d in system.dead_letters.letters] == ["unhandled"]


async def test_an_actor_without_receive_dead_letters_everything():
    async with virtual_system() as (system, _):
        mute = system.spawn("mute", Mute)
        await mute.tell(Pay(amount=1))
        with pytest.raises(Unhandled, match="mute does not handle Sum"):
            await mute.ask(Sum())
    assert [(d.message, d.reason) for d in system.dead_letters.letters] == [
        (Pay(amount=1), "unhandled"),
        (Sum(), "unhandled"),
    ]


class Forwarder(Actor):
    async def receive(self, msg):
        return await self.system.ref("mute").ask(msg)


async def test_an_unhandled_answer_to_an_ask_is_a_crash_of_the_asker_not_its_own_unhandled():
    async with virtual_system() as (system, _):
        system.spawn("mute", Mute)
        forwarder = system.spawn("forwarder", Forwarder)
        await forwarder.tell(Pay(amount=1))
        await system.wait_idle()
        assert {s.name: s.restarts for s in system.stats()} == {"mute": 0, "forwarder": 2}
    assert [(d.actor, d.reason) for d in system.dead_letters.letters] == [
        ("mute", "unhandled"),
        ("mute", "unhandled"),
        ("forwarder", "crashed"),
    ]
