"""What every source actor does around a poll: run it, and count a failure in health if it fails."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from clash.market import memory
from clash.market.errors import DecodeError, SourceError
from clash.market.messages import MarketPollResult
from clash.store import Database

log = logging.getLogger(__name__)


async def attempt(
    db: Database, now_ms: int, source: str, channel: str, work: Callable[[], Awaitable[int]]
) -> MarketPollResult:
    """Run `work` (which writes its rows and its success in one transaction and returns the row
    count). A source failure is recorded and returned, never raised: the actor keeps running."""
    try:
        rows = await work()
    except SourceError as exc:
        await record_failure(db, now_ms, source, channel, exc)
        return MarketPollResult(
            source, channel, error=str(exc), decode_error=isinstance(exc, DecodeError)
        )
    return MarketPollResult(source, channel, rows=rows)


async def record_failure(
    db: Database, now_ms: int, source: str, channel: str, exc: Exception, count: int = 1
) -> None:
    """Count the failure in the channel's health (and log it)."""
    log.warning(
        "%s %s failed: %s",
        source,
        channel,
        exc,
        extra={"source": source, "channel": channel, "decode": isinstance(exc, DecodeError)},
    )
    async with db.transaction() as tx:
        await memory.record_failure(
            tx,
            source,
            channel,
            now_ms,
            f"{type(exc).__name__}: {exc}",
            decode=isinstance(exc, DecodeError),
            count=count,
        )
