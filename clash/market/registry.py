"""The asset registry (`hyperliquid_assets`) from `meta` and `spotMeta`: pure functions.

The registry is the source of truth for channel capability: a read plan skips an unsupported
(asset, channel) pair, such as funding for a spot pair, before it reaches market memory.
Spot pairs are named BASE/QUOTE ("HYPE/USDC") whatever their wire name ("@107").
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Collection, Iterable, Sequence
from typing import Literal

import msgspec

from clash.market.hyperliquid import wire
from clash.market.taxonomy import Taxonomy, categorize, trending

Kind = Literal["perp", "spot"]

SPOT_CHANNELS: tuple[str, ...] = ("candles_1m", "candles_1h", "indicators", "mids")
PERP_CHANNELS: tuple[str, ...] = (*SPOT_CHANNELS, "funding", "profiles")
SPOT_INDEX_OFFSET = 10_000
"""Hyperliquid's asset id of spot pair `i` is 10000 + i."""


class AssetInfo(msgspec.Struct, frozen=True, kw_only=True):
    """One tradable asset as other modules see it (field names match clash.prop's AssetSpec)."""

    symbol: str
    coin: str
    kind: Kind
    asset_index: int
    sz_decimals: int
    max_leverage: int
    is_spot: bool
    enabled: bool
    delisted: bool = False
    only_isolated: bool = False
    base: str | None = None
    quote: str | None = None
    channels: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    trending: bool = False

    def supports(self, channel: str) -> bool:
        return channel in self.channels


class AssetStats(msgspec.Struct, frozen=True):
    """24h figures from the asset contexts: what Trending ranks on."""

    symbol: str
    day_ntl_vlm: float
    prev_day_px: float
    mark_px: float
    at_ms: int

    @property
    def change_24h(self) -> float:
        return self.mark_px / self.prev_day_px - 1 if self.prev_day_px > 0 else math.nan


class RegistryVersion:
    """An in-memory change counter of the registry and its 24h stats (which Trending ranks on),
    bumped by the Hyperliquid source after each write. `tag` names a state for ETags: the epoch
    is random per process, so a tag from before a restart never matches."""

    def __init__(self) -> None:
        self.epoch = secrets.token_hex(4)
        self.value = 0

    def bump(self) -> None:
        self.value += 1

    @property
    def tag(self) -> str:
        return f"{self.epoch}.{self.value}"


def _isolated(a: wire.PerpAsset) -> bool:
    return bool(a.onlyIsolated) or a.marginMode in ("strictIsolated", "noCross")


def perp_assets(
    meta: wire.Meta, enabled: Collection[str], taxonomy: Taxonomy | None = None
) -> list[AssetInfo]:
    return [
        AssetInfo(
            symbol=a.name,
            coin=a.name,
            kind="perp",
            asset_index=i,
            sz_decimals=a.szDecimals,
            max_leverage=a.maxLeverage,
            is_spot=False,
            enabled=a.name in enabled and not a.isDelisted,
            delisted=bool(a.isDelisted),
            only_isolated=_isolated(a),
            channels=PERP_CHANNELS,
            categories=tuple(categorize(a.name, taxonomy)),
        )
        for i, a in enumerate(meta.universe)
    ]


def spot_assets(
    spot: wire.SpotMeta, enabled: Collection[str], taxonomy: Taxonomy | None = None
) -> list[AssetInfo]:
    """Spot pairs named BASE/QUOTE; a pair whose tokens are unknown keeps its wire name."""
    tokens = {t.index: t for t in spot.tokens}
    out: list[AssetInfo] = []
    taken: set[str] = set()
    for pair in sorted(spot.universe, key=lambda p: p.index):
        base, quote = tokens.get(pair.tokens[0]), tokens.get(pair.tokens[1])
        symbol = f"{base.name}/{quote.name}" if base and quote else pair.name
        if symbol in taken:
            symbol = pair.name
        taken.add(symbol)
        out.append(
            AssetInfo(
                symbol=symbol,
                coin=pair.name,
                kind="spot",
                asset_index=SPOT_INDEX_OFFSET + pair.index,
                sz_decimals=base.szDecimals if base else 0,
                max_leverage=1,
                is_spot=True,
                enabled=symbol in enabled or pair.name in enabled,
                base=base.name if base else None,
                quote=quote.name if quote else None,
                channels=SPOT_CHANNELS,
                categories=tuple(categorize(symbol, taxonomy)),
            )
        )
    return out


def build_registry(
    meta: wire.Meta, spot: wire.SpotMeta, enabled: Collection[str], taxonomy: Taxonomy | None = None
) -> list[AssetInfo]:
    """Perps then spot pairs; a perp and a spot pair never share a symbol ("HYPE" vs "HYPE/USDC")."""
    wanted = set(enabled)
    return perp_assets(meta, wanted, taxonomy) + spot_assets(spot, wanted, taxonomy)


def perp_stats(ctxs: Iterable[wire.AssetCtx], at_ms: int) -> list[AssetStats]:
    return [AssetStats(c.coin, c.day_ntl_vlm, c.prev_day_px, c.mark_px, at_ms) for c in ctxs]


def spot_stats(
    value: wire.SpotMetaAndAssetCtxs, symbol_of_coin: dict[str, str], at_ms: int
) -> list[AssetStats]:
    """Spot ctxs carry their coin; pairs the registry does not know are skipped."""
    _, ctxs = value
    out = []
    for c in ctxs:
        symbol = symbol_of_coin.get(c.coin)
        if symbol is None:
            continue
        try:
            out.append(
                AssetStats(symbol, float(c.dayNtlVlm), float(c.prevDayPx), float(c.markPx), at_ms)
            )
        except ValueError as exc:
            raise wire.DecodeError(f"spot ctx {c.coin}: {exc}") from None
    return out


def trending_symbols(stats: Sequence[AssetStats], top_n: int) -> list[str]:
    """The taxonomy's Trending: 24h move weighted by log volume, over liquid markets."""
    return trending(((s.symbol, s.day_ntl_vlm, s.change_24h) for s in stats), top_n)
