"""Migration 0002 on a database that already holds market rows: each gets a received_ms (its own
fetch time, or its candle's receipt), and the as-of reads serve them by it."""

from __future__ import annotations

import pytest

from clash.market import memory
from clash.market.candles import HOUR_MS, MINUTE_MS, Candle
from clash.store import Database, discover_migrations

pytestmark = pytest.mark.anyio

T = 1_767_225_600_000  # 2026-01-01 00:00 UTC


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_existing_rows_get_a_received_time_and_corrections_keep_them(tmp_path) -> None:
    first, *rest = discover_migrations(["clash.market"])
    db = await Database.open(tmp_path / "market.db")
    try:
        await db.migrate([first], now_ms=T)
        late = T + 2 * HOUR_MS  # minute 0 arrived late (a backfill); minute 1 on time
        async with db.transaction() as tx:
            await tx.executemany(
                "INSERT INTO candles_1m VALUES ('BTC', ?, 1, 2, 0.5, 1.5, 1, 1, ?)",
                [(T, late), (T + MINUTE_MS, T + 2 * MINUTE_MS)],
            )
            await tx.execute(
                "INSERT INTO candles_1h VALUES ('BTC', ?, 1, 2, 0.5, 1.5, 2, 2, 2, 1, 'rollup', ?)",
                (T, late),
            )
            await tx.executemany(
                "INSERT INTO indicators_1m VALUES ('BTC', ?, 50, NULL, NULL, NULL, NULL, NULL,"
                " NULL, NULL)",
                [(T,), (T + MINUTE_MS,), (T + 2 * MINUTE_MS,)],  # the last one's candle is gone
            )
            await tx.execute(
                "INSERT INTO hl_funding VALUES ('BTC', ?, 0.0001, NULL, 1, 1, 1, NULL, NULL, NULL)",
                (T + 5 * MINUTE_MS,),
            )
            await tx.execute("INSERT INTO hl_funding_history VALUES ('BTC', ?, 0.0001, 0)", (T,))
            await tx.execute(
                "INSERT INTO macro_metrics VALUES (?, 'capital_base', 'global', 'all',"
                " 'tvl', 1, NULL, ?, NULL)",
                (T + 7 * MINUTE_MS, T),
            )
        await db.migrate([first, *rest], now_ms=T + 3 * HOUR_MS)

        async with db.read() as r:
            got = await r.fetchall("SELECT t_ms, received_ms FROM indicators_1m ORDER BY t_ms")
            assert got == [
                (T, late),
                (T + MINUTE_MS, T + 2 * MINUTE_MS),
                (T + 2 * MINUTE_MS, T + 3 * MINUTE_MS),
            ]
            assert await r.fetchval("SELECT received_ms FROM candles_1h") == late
            assert await r.fetchval("SELECT received_ms FROM hl_funding") == T + 5 * MINUTE_MS
            assert await r.fetchval("SELECT received_ms FROM hl_funding_history") == T
            assert await r.fetchval("SELECT received_ms FROM macro_metrics") == T + 7 * MINUTE_MS

        at = T + 10 * MINUTE_MS  # minute 1 and the polls were known; minute 0 and its hour were not
        assert [c.t_ms for c in await memory.candles(db, "BTC", "1m", at)] == [T + MINUTE_MS]
        known = await memory.indicators(db, "BTC", at)
        assert [i.t_ms for i in known] == [T + MINUTE_MS, T + 2 * MINUTE_MS]
        assert await memory.candles(db, "BTC", "1h", late - 1) == []
        assert len(await memory.funding(db, "BTC", at)) == 1
        assert len(await memory.settled_funding(db, "BTC", at)) == 1
        assert len(await memory.macro_context(db, None, at)) == 1

        # a write after the migration corrects minute 1: the old value stays known where it was
        async with db.transaction() as tx:
            fixed = Candle(T + MINUTE_MS, 1, 3, 0.5, 2.5, 1, 1)
            await memory.upsert_candle(tx, "BTC", fixed, late + 1)
        assert [c.c for c in await memory.candles(db, "BTC", "1m", at)] == [1.5]
        assert [c.c for c in await memory.candles(db, "BTC", "1m", late + 1)] == [1.5, 2.5]
        assert [(h.h, h.c) for h in await memory.candles(db, "BTC", "1h", late)] == [(2, 1.5)]
        assert [(h.h, h.c) for h in await memory.candles(db, "BTC", "1h", late + 1)] == [(3, 2.5)]
    finally:
        await db.close()
