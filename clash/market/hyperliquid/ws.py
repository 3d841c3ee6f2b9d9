"""Hyperliquid WebSocket stream: 1m candles and allMids, kept alive, reconnected, resubscribed.

Events come out as domain values (`HlCandle`, `Mids`) plus `Reconnected`, which tells the consumer
that pushes may be missing since `gap_since_ms` and should be back-filled with candleSnapshot.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import anyio
import msgspec
from anyio.abc import ObjectReceiveStream, ObjectSendStream
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidURI, WebSocketException

from clash.market.hyperliquid import wire
from clash.market.hyperliquid.wire import DecodeError, HlCandle

MAINNET_WS_URL = "wss://api.hyperliquid.xyz/ws"
_PING = wire.encode(wire.Ping()).decode()


class Mids(msgspec.Struct, frozen=True):
    mids: dict[str, float]
    received_ms: int


class Reconnected(msgspec.Struct, frozen=True):
    gap_since_ms: int
    reconnected_ms: int


StreamEvent = HlCandle | Mids | Reconnected


class StreamStats(msgspec.Struct):
    connects: int = 0
    reconnects: int = 0
    malformed: int = 0
    server_errors: int = 0
    pongs: int = 0
    last_error: str | None = None


class _Dead(Exception):
    """Nothing came in for too long: the connection is presumed dead."""


class HyperliquidStream:
    """Subscribes `candle` (one interval) for `coins` and, optionally, `allMids`.

    Sends `{"method":"ping"}` every `ping_interval` seconds (the server drops connections
    quiet for 60 s) and reconnects when nothing arrives for `dead_after` seconds. Malformed
    frames are counted in `stats.malformed` and skipped.
    """

    def __init__(
        self,
        url: str = MAINNET_WS_URL,
        coins: Sequence[str] = (),
        *,
        now_ms: Callable[[], int],
        interval: str = "1m",
        all_mids: bool = True,
        ping_interval: float = 30.0,
        dead_after: float = 75.0,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        open_timeout: float = 10.0,
        buffer: int = 1024,
        sleep: Callable[[float], Awaitable[Any]] = anyio.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.url = url
        self.coins = list(coins)
        self.interval = interval
        self.all_mids = all_mids
        self.ping_interval = ping_interval
        self.dead_after = dead_after
        self.stats = StreamStats()
        self._now_ms = now_ms
        self._backoff_base = backoff_base
        self._backoff_max = backoff_max
        self._open_timeout = open_timeout
        self._buffer = buffer
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._last_data_ms = 0
        self._heard = False  # the current connection has delivered something

    def subscriptions(self) -> list[wire.Subscription]:
        subs: list[wire.Subscription] = [
            wire.CandleSubscription(coin=c, interval=self.interval) for c in self.coins
        ]
        if self.all_mids:
            subs.append(wire.AllMidsSubscription())
        return subs

    def backoff(self, attempt: int) -> float:
        """Full-jitter exponential delay before reconnect attempt `attempt` (1-based)."""
        ceiling = min(self._backoff_max, self._backoff_base * 2 ** (attempt - 1))
        return self._rng.uniform(0, ceiling)

    @asynccontextmanager
    async def events(self) -> AsyncIterator[ObjectReceiveStream[StreamEvent]]:
        """Run the stream in the background for the duration of the block."""
        send, receive = anyio.create_memory_object_stream[StreamEvent](self._buffer)
        async with receive, anyio.create_task_group() as tg:
            tg.start_soon(self.run, send)
            try:
                yield receive
            finally:
                tg.cancel_scope.cancel()

    async def run(self, send: ObjectSendStream[StreamEvent]) -> None:
        """Connect, subscribe and forward events until cancelled; reconnect on any loss."""
        self._last_data_ms = self._now_ms()
        failures = 0
        async with send:
            while True:
                self._heard = False
                try:
                    async with connect(
                        self.url,
                        ping_interval=None,  # Hyperliquid wants its own JSON ping instead
                        open_timeout=self._open_timeout,
                        close_timeout=1.0,
                    ) as ws:
                        await self._subscribe(ws)
                        self.stats.connects += 1
                        if self.stats.connects > 1:
                            self.stats.reconnects += 1
                            await send.send(Reconnected(self._last_data_ms, self._now_ms()))
                        await self._read(ws, send)
                except InvalidURI:
                    raise
                except (anyio.BrokenResourceError, anyio.ClosedResourceError):
                    return  # the consumer is gone
                except (OSError, TimeoutError, WebSocketException, _Dead):
                    pass
                failures = 1 if self._heard else failures + 1
                await self._sleep(self.backoff(failures))

    async def _subscribe(self, ws: ClientConnection) -> None:
        for sub in self.subscriptions():
            await ws.send(wire.encode(wire.Subscribe(subscription=sub)).decode())

    async def _read(self, ws: ClientConnection, send: ObjectSendStream[StreamEvent]) -> None:
        self._heard = False
        now = anyio.current_time()
        next_ping = now + self.ping_interval
        last_rx = now
        while True:
            raw: str | bytes | None = None
            with anyio.move_on_after(max(0.0, min(next_ping, last_rx + self.dead_after) - now)):
                raw = await ws.recv()
            now = anyio.current_time()
            if raw is not None:
                last_rx = now
                self._heard = True
                for event in self._events(raw):
                    await send.send(event)
            elif now >= last_rx + self.dead_after:
                raise _Dead()
            if now >= next_ping:
                await ws.send(_PING)
                next_ping = now + self.ping_interval

    def _events(self, raw: str | bytes) -> list[StreamEvent]:
        try:
            msg: wire.AnyServerMessage = wire.decode(raw, wire.AnyServerMessage)
            match msg:
                case wire.CandlePush(data=list() as candles):
                    events: list[StreamEvent] = [wire.to_bar(c) for c in candles]
                case wire.CandlePush(data=wire.Candle() as candle):
                    events = [wire.to_bar(candle)]
                case wire.AllMidsPush(data=data):
                    events = [Mids(wire.to_mids(data.mids), self._now_ms())]
                case wire.Pong():
                    self.stats.pongs += 1
                    return []
                case wire.ErrorFrame(data=text):
                    self.stats.server_errors += 1
                    self.stats.last_error = text
                    return []
                case _:
                    return []
        except DecodeError:
            self.stats.malformed += 1
            return []
        self._last_data_ms = self._now_ms()
        return events


__all__ = [
    "HyperliquidStream",
    "MAINNET_WS_URL",
    "Mids",
    "Reconnected",
    "StreamEvent",
    "StreamStats",
]
