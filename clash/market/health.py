"""Source health math: pure functions from stored counters and freshness to a status per channel.

A channel is
- `disabled` when its source is switched off in config;
- `failing` when its latest attempt failed (retries spent, or a payload that would not decode)
  and nothing has succeeded since;
- `stale` when it never succeeded, its last success or its newest data is older than
  `stale_after` (a few cadences), or too few enabled assets have fresh data (coverage);
- `ok` otherwise.
A source takes the worst status of its enabled channels.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

import msgspec

from clash.market.config import HealthSettings

Status = Literal["ok", "stale", "failing", "disabled"]
_RANK: dict[str, int] = {"disabled": 0, "ok": 1, "stale": 2, "failing": 3}


class ChannelSpec(msgspec.Struct, frozen=True):
    """What health expects of a channel: its cadence, and whether coverage is per asset."""

    source: str
    channel: str
    cadence_s: float
    enabled: bool = True
    per_asset: bool = False


class HealthCounters(msgspec.Struct, frozen=True, kw_only=True):
    """One `ingestion_health` row."""

    source: str
    channel: str
    last_attempt_ms: int | None = None
    last_success_ms: int | None = None
    last_data_ms: int | None = None
    last_error: str | None = None
    last_error_ms: int | None = None
    consecutive_failures: int = 0
    rows_total: int = 0
    errors_total: int = 0
    decode_errors_total: int = 0


class ChannelHealth(msgspec.Struct, frozen=True, kw_only=True):
    source: str
    channel: str
    status: Status
    cadence_s: float
    stale_after_s: float
    last_success_ms: int | None
    last_attempt_ms: int | None
    last_data_ms: int | None
    lag_ms: int | None
    rows_total: int
    rows_per_interval: int | None
    interval_s: float | None
    coverage: float | None
    assets_fresh: int | None
    assets_expected: int | None
    errors_total: int
    decode_errors_total: int
    consecutive_failures: int
    last_error: str | None
    last_error_ms: int | None


class SourceHealth(msgspec.Struct, frozen=True):
    source: str
    status: Status
    channels: list[ChannelHealth]


class IngestionHealth(msgspec.Struct, frozen=True):
    generated_ms: int
    status: Status
    sources: list[SourceHealth]


def stale_after_s(cadence_s: float, policy: HealthSettings) -> float:
    return max(policy.min_stale_s, policy.stale_factor * cadence_s)


def coverage(
    expected: Iterable[str], freshness: Mapping[str, int], now_ms: int, stale_after_ms: float
) -> tuple[int, int, float | None]:
    """(fresh, expected, share) of assets whose newest data is within `stale_after_ms`."""
    wanted = list(dict.fromkeys(expected))
    fresh = sum(1 for s in wanted if s in freshness and now_ms - freshness[s] <= stale_after_ms)
    return fresh, len(wanted), (fresh / len(wanted) if wanted else None)


def rows_in_window(
    rows_total: int, snapshots: Sequence[tuple[int, int]], now_ms: int, window_ms: float
) -> tuple[int | None, float | None]:
    """Rows added since the newest snapshot at least `window_ms` old (else the oldest one).

    `snapshots` are (t_ms, rows_total) oldest first. Returns (rows, seconds covered), or
    (None, None) with no snapshot to compare against.
    """
    if not snapshots:
        return None, None
    base = snapshots[0]
    for snap in snapshots:
        if snap[0] <= now_ms - window_ms:
            base = snap
        else:
            break
    if base[0] >= now_ms:
        return None, None
    return max(0, rows_total - base[1]), (now_ms - base[0]) / 1000


def channel_status(
    spec: ChannelSpec,
    counters: HealthCounters | None,
    now_ms: int,
    share: float | None,
    policy: HealthSettings,
) -> Status:
    if not spec.enabled:
        return "disabled"
    c = counters
    if c is None or c.last_success_ms is None:
        return "failing" if c is not None and c.consecutive_failures > 0 else "stale"
    if c.consecutive_failures > 0 and (c.last_error_ms or 0) >= c.last_success_ms:
        return "failing"
    limit_ms = stale_after_s(spec.cadence_s, policy) * 1000
    if now_ms - c.last_success_ms > limit_ms:
        return "stale"
    if c.last_data_ms is not None and now_ms - c.last_data_ms > limit_ms:
        return "stale"
    if share is not None and share < policy.min_coverage:
        return "stale"
    return "ok"


def worst(statuses: Iterable[Status]) -> Status:
    live = [s for s in statuses if s != "disabled"]
    return max(live, key=_RANK.__getitem__) if live else "disabled"


def channel_health(
    spec: ChannelSpec,
    counters: HealthCounters | None,
    now_ms: int,
    policy: HealthSettings,
    *,
    expected: Sequence[str] = (),
    freshness: Mapping[str, int] | None = None,
    snapshots: Sequence[tuple[int, int]] = (),
) -> ChannelHealth:
    c = counters or HealthCounters(source=spec.source, channel=spec.channel)
    stale_s = stale_after_s(spec.cadence_s, policy)
    fresh = total = share = None
    if spec.per_asset:
        fresh, total, share = coverage(expected, freshness or {}, now_ms, stale_s * 1000)
    rows, window = rows_in_window(c.rows_total, snapshots, now_ms, policy.rate_window_s * 1000)
    return ChannelHealth(
        source=spec.source,
        channel=spec.channel,
        status=channel_status(spec, counters, now_ms, share, policy),
        cadence_s=spec.cadence_s,
        stale_after_s=stale_s,
        last_success_ms=c.last_success_ms,
        last_attempt_ms=c.last_attempt_ms,
        last_data_ms=c.last_data_ms,
        lag_ms=None if c.last_data_ms is None else max(0, now_ms - c.last_data_ms),
        rows_total=c.rows_total,
        rows_per_interval=rows,
        interval_s=window,
        coverage=share,
        assets_fresh=fresh,
        assets_expected=total,
        errors_total=c.errors_total,
        decode_errors_total=c.decode_errors_total,
        consecutive_failures=c.consecutive_failures,
        last_error=c.last_error,
        last_error_ms=c.last_error_ms,
    )


def summarize(channels: Sequence[ChannelHealth], now_ms: int) -> IngestionHealth:
    """Group channels by source (first-seen order) and roll statuses up."""
    by_source: dict[str, list[ChannelHealth]] = {}
    for ch in channels:
        by_source.setdefault(ch.source, []).append(ch)
    sources = [
        SourceHealth(src, worst(c.status for c in chs), chs) for src, chs in by_source.items()
    ]
    return IngestionHealth(now_ms, worst(s.status for s in sources), sources)
