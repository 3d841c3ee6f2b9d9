"""Retention: expired rows archived as gzip JSON lines, then deleted, in small batches."""

from __future__ import annotations

import gzip

import msgspec
import pytest

from clash.market import memory
from clash.market.actors.retention import cutoffs, expire
from clash.market.candles import DAY_MS, HOUR_MS, MINUTE_MS, Candle
from clash.market.config import RetentionSettings
from clash.market.memory import MacroObservation
from clash.market.messages import HlRefreshRegistry, HlSweepCandles, MarketRetentionRun
from clash.market.module import HYPERLIQUID, RETENTION

pytestmark = pytest.mark.anyio


def archived(folder, table):
    lines = []
    for path in sorted((folder / table).glob("*.jsonl.gz")):
        with gzip.open(path, "rb") as f:
            lines += [msgspec.json.decode(line) for line in f.read().splitlines()]
    return lines


async def test_retention_archives_then_deletes_what_is_past_the_window(tmp_path, kit) -> None:
    cfg = kit.config(boot_backfill_minutes=1500)
    cfg = msgspec.structs.replace(
        cfg, retention=msgspec.structs.replace(cfg.retention, batch_rows=50)
    )
    async with kit.world(tmp_path, cfg, autostart=False) as w:
        await w.ask(HYPERLIQUID, HlRefreshRegistry())
        assert (await w.ask(HYPERLIQUID, HlSweepCandles())).rows == 3 * 1500
        old = kit.T0_MS - 31 * DAY_MS
        async with w.db.transaction() as tx:  # a macro row older than its 30-day window
            await memory.insert_macro(
                tx,
                [
                    MacroObservation(
                        observed_ms=old,
                        family="capital_base",
                        scope="global",
                        subject="all",
                        metric="tvl",
                        usd_micros=1,
                        change_pct=None,
                        as_of_ms=old,
                        linked_symbol=None,
                    )
                ],
                old,
            )
        before = await memory.row_counts(w.db)

        removed = await w.ask(RETENTION, MarketRetentionRun())
        assert removed == {"candles_1m": 3 * 60, "indicators_1m": 3 * 60, "macro_metrics": 1}
        after = await memory.row_counts(w.db)
        assert after["candles_1m"] == before["candles_1m"] - 180 == 3 * 1440
        async with w.db.read() as r:
            kept = await memory.candles_between(r, "BTC", 0, 2**62)
        assert kept[0].t_ms == kit.T0_MS - 1440 * MINUTE_MS  # exactly the last 24 hours stay
        assert len(await memory.hour_candles(w.db, "BTC")) == 25  # hours stay for 7 days

        lines = archived(w.archive, "candles_1m")
        assert len(lines) == 180 and {row["symbol"] for row in lines} == {"BTC", "ETH", "HYPE/USDC"}
        assert max(row["t_ms"] for row in lines) < kept[0].t_ms
        assert archived(w.archive, "macro_metrics")[0]["observed_ms"] == old

        assert await w.ask(RETENTION, MarketRetentionRun()) == {}  # nothing left to do


async def test_retention_without_archive_and_cutoffs(tmp_path, kit) -> None:
    now = kit.T0_MS
    cut = cutoffs(RetentionSettings(), now)
    assert cut["candles_1m"] == now - DAY_MS - MINUTE_MS + 1
    assert cut["candles_1h"] == now - 7 * DAY_MS - HOUR_MS + 1
    db = await kit.open_db(tmp_path / "m.db", now)
    try:
        async with db.transaction() as tx:
            await memory.insert_snapshots(
                tx,
                [
                    memory.SnapshotRow("s", "c", now - 8 * DAY_MS - i, "ok", 0, 0, 0, None, None)
                    for i in range(5)
                ],
            )
        settings = RetentionSettings(archive=False, batch_rows=2)
        assert await expire(db, settings, now, tmp_path / "archive") == {"ingestion_snapshots": 5}
        assert not (tmp_path / "archive").exists()
    finally:
        await db.close()


async def test_revisions_expire_with_their_candles(tmp_path, kit) -> None:
    now = kit.T0_MS
    db = await kit.open_db(tmp_path / "m.db", now)
    try:
        old = Candle(now - DAY_MS - HOUR_MS, 1.0, 2.0, 0.5, 1.5, 1.0, 1)
        async with db.transaction() as tx:  # written, then corrected once its hour was over
            await memory.upsert_candle(tx, "BTC", old, now - DAY_MS - HOUR_MS + MINUTE_MS)
            fixed = msgspec.structs.replace(old, v=2.0)
            await memory.upsert_candle(tx, "BTC", fixed, now - DAY_MS + MINUTE_MS)
        counts = await memory.row_counts(db)
        assert (counts["candles_1m_revisions"], counts["candles_1h_revisions"]) == (1, 1)
        removed = await expire(db, RetentionSettings(archive=False), now, None)
        assert removed == {"candles_1m": 1, "candles_1m_revisions": 1}  # the hour stays for 7 days
        assert (await memory.row_counts(db))["candles_1h_revisions"] == 1
    finally:
        await db.close()
