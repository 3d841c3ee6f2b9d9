"""Hyperliquid's `POST /info` and `/ws` over a SimMarket, in Hyperliquid's exact JSON.

Answers are built from the same wire types the client decodes with, so the two cannot drift.
"""

from __future__ import annotations

from collections.abc import Callable

import anyio
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from clash.market.hyperliquid import wire
from clash.market.hyperliquid.rest import WeightBudget, request_weight, response_weight
from clash.market.hyperliquid.wire import DecodeError, HlCandle
from clash.market.sim.market import (
    INTERVAL_MINUTES,
    INTERVALS,
    MINUTE_MS,
    SimMarket,
    bucket_end,
    bucket_start,
    fmt_decimal,
)

MAX_CANDLES = 5000
MAX_FUNDING_ROWS = 500
BAD_REQUEST = "Failed to deserialize the JSON body into the target type"
_DROP_CODE = 1012


def wire_candle(bar: HlCandle) -> wire.Candle:
    return wire.Candle(
        open_ms=bar.open_ms,
        close_ms=bar.close_ms,
        coin=bar.coin,
        interval=bar.interval,
        open=fmt_decimal(bar.open),
        close=fmt_decimal(bar.close),
        high=fmt_decimal(bar.high),
        low=fmt_decimal(bar.low),
        volume=fmt_decimal(bar.volume),
        trades=bar.trades,
    )


class _Conn:
    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket
        self.lock = anyio.Lock()
        self.candles: set[tuple[str, str]] = set()
        self.all_mids = False
        self.last_candle: dict[tuple[str, str], wire.Candle] = {}
        self.last_mids: dict[str, str] | None = None
        self.scope: anyio.CancelScope | None = None
        self.dropped = False


class HyperliquidSim:
    """Serves a SimMarket as Hyperliquid does, with `now_ms()` as the current time.

    `weight_per_minute` turns on the per-IP request-weight limit (429 when exceeded),
    measured on the simulated clock.
    """

    def __init__(
        self,
        market: SimMarket,
        now_ms: Callable[[], int],
        *,
        push_interval_s: float = 1.0,
        idle_timeout_s: float = 60.0,
        weight_per_minute: int | None = None,
    ) -> None:
        self.market = market
        self.now_ms = now_ms
        self.push_interval_s = push_interval_s
        self.idle_timeout_s = idle_timeout_s
        self.budget = (
            WeightBudget(
                lambda: now_ms() / 1000,
                anyio.sleep,
                capacity=weight_per_minute,
                per_minute=weight_per_minute,
            )
            if weight_per_minute
            else None
        )
        self._conns: set[_Conn] = set()

    def routes(self) -> list[BaseRoute]:
        return [Route("/info", self.info, methods=["POST"]), WebSocketRoute("/ws", self.ws)]

    @property
    def connections(self) -> int:
        return len(self._conns)

    def drop_connections(self) -> int:
        """Close every open websocket, as a server restart would; returns how many."""
        for conn in self._conns:
            conn.dropped = True
            if conn.scope is not None:
                conn.scope.cancel()
        return len(self._conns)

    # ------------------------------------------------------------ REST

    async def info(self, request: Request) -> Response:
        try:
            req: wire.AnyInfoRequest = wire.decode(await request.body(), wire.AnyInfoRequest)
        except DecodeError:
            return PlainTextResponse(BAD_REQUEST, status_code=422)
        kind = str(type(req).__struct_config__.tag)
        if self.budget is not None and not self.budget.try_take(request_weight(kind)):
            return PlainTextResponse("rate limited", status_code=429)
        try:
            value = self.answer(req)
        except ValueError as exc:
            return PlainTextResponse(str(exc), status_code=422)
        if self.budget is not None and isinstance(value, list):
            self.budget.charge(response_weight(kind, len(value)))
        return Response(wire.encode(value), media_type="application/json")

    def answer(self, req: wire.AnyInfoRequest) -> object:
        """The wire value Hyperliquid would return for `req` at `now_ms()`."""
        now = self.now_ms()
        match req:
            case wire.AllMidsRequest(dex=dex):
                return {} if dex else self.all_mids(now)
            case wire.MetaRequest(dex=dex):
                return self.meta(empty=bool(dex))
            case wire.MetaAndAssetCtxsRequest(dex=dex):
                meta = self.meta(empty=bool(dex))
                return (meta, [self.asset_ctx(p.name, now) for p in meta.universe])
            case wire.SpotMetaRequest():
                return self.spot_meta()
            case wire.SpotMetaAndAssetCtxsRequest():
                return (self.spot_meta(), [self.spot_ctx(s.name, now) for s in self.market.spots])
            case wire.CandleSnapshotRequest(req=window):
                return self.candle_snapshot(window, now)
            case wire.PredictedFundingsRequest():
                return self.predicted_fundings(now)
            case wire.FundingHistoryRequest(coin=coin, startTime=start, endTime=end):
                return self.funding_history(coin, start, end, now)
        raise ValueError(f"unsupported request {req!r}")

    def all_mids(self, now: int) -> wire.AllMids:
        return {coin: fmt_decimal(px) for coin, px in self.market.mids(now).items()}

    def meta(self, *, empty: bool = False) -> wire.Meta:
        m = self.market
        return wire.Meta(
            universe=[]
            if empty
            else [
                wire.PerpAsset(
                    name=p.name,
                    szDecimals=p.sz_decimals,
                    maxLeverage=p.max_leverage,
                    marginTableId=p.margin_table_id,
                )
                for p in m.perps
            ],
            marginTables=[
                (
                    t.id,
                    wire.MarginTable(
                        description=t.description,
                        marginTiers=[
                            wire.MarginTier(fmt_decimal(x.lower_bound), x.max_leverage)
                            for x in t.tiers
                        ],
                    ),
                )
                for t in m.margin_tables
            ],
            collateralToken=0,
        )

    def asset_ctx(self, coin: str, now: int) -> wire.PerpAssetCtx:
        x = self.market.asset_ctx(coin, now)
        f = fmt_decimal
        return wire.PerpAssetCtx(
            funding=f(x.funding),
            openInterest=f(x.open_interest),
            prevDayPx=f(x.prev_day_px),
            dayNtlVlm=f(x.day_ntl_vlm),
            premium=None if x.premium is None else f(x.premium),
            oraclePx=f(x.oracle_px),
            markPx=f(x.mark_px),
            midPx=None if x.mid_px is None else f(x.mid_px),
            impactPxs=[f(x.impact_bid or x.oracle_px), f(x.impact_ask or x.oracle_px)],
            dayBaseVlm=f(x.day_base_vlm),
        )

    def spot_meta(self) -> wire.SpotMeta:
        m = self.market
        return wire.SpotMeta(
            universe=[
                wire.SpotPair(
                    tokens=(s.base, s.quote), name=s.name, index=s.index, isCanonical=s.index == 0
                )
                for s in m.spots
            ],
            tokens=[
                wire.SpotToken(
                    name=t.name,
                    szDecimals=t.sz_decimals,
                    weiDecimals=t.wei_decimals,
                    index=t.index,
                    tokenId=t.token_id,
                    isCanonical=t.is_canonical,
                    evmContract=None
                    if t.evm_address is None
                    else wire.EvmContract(t.evm_address, t.evm_extra_wei_decimals),
                    fullName=t.full_name,
                    deployerTradingFeeShare=t.deployer_fee_share,
                )
                for t in m.tokens
            ],
        )

    def spot_ctx(self, coin: str, now: int) -> wire.SpotAssetCtx:
        x = self.market.spot_ctx(coin, now)
        f = fmt_decimal
        return wire.SpotAssetCtx(
            coin=coin,
            prevDayPx=f(x.prev_day_px),
            dayNtlVlm=f(x.day_ntl_vlm),
            markPx=f(x.mark_px),
            midPx=f(x.mid_px),
            circulatingSupply=f(x.circulating_supply),
            totalSupply=f(x.total_supply),
            dayBaseVlm=f(x.day_base_vlm),
        )

    def candle_snapshot(self, window: wire.CandleWindow, now: int) -> list[wire.Candle]:
        """At most 5000 candles from startTime, and only from the most recent 5000."""
        if window.interval not in INTERVALS:
            raise ValueError(f"unknown interval {window.interval!r}")
        if not self.market.is_coin(window.coin):
            return []
        end = min(now, window.endTime if window.endTime is not None else now)
        start = window.startTime
        if window.interval != "1M":
            size = INTERVAL_MINUTES[window.interval] * MINUTE_MS
            start = max(start, bucket_start(window.interval, now) - (MAX_CANDLES - 1) * size)
        bars = self.market.candles(window.coin, window.interval, start, end, limit=MAX_CANDLES)
        return [wire_candle(b) for b in bars]

    def predicted_fundings(self, now: int) -> wire.PredictedFundings:
        return [
            (
                coin,
                [
                    (
                        v.venue,
                        wire.PredictedFunding(
                            fmt_decimal(v.rate), v.next_funding_ms, v.interval_hours
                        ),
                    )
                    if v is not None
                    else (venue, None)
                    for venue, v in zip(("BinPerp", "HlPerp", "BybitPerp"), venues)
                ],
            )
            for coin, venues in self.market.predicted_fundings(now)
        ]

    def funding_history(
        self, coin: str, start: int, end: int | None, now: int
    ) -> wire.FundingHistory:
        if coin not in {p.name for p in self.market.perps}:
            return []
        end = min(now, end if end is not None else now)
        rows = self.market.funding_history(coin, start, end, limit=MAX_FUNDING_ROWS)
        return [
            wire.FundingRecord(coin, fmt_decimal(r.rate), fmt_decimal(r.premium), r.time_ms)
            for r in rows
        ]

    # ------------------------------------------------------------ WebSocket

    async def ws(self, websocket: WebSocket) -> None:
        await websocket.accept()
        conn = _Conn(websocket)
        self._conns.add(conn)
        try:
            async with anyio.create_task_group() as tg:
                conn.scope = tg.cancel_scope
                tg.start_soon(self._pusher, conn)
                await self._reader(conn)
                tg.cancel_scope.cancel()
        finally:
            self._conns.discard(conn)
        if conn.dropped:
            with anyio.CancelScope(shield=True):
                try:
                    await websocket.close(code=_DROP_CODE)
                except (RuntimeError, OSError, WebSocketDisconnect):
                    pass

    async def _send(self, conn: _Conn, msg: wire.ServerMessage) -> None:
        async with conn.lock:
            try:
                await conn.websocket.send_text(wire.encode(msg).decode())
            except (RuntimeError, OSError, WebSocketDisconnect):
                if conn.scope is not None:
                    conn.scope.cancel()

    async def _reader(self, conn: _Conn) -> None:
        while True:
            with anyio.move_on_after(self.idle_timeout_s) as idle:
                message = await conn.websocket.receive()
            if idle.cancelled_caught:
                await conn.websocket.close()
                return
            if message["type"] == "websocket.disconnect":
                return
            raw = message.get("text") or message.get("bytes") or b""
            try:
                request: wire.AnyClientMessage = wire.decode(raw, wire.AnyClientMessage)
            except DecodeError:
                text = raw if isinstance(raw, str) else raw.decode(errors="replace")
                await self._send(
                    conn,
                    wire.ErrorFrame(f"Error parsing JSON into valid websocket request: {text}"),
                )
                continue
            await self._handle(conn, request)

    async def _handle(self, conn: _Conn, request: wire.AnyClientMessage) -> None:
        if isinstance(request, wire.Ping):
            await self._send(conn, wire.Pong())
            return
        sub = request.subscription
        subscribe = isinstance(request, wire.Subscribe)
        if isinstance(sub, wire.CandleSubscription):
            if sub.interval not in INTERVALS or not self.market.is_coin(sub.coin):
                await self._send(conn, wire.ErrorFrame(f"Invalid subscription {sub!r}"))
                return
            key = (sub.coin, sub.interval)
            if subscribe:
                conn.candles.add(key)
            else:
                conn.candles.discard(key)
                conn.last_candle.pop(key, None)
        else:
            conn.all_mids = subscribe
            conn.last_mids = None
        method = "subscribe" if subscribe else "unsubscribe"
        await self._send(conn, wire.SubscriptionResponse(wire.SubscriptionAck(method, sub)))
        if subscribe:
            await self._push(conn)

    async def _pusher(self, conn: _Conn) -> None:
        while True:
            await anyio.sleep(self.push_interval_s)
            await self._push(conn)

    async def _push(self, conn: _Conn) -> None:
        """Push what changed since the last push; a candle that closed meanwhile goes first."""
        now = self.now_ms()
        for key in sorted(conn.candles):
            coin, interval = key
            last = conn.last_candle.get(key)
            t = bucket_start(interval, now)
            if last is not None and last.open_ms < t:
                done = self.market.candles(
                    coin, interval, last.open_ms, bucket_end(interval, last.open_ms) - 1
                )
                if done and wire_candle(done[-1]) != last:
                    await self._send(conn, wire.CandlePush(wire_candle(done[-1])))
            bars = self.market.candles(coin, interval, t, now)
            if not bars:
                continue
            current = wire_candle(bars[-1])
            if current != last:
                conn.last_candle[key] = current
                await self._send(conn, wire.CandlePush(current))
        if conn.all_mids:
            mids = self.all_mids(now)
            if mids != conn.last_mids:
                conn.last_mids = mids
                await self._send(conn, wire.AllMidsPush(wire.MidsData(mids)))


__all__ = ["HyperliquidSim", "wire_candle"]
