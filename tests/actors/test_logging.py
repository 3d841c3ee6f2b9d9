"""The kernel logs crashes, restarts, escalations, dead letters and stops, naming the actor."""

import logging

import pytest

from actors import Actor, Message, RestartPolicy
from actors.testkit import virtual_system

pytestmark = pytest.mark.anyio


class Shatter(Message, frozen=True):
    pass


class Fine(Message, frozen=True):
    pass


class Brittle(Actor):
    async def receive(self, msg):
        match msg:
            case Shatter():
                raise RuntimeError("boom")


def records(caplog, name: str) -> list[tuple[str, str, str]]:
    return [
        (r.name, r.levelname, r.getMessage())
        for r in caplog.records
        if r.name.startswith("actors") and getattr(r, "actor", None) == name
    ]


async def test_crash_restart_dead_letter_and_stop_are_logged_with_the_actor_name(caplog):
    caplog.set_level(logging.INFO, logger="actors")
    async with virtual_system() as (system, clock):
        ref = system.spawn("brittle", Brittle)
        await ref.tell(Shatter())
        await ref.tell(Fine())
        await clock.settle()
        await system.stop("brittle")
    logged = records(caplog, "brittle")
    assert logged == [
        ("actors.supervisor", "ERROR", "brittle crashed: RuntimeError('boom')"),
        ("actors.supervisor", "WARNING", "brittle restarts in 0.0 s (restart 1)"),
        ("actors.supervisor", "ERROR", "brittle crashed: RuntimeError('boom')"),
        ("actors.system", "WARNING", "dead letter for brittle (crashed): Shatter"),
        ("actors.supervisor", "WARNING", "brittle restarts in 0.0 s (restart 2)"),
        ("actors.system", "INFO", "brittle stopped"),
    ]
    crash = next(r for r in caplog.records if getattr(r, "actor", None) == "brittle")
    assert crash.exc_info is not None and crash.error == "RuntimeError('boom')"
    letter = next(r for r in caplog.records if r.getMessage().startswith("dead letter"))
    assert (letter.reason, letter.message_type) == ("crashed", "Shatter")


async def test_an_escalation_is_logged_for_the_child_and_the_supervisor(caplog):
    caplog.set_level(logging.INFO, logger="actors")
    async with virtual_system(policy=RestartPolicy(max_restarts=5, backoff=0.0)) as (system, clock):
        system.supervisor("desk", policy=RestartPolicy(max_restarts=0, backoff=0.0))
        ref = system.spawn("brittle", Brittle, supervisor="desk")
        await ref.tell(Shatter())
        await clock.settle()
    escalating = "brittle exceeded its restart intensity (1 in 60.0 s): escalating"
    assert ("actors.supervisor", "ERROR", escalating) in records(caplog, "brittle")
    last = "last error: RuntimeError('boom')"
    escalation = f'Escalation("brittle exceeded its restart intensity; {last}")'
    assert [m for _, _, m in records(caplog, "desk")][:2] == [
        f"desk crashed: {escalation}",
        "desk restarts in 0.0 s (restart 1)",
    ]
