"""Response cache: an identical prompt is answered without calling the engine again.

Identical means the same template version, model, system text and user text; the key is a SHA-256
over the four, length-prefixed so no two different tuples can collide by concatenation. Entries live
in an in-memory LRU; an optional :class:`AnswerStore` (e.g. a SQLite table) persists them across
restarts and is read through on a memory miss. Engine errors are never cached, nor answers the
model stopped on ``refusal`` or ``max_tokens``.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import Protocol

import anyio
import msgspec

from clash.trading.engines.base import Engine, EngineAnswer, EngineRequest


def cache_key(prompt_version: str, model: str, system: str, user: str) -> str:
    digest = hashlib.sha256()
    for part in (prompt_version, model, system, user):
        data = part.encode()
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


class AnswerStore(Protocol):
    """Persistence behind the LRU; keys are :func:`cache_key` hex digests."""

    async def get(self, key: str) -> EngineAnswer | None: ...

    async def put(self, key: str, answer: EngineAnswer) -> None: ...


class CacheStats(msgspec.Struct, kw_only=True):
    hits: int = 0
    misses: int = 0
    store_hits: int = 0


class ResponseCache:
    def __init__(self, max_entries: int = 1024, store: AnswerStore | None = None) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._entries: OrderedDict[str, EngineAnswer] = OrderedDict()
        self._max = max_entries
        self._store = store
        self.stats = CacheStats()

    def __len__(self) -> int:
        return len(self._entries)

    async def get(self, key: str) -> EngineAnswer | None:
        answer = self._entries.get(key)
        if answer is not None:
            self._entries.move_to_end(key)
        elif self._store is not None and (answer := await self._store.get(key)) is not None:
            self.stats.store_hits += 1
            self._remember(key, answer)
        if answer is None:
            self.stats.misses += 1
        else:
            self.stats.hits += 1
        return answer

    async def put(self, key: str, answer: EngineAnswer) -> None:
        self._remember(key, answer)
        if self._store is not None:
            await self._store.put(key, answer)

    def _remember(self, key: str, answer: EngineAnswer) -> None:
        self._entries[key] = answer
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)


class CachedEngine:
    """``inner`` behind the cache. Concurrent identical requests make one call: the others wait
    for it and are answered from the cache (or call themselves if it failed).

    A cached answer comes back with ``cached=True`` and zero tokens, cost and latency, since
    nothing was spent; the original call's figures stay on the run that made it.
    """

    def __init__(self, inner: Engine, cache: ResponseCache) -> None:
        self.inner = inner
        self.cache = cache
        self.name = inner.name
        self._inflight: dict[str, anyio.Lock] = {}

    def model_for(self, request: EngineRequest) -> str:
        return self.inner.model_for(request)

    def key(self, request: EngineRequest) -> str:
        return cache_key(
            request.prompt_version, self.model_for(request), request.system, request.user
        )

    async def decide(self, request: EngineRequest) -> EngineAnswer:
        key = self.key(request)
        lock = self._inflight.setdefault(key, anyio.Lock())
        try:
            async with lock:
                if (hit := await self.cache.get(key)) is not None:
                    return _as_hit(hit)
                answer = await self.inner.decide(request)
                if answer.stop_reason in _NOT_CACHED:
                    return answer
                await self.cache.put(key, answer)
                return answer
        finally:
            if not lock.locked() and not lock.statistics().tasks_waiting:
                self._inflight.pop(key, None)


_NOT_CACHED = frozenset({"refusal", "max_tokens"})
"""Stops that depend on more than the key (``max_tokens``, effort): asked again, not replayed."""


def _as_hit(answer: EngineAnswer) -> EngineAnswer:
    return msgspec.structs.replace(
        answer, cached=True, input_tokens=0, output_tokens=0, cost_micro_usd=0, latency_ms=0
    )
