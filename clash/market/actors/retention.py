"""Retention: expired rows are archived (gzip JSON lines) and deleted, in small batches.

Each batch is read on a reader connection, appended to `<archive>/<table>/<YYYY-MM-DD>.jsonl.gz`
in a worker thread, then deleted in one short transaction, so readers never wait and writers wait
for one batch at most. Archiving comes before deleting: a crash in between archives a batch twice,
never loses it. One run handles at most `max_batches` per table; the next run continues.
"""

from __future__ import annotations

import gzip
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import anyio.to_thread
import msgspec

from actors import Actor, Unhandled
from clash.market import memory
from clash.market.candles import DAY_MS, HOUR_MS, MINUTE_MS
from clash.market.config import RetentionSettings
from clash.market.messages import MarketRetentionRun
from clash.store import Database


def cutoffs(settings: RetentionSettings, now_ms: int) -> dict[str, int]:
    """table → rows stamped before this are expired. A candle goes once its whole bar ended before
    now - keep (the rule of rollup.retention_cutoff, for any keep), so kept bars cover the window;
    its revisions go with it."""
    s = settings

    def bars(keep_ms: int, bar_ms: int) -> int:
        return now_ms - keep_ms - bar_ms + 1

    candles_1m = bars(int(s.candles_1m_h * HOUR_MS), MINUTE_MS)
    indicators_1m = bars(int(s.indicators_h * HOUR_MS), MINUTE_MS)
    candles_1h = bars(int(s.candles_1h_d * DAY_MS), HOUR_MS)
    return {
        "candles_1m": candles_1m,
        "candles_1m_revisions": candles_1m,
        "indicators_1m": indicators_1m,
        "indicators_1m_revisions": indicators_1m,
        "candles_1h": candles_1h,
        "candles_1h_revisions": candles_1h,
        "hl_funding": now_ms - int(s.funding_d * DAY_MS),
        "hl_funding_history": now_ms - int(s.funding_d * DAY_MS),
        "hl_profiles": now_ms - int(s.profiles_d * DAY_MS),
        "polymarket_summaries": now_ms - int(s.polymarket_d * DAY_MS),
        "macro_metrics": now_ms - int(s.macro_d * DAY_MS),
        "ingestion_snapshots": now_ms - int(s.health_d * DAY_MS),
    }


def _day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d")


def append_archive(
    folder: Path, table: str, time_col: str, rows: Sequence[Mapping[str, Any]]
) -> list[Path]:
    """Append rows as JSON lines to one gzip member per day file (concatenated members are valid gzip)."""
    by_day: dict[str, list[bytes]] = {}
    for row in rows:
        by_day.setdefault(_day(row[time_col]), []).append(msgspec.json.encode(row) + b"\n")
    written = []
    for day, lines in sorted(by_day.items()):
        path = folder / table / f"{day}.jsonl.gz"
        path.parent.mkdir(parents=True, exist_ok=True)
        with gzip.open(path, "ab") as f:
            f.write(b"".join(lines))
        written.append(path)
    return written


async def expire(
    db: Database,
    settings: RetentionSettings,
    now_ms: int,
    archive_dir: Path | None,
    *,
    max_batches: int = 50,
) -> dict[str, int]:
    """One retention pass; returns rows removed per table."""
    removed: dict[str, int] = {}
    for table, cutoff in cutoffs(settings, now_ms).items():
        spec = memory.RETAINED[table]
        for _ in range(max_batches):
            async with db.read() as r:
                rows = await memory.expired(r, table, cutoff, settings.batch_rows)
            if not rows:
                break
            if settings.archive and archive_dir is not None:
                await anyio.to_thread.run_sync(
                    append_archive, archive_dir, table, spec.time_col, rows
                )
            async with db.transaction() as tx:
                await memory.delete_rows(tx, table, rows)
            removed[table] = removed.get(table, 0) + len(rows)
            await anyio.lowlevel.checkpoint()
    return removed


class MarketRetention(Actor):
    def __init__(
        self,
        db: Database,
        settings: RetentionSettings,
        archive_dir: Path | None,
        *,
        autostart: bool = True,
    ) -> None:
        self.db = db
        self.settings = settings
        self.archive_dir = archive_dir
        self.autostart = autostart

    async def on_start(self) -> None:
        if self.autostart:
            self.every(self.settings.interval_s, MarketRetentionRun())

    async def receive(self, msg: Any) -> Any:
        match msg:
            case MarketRetentionRun():
                return await expire(self.db, self.settings, self.clock.now_ms(), self.archive_dir)
            case _:
                raise Unhandled(msg)
