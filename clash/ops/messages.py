from actors import Message


class OpsPing(Message, frozen=True):
    """Answered with `OpsPong`: the simplest proof that a live actor is reachable."""

    note: str = ""


class OpsPong(Message, frozen=True):
    note: str
    at_ms: int


class RecordHeartbeats(Message, frozen=True):
    pass


class WorkerStats(Message, frozen=True):
    """Answered with the statistics of every actor in the system."""
