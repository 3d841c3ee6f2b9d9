"""Hyperliquid's JSON on the wire, and the one boundary that turns it into domain values.

Wire types keep Hyperliquid's own field names and keep every decimal as the string it
arrived as, so nothing is lost before we decide how to read it. Unknown extra fields are
ignored (the API grows fields over time); required fields are required. The simulator
encodes its answers with these same types, so client and simulator cannot drift apart.
"""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

from clash.market.errors import DecodeError, SourceError  # noqa: F401 (SourceError re-exported)

T = TypeVar("T")


# ---------------------------------------------------------------- REST requests (POST /info)


class InfoRequest(msgspec.Struct, frozen=True, tag_field="type", omit_defaults=True):
    pass


class AllMidsRequest(InfoRequest, tag="allMids", frozen=True):
    dex: str | None = None


class MetaRequest(InfoRequest, tag="meta", frozen=True):
    dex: str | None = None


class SpotMetaRequest(InfoRequest, tag="spotMeta", frozen=True):
    pass


class MetaAndAssetCtxsRequest(InfoRequest, tag="metaAndAssetCtxs", frozen=True):
    dex: str | None = None


class SpotMetaAndAssetCtxsRequest(InfoRequest, tag="spotMetaAndAssetCtxs", frozen=True):
    pass


class CandleWindow(msgspec.Struct, frozen=True, omit_defaults=True):
    coin: str
    interval: str
    startTime: int
    endTime: int | None = None


class CandleSnapshotRequest(InfoRequest, tag="candleSnapshot", frozen=True):
    req: CandleWindow


class PredictedFundingsRequest(InfoRequest, tag="predictedFundings", frozen=True):
    pass


class FundingHistoryRequest(InfoRequest, tag="fundingHistory", frozen=True):
    coin: str
    startTime: int
    endTime: int | None = None


AnyInfoRequest = (
    AllMidsRequest
    | MetaRequest
    | SpotMetaRequest
    | MetaAndAssetCtxsRequest
    | SpotMetaAndAssetCtxsRequest
    | CandleSnapshotRequest
    | PredictedFundingsRequest
    | FundingHistoryRequest
)

# ---------------------------------------------------------------- REST responses


class PerpAsset(msgspec.Struct, frozen=True, omit_defaults=True):
    name: str
    szDecimals: int
    maxLeverage: int
    marginTableId: int | None = None
    onlyIsolated: bool | None = None
    isDelisted: bool | None = None
    marginMode: str | None = None


class MarginTier(msgspec.Struct, frozen=True):
    lowerBound: str
    maxLeverage: int


class MarginTable(msgspec.Struct, frozen=True):
    description: str
    marginTiers: list[MarginTier]


class Meta(msgspec.Struct, frozen=True, omit_defaults=True):
    """`meta`. The 2023 shape had only `universe`; the rest came later."""

    universe: list[PerpAsset]
    marginTables: list[tuple[int, MarginTable]] = []
    collateralToken: int | None = None


class PerpAssetCtx(msgspec.Struct, frozen=True):
    """One perp's live context; `ctxs[i]` belongs to `universe[i]` and has no coin field."""

    funding: str
    openInterest: str
    prevDayPx: str
    dayNtlVlm: str
    oraclePx: str
    markPx: str
    dayBaseVlm: str
    premium: str | None = None
    midPx: str | None = None
    impactPxs: list[str] | None = None


MetaAndAssetCtxs = tuple[Meta, list[PerpAssetCtx]]


class SpotPair(msgspec.Struct, frozen=True):
    tokens: tuple[int, int]
    name: str
    index: int
    isCanonical: bool


class EvmContract(msgspec.Struct, frozen=True):
    address: str
    evm_extra_wei_decimals: int


class SpotToken(msgspec.Struct, frozen=True):
    name: str
    szDecimals: int
    weiDecimals: int
    index: int
    tokenId: str
    isCanonical: bool
    evmContract: EvmContract | None = None
    fullName: str | None = None
    deployerTradingFeeShare: str | None = None


class SpotMeta(msgspec.Struct, frozen=True):
    universe: list[SpotPair]
    tokens: list[SpotToken]


class SpotAssetCtx(msgspec.Struct, frozen=True):
    """Spot ctxs carry `coin` and are not aligned with the universe: match on coin."""

    coin: str
    prevDayPx: str
    dayNtlVlm: str
    markPx: str
    circulatingSupply: str
    totalSupply: str
    dayBaseVlm: str
    midPx: str | None = None


SpotMetaAndAssetCtxs = tuple[SpotMeta, list[SpotAssetCtx]]

AllMids = dict[str, str]


class Candle(msgspec.Struct, frozen=True):
    """Hyperliquid's candle `{t,T,s,i,o,c,h,l,v,n}`; key order varies, names do not."""

    open_ms: int = msgspec.field(name="t")
    close_ms: int = msgspec.field(name="T")
    coin: str = msgspec.field(name="s")
    interval: str = msgspec.field(name="i")
    open: str = msgspec.field(name="o")
    close: str = msgspec.field(name="c")
    high: str = msgspec.field(name="h")
    low: str = msgspec.field(name="l")
    volume: str = msgspec.field(name="v")
    trades: int = msgspec.field(name="n")


CandleSnapshot = list[Candle] | None


class PredictedFunding(msgspec.Struct, frozen=True, omit_defaults=True):
    fundingRate: str
    nextFundingTime: int
    fundingIntervalHours: int | None = None


VenueFunding = tuple[str, PredictedFunding | None]
PredictedFundings = list[tuple[str, list[VenueFunding]]]


class FundingRecord(msgspec.Struct, frozen=True):
    coin: str
    fundingRate: str
    premium: str
    time: int


FundingHistory = list[FundingRecord]

RESPONSE_TYPES: dict[type[InfoRequest], Any] = {
    AllMidsRequest: AllMids,
    MetaRequest: Meta,
    SpotMetaRequest: SpotMeta,
    MetaAndAssetCtxsRequest: MetaAndAssetCtxs,
    SpotMetaAndAssetCtxsRequest: SpotMetaAndAssetCtxs,
    CandleSnapshotRequest: CandleSnapshot,
    PredictedFundingsRequest: PredictedFundings,
    FundingHistoryRequest: FundingHistory,
}

# ---------------------------------------------------------------- WebSocket


class CandleSubscription(msgspec.Struct, frozen=True, tag_field="type", tag="candle"):
    coin: str
    interval: str


class AllMidsSubscription(
    msgspec.Struct, frozen=True, tag_field="type", tag="allMids", omit_defaults=True
):
    dex: str | None = None


Subscription = CandleSubscription | AllMidsSubscription


class ClientMessage(msgspec.Struct, frozen=True, tag_field="method"):
    pass


class Subscribe(ClientMessage, tag="subscribe", frozen=True):
    subscription: Subscription


class Unsubscribe(ClientMessage, tag="unsubscribe", frozen=True):
    subscription: Subscription


class Ping(ClientMessage, tag="ping", frozen=True):
    pass


AnyClientMessage = Subscribe | Unsubscribe | Ping


class SubscriptionAck(msgspec.Struct, frozen=True):
    method: str
    subscription: Subscription


class ServerMessage(msgspec.Struct, frozen=True, tag_field="channel"):
    pass


class SubscriptionResponse(ServerMessage, tag="subscriptionResponse", frozen=True):
    data: SubscriptionAck


class CandlePush(ServerMessage, tag="candle", frozen=True):
    """`data` is one candle in practice; the docs type it as a list, so accept both."""

    data: Candle | list[Candle]


class MidsData(msgspec.Struct, frozen=True):
    mids: dict[str, str]


class AllMidsPush(ServerMessage, tag="allMids", frozen=True):
    data: MidsData


class Pong(ServerMessage, tag="pong", frozen=True):
    pass


class ErrorFrame(ServerMessage, tag="error", frozen=True):
    data: str


AnyServerMessage = SubscriptionResponse | CandlePush | AllMidsPush | Pong | ErrorFrame

# ---------------------------------------------------------------- decoding

_decoders: dict[Any, msgspec.json.Decoder[Any]] = {}


def decode(data: bytes | str, type_: type[T] | Any) -> T:
    """Strictly decode a JSON payload into a wire type, raising DecodeError on any mismatch."""
    decoder = _decoders.get(type_)
    if decoder is None:
        decoder = _decoders[type_] = msgspec.json.Decoder(type_, strict=True)
    try:
        return decoder.decode(data)
    except msgspec.DecodeError as exc:
        raise DecodeError(f"malformed Hyperliquid payload: {exc}") from exc


def encode(value: object) -> bytes:
    return msgspec.json.encode(value)


# ---------------------------------------------------------------- domain boundary


class HlCandle(msgspec.Struct, frozen=True):
    """A candle in domain values: float prices and volume, integer ms times."""

    coin: str
    interval: str
    open_ms: int
    close_ms: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    trades: int


class AssetCtx(msgspec.Struct, frozen=True):
    """A perp's live context in domain values; `funding` is the hourly rate."""

    coin: str
    funding: float
    open_interest: float
    prev_day_px: float
    day_ntl_vlm: float
    day_base_vlm: float
    oracle_px: float
    mark_px: float
    premium: float | None = None
    mid_px: float | None = None
    impact_bid: float | None = None
    impact_ask: float | None = None


class FundingRate(msgspec.Struct, frozen=True):
    coin: str
    rate: float
    premium: float
    time_ms: int


class PredictedRate(msgspec.Struct, frozen=True):
    coin: str
    venue: str
    rate: float
    next_funding_ms: int
    interval_hours: int | None = None


def _num(value: str, what: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise DecodeError(f"{what}: not a decimal string: {value!r}") from None


def _opt(value: str | None, what: str) -> float | None:
    return None if value is None else _num(value, what)


def to_bar(c: Candle) -> HlCandle:
    return HlCandle(
        coin=c.coin,
        interval=c.interval,
        open_ms=c.open_ms,
        close_ms=c.close_ms,
        open=_num(c.open, "o"),
        high=_num(c.high, "h"),
        low=_num(c.low, "l"),
        close=_num(c.close, "c"),
        volume=_num(c.volume, "v"),
        trades=c.trades,
    )


def to_bars(snapshot: CandleSnapshot) -> list[HlCandle]:
    return [to_bar(c) for c in snapshot or ()]


def to_mids(mids: AllMids) -> dict[str, float]:
    return {coin: _num(px, coin) for coin, px in mids.items()}


def to_asset_ctxs(value: MetaAndAssetCtxs) -> list[AssetCtx]:
    """Pair each ctx with its universe entry by position, as Hyperliquid defines it."""
    meta, ctxs = value
    if len(ctxs) != len(meta.universe):
        raise DecodeError(f"{len(meta.universe)} perps but {len(ctxs)} ctxs")
    out = []
    for asset, x in zip(meta.universe, ctxs):
        pxs = x.impactPxs or []
        bid = pxs[0] if len(pxs) > 0 else None
        ask = pxs[1] if len(pxs) > 1 else None
        out.append(
            AssetCtx(
                coin=asset.name,
                funding=_num(x.funding, "funding"),
                open_interest=_num(x.openInterest, "openInterest"),
                prev_day_px=_num(x.prevDayPx, "prevDayPx"),
                day_ntl_vlm=_num(x.dayNtlVlm, "dayNtlVlm"),
                day_base_vlm=_num(x.dayBaseVlm, "dayBaseVlm"),
                oracle_px=_num(x.oraclePx, "oraclePx"),
                mark_px=_num(x.markPx, "markPx"),
                premium=_opt(x.premium, "premium"),
                mid_px=_opt(x.midPx, "midPx"),
                impact_bid=_opt(bid, "impactPxs"),
                impact_ask=_opt(ask, "impactPxs"),
            )
        )
    return out


def to_funding_rates(history: FundingHistory) -> list[FundingRate]:
    return [
        FundingRate(
            coin=r.coin,
            rate=_num(r.fundingRate, "fundingRate"),
            premium=_num(r.premium, "premium"),
            time_ms=r.time,
        )
        for r in history
    ]


def to_predicted_rates(value: PredictedFundings) -> list[PredictedRate]:
    """Flatten per-coin venue lists, dropping venues that do not list the coin (null)."""
    return [
        PredictedRate(
            coin=coin,
            venue=venue,
            rate=_num(p.fundingRate, "fundingRate"),
            next_funding_ms=p.nextFundingTime,
            interval_hours=p.fundingIntervalHours,
        )
        for coin, venues in value
        for venue, p in venues
        if p is not None
    ]
