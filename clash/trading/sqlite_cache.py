"""The response cache's persistent half: an `AnswerStore` over the `engine_cache` table."""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from clash.store import Database
from clash.trading.engines.base import EngineAnswer
from clash.trading.records import RecordWriter

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(EngineAnswer).decode


class SqliteAnswerStore:
    """Answers keyed by `cache.cache_key`; `now_ms` stamps them so old ones can be pruned."""

    def __init__(self, db: Database, writer: RecordWriter, now_ms: Callable[[], int]) -> None:
        self.db = db
        self.writer = writer
        self.now_ms = now_ms

    async def get(self, key: str) -> EngineAnswer | None:
        async with self.db.read() as r:
            raw = await r.fetchval("SELECT answer FROM engine_cache WHERE key = ?", (key,))
        return None if raw is None else _decode(raw)

    async def put(self, key: str, answer: EngineAnswer) -> None:
        await self.writer.write(
            [
                (
                    "INSERT INTO engine_cache (key, answer, created_ms) VALUES (?, ?, ?) "
                    "ON CONFLICT (key) DO NOTHING",
                    [(key, _encode(answer), self.now_ms())],
                )
            ]
        )

    async def prune(self, older_than_ms: int) -> int:
        async with self.db.transaction() as tx:
            result = await tx.execute(
                "DELETE FROM engine_cache WHERE created_ms < ?", (older_than_ms,)
            )
        return result.rowcount
