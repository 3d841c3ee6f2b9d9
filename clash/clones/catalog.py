"""What the clone service needs to know about the asset registry, behind a small protocol.

Graph validation asks one question of the market module: which symbols exist, can they be
traded, and which data channels does each support. `AssetCatalog` is that question; the market
module's registry answers it at run time (`MarketCatalog`), a static table answers it in tests
and on a boot without the market module (`StaticCatalog`, `sim_catalog`).

Capabilities are coarse families, not storage tables: a graph channel needs one capability
(`clash.clones.graph.HYPERLIQUID_CHANNELS`). The registry's own channel names map onto them
(`candles_1m`/`candles_1h` are both `candles`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal, Protocol

import msgspec

from clash.market import sim_universe

Capability = Literal[
    "candles", "indicators", "funding", "mids", "profiles", "polymarket", "defillama"
]

SPOT_CAPABILITIES: frozenset[str] = frozenset(
    {"candles", "indicators", "mids", "polymarket", "defillama"}
)
PERP_CAPABILITIES: frozenset[str] = SPOT_CAPABILITIES | {"funding", "profiles"}

_REGISTRY_CHANNELS = {"candles_1m": "candles", "candles_1h": "candles"}
_LINKED_SOURCES = frozenset({"polymarket", "defillama"})
"""Polymarket and DefiLlama rows are linked to a symbol by name, so any asset may ask for them."""


class CatalogAsset(msgspec.Struct, frozen=True, kw_only=True):
    """One symbol as graph validation sees it."""

    symbol: str
    is_spot: bool
    enabled: bool = True
    """In the ingestion universe: the market keeps memory for it and prop accounts may trade it."""
    delisted: bool = False
    channels: frozenset[str] = PERP_CAPABILITIES
    trending: bool = False

    def supports(self, capability: str) -> bool:
        return capability in self.channels

    @property
    def tradable(self) -> bool:
        return self.enabled and not self.delisted


class AssetCatalog(Protocol):
    async def assets(self) -> dict[str, CatalogAsset]:
        """Every known symbol, delisted ones included (so validation can say "delisted")."""
        ...


def perp(symbol: str, **kw: Any) -> CatalogAsset:
    return CatalogAsset(
        symbol=symbol, is_spot=False, channels=kw.pop("channels", PERP_CAPABILITIES), **kw
    )


def spot(symbol: str, **kw: Any) -> CatalogAsset:
    return CatalogAsset(
        symbol=symbol, is_spot=True, channels=kw.pop("channels", SPOT_CAPABILITIES), **kw
    )


class StaticCatalog:
    def __init__(self, assets: Iterable[CatalogAsset]) -> None:
        self._assets = {a.symbol: a for a in assets}

    async def assets(self) -> dict[str, CatalogAsset]:
        return dict(self._assets)


def sim_catalog(seed: int, enabled: Iterable[str]) -> StaticCatalog:
    """The simulator's universe (perps, and spot pairs named BASE/QUOTE as the registry names them),
    with `enabled` as the ingestion universe."""
    wanted = set(enabled)
    return StaticCatalog(
        (spot if a.is_spot else perp)(a.symbol, enabled=a.symbol in wanted or a.pair in wanted)
        for a in sim_universe(seed)
    )


def from_registry(item: Any) -> CatalogAsset:
    """Convert a registry entry (clash.market.AssetInfo or anything shaped like it)."""
    channels = {_REGISTRY_CHANNELS.get(c, c) for c in getattr(item, "channels", ())}
    return CatalogAsset(
        symbol=item.symbol,
        is_spot=bool(item.is_spot),
        enabled=bool(getattr(item, "enabled", True)),
        delisted=bool(getattr(item, "delisted", False)),
        channels=frozenset(channels | _LINKED_SOURCES),
        trending=bool(getattr(item, "trending", False)),
    )


class MarketCatalog:
    """The market module's registry, read on every call (it changes as Hyperliquid lists and delists).

    `source` returns the registry entries, sync or async, as a list or a symbol-keyed mapping.
    """

    def __init__(self, source: Callable[[], Any]) -> None:
        self._source = source

    async def assets(self) -> dict[str, CatalogAsset]:
        found = self._source()
        if inspect.isawaitable(found):
            found = await found
        items = found.values() if isinstance(found, Mapping) else found
        return {a.symbol: a for a in map(from_registry, items)}
