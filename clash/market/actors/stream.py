"""The WebSocket pump: a task outside the actor that turns stream events into actor messages.

It lives as long as the module (not an actor incarnation), so a restarted actor neither loses the
stream nor starts a second one; the actor stops it when it stops for good.
"""

from __future__ import annotations

import anyio

from actors import Ref, System
from clash.market.hyperliquid.wire import HlCandle
from clash.market.hyperliquid.ws import HyperliquidStream, Mids, Reconnected, StreamStats
from clash.market.messages import HlStreamCandles, HlStreamMids, HlStreamReconnected


class StreamPump:
    def __init__(self, stream: HyperliquidStream, ref: Ref) -> None:
        self.stream = stream
        self.ref = ref
        self._scope: anyio.CancelScope | None = None
        self._stopped = False

    @property
    def stats(self) -> StreamStats:
        return self.stream.stats

    def start(self, system: System) -> None:
        system.start_soon(self.run, name=f"{self.ref.name}.stream")

    async def run(self) -> None:
        with anyio.CancelScope() as self._scope:
            if self._stopped:
                return
            async with self.stream.events() as events:
                async for event in events:
                    match event:
                        case HlCandle():
                            await self.ref.tell(HlStreamCandles(bars=[event]))
                        case Mids(mids=mids, received_ms=at):
                            await self.ref.tell(HlStreamMids(mids=mids, received_ms=at))
                        case Reconnected(gap_since_ms=gap, reconnected_ms=at):
                            await self.ref.tell(
                                HlStreamReconnected(gap_since_ms=gap, reconnected_ms=at)
                            )

    def stop(self) -> None:
        self._stopped = True
        if self._scope is not None:
            self._scope.cancel()


class StreamSlot:
    """Holds the module's one pump across actor restarts."""

    def __init__(self) -> None:
        self.pump: StreamPump | None = None

    def stop(self) -> None:
        if self.pump is not None:
            self.pump.stop()
