"""The heartbeat recorder: answers pings and persists every actor's heartbeat to `worker_heartbeats`."""

from __future__ import annotations

from typing import Any

from actors import Actor, ActorStats, Unhandled
from clash.ops.messages import OpsPing, OpsPong, RecordHeartbeats, WorkerStats
from clash.store import Database


class HeartbeatRecorder(Actor):
    def __init__(self, db: Database, interval_s: float) -> None:
        self.db = db
        self.interval_s = interval_s

    async def on_start(self) -> None:
        self.every(self.interval_s, RecordHeartbeats())

    async def receive(self, msg: Any) -> Any:
        match msg:
            case OpsPing(note=note):
                return OpsPong(note=note, at_ms=self.clock.now_ms())
            case WorkerStats():
                return self.system.stats()
            case RecordHeartbeats():
                await self.persist(self.system.stats())
            case _:
                raise Unhandled(msg)

    async def persist(self, stats: list[ActorStats]) -> None:
        now = self.clock.now_ms()
        async with self.db.transaction() as tx:
            await tx.executemany(
                "INSERT INTO worker_heartbeats (name, supervisor, state, restarts, processed, mailbox_depth,"
                " last_heartbeat_ms, recorded_at_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET supervisor = excluded.supervisor, state = excluded.state,"
                " restarts = excluded.restarts, processed = excluded.processed,"
                " mailbox_depth = excluded.mailbox_depth, last_heartbeat_ms = excluded.last_heartbeat_ms,"
                " recorded_at_ms = excluded.recorded_at_ms",
                [
                    (
                        s.name,
                        s.supervisor,
                        s.state,
                        s.restarts,
                        s.processed,
                        s.mailbox_depth,
                        s.last_heartbeat_ms,
                        now,
                    )
                    for s in stats
                ],
            )
