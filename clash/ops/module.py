"""Operations: heartbeats, dead letters, the admin message audit."""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from clash.ops.heartbeats import HeartbeatRecorder
from clash.store import Database

if TYPE_CHECKING:
    from clash.runtime import Runtime

HEARTBEATS = "ops.heartbeats"


class OpsModule:
    name = "ops"
    package = "clash.ops"

    def register_checks(self, db: Database) -> None:
        pass

    async def start(self, rt: Runtime) -> None:
        self.rt = rt
        rt.system.supervisor("ops")
        rt.system.spawn(
            HEARTBEATS,
            lambda: HeartbeatRecorder(rt.db, rt.config.system.heartbeat_persist_interval_s),
            supervisor="ops",
        )

    async def audit_admin_message(self, admin: str, actor: str, message: object, outcome: str) -> None:
        async with self.rt.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO admin_messages (admin, actor, message_json, outcome, at_ms) VALUES (?, ?, ?, ?, ?)",
                (admin, actor, msgspec.json.encode(message).decode(), outcome, self.rt.clock.now_ms()),
            )
