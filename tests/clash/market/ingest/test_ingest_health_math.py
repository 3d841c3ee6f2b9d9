"""Health status math, pure, and the counters it reads."""

from __future__ import annotations

import pytest

from clash.market.config import HealthSettings
from clash.market.health import (
    ChannelSpec,
    HealthCounters,
    channel_health,
    channel_status,
    coverage,
    rows_in_window,
    stale_after_s,
    summarize,
    worst,
)

P = HealthSettings()
NOW = 1_000_000_000
SPEC = ChannelSpec("hyperliquid", "funding", 60.0)


def counters(**kw) -> HealthCounters:
    return HealthCounters(source="hyperliquid", channel="funding", **kw)


def test_status_rules() -> None:
    assert stale_after_s(60, P) == 180 and stale_after_s(5, P) == 120
    disabled = ChannelSpec("x", "y", 60, enabled=False)
    assert channel_status(disabled, counters(last_success_ms=NOW), NOW, None, P) == "disabled"
    assert channel_status(SPEC, None, NOW, None, P) == "stale"
    assert (
        channel_status(SPEC, counters(consecutive_failures=1, last_error_ms=NOW), NOW, None, P)
        == "failing"
    )
    ok = counters(last_success_ms=NOW - 1000, last_data_ms=NOW - 1000)
    assert channel_status(SPEC, ok, NOW, None, P) == "ok"
    failed_since = counters(last_success_ms=NOW - 1000, last_error_ms=NOW, consecutive_failures=2)
    assert channel_status(SPEC, failed_since, NOW, None, P) == "failing"
    assert channel_status(SPEC, counters(last_success_ms=NOW - 181_000), NOW, None, P) == "stale"
    old_data = counters(last_success_ms=NOW, last_data_ms=NOW - 200_000)
    assert channel_status(SPEC, old_data, NOW, None, P) == "stale"
    assert channel_status(SPEC, ok, NOW, 0.4, P) == "stale"
    assert channel_status(SPEC, ok, NOW, 0.5, P) == "ok"


def test_coverage_and_rows_per_interval() -> None:
    fresh = {"BTC": NOW - 1000, "ETH": NOW - 500_000}
    assert coverage(["BTC", "ETH", "SOL", "BTC"], fresh, NOW, 180_000) == (1, 3, 1 / 3)
    assert coverage([], fresh, NOW, 180_000) == (0, 0, None)
    snaps = [(NOW - 600_000, 10), (NOW - 300_000, 40), (NOW - 60_000, 90)]
    assert rows_in_window(100, snaps, NOW, 300_000) == (60, 300.0)
    assert rows_in_window(100, snaps[2:], NOW, 300_000) == (10, 60.0)
    assert rows_in_window(100, [], NOW, 300_000) == (None, None)


def test_channel_health_and_rollup() -> None:
    spec = ChannelSpec("hyperliquid", "candles_1m", 60.0, per_asset=True)
    c = HealthCounters(
        source="hyperliquid",
        channel="candles_1m",
        last_success_ms=NOW,
        last_data_ms=NOW - 30_000,
        rows_total=500,
        decode_errors_total=2,
    )
    h = channel_health(
        spec,
        c,
        NOW,
        P,
        expected=["BTC", "ETH"],
        freshness={"BTC": NOW, "ETH": NOW},
        snapshots=[(NOW - 300_000, 440)],
    )
    assert (h.status, h.lag_ms, h.coverage, h.rows_per_interval, h.decode_errors_total) == (
        "ok",
        30_000,
        1.0,
        60,
        2,
    )
    other = channel_health(ChannelSpec("polymarket", "markets", 300.0), None, NOW, P)
    off = channel_health(ChannelSpec("defillama", "macro", 3600.0, enabled=False), None, NOW, P)
    report = summarize([h, other, off], NOW)
    assert [(s.source, s.status) for s in report.sources] == [
        ("hyperliquid", "ok"),
        ("polymarket", "stale"),
        ("defillama", "disabled"),
    ]
    assert report.status == "stale"
    assert worst(["ok", "failing", "stale"]) == "failing" and worst(["disabled"]) == "disabled"


@pytest.mark.anyio
async def test_counters_keep_the_newest_data_time(tmp_path, kit) -> None:
    from clash.market import memory

    db = await kit.open_db(tmp_path / "m.db", NOW)
    try:
        for data_ms in (None, None, 500, None, 300):
            async with db.transaction() as tx:
                await memory.record_success(tx, "s", "c", NOW, rows=1, data_ms=data_ms)
            (c,) = await memory.health_counters(db)
            assert c.last_data_ms == (None if data_ms is None and c.rows_total < 3 else 500)
        async with db.transaction() as tx:
            await memory.record_failure(tx, "s", "c", NOW + 1, "boom", decode=True, count=2)
        (c,) = await memory.health_counters(db)
        assert (c.rows_total, c.decode_errors_total, c.errors_total, c.consecutive_failures) == (
            5,
            2,
            0,
            1,
        )
    finally:
        await db.close()
