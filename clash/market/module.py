"""The market module: starts the source actors (and, on `source = "sim"`, the simulator they talk
to) and is the small typed API other modules read market memory through."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import msgspec
from starlette.applications import Starlette

from actors import Actor, Clock, Ref, System
from clash.market import memory
from clash.market.actors.candle_feed import Progress
from clash.market.actors.defillama import DefiLlamaSource
from clash.market.actors.health import (
    Dashboard,
    MarketHealthMonitor,
    channel_specs,
    current_health,
    dashboard,
)
from clash.market.actors.hyperliquid import HyperliquidSource
from clash.market.actors.polymarket import PolymarketSource
from clash.market.actors.retention import MarketRetention
from clash.market.actors.stream import StreamSlot
from clash.market.candles import DAY_MS, Candle
from clash.market.config import MarketConfig, RetrySettings
from clash.market.defillama.client import DefiLlamaClient
from clash.market.health import IngestionHealth
from clash.market.hyperliquid.rest import HyperliquidRest, WeightBudget
from clash.market.hyperliquid.ws import HyperliquidStream
from clash.market.listing import (
    AssetListing,
    AssetPage,
    CategoryTree,
    category_tree,
    listings,
    page,
)
from clash.market.memory import (
    AssetProfile,
    FundingRow,
    IndicatorRow,
    Interval,
    MacroObservation,
    PolymarketContext,
    SettledFunding,
)
from clash.market.polymarket.gamma import GammaClient
from clash.market.registry import AssetInfo, Kind, RegistryVersion, trending_symbols
from clash.market.retry import RetryPolicy
from clash.market.sim.app import create_sim_app
from clash.market.sim.market import SimMarket
from clash.market.sim.serving import SimServer
from clash.store import Database

if TYPE_CHECKING:
    from clash.runtime import Runtime

SUPERVISOR = "market"
SIM = "market.sim"
HYPERLIQUID = "market.hyperliquid"
POLYMARKET = "market.polymarket"
DEFILLAMA = "market.defillama"
RETENTION = "market.retention"
HEALTH = "market.health"


class Endpoints(msgspec.Struct, frozen=True):
    """Where the clients connect."""

    hyperliquid_rest: str
    hyperliquid_ws: str
    polymarket: str
    defillama_api: str
    defillama_stablecoins: str


def live_endpoints(cfg: MarketConfig) -> Endpoints:
    return Endpoints(
        cfg.hyperliquid.rest_url,
        cfg.hyperliquid.ws_url,
        cfg.polymarket.url,
        cfg.defillama.api_url,
        cfg.defillama.stablecoins_url,
    )


def sim_endpoints(base: str) -> Endpoints:
    """The simulator's URLs under one `http://host:port` base (Hyperliquid at the root)."""
    ws = base.replace("http://", "ws://", 1)
    return Endpoints(
        base, f"{ws}/ws", f"{base}/polymarket", f"{base}/defillama", f"{base}/defillama"
    )


def sim_market(cfg: MarketConfig, now_ms: int) -> SimMarket:
    """A market whose history starts `sim_history_days` back, on a day boundary, so restarts on the
    same day see the same past."""
    origin = (now_ms - cfg.sim_history_days * DAY_MS) // DAY_MS * DAY_MS
    return SimMarket(cfg.sim_seed, origin)


class SimKeeper(Actor):
    """Stops the simulator's server gracefully when the system stops (hypercorn does not take
    being cancelled well). Spawned before the sources, so it stops after them."""

    def __init__(self, server: SimServer) -> None:
        self.server = server

    async def on_stop(self) -> None:
        await self.server.stop(timeout=1.0)


def serve_sim(system: System, clock: Clock, cfg: MarketConfig) -> tuple[str, Starlette]:
    """Serve the simulator with hypercorn on loopback inside the system's task group; returns its
    base URL and app. The socket is bound before returning, so clients can connect at once."""
    app = create_sim_app(sim_market(cfg, clock.now_ms()), clock.now_ms)
    server = SimServer(app, cfg.sim_port)
    system.start_soon(server.serve, name=SIM)
    system.spawn(SIM, lambda: SimKeeper(server))
    url = f"http://127.0.0.1:{server.port}"
    logging.getLogger(__name__).info(
        "market simulator serving the sources on %s", url, extra={"url": url}
    )
    return url, app


def _policy(r: RetrySettings) -> RetryPolicy:
    return RetryPolicy(attempts=r.attempts, base_s=r.backoff_s, max_s=r.backoff_max_s)


def hyperliquid_rest(
    cfg: MarketConfig, url: str, clock: Clock, transport: httpx.AsyncBaseTransport | None = None
) -> HyperliquidRest:
    """The REST client; its weight budget and retry backoff wait on `clock`."""
    hl = cfg.hyperliquid
    budget = WeightBudget(
        clock.now, clock.sleep, capacity=hl.weight_per_minute, per_minute=hl.weight_per_minute
    )
    return HyperliquidRest(
        url,
        transport=transport,
        budget=budget,
        sleep=clock.sleep,
        attempts=hl.retry.attempts,
        backoff_base=hl.retry.backoff_s,
        backoff_max=hl.retry.backoff_max_s,
        timeout=hl.retry.timeout_s,
    )


def gamma_client(
    cfg: MarketConfig, url: str, clock: Clock, transport: httpx.AsyncBaseTransport | None = None
) -> GammaClient:
    pm = cfg.polymarket
    return GammaClient(
        url,
        transport=transport,
        timeout_s=pm.retry.timeout_s,
        retry=_policy(pm.retry),
        sleep=clock.sleep,
    )


def llama_client(
    cfg: MarketConfig,
    api: str,
    stable: str,
    clock: Clock,
    transport: httpx.AsyncBaseTransport | None = None,
) -> DefiLlamaClient:
    ll = cfg.defillama
    return DefiLlamaClient(
        api,
        stable,
        transport=transport,
        timeout_s=ll.retry.timeout_s,
        retry=_policy(ll.retry),
        sleep=clock.sleep,
    )


def spawn_sources(
    system: System,
    db: Database,
    clock: Clock,
    cfg: MarketConfig,
    endpoints: Endpoints,
    *,
    artifacts_dir: Path | None,
    transport: httpx.AsyncBaseTransport | None = None,
    autostart: bool = True,
    progress: Progress | None = None,
    version: RegistryVersion | None = None,
) -> dict[str, Ref]:
    """Spawn the enabled source actors, retention and the health monitor under `market`."""
    system.supervisor(SUPERVISOR)
    refs: dict[str, Ref] = {}
    if cfg.hyperliquid.enabled:
        rest = hyperliquid_rest(cfg, endpoints.hyperliquid_rest, clock, transport)

        def stream(coins: list[str]) -> HyperliquidStream:
            return HyperliquidStream(
                endpoints.hyperliquid_ws, coins, now_ms=clock.now_ms, sleep=clock.sleep
            )

        slot = StreamSlot()
        factory = stream if transport is None else None
        refs[HYPERLIQUID] = system.spawn(
            HYPERLIQUID,
            lambda: HyperliquidSource(
                db,
                cfg.hyperliquid,
                rest,
                stream_factory=factory,
                slot=slot,
                autostart=autostart,
                progress=progress,
                version=version,
            ),
            supervisor=SUPERVISOR,
        )
    if cfg.polymarket.enabled:
        gamma = gamma_client(cfg, endpoints.polymarket, clock, transport)
        refs[POLYMARKET] = system.spawn(
            POLYMARKET,
            lambda: PolymarketSource(
                db, cfg.polymarket, gamma, cfg.hyperliquid.assets, autostart=autostart
            ),
            supervisor=SUPERVISOR,
        )
    if cfg.defillama.enabled:
        llama = llama_client(
            cfg, endpoints.defillama_api, endpoints.defillama_stablecoins, clock, transport
        )
        refs[DEFILLAMA] = system.spawn(
            DEFILLAMA,
            lambda: DefiLlamaSource(db, cfg.defillama, llama, autostart=autostart),
            supervisor=SUPERVISOR,
        )
    archive = artifacts_dir / "market" if artifacts_dir is not None else None
    refs[RETENTION] = system.spawn(
        RETENTION,
        lambda: MarketRetention(db, cfg.retention, archive, autostart=autostart),
        supervisor=SUPERVISOR,
    )
    specs = channel_specs(cfg)
    refs[HEALTH] = system.spawn(
        HEALTH,
        lambda: MarketHealthMonitor(db, specs, cfg.health, autostart=autostart),
        supervisor=SUPERVISOR,
    )
    return refs


class MarketModule:
    """`rt.module(MarketModule)`: market memory for other modules. Every `as_of_ms` read returns only
    rows known at that instant (see clash.market.memory)."""

    name = "market"
    package = "clash.market"

    def __init__(
        self,
        db: Database,
        clock: Clock,
        config: MarketConfig,
        version: RegistryVersion | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.config = config
        self.specs = channel_specs(config)
        self.version = version or RegistryVersion()
        self._listings: tuple[str, list[AssetListing]] | None = None

    @staticmethod
    def register_checks(db: Database) -> None:
        db.register_check("market.candles", memory.inverted_candles)

    @classmethod
    async def start(cls, rt: Runtime, *, in_process_sim: bool = False) -> MarketModule:
        """Spawn the sources; on `source = "sim"` serve the simulator on loopback first (or, with
        `in_process_sim`, talk to it in-process over an ASGI transport: tests)."""
        cfg = rt.config.market
        transport: httpx.AsyncBaseTransport | None = None
        if cfg.source != "sim":
            endpoints = live_endpoints(cfg)
        elif in_process_sim:
            app = create_sim_app(sim_market(cfg, rt.clock.now_ms()), rt.clock.now_ms)
            transport = httpx.ASGITransport(app)
            endpoints = sim_endpoints("http://sim")
        else:
            endpoints = sim_endpoints(serve_sim(rt.system, rt.clock, cfg)[0])
        version = RegistryVersion()
        spawn_sources(
            rt.system,
            rt.db,
            rt.clock,
            cfg,
            endpoints,
            artifacts_dir=rt.artifacts_dir,
            transport=transport,
            version=version,
        )
        return cls(rt.db, rt.clock, cfg, version)

    # ------------------------------------------------------------ prices and specs (prop)

    async def latest_marks(
        self, symbols: Iterable[str], as_of_ms: int | None = None, *, max_age_ms: int | None = None
    ) -> dict[str, Decimal]:
        """symbol → latest mid (else latest close). A symbol without a price, or (with
        `max_age_ms`) with none that recent, is left out: callers treat that as an outage."""
        prices = await memory.latest_prices(self.db, symbols, as_of_ms)
        now = self.clock.now_ms() if as_of_ms is None else as_of_ms
        return {
            s: px for s, (px, at) in prices.items() if max_age_ms is None or now - at <= max_age_ms
        }

    async def asset_specs(self) -> dict[str, AssetInfo]:
        """Every registry asset (disabled and delisted included), with Trending marked."""
        hot = set(await self.trending(self.config.trending_top_n))
        return {
            a.symbol: msgspec.structs.replace(a, trending=a.symbol in hot)
            for a in await memory.assets(self.db)
        }

    async def funding_rates(
        self, symbols: Iterable[str], as_of_ms: int | None = None
    ) -> dict[str, tuple[Decimal, Decimal]]:
        """symbol → (hourly funding rate, oracle price); perps only."""
        return await memory.funding_rates(self.db, symbols, as_of_ms)

    # ------------------------------------------------------------ context packets (trading)

    async def candles(
        self, symbol: str, interval: Interval, as_of_ms: int, limit: int = 500
    ) -> list[Candle]:
        return await memory.candles(self.db, symbol, interval, as_of_ms, limit)

    async def indicators(self, symbol: str, as_of_ms: int, limit: int = 500) -> list[IndicatorRow]:
        return await memory.indicators(self.db, symbol, as_of_ms, limit)

    async def funding(self, symbol: str, as_of_ms: int, limit: int = 100) -> list[FundingRow]:
        return await memory.funding(self.db, symbol, as_of_ms, limit)

    async def settled_funding(
        self, symbol: str, as_of_ms: int, limit: int = 48
    ) -> list[SettledFunding]:
        return await memory.settled_funding(self.db, symbol, as_of_ms, limit)

    async def profile(self, symbol: str, as_of_ms: int) -> AssetProfile | None:
        return await memory.profile(self.db, symbol, as_of_ms)

    async def polymarket_context(self, symbol: str | None, as_of_ms: int) -> PolymarketContext:
        return await memory.polymarket_context(self.db, symbol, as_of_ms)

    async def macro_context(self, symbol: str | None, as_of_ms: int) -> list[MacroObservation]:
        return await memory.macro_context(self.db, symbol, as_of_ms)

    # ------------------------------------------------------------ taxonomy

    async def trending(self, top_n: int = 10) -> list[str]:
        """Trending symbols now, from the registry's 24h volume and move."""
        return trending_symbols(await memory.asset_stats(self.db), top_n)

    # ------------------------------------------------------------ asset picker

    def registry_version(self) -> str:
        """Changes whenever the registry or its 24h stats (Trending) are written: an ETag seed that
        costs no read."""
        return self.version.tag

    async def asset_listings(self) -> list[AssetListing]:
        """Every registry asset in symbol order, Trending marked; read once per registry version."""
        tag = self.version.tag
        if self._listings is not None and self._listings[0] == tag:
            return self._listings[1]
        hot = await self.trending(self.config.trending_top_n)
        items = listings(await memory.assets(self.db), hot)
        self._listings = (tag, items)
        return items

    async def list_assets(
        self,
        *,
        category: str | None = None,
        kind: Kind | None = None,
        prefix: str | None = None,
        trending: bool | None = None,
        cursor: str | None = None,
        limit: int = 100,
    ) -> AssetPage:
        """A page of `asset_listings` (see clash.market.listing.page; an unknown category is a
        ValueError)."""
        return page(
            await self.asset_listings(),
            category=category,
            kind=kind,
            prefix=prefix,
            trending=trending,
            cursor=cursor,
            limit=limit,
        )

    async def category_tree(self) -> CategoryTree:
        """The seed 004 category tree with asset counts, and the Unmapped assets."""
        return category_tree(await self.asset_listings())

    # ------------------------------------------------------------ health

    async def health(self) -> IngestionHealth:
        return await current_health(self.db, self.specs, self.config.health, self.clock.now_ms())

    async def dashboard(self, hours: float | None = None) -> Dashboard:
        return await dashboard(
            self.db,
            self.specs,
            self.config.health,
            self.clock.now_ms(),
            hours if hours is not None else self.config.health.dashboard_hours,
        )
