"""The DefiLlama source actor: macro metrics (global and per configured chain) every cadence.

Rows are stamped with the fetch time (`observed_ms`), so an as-of read never sees a value before
we had it, and linked to a traded symbol where the subject names one (Ethereum → ETH).
"""

from __future__ import annotations

from typing import Any

from actors import Actor, Unhandled
from clash.market import memory
from clash.market.actors.common import record_failure
from clash.market.config import DefiLlamaSettings
from clash.market.defillama.client import DefiLlamaClient
from clash.market.defillama.metrics import MacroMetric, MacroTarget, linked_symbol
from clash.market.errors import SourceError
from clash.market.memory import MacroObservation
from clash.market.messages import DefiLlamaPoll, MarketPollResult
from clash.store import Database

SOURCE = "defillama"
CHANNEL = "macro"


def observation(row: MacroMetric, observed_ms: int) -> MacroObservation:
    return MacroObservation(
        observed_ms=observed_ms,
        family=row.family,
        scope=row.scope,
        subject=row.subject,
        metric=row.metric,
        usd_micros=row.usd_micros,
        change_pct=row.change_pct,
        as_of_ms=row.as_of_ms,
        linked_symbol=linked_symbol(row),
    )


class DefiLlamaSource(Actor):
    def __init__(
        self,
        db: Database,
        settings: DefiLlamaSettings,
        client: DefiLlamaClient,
        *,
        autostart: bool = True,
    ) -> None:
        self.db = db
        self.settings = settings
        self.client = client
        self.autostart = autostart
        self.targets = [MacroTarget()] + [MacroTarget("chain", c) for c in settings.chains]

    async def on_start(self) -> None:
        if self.autostart:
            self.after(0, DefiLlamaPoll())
            self.every(self.settings.interval_s, DefiLlamaPoll())

    async def on_stop(self) -> None:
        await self.client.aclose()

    async def receive(self, msg: Any) -> Any:
        match msg:
            case DefiLlamaPoll():
                return await self._poll()
            case _:
                raise Unhandled(msg)

    async def _poll(self) -> MarketPollResult:
        """Each target on its own: one failing scope is counted, the others are still stored."""
        now = self.clock.now_ms()
        rows: list[MacroObservation] = []
        errors: list[str] = []
        for target in self.targets:
            try:
                got = await self.client.collect(target, now)
            except SourceError as exc:
                await record_failure(self.db, self.clock.now_ms(), SOURCE, CHANNEL, exc)
                errors.append(f"{target.scope}:{target.subject}: {exc}")
                continue
            rows += [observation(r, now) for r in got]
        if errors and not rows:
            return MarketPollResult(SOURCE, CHANNEL, error="; ".join(errors))
        linked = {r.linked_symbol: now for r in rows if r.linked_symbol}
        async with self.db.transaction() as tx:
            await memory.insert_macro(tx, rows, self.clock.now_ms())
            await memory.record_success(
                tx,
                SOURCE,
                CHANNEL,
                self.clock.now_ms(),
                rows=len(rows),
                data_ms=now,
                symbols=linked,
            )
        return MarketPollResult(SOURCE, CHANNEL, rows=len(rows), error="; ".join(errors) or None)
