import anyio
import msgspec
import pytest

from actors import Actor, Message, UnknownActor, decode_message, encode_message
from actors.testkit import virtual_system

pytestmark = pytest.mark.anyio


class Deposit(Message, frozen=True):
    amount: int


class Balance(Message, frozen=True):
    pass


class Wallet(Actor):
    def __init__(self) -> None:
        self.balance = 0

    async def receive(self, msg):
        match msg:
            case Deposit(amount=amount):
                self.balance += amount
            case Balance():
                return self.balance


class Gate(Actor):
    """Handles a message only once its gate opens: lets a test fill the mailbox."""

    def __init__(self, gate: anyio.Event, seen: list) -> None:
        self.gate = gate
        self.seen = seen

    async def receive(self, msg):
        await self.gate.wait()
        self.seen.append(msg)


async def test_tell_then_ask_sees_every_told_message():
    async with virtual_system() as (system, _):
        wallet = system.spawn("wallet", Wallet)
        for amount in (5, 7, 30):
            await wallet.tell(Deposit(amount=amount))
        assert await wallet.ask(Balance()) == 42


async def test_a_full_mailbox_makes_tell_wait_and_loses_nothing():
    gate, seen = anyio.Event(), []
    async with virtual_system() as (system, _):
        ref = system.spawn("gated", lambda: Gate(gate, seen), mailbox_size=2)
        await ref.tell(Deposit(amount=1))  # taken by the actor, which now waits on the gate
        await anyio.wait_all_tasks_blocked()
        await ref.tell(Deposit(amount=2))
        await ref.tell(Deposit(amount=3))
        with anyio.move_on_after(0.05) as scope:
            await ref.tell(Deposit(amount=4))
        assert scope.cancelled_caught, "a tell into a full mailbox should wait"
        gate.set()
        await ref.tell(Deposit(amount=4))
        await system.wait_idle()
        assert [m.amount for m in seen] == [1, 2, 3, 4]


async def test_unknown_actor_lookup_names_it():
    async with virtual_system() as (system, _):
        with pytest.raises(UnknownActor, match="'nobody'"):
            system.ref("nobody")


async def test_spawning_a_taken_name_is_refused():
    async with virtual_system() as (system, _):
        system.spawn("wallet", Wallet)
        with pytest.raises(ValueError, match="already exists"):
            system.spawn("wallet", Wallet)


def test_messages_round_trip_through_tagged_json():
    raw = encode_message(Deposit(amount=3))
    assert msgspec.json.decode(raw) == {"type": "Deposit", "amount": 3}
    assert decode_message(raw) == Deposit(amount=3)
    assert decode_message(b'{"type": "Balance"}') == Balance()
    with pytest.raises(msgspec.ValidationError):
        decode_message(b'{"type": "Deposit", "amount": "three"}')
    with pytest.raises(msgspec.ValidationError):
        decode_message(b'{"type": "NoSuchMessage"}')


def test_messages_are_frozen():
    with pytest.raises(AttributeError):
        Deposit(amount=1).amount = 2  # type: ignore[misc]
