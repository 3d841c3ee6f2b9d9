"""The actor kernel: actors, refs, timers, clocks, supervision. Knows nothing about trading."""

from .activity import Latch
from .actor import Actor, ActorStats, Ref, Timer
from .clock import Clock, LiveClock, VirtualClock, to_ms
from .errors import (
    ActorCrashed,
    ActorError,
    ActorStopped,
    AskTimeout,
    Escalation,
    Unhandled,
    UnknownActor,
)
from .messages import Message, decode_message, encode_message, message_types
from .supervisor import RestartPolicy
from .system import DeadLetter, DeadLetterSink, MemoryDeadLetters, System

__all__ = [
    "Actor",
    "ActorStats",
    "Latch",
    "Ref",
    "Timer",
    "Clock",
    "LiveClock",
    "VirtualClock",
    "to_ms",
    "ActorCrashed",
    "ActorError",
    "ActorStopped",
    "AskTimeout",
    "Escalation",
    "Unhandled",
    "UnknownActor",
    "Message",
    "decode_message",
    "encode_message",
    "message_types",
    "RestartPolicy",
    "DeadLetter",
    "DeadLetterSink",
    "MemoryDeadLetters",
    "System",
]
