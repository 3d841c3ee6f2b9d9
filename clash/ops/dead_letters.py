"""Dead letters persisted to SQLite, so a message that crashed an actor twice is never lost."""

from __future__ import annotations

import msgspec

from actors import DeadLetter
from clash.store import Database


class DeadLetterTable:
    """The kernel's dead-letter sink for the product."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(self, letter: DeadLetter) -> None:
        try:
            body = msgspec.json.encode(letter.message).decode()
        except TypeError:
            body = msgspec.json.encode(repr(letter.message)).decode()
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO dead_letters (actor, message_type, message_json, error, at_ms, reason)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    letter.actor,
                    type(letter.message).__name__,
                    body,
                    letter.error,
                    letter.at_ms,
                    letter.reason,
                ),
            )
