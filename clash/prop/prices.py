"""Where an account reads execution prices, asset specs and funding rates from.

The market module provides the live source; `ScriptedPrices` is a settable one for tests and
benches.
A source that is down raises `PriceUnavailable`: marks are skipped and actions are rejected with
`no_price` until it is back. Any other exception is a bug and crashes the account actor (which
restarts and reloads from SQLite).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any, Protocol

import msgspec

from clash.prop.fills import AssetSpec


class PriceUnavailable(Exception):
    """The source cannot answer now (an outage); callers degrade instead of crashing."""


class FundingRate(msgspec.Struct, frozen=True, kw_only=True):
    rate: Decimal
    """Hourly rate; positive means longs pay shorts."""
    oracle_px: Decimal | None = None


class PriceSource(Protocol):
    async def marks(self, symbols: Iterable[str]) -> dict[str, Decimal]:
        """Latest execution prices; a symbol without a price is left out."""

    async def assets(self, symbols: Iterable[str]) -> dict[str, AssetSpec]:
        """Specs of the symbols the source knows; an unknown symbol is left out."""

    async def funding(self, symbols: Iterable[str]) -> dict[str, FundingRate]:
        """Current hourly funding of the symbols that have one."""


class NoPrices:
    """The source of a runtime with no market feed: every question is an outage."""

    async def marks(self, symbols: Iterable[str]) -> dict[str, Decimal]:
        raise PriceUnavailable("no price source is configured")

    async def assets(self, symbols: Iterable[str]) -> dict[str, AssetSpec]:
        raise PriceUnavailable("no price source is configured")

    async def funding(self, symbols: Iterable[str]) -> dict[str, FundingRate]:
        raise PriceUnavailable("no price source is configured")


class ScriptedPrices:
    """Prices a test sets by hand: `set(BTC="100000")`, `set_funding("BTC", "0.0001")`,
    `fail_next(RuntimeError("boom"))` to make the next call raise once."""

    def __init__(
        self,
        specs: Iterable[AssetSpec] = (),
        prices: Mapping[str, Decimal | str | int] | None = None,
    ) -> None:
        self.specs: dict[str, AssetSpec] = {s.symbol: s for s in specs}
        self.prices: dict[str, Decimal] = {k: Decimal(v) for k, v in (prices or {}).items()}
        self.rates: dict[str, FundingRate] = {}
        self._failures: list[BaseException] = []

    def set(self, **prices: Decimal | str | int) -> None:
        for symbol, px in prices.items():
            self.prices[symbol] = Decimal(px)

    def remove(self, *symbols: str) -> None:
        for symbol in symbols:
            self.prices.pop(symbol, None)

    def set_funding(
        self, symbol: str, rate: Decimal | str, oracle_px: Decimal | str | None = None
    ) -> None:
        self.rates[symbol] = FundingRate(
            rate=Decimal(rate), oracle_px=None if oracle_px is None else Decimal(oracle_px)
        )

    def fail_next(self, error: BaseException, times: int = 1) -> None:
        """The next `times` calls (of any method) raise `error`."""
        self._failures += [error] * times

    def _call(self) -> None:
        if self._failures:
            raise self._failures.pop(0)

    async def marks(self, symbols: Iterable[str]) -> dict[str, Decimal]:
        self._call()
        return {s: self.prices[s] for s in symbols if s in self.prices}

    async def assets(self, symbols: Iterable[str]) -> dict[str, AssetSpec]:
        self._call()
        return {s: self.specs[s] for s in symbols if s in self.specs}

    async def funding(self, symbols: Iterable[str]) -> dict[str, FundingRate]:
        self._call()
        return {s: self.rates[s] for s in symbols if s in self.rates}


class MarketPrices:
    """The live source: the market module's latest marks, asset registry and funding.

    A mark older than `max_age_ms` counts as missing, so a feed outage shows as `no_price`
    rejections and skipped marks rather than fills at a stale price.
    """

    def __init__(self, market: MarketReads, max_age_ms: int = 120_000) -> None:
        self.market = market
        self.max_age_ms = max_age_ms

    async def marks(self, symbols: Iterable[str]) -> dict[str, Decimal]:
        return await self.market.latest_marks(list(symbols), max_age_ms=self.max_age_ms)

    async def assets(self, symbols: Iterable[str]) -> dict[str, AssetSpec]:
        wanted = set(symbols)
        specs = await self.market.asset_specs()
        return {
            symbol: AssetSpec(
                symbol=symbol,
                sz_decimals=info.sz_decimals,
                max_leverage=info.max_leverage,
                is_spot=info.is_spot,
                enabled=info.enabled and not info.delisted,
            )
            for symbol, info in specs.items()
            if symbol in wanted
        }

    async def funding(self, symbols: Iterable[str]) -> dict[str, FundingRate]:
        rates = await self.market.funding_rates(list(symbols))
        return {
            symbol: FundingRate(rate=rate, oracle_px=px) for symbol, (rate, px) in rates.items()
        }


class MarketReads(Protocol):
    """The part of the market module's public API that prices come from."""

    async def latest_marks(
        self, symbols: list[str], *, max_age_ms: int | None = None
    ) -> dict[str, Decimal]: ...

    async def asset_specs(self) -> Mapping[str, Any]: ...

    async def funding_rates(self, symbols: list[str]) -> Mapping[str, tuple[Decimal, Decimal]]: ...
