"""Asset taxonomy: the selectable categories of seed 004, and which symbols belong to each.

Category ids are the seed's names, subcategories as "Parent/Child": "Perps", "Crypto/Layer 1",
"Tradfi/Pre-IPO", "Spot/USDT". "Crypto: All" is "Crypto". "All" and "Trending" are computed, not
stored. The symbol lists live in taxonomy.toml (provenance in docs/taxonomy.md).

Symbols are Hyperliquid names: main-dex perps "BTC", HIP-3 perps "dex:COIN", spot pairs "BASE/QUOTE"
(the registry resolves "@107" to "HYPE/USDC" through spotMeta). A symbol the data file does not
place gets the UNMAPPED marker: it stays visible (and selectable through "All", "Perps", "Spot",
or its asset class) until someone maps it.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable
from functools import cache
from pathlib import Path
from typing import Literal, get_args

import msgspec

CryptoSub = Literal["AI", "Defi", "Gaming", "Layer 1", "Layer 2", "Meme"]
TradfiSub = Literal["Stocks", "Indices", "Commodities", "FX", "Pre-IPO"]
SpotSub = Literal["USDC", "USDH", "USDT"]

CRYPTO_SUBS: tuple[str, ...] = get_args(CryptoSub)
TRADFI_SUBS: tuple[str, ...] = get_args(TradfiSub)
SPOT_SUBS: tuple[str, ...] = get_args(SpotSub)

CATEGORIES: tuple[str, ...] = (
    "All",
    "Perps",
    "Spot",
    *(f"Spot/{s}" for s in SPOT_SUBS),
    "Crypto",
    *(f"Crypto/{s}" for s in CRYPTO_SUBS),
    "Tradfi",
    *(f"Tradfi/{s}" for s in TRADFI_SUBS),
    "Trending",
)
"""Every selectable category id, in the seed's order."""

UNMAPPED = "Unmapped"

SOURCES: dict[str, str] = {
    "crypto": "hyperliquid_app",
    "crypto_added": "clash_added",
    "tradfi": "hyperliquid_perp_categories",
    "spot_quotes": "spot_quote",
    "market_type": "registry",
    "hip3": "hip3_dex",
    "main_dex": "main_dex",
}
"""Where a category placement comes from, by taxonomy.toml section (docs/taxonomy.md#sources):
the app's crypto lists, our additions, Hyperliquid's `perpCategories`, the spot quote token, the
registry's perp/spot kind, the trade.xyz dex rule for unlisted HIP-3 perps (tradfi) and the
main-dex rule for unlisted main-dex perps (crypto)."""

DATA_FILE = Path(__file__).with_name("taxonomy.toml")


class _Hip3(msgspec.Struct, forbid_unknown_fields=True):
    tradfi_dexes: list[str]


class TaxonomyData(msgspec.Struct, forbid_unknown_fields=True):
    """The schema of taxonomy.toml."""

    crypto: dict[CryptoSub, list[str]]
    crypto_added: dict[CryptoSub, list[str]]
    tradfi: dict[TradfiSub, list[str]]
    hip3: _Hip3
    spot_quotes: dict[str, SpotSub]


class Taxonomy:
    """Symbol lookups built from a `TaxonomyData`."""

    def __init__(self, data: TaxonomyData) -> None:
        members: dict[str, set[str]] = {}
        self._placed: dict[tuple[str, str], str] = {}
        sources = (
            ("Crypto", data.crypto, SOURCES["crypto"]),
            ("Crypto", data.crypto_added, SOURCES["crypto_added"]),
            ("Tradfi", data.tradfi, SOURCES["tradfi"]),
        )
        for parent, lists, source in sources:
            for sub, symbols in lists.items():
                if len(set(symbols)) != len(symbols):
                    raise ValueError(f"{parent}/{sub} lists a symbol twice")
                for symbol in symbols:
                    if _is_spot(symbol) or ((":" in symbol) != (parent == "Tradfi")):
                        raise ValueError(f"{symbol!r} is not a {parent.lower()} perp name")
                    members.setdefault(symbol, set()).add(f"{parent}/{sub}")
                    self._placed.setdefault((symbol, f"{parent}/{sub}"), source)
                    self._placed.setdefault((symbol, parent), source)
        self._subs = {s: tuple(c for c in CATEGORIES if c in cats) for s, cats in members.items()}
        self._tradfi_dexes = frozenset(data.hip3.tradfi_dexes)
        self._spot_quotes = dict(data.spot_quotes)

    @property
    def mapped_symbols(self) -> frozenset[str]:
        return frozenset(self._subs)

    def categorize(self, symbol: str) -> list[str]:
        """The stored categories of `symbol`, in CATEGORIES order, with UNMAPPED when incomplete.

        Market type first ("Perps" or "Spot"), then asset class and subcategories. Spot pairs are
        grouped by quote token only: their base asset gets no Crypto/Tradfi category.
        """
        if _is_spot(symbol):
            quote = symbol.rpartition("/")[2] if "/" in symbol else None
            group = self._spot_quotes.get(quote) if quote else None
            return ["Spot", f"Spot/{group}" if group else UNMAPPED]
        subs = self._subs.get(symbol)
        if subs:
            return ["Perps", subs[0].partition("/")[0], *subs]
        dex, sep, _ = symbol.partition(":")
        if not sep:
            return ["Perps", "Crypto", UNMAPPED]
        if dex in self._tradfi_dexes:
            return ["Perps", "Tradfi", UNMAPPED]
        return ["Perps", UNMAPPED]

    def provenance(self, symbol: str) -> dict[str, str]:
        """category id → where that placement comes from (a `SOURCES` value), for every category
        `categorize` gives `symbol` but UNMAPPED."""
        out: dict[str, str] = {}
        for category in self.categorize(symbol):
            if category == UNMAPPED:
                continue
            if category in ("Perps", "Spot"):
                out[category] = SOURCES["market_type"]
            elif category.startswith("Spot/"):
                out[category] = SOURCES["spot_quotes"]
            elif (symbol, category) in self._placed:
                out[category] = self._placed[(symbol, category)]
            else:  # an unlisted perp's class: main dex is crypto, a tradfi dex is tradfi
                out[category] = SOURCES["hip3"] if ":" in symbol else SOURCES["main_dex"]
        return out


def _is_spot(symbol: str) -> bool:
    return "/" in symbol or symbol.startswith("@")


def load_taxonomy(path: Path = DATA_FILE) -> Taxonomy:
    """Read and check a taxonomy data file (bad: msgspec.ValidationError or ValueError)."""
    return Taxonomy(msgspec.toml.decode(path.read_bytes(), type=TaxonomyData))


@cache
def default_taxonomy() -> Taxonomy:
    return load_taxonomy()


def categorize(symbol: str, taxonomy: Taxonomy | None = None) -> list[str]:
    """See `Taxonomy.categorize`; uses the repository's taxonomy.toml by default."""
    return (taxonomy or default_taxonomy()).categorize(symbol)


def provenance(symbol: str, taxonomy: Taxonomy | None = None) -> dict[str, str]:
    """See `Taxonomy.provenance`."""
    return (taxonomy or default_taxonomy()).provenance(symbol)


class Selected(msgspec.Struct, frozen=True):
    """A symbol in the effective trade universe, and why: "explicit" or "category:<id>"."""

    symbol: str
    source: str


def select(
    universe: Iterable[str],
    categories: Collection[str],
    enables: Collection[str] = (),
    disables: Collection[str] = (),
    *,
    trending_symbols: Collection[str] = (),
    taxonomy: Taxonomy | None = None,
) -> list[Selected]:
    """The enabled trade universe from a clone's asset selection (seed 003, format A).

    A symbol is selected when it is explicitly enabled or belongs to a selected category, unless it
    is explicitly disabled: disabling wins. Only `universe` symbols can be selected; check
    `enables` against it at graph save. The source names the explicit enable, else the first
    selected category (in CATEGORIES order) that contains the symbol. "Trending" contains
    `trending_symbols` (see `trending`). Output follows `universe` order.
    """
    unknown = sorted(set(categories) - set(CATEGORIES))
    if unknown:
        raise ValueError(f"unknown categories {unknown}; valid: {list(CATEGORIES)}")
    chosen = [c for c in CATEGORIES if c in categories]
    enabled, disabled, hot = set(enables), set(disables), set(trending_symbols)
    tax = taxonomy or default_taxonomy()
    out: list[Selected] = []
    for symbol in dict.fromkeys(universe):
        if symbol in disabled:
            continue
        if symbol in enabled:
            out.append(Selected(symbol, "explicit"))
            continue
        member = {"All", *tax.categorize(symbol)}
        if symbol in hot:
            member.add("Trending")
        hit = next((c for c in chosen if c in member), None)
        if hit is not None:
            out.append(Selected(symbol, f"category:{hit}"))
    return out


TREND_MIN_VOLUME_USD = 1_000_000.0


def trending(
    stats: Iterable[tuple[str, float, float]],
    top_n: int,
    *,
    min_volume_usd: float = TREND_MIN_VOLUME_USD,
) -> list[str]:
    """The `top_n` trending symbols from (symbol, 24h notional volume USD, 24h change) rows.

    score = |change_24h| * log10(day_volume_usd), over markets with at least `min_volume_usd`.
    The size of the move ranks; volume tilts it towards where the trading is, logarithmically, so
    a 3% move on $1B (0.27) loses to a 10% move on $20M (0.73), while thin markets under the floor
    cannot trend at all. Ties go to the larger volume, then the symbol. `change_24h` is a fraction:
    from metaAndAssetCtxs, markPx / prevDayPx - 1, with volume dayNtlVlm. Rows with a non-finite
    number are ignored.
    """
    if top_n < 0:
        raise ValueError("top_n must be >= 0")
    if not min_volume_usd >= 1.0:
        raise ValueError("min_volume_usd must be >= 1 (log10 of the volume weights the score)")
    ranked = [
        (-abs(change) * math.log10(volume), -volume, symbol)
        for symbol, volume, change in stats
        if math.isfinite(volume) and math.isfinite(change) and volume >= min_volume_usd
    ]
    ranked.sort()
    return [symbol for *_, symbol in ranked[:top_n]]
