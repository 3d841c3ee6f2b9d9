"""A market world for the ingestion tests: the simulator in-process (httpx ASGITransport), a
fresh market database, and the market actors on a VirtualClock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import httpx
import msgspec
import pytest

from actors import Ref, System, VirtualClock
from actors.testkit import EPOCH_2026, virtual_system
from clash.market.actors.health import channel_specs, current_health
from clash.market.actors.hyperliquid import HyperliquidSource
from clash.market.candles import DAY_MS
from clash.market.config import HyperliquidSettings, MarketConfig, RetrySettings
from clash.market.health import IngestionHealth
from clash.market.module import HYPERLIQUID, hyperliquid_rest, sim_endpoints, spawn_sources
from clash.market.sim.app import create_sim_app
from clash.market.sim.market import SimMarket
from clash.store import Database, discover_migrations

T0 = int(EPOCH_2026)
T0_MS = T0 * 1000
FAST_RETRY = RetrySettings(attempts=2, backoff_s=0.001, backoff_max_s=0.002, timeout_s=5.0)


def market_config(**hyperliquid: Any) -> MarketConfig:
    """Small and fast: three assets (one spot), no websocket, retries without real waiting."""
    hl = dict(
        assets=["BTC", "ETH", "HYPE/USDC"],
        websocket=False,
        boot_backfill_minutes=60,
        weight_per_minute=10**9,
        retry=FAST_RETRY,
    )
    hl.update(hyperliquid)
    cfg = MarketConfig(hyperliquid=HyperliquidSettings(**hl))
    return msgspec.structs.replace(
        cfg,
        polymarket=msgspec.structs.replace(cfg.polymarket, retry=FAST_RETRY),
        defillama=msgspec.structs.replace(cfg.defillama, retry=FAST_RETRY, chains=["Ethereum"]),
    )


class Faults:
    """ASGI middleware in front of the simulator: answer a path prefix with an error status, or
    cut the next N answers under a prefix in half (a truncated payload)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.status: dict[str, int] = {}
        self.truncate: dict[str, int] = {}
        self.hits: dict[str, int] = {}

    def _match(self, table: dict[str, int], path: str) -> str | None:
        return next((p for p in table if path.startswith(p)), None)

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope["path"]
        failing = self._match(self.status, path)
        if failing is not None:
            self.hits[failing] = self.hits.get(failing, 0) + 1
            await send(
                {"type": "http.response.start", "status": self.status[failing], "headers": []}
            )
            await send({"type": "http.response.body", "body": b"upstream trouble"})
            return None
        cut = self._match(self.truncate, path)
        if cut is None or self.truncate[cut] <= 0:
            return await self.app(scope, receive, send)
        self.truncate[cut] -= 1
        start: dict = {}
        body = bytearray()

        async def capture(message: dict) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            else:
                body.extend(message.get("body", b""))

        await self.app(scope, receive, capture)
        half = bytes(body[: len(body) // 2])
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(half)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": half})
        return None


@dataclass
class World:
    system: System
    clock: VirtualClock
    db: Database
    refs: dict[str, Ref]
    faults: Faults
    market: SimMarket
    transport: httpx.ASGITransport
    archive: Path
    cfg: MarketConfig

    async def health(self) -> IngestionHealth:
        return await current_health(
            self.db, channel_specs(self.cfg), self.cfg.health, self.clock.now_ms()
        )

    def respawn_hyperliquid(self) -> Ref:
        """A fresh Hyperliquid actor under the old name (after `system.stop`): a process restart."""
        rest = hyperliquid_rest(self.cfg, "http://sim", self.clock, self.transport)
        ref = self.system.spawn(
            HYPERLIQUID,
            lambda: HyperliquidSource(self.db, self.cfg.hyperliquid, rest),
            supervisor="market",
        )
        self.refs[HYPERLIQUID] = ref
        return ref

    async def ask(self, name: str, msg: Any, timeout: float = 30.0) -> Any:
        """Ask a source actor. Its retry backoff waits on the VirtualClock, so while the answer is
        pending and the system idle (the source asleep in a backoff), clock time passes in 1 ms
        steps; an answer that needs no wait leaves the clock where it was."""
        outcome: list[tuple[bool, Any]] = []

        async def asking() -> None:
            try:
                outcome.append((True, await self.refs[name].ask(msg, timeout=timeout)))
            except Exception as exc:
                outcome.append((False, exc))

        async with anyio.create_task_group() as tg:
            tg.start_soon(asking)
            while True:
                await anyio.lowlevel.checkpoint()
                await self.clock.settle()
                if outcome:
                    break
                await self.clock.advance(0.001)
        ok, value = outcome[0]
        if not ok:
            raise value
        return value


async def open_db(path: Path, now_ms: int) -> Database:
    db = await Database.open(path)
    await db.migrate(discover_migrations(["clash.market"]), now_ms=now_ms)
    return db


@asynccontextmanager
async def market_world(
    tmp_path: Path,
    cfg: MarketConfig | None = None,
    *,
    autostart: bool = True,
    start: float = T0,
    db: Database | None = None,
) -> AsyncIterator[World]:
    cfg = cfg or market_config()
    own_db = db is None
    db = db or await open_db(tmp_path / "market.db", int(start * 1000))
    try:
        async with virtual_system(start) as (system, clock):
            market = SimMarket(cfg.sim_seed, T0_MS - 2 * DAY_MS)
            faults = Faults(create_sim_app(market, clock.now_ms))
            transport = httpx.ASGITransport(faults)
            archive = tmp_path / "artifacts"
            refs = spawn_sources(
                system,
                db,
                clock,
                cfg,
                sim_endpoints("http://sim"),
                artifacts_dir=archive,
                transport=transport,
                autostart=autostart,
            )
            await clock.settle()
            yield World(system, clock, db, refs, faults, market, transport, archive / "market", cfg)
    finally:
        if own_db:
            await db.close()


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Kit:
    """What the tests use (fixtures, since test modules cannot import conftest)."""

    T0 = T0
    T0_MS = T0_MS
    config = staticmethod(market_config)
    world = staticmethod(market_world)
    open_db = staticmethod(open_db)


@pytest.fixture
def kit() -> type[Kit]:
    return Kit
