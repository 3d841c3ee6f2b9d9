"""The actor kernel: actors, refs, timers, clocks, supervision. Knows nothing about trading."""

from .actor import Actor, ActorStats, Ref, Timer
from .clock import Clock, LiveClock, VirtualClock
from .errors import ActorCrashed, ActorError, ActorStopped, AskTimeout, Escalation, UnknownActor
from .messages import Message, decode_message, encode_message, message_types
from .supervisor import RestartPolicy
from .system import DeadLetter, DeadLetterSink, MemoryDeadLetters, System

__all__ = [
    "Actor", "ActorStats", "Ref", "Timer",
    "Clock", "LiveClock", "VirtualClock",
    "ActorCrashed", "ActorError", "ActorStopped", "AskTimeout", "Escalation", "UnknownActor",
    "Message", "decode_message", "encode_message", "message_types",
    "RestartPolicy",
    "DeadLetter", "DeadLetterSink", "MemoryDeadLetters", "System",
]
