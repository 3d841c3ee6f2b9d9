"""Health as the API shows it, and the actor that snapshots it every interval for the dashboard.

The pure status math is clash.market.health; this module gathers its inputs from market memory:
the channels the config expects, the counters the source actors keep, per-asset freshness, and
earlier snapshots (for rows per interval and the dashboard series).
"""

from __future__ import annotations

from typing import Any

import msgspec

from actors import Actor, Unhandled
from clash.market import memory
from clash.market.config import HealthSettings, MarketConfig
from clash.market.health import ChannelSpec, IngestionHealth, Status, channel_health, summarize
from clash.market.messages import MarketHealthSnapshot
from clash.store import Database

CAPABILITY = {
    "candles_1m": "candles_1m",
    "candles_1h": "candles_1h",
    "indicators": "indicators",
    "mids": "mids",
    "funding": "funding",
    "funding_history": "funding",
    "profiles": "profiles",
}
"""Per-asset channels, and the registry capability that decides which assets they cover."""


def channel_specs(cfg: MarketConfig) -> list[ChannelSpec]:
    hl, pm, ll = cfg.hyperliquid, cfg.polymarket, cfg.defillama
    on = hl.enabled
    candle = hl.candle_sweep_interval_s

    def spec(channel: str, cadence: float, enabled: bool = on) -> ChannelSpec:
        return ChannelSpec("hyperliquid", channel, cadence, enabled, channel in CAPABILITY)

    return [
        spec("registry", hl.registry_interval_s),
        spec("candles_1m", candle),
        spec("candles_1h", candle),
        spec("indicators", candle),
        spec("stream", hl.mids_flush_interval_s, on and hl.websocket),
        spec("mids", hl.mids_flush_interval_s),
        spec("funding", hl.contexts_interval_s),
        spec("predicted_funding", hl.predicted_interval_s),
        spec("funding_history", hl.funding_history_interval_s),
        spec("profiles", hl.profile_interval_s),
        ChannelSpec("polymarket", "markets", pm.interval_s, pm.enabled),
        ChannelSpec("defillama", "macro", ll.interval_s, ll.enabled),
    ]


async def current_health(
    db: Database, specs: list[ChannelSpec], policy: HealthSettings, now_ms: int
) -> IngestionHealth:
    counters = {(c.source, c.channel): c for c in await memory.health_counters(db)}
    fresh = await memory.freshness(db)
    assets = [a for a in await memory.assets(db) if a.enabled]
    history: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for snap in await memory.snapshots(db, now_ms - int(2 * policy.rate_window_s * 1000)):
        history.setdefault((snap.source, snap.channel), []).append((snap.t_ms, snap.rows_total))
    channels = []
    for spec in specs:
        key = (spec.source, spec.channel)
        capability = CAPABILITY.get(spec.channel)
        expected = [a.symbol for a in assets if capability and a.supports(capability)]
        channels.append(
            channel_health(
                spec,
                counters.get(key),
                now_ms,
                policy,
                expected=expected,
                freshness=fresh.get(key, {}),
                snapshots=history.get(key, []),
            )
        )
    return summarize(channels, now_ms)


class DashboardPoint(msgspec.Struct, frozen=True):
    t_ms: int
    status: str
    rows: int | None
    """Rows written since the previous point."""
    lag_ms: int | None
    coverage: float | None


class ChannelSeries(msgspec.Struct, frozen=True):
    source: str
    channel: str
    points: list[DashboardPoint]


class Dashboard(msgspec.Struct, frozen=True):
    generated_ms: int
    hours: float
    health: IngestionHealth
    series: list[ChannelSeries]


async def dashboard(
    db: Database, specs: list[ChannelSpec], policy: HealthSettings, now_ms: int, hours: float
) -> Dashboard:
    health = await current_health(db, specs, policy, now_ms)
    grouped: dict[tuple[str, str], list[memory.SnapshotRow]] = {
        (s.source, s.channel): [] for s in specs
    }
    for snap in await memory.snapshots(db, now_ms - int(hours * 3_600_000)):
        grouped.setdefault((snap.source, snap.channel), []).append(snap)
    series = []
    for (source, channel), snaps in grouped.items():
        points: list[DashboardPoint] = []
        prev: int | None = None
        for s in snaps:
            rows = None if prev is None else max(0, s.rows_total - prev)
            points.append(DashboardPoint(s.t_ms, s.status, rows, s.lag_ms, s.coverage))
            prev = s.rows_total
        series.append(ChannelSeries(source, channel, points))
    return Dashboard(now_ms, hours, health, series)


class MarketHealthMonitor(Actor):
    """Every `snapshot_interval_s`, writes the current health of each channel as one snapshot row."""

    def __init__(
        self,
        db: Database,
        specs: list[ChannelSpec],
        policy: HealthSettings,
        *,
        autostart: bool = True,
    ) -> None:
        self.db = db
        self.specs = specs
        self.policy = policy
        self.autostart = autostart

    async def on_start(self) -> None:
        if self.autostart:
            self.every(self.policy.snapshot_interval_s, MarketHealthSnapshot())

    async def receive(self, msg: Any) -> Any:
        match msg:
            case MarketHealthSnapshot():
                return await self.snapshot()
            case _:
                raise Unhandled(msg)

    async def snapshot(self) -> Status:
        now = self.clock.now_ms()
        health = await current_health(self.db, self.specs, self.policy, now)
        rows = [
            memory.SnapshotRow(
                c.source,
                c.channel,
                now,
                c.status,
                c.rows_total,
                c.errors_total,
                c.decode_errors_total,
                c.lag_ms,
                c.coverage,
            )
            for src in health.sources
            for c in src.channels
        ]
        async with self.db.transaction() as tx:
            await memory.insert_snapshots(tx, rows)
        return health.status
