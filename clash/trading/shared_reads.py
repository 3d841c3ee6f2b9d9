"""Market reads shared by the runs of one instant: many clones trading the same assets read each
(table, symbol) once per cadence tick, and build each distinct block once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal
from typing import Any

import anyio
import msgspec

from clash.market import (
    AssetProfile,
    Candle,
    FundingRow,
    IndicatorRow,
    Interval,
    MacroObservation,
    PolymarketContext,
    SettledFunding,
)
from clash.trading.context import MarketMemory, build_block, fetch
from clash.trading.packet import (
    AssetContext,
    Branch,
    BranchAsset,
    Candidate,
    ContextBlock,
    ReadPlan,
)


class _Pending:
    __slots__ = ("done", "value", "error")

    def __init__(self) -> None:
        self.done = anyio.Event()
        self.value: Any = None
        self.error: BaseException | None = None


class InstantMemo:
    """Values computed once per instant (a timestamp) and key; concurrent askers of the same one
    wait for the first. Only the newest `instants` instants are kept; an older instant is not
    cached. A failed computation is not cached either: waiters compute it themselves."""

    def __init__(self, instants: int = 2) -> None:
        self.instants = instants
        self._memo: dict[int, dict[Any, _Pending]] = {}

    def _slot(self, instant: int) -> dict[Any, _Pending] | None:
        memo = self._memo.get(instant)
        if memo is None:
            if self._memo and instant < min(self._memo):
                return None
            memo = self._memo[instant] = {}
            for old in sorted(self._memo)[: -self.instants]:
                del self._memo[old]
        return memo

    async def get(self, instant: int, key: Any, compute: Callable[[], Awaitable[Any]]) -> Any:
        memo = self._slot(instant)
        if memo is None:
            return await compute()
        pending = memo.get(key)
        if pending is not None:
            await pending.done.wait()
            return pending.value if pending.error is None else await compute()
        pending = memo[key] = _Pending()
        try:
            pending.value = await compute()
        except BaseException as exc:
            pending.error = exc
            memo.pop(key, None)
            raise
        finally:
            pending.done.set()
        return pending.value

    def get_sync(self, instant: int, key: Any, compute: Callable[[], Any]) -> Any:
        memo = self._slot(instant)
        if memo is None:
            return compute()
        pending = memo.get(key)
        if pending is None:
            pending = memo[key] = _Pending()
            pending.value = compute()
            pending.done.set()
        return pending.value


class SharedReads:
    """`MarketMemory` whose reads, and the blocks built from them, are shared by every run with the
    same `as_of` (the runs of one cadence tick): many clones trading the same assets read each
    (table, symbol) once per tick. As-of reads are deterministic, so sharing changes no answer."""

    def __init__(self, inner: MarketMemory, instants: int = 2) -> None:
        self.inner = inner
        self.memo = InstantMemo(instants)

    def _shared(
        self, key: Any, as_of_ms: int, read: Callable[[], Awaitable[Any]]
    ) -> Awaitable[Any]:
        return self.memo.get(as_of_ms, key, read)

    def block(self, plan: ReadPlan, fetched: Mapping[Any, Any], as_of_ms: int) -> ContextBlock:
        """`context.build_block`, once per distinct read plan and instant."""
        return self.memo.get_sync(
            as_of_ms, ("block", _plan_key(plan)), lambda: build_block(plan, fetched, as_of_ms)
        )

    async def candles(
        self, symbol: str, interval: Interval, as_of_ms: int, limit: int
    ) -> list[Candle]:
        return await self._shared(
            ("candles", symbol, interval, limit),
            as_of_ms,
            lambda: self.inner.candles(symbol, interval, as_of_ms, limit),
        )

    async def indicators(self, symbol: str, as_of_ms: int, limit: int) -> list[IndicatorRow]:
        return await self._shared(
            ("indicators", symbol, limit),
            as_of_ms,
            lambda: self.inner.indicators(symbol, as_of_ms, limit),
        )

    async def funding(self, symbol: str, as_of_ms: int, limit: int) -> list[FundingRow]:
        return await self._shared(
            ("funding", symbol, limit),
            as_of_ms,
            lambda: self.inner.funding(symbol, as_of_ms, limit),
        )

    async def settled_funding(self, symbol: str, as_of_ms: int, limit: int) -> list[SettledFunding]:
        return await self._shared(
            ("settled", symbol, limit),
            as_of_ms,
            lambda: self.inner.settled_funding(symbol, as_of_ms, limit),
        )

    async def profile(self, symbol: str, as_of_ms: int) -> AssetProfile | None:
        return await self._shared(
            ("profile", symbol), as_of_ms, lambda: self.inner.profile(symbol, as_of_ms)
        )

    async def polymarket_context(self, symbol: str | None, as_of_ms: int) -> PolymarketContext:
        return await self._shared(
            ("polymarket", symbol),
            as_of_ms,
            lambda: self.inner.polymarket_context(symbol, as_of_ms),
        )

    async def macro_context(self, symbol: str | None, as_of_ms: int) -> list[MacroObservation]:
        return await self._shared(
            ("macro", symbol), as_of_ms, lambda: self.inner.macro_context(symbol, as_of_ms)
        )

    async def latest_prices(self, symbols: Any, as_of_ms: int) -> dict[str, tuple[Decimal, int]]:
        wanted = tuple(symbols)
        return await self._shared(
            ("prices", wanted), as_of_ms, lambda: self.inner.latest_prices(wanted, as_of_ms)
        )


_plan_bytes = msgspec.json.Encoder()


def _plan_key(plan: ReadPlan) -> bytes:
    return _plan_bytes.encode(plan)


async def resolve_context(
    mem: MarketMemory, branch: Branch, asset: BranchAsset, candidate: Candidate, as_of_ms: int
) -> AssetContext:
    """One run's slice of the context packet: its asset's blocks as of `as_of_ms` (reads through
    `SharedReads` when given one). The packet's text sections are left out: prompt v1 renders its
    own from the blocks (`packet_prompt`)."""
    fetched = await fetch(mem, asset.reads, as_of_ms)
    shared = mem if isinstance(mem, SharedReads) else None
    blocks = [
        shared.block(p, fetched, as_of_ms) if shared else build_block(p, fetched, as_of_ms)
        for p in asset.reads
    ]
    return AssetContext(
        prompt_node_id=branch.prompt_node_id,
        symbol=asset.symbol,
        candidate=candidate,
        decision_cadence_sec=asset.decision_cadence_sec,
        blocks=blocks,
        skipped=asset.skipped,
        sections=[],
        estimated_prompt_tokens=0,
    )
