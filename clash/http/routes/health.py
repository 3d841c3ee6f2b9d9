"""Liveness of the process, the database and every actor."""

from __future__ import annotations

import msgspec
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from actors import ActorStats
from clash.http.bodies import json_response
from clash.runtime import Runtime


class Health(msgspec.Struct):
    status: str
    db: str
    now_ms: int
    actors: int


class WorkerHealth(msgspec.Struct):
    now_ms: int
    heartbeat_interval_s: float | None
    workers: list[ActorStats]
    stale: list[str]


async def health(request: Request) -> Response:
    rt: Runtime = request.app.state.runtime
    try:
        async with rt.db.read() as r:
            await r.fetchval("SELECT 1")
        db = "ok"
    except Exception as exc:
        db = f"error: {exc}"
    body = Health(
        status="ok" if db == "ok" else "degraded",
        db=db,
        now_ms=rt.clock.now_ms(),
        actors=len(rt.system.names()),
    )
    return json_response(body, status=200 if db == "ok" else 503)


async def workers(request: Request) -> Response:
    rt: Runtime = request.app.state.runtime
    now = rt.clock.now_ms()
    interval = rt.system.heartbeat_interval
    stats = sorted(rt.system.stats(), key=lambda s: s.name)
    stale = []
    if interval:
        limit_ms = 3 * interval * 1000
        stale = [
            s.name
            for s in stats
            if s.last_heartbeat_ms is None or now - s.last_heartbeat_ms > limit_ms
        ]
    return json_response(
        WorkerHealth(now_ms=now, heartbeat_interval_s=interval, workers=stats, stale=stale)
    )


routes = [
    Route("/api/v1/health", health, methods=["GET"]),
    Route("/api/v1/internal/health/workers", workers, methods=["GET"]),
]
