from __future__ import annotations


class ActorError(Exception):
    """Base of the kernel's errors."""


class AskTimeout(ActorError, TimeoutError):
    def __init__(self, actor: str, message: object, timeout: float) -> None:
        super().__init__(f"{actor} did not answer {type(message).__name__} within {timeout} s")
        self.actor = actor
        self.message = message


class ActorStopped(ActorError):
    def __init__(self, actor: str) -> None:
        super().__init__(f"actor {actor} is stopped")
        self.actor = actor


class ActorCrashed(ActorError):
    """The actor raised while handling the asked message; `__cause__` is its error."""

    def __init__(self, actor: str, message: object, error: BaseException) -> None:
        super().__init__(f"{actor} crashed on {type(message).__name__}: {error!r}")
        self.actor = actor
        self.message = message
        self.__cause__ = error


class Escalation(ActorError):
    """A child exhausted its restart intensity; its supervisor fails in turn."""

    def __init__(self, child: str, error: BaseException) -> None:
        super().__init__(f"{child} exceeded its restart intensity; last error: {error!r}")
        self.child = child
        self.error = error


class Unhandled(ActorError):
    """Raised from `receive` for a message the actor does not handle (the base `receive` raises it).

    The kernel sends the message to the dead letters with the reason `unhandled` and fails an asker
    with this error; the actor is not restarted and goes on with its next message.
    """

    def __init__(self, message: object, actor: str | None = None) -> None:
        super().__init__(f"{actor or 'the actor'} does not handle {type(message).__name__}")
        self.actor = actor
        self.message = message


class UnknownActor(ActorError, LookupError):
    def __init__(self, name: str) -> None:
        super().__init__(f"no actor named {name!r}")
        self.name = name
