"""Operations: heartbeats, dead letters, the admin message audit."""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from actors import Clock
from clash.ops.heartbeats import HeartbeatRecorder
from clash.store import Database

if TYPE_CHECKING:
    from clash.runtime import Runtime

HEARTBEATS = "ops.heartbeats"


class OpsModule:
    name = "ops"
    package = "clash.ops"

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    @staticmethod
    def register_checks(db: Database) -> None:
        pass

    @classmethod
    async def start(cls, rt: Runtime) -> OpsModule:
        rt.system.supervisor("ops")
        rt.system.spawn(
            HEARTBEATS,
            lambda: HeartbeatRecorder(rt.db, rt.config.system.heartbeat_persist_interval_s),
            supervisor="ops",
        )
        return cls(rt.db, rt.clock)

    async def audit_admin_message(
        self, admin: str, actor: str, message: object, outcome: str
    ) -> None:
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO admin_messages (admin, actor, message_json, outcome, at_ms) VALUES (?, ?, ?, ?, ?)",
                (admin, actor, msgspec.json.encode(message).decode(), outcome, self.clock.now_ms()),
            )
