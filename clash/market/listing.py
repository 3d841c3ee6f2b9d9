"""The asset registry as the asset picker reads it: listings, filters, pages and the category tree
with counts. Pure functions over `AssetInfo` rows; `MarketModule` feeds them."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Literal

import msgspec

from clash.market.registry import AssetInfo, Kind
from clash.market.taxonomy import CATEGORIES, UNMAPPED, Taxonomy, default_taxonomy

AssetClass = Literal["Crypto", "Tradfi"]

FILTER_CATEGORIES: tuple[str, ...] = (*CATEGORIES, UNMAPPED)
"""What `category` filters on: every selectable category id, and Unmapped."""


class Capabilities(msgspec.Struct, frozen=True, kw_only=True):
    """Which market-memory channels exist for an asset (spot pairs have no funding, open
    interest or profiles: those come from the perp asset contexts)."""

    candles: bool
    indicators: bool
    mids: bool
    funding: bool
    open_interest: bool
    profiles: bool


class AssetListing(msgspec.Struct, frozen=True, kw_only=True):
    """One registry asset for the picker. `categories` are the taxonomy's ids (market type,
    asset class, subcategories, and "Unmapped" when the data file does not place it);
    `provenance` says where each placement comes from (docs/taxonomy.md#sources)."""

    symbol: str
    coin: str
    kind: Kind
    asset_class: AssetClass | None
    subcategories: tuple[str, ...]
    categories: tuple[str, ...]
    unmapped: bool
    provenance: dict[str, str]
    capabilities: Capabilities
    enabled: bool
    delisted: bool
    trending: bool
    max_leverage: int | None
    sz_decimals: int | None
    base: str | None = None
    quote: str | None = None


class AssetPage(msgspec.Struct, frozen=True):
    """A page of listings in symbol order; `next_cursor` is the last symbol when more follow."""

    items: list[AssetListing]
    next_cursor: str | None


class CategoryCount(msgspec.Struct, frozen=True):
    """A category of the seed 004 tree and how many registry assets it holds."""

    id: str
    name: str
    count: int
    children: list[CategoryCount] = []


class UnmappedBucket(msgspec.Struct, frozen=True):
    """Assets the taxonomy data does not fully place, in symbol order."""

    count: int
    symbols: list[str]


class CategoryTree(msgspec.Struct, frozen=True):
    items: list[CategoryCount]
    unmapped: UnmappedBucket


def listing(info: AssetInfo, trending: bool, taxonomy: Taxonomy | None = None) -> AssetListing:
    channels = set(info.channels)
    perp = info.kind == "perp"
    asset_class: AssetClass | None = (
        "Crypto"
        if "Crypto" in info.categories
        else "Tradfi"
        if "Tradfi" in info.categories
        else None
    )
    return AssetListing(
        symbol=info.symbol,
        coin=info.coin,
        kind=info.kind,
        asset_class=asset_class,
        subcategories=tuple(c for c in info.categories if "/" in c),
        categories=info.categories,
        unmapped=UNMAPPED in info.categories,
        provenance=(taxonomy or default_taxonomy()).provenance(info.symbol),
        capabilities=Capabilities(
            candles="candles_1m" in channels,
            indicators="indicators" in channels,
            mids="mids" in channels,
            funding="funding" in channels,
            open_interest=perp and "funding" in channels,
            profiles="profiles" in channels,
        ),
        enabled=info.enabled,
        delisted=info.delisted,
        trending=trending,
        max_leverage=info.max_leverage if perp else None,
        sz_decimals=info.sz_decimals if perp or info.base is not None else None,
        base=info.base,
        quote=info.quote,
    )


def listings(
    assets: Sequence[AssetInfo], hot: Collection[str], taxonomy: Taxonomy | None = None
) -> list[AssetListing]:
    """Every asset (disabled and delisted included) in symbol order, Trending marked."""
    hot = set(hot)
    ordered = sorted(assets, key=lambda a: a.symbol)
    return [listing(a, a.symbol in hot, taxonomy) for a in ordered]


def member_of(a: AssetListing) -> set[str]:
    """Every FILTER_CATEGORIES id the listing belongs to."""
    return {"All", *a.categories, *(("Trending",) if a.trending else ())}


def page(
    items: Sequence[AssetListing],
    *,
    category: str | None = None,
    kind: Kind | None = None,
    prefix: str | None = None,
    trending: bool | None = None,
    cursor: str | None = None,
    limit: int = 100,
) -> AssetPage:
    """Filter symbol-ordered listings, then take `limit` after `cursor` (a symbol). `prefix`
    matches the start of the symbol, case-insensitively."""
    if category is not None and category not in FILTER_CATEGORIES:
        raise ValueError(f"unknown category {category!r}")
    folded = prefix.casefold() if prefix else None
    out: list[AssetListing] = []
    for a in items:
        if cursor is not None and a.symbol <= cursor:
            continue
        if category is not None and category not in member_of(a):
            continue
        if kind is not None and a.kind != kind:
            continue
        if folded is not None and not a.symbol.casefold().startswith(folded):
            continue
        if trending is not None and a.trending != trending:
            continue
        if len(out) == limit:
            return AssetPage(out, out[-1].symbol)
        out.append(a)
    return AssetPage(out, None)


def _name(category: str) -> str:
    return category.rpartition("/")[2]


def category_tree(items: Sequence[AssetListing]) -> CategoryTree:
    """The seed 004 tree (CATEGORIES order, subcategories under their parent) with counts, and
    the Unmapped assets."""
    counts = dict.fromkeys(FILTER_CATEGORIES, 0)
    for a in items:
        for c in member_of(a):
            counts[c] += 1
    tops = [c for c in CATEGORIES if "/" not in c]
    tree = [
        CategoryCount(
            top,
            top,
            counts[top],
            [CategoryCount(c, _name(c), counts[c]) for c in CATEGORIES if c.startswith(f"{top}/")],
        )
        for top in tops
    ]
    unmapped = [a.symbol for a in items if a.unmapped]
    return CategoryTree(tree, UnmappedBucket(len(unmapped), unmapped))
