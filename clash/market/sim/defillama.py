"""DefiLlama simulator: the free-API paths our client calls, in DefiLlama's own JSON shapes.

Both hosts (`api.llama.fi` and `stablecoins.llama.fi`) are served from one route list; their
paths do not collide. Every number is a pure function of `(seed, now_ms)`: each series is a
smooth deterministic curve with a little hourly noise, so daily history, the current value and
the 1d/7d changes all agree with each other the way the real API's do.

Shapes follow the OpenAPI spec (`shared/fixtures/specs/defillama-openapi-free.json`), the
recorded `/v2/chains` (string `chainId` for Evmos, unsorted list) and FORMATS.md §5 for fields
the spec leaves out (`circulatingPrevDay…`, `totalCirculatingUSD`, `total48hto24h`, string
`date` in stablecoin charts as reported by several clients).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

__all__ = ["routes_for"]

DAY_MS = 86_400_000
DAY_S = 86_400
_HISTORY_DAYS = 120
_CHART_DAYS = 90

# name, gecko_id, tokenSymbol, cmcId, chainId, base TVL (USD)
_CHAINS: tuple[tuple[str, str | None, str | None, str | None, int | str | None, float], ...] = (
    ("Tron", "tron", "TRON", "1958", None, 5.2e9),
    ("Ethereum", "ethereum", "ETH", "1027", 1, 61.0e9),
    ("Hyperliquid L1", "hyperliquid", "HYPE", None, 999, 2.1e9),
    ("BSC", "binancecoin", "BNB", "1839", 56, 6.4e9),
    ("Solana", "solana", "SOL", "5426", None, 9.3e9),
    ("Bitcoin", "bitcoin", "BTC", "1", None, 6.1e9),
    ("Base", None, None, None, 8453, 4.2e9),
    ("Arbitrum", "arbitrum", "ARB", "11841", 42161, 3.1e9),
    ("Evmos", "evmos", "EVMOS", None, "9001", 1.9e6),
    ("Avalanche", "avalanche-2", "AVAX", "5805", 43114, 1.6e9),
)
_CHAIN_NAMES = tuple(c[0] for c in _CHAINS)

# id, name, slug, symbol, category, chains, base TVL
_PROTOCOLS: tuple[tuple[str, str, str, str, str, tuple[str, ...], float], ...] = (
    ("182", "Lido", "lido", "LDO", "Liquid Staking", ("Ethereum", "Solana"), 25.0e9),
    (
        "1599",
        "Aave V3",
        "aave-v3",
        "AAVE",
        "Lending",
        ("Ethereum", "Arbitrum", "Base", "Avalanche"),
        21.0e9,
    ),
    ("4481", "Hyperliquid Bridge", "hyperliquid-bridge", "HYPE", "Bridge", ("Arbitrum",), 4.3e9),
    ("2198", "Uniswap V3", "uniswap-v3", "UNI", "Dexes", ("Ethereum", "Arbitrum", "Base"), 4.1e9),
    ("194", "PancakeSwap AMM", "pancakeswap-amm", "CAKE", "Dexes", ("BSC",), 2.0e9),
    (
        "5507",
        "Hyperliquid HLP",
        "hyperliquid-hlp",
        "HYPE",
        "Derivatives",
        ("Hyperliquid L1",),
        0.4e9,
    ),
)

# Dimension overviews: name, displayName, category, chains, base daily value (USD)
_Dim = tuple[str, str, str, tuple[str, ...], float]
_DEXS: tuple[_Dim, ...] = (
    ("Uniswap V3", "Uniswap V3", "Dexs", ("Ethereum", "Arbitrum", "Base"), 1.6e9),
    ("PancakeSwap AMM V3", "PancakeSwap AMM V3", "Dexs", ("BSC",), 1.1e9),
    ("Raydium AMM", "Raydium AMM", "Dexs", ("Solana",), 0.9e9),
    (
        "Hyperliquid Spot Orderbook",
        "Hyperliquid Spot Orderbook",
        "Dexs",
        ("Hyperliquid L1",),
        0.15e9,
    ),
    ("Aerodrome Slipstream", "Aerodrome Slipstream", "Dexs", ("Base",), 0.4e9),
)
_FEES: tuple[_Dim, ...] = (
    ("Lido", "Lido", "Liquid Staking", ("Ethereum",), 2.6e6),
    ("Uniswap V3", "Uniswap V3", "Dexs", ("Ethereum", "Arbitrum", "Base"), 2.1e6),
    ("Aave V3", "Aave V3", "Lending", ("Ethereum", "Arbitrum", "Base", "Avalanche"), 2.4e6),
    ("Hyperliquid Perps", "Hyperliquid Perps", "Derivatives", ("Hyperliquid L1",), 3.1e6),
    ("PancakeSwap AMM V3", "PancakeSwap AMM V3", "Dexs", ("BSC",), 0.9e6),
)
_OPEN_INTEREST: tuple[_Dim, ...] = (
    ("Hyperliquid Perps", "Hyperliquid Perps", "Derivatives", ("Hyperliquid L1",), 14.3e9),
    ("Jupiter Perpetual Exchange", "Jupiter Perpetual Exchange", "Derivatives", ("Solana",), 1.2e9),
    ("GMX V2 Perps", "GMX V2 Perps", "Derivatives", ("Arbitrum", "Avalanche"), 0.6e9),
)
# share of fees kept as revenue, then paid on to token holders
_REVENUE_SHARE = {
    "Lido": 0.1,
    "Uniswap V3": 0.0,
    "Aave V3": 0.15,
    "Hyperliquid Perps": 0.99,
    "PancakeSwap AMM V3": 0.12,
}
_HOLDERS_SHARE = {"Lido": 0.0, "Aave V3": 0.3, "Hyperliquid Perps": 0.97, "PancakeSwap AMM V3": 0.5}

# id, name, symbol, gecko_id, pegType, pegMechanism, chains, base supply (peg units), price
_STABLES: tuple[tuple[str, str, str, str, str, str, tuple[str, ...], float, float], ...] = (
    (
        "1",
        "Tether",
        "USDT",
        "tether",
        "peggedUSD",
        "fiat-backed",
        ("Tron", "Ethereum", "BSC", "Solana", "Arbitrum"),
        150.0e9,
        1.0003,
    ),
    (
        "2",
        "USD Coin",
        "USDC",
        "usd-coin",
        "peggedUSD",
        "fiat-backed",
        ("Ethereum", "Solana", "Base", "Arbitrum", "Hyperliquid L1"),
        61.0e9,
        0.9999,
    ),
    (
        "146",
        "Ethena USDe",
        "USDe",
        "ethena-usde",
        "peggedUSD",
        "crypto-backed",
        ("Ethereum",),
        6.2e9,
        1.0,
    ),
    (
        "5",
        "Dai",
        "DAI",
        "dai",
        "peggedUSD",
        "crypto-backed",
        ("Ethereum", "Arbitrum", "Base"),
        4.9e9,
        1.0001,
    ),
    (
        "50",
        "EURC",
        "EURC",
        "euro-coin",
        "peggedEUR",
        "fiat-backed",
        ("Ethereum", "Solana"),
        0.21e9,
        1.08,
    ),
)


def _u(seed: int, *parts: object) -> float:
    digest = hashlib.blake2b(repr((seed, *parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def _level(seed: int, key: str, t_days: float) -> float:
    """A smooth multiplier around 1.0 (two slow waves plus hourly noise)."""
    p1 = _u(seed, key, "p1") * 2 * math.pi
    p2 = _u(seed, key, "p2") * 2 * math.pi
    noise = _u(seed, key, math.floor(t_days * 24)) - 0.5
    return (
        1
        + 0.12 * math.sin(2 * math.pi * t_days / 47 + p1)
        + 0.04 * math.sin(2 * math.pi * t_days / 11 + p2)
        + 0.01 * noise
    )


def _weights(seed: int, key: str, chains: tuple[str, ...]) -> dict[str, float]:
    raw = {c: 0.2 + _u(seed, key, "w", c) for c in chains}
    raw[chains[0]] += 1.5  # the home chain dominates, as it does in the real data
    total = sum(raw.values())
    return {c: v / total for c, v in raw.items()}


def _pct(now: float, then: float) -> float | None:
    return None if then == 0 else (now / then - 1) * 100


def _json(body: Any) -> Response:
    return Response(msgspec.json.encode(body), media_type="application/json")


def _flag(request: Request, key: str) -> bool:
    return request.query_params.get(key, "false").lower() == "true"


def _find(name: str, names: tuple[str, ...]) -> str | None:
    """Chain names in paths arrive as `Ethereum`, `ethereum` or `hyperliquid-l1`."""
    key = name.casefold().replace("-", " ")
    return next((n for n in names if n.casefold() == key), None)


class _Model:
    def __init__(self, seed: int, now_ms: int) -> None:
        self.seed = seed
        self.t = now_ms / DAY_MS
        self.today = now_ms // DAY_MS

    # ------------------------------------------------------------ TVL

    def chain_tvl(self, name: str, t_days: float) -> float:
        base = next(c[5] for c in _CHAINS if c[0] == name)
        return base * _level(self.seed, f"chain:{name}", t_days)

    def chains(self) -> list[dict[str, Any]]:
        return [
            {
                "gecko_id": g,
                "tvl": self.chain_tvl(n, self.t),
                "tokenSymbol": sym,
                "cmcId": cmc,
                "name": n,
                "chainId": cid,
            }
            for n, g, sym, cmc, cid, _ in _CHAINS
        ]

    def history(self, chain: str | None) -> list[dict[str, Any]]:
        names = _CHAIN_NAMES if chain is None else (chain,)
        days = range(self.today - _HISTORY_DAYS + 1, self.today + 1)
        return [{"date": d * DAY_S, "tvl": sum(self.chain_tvl(n, d) for n in names)} for d in days]

    def protocol_tvl(self, slug: str, base: float, t_days: float) -> float:
        return base * _level(self.seed, f"protocol:{slug}", t_days)

    def protocols(self) -> list[dict[str, Any]]:
        out = []
        for pid, name, slug, symbol, category, chains, base in _PROTOCOLS:
            tvl = self.protocol_tvl(slug, base, self.t)
            weights = _weights(self.seed, slug, chains)
            out.append(
                {
                    "id": pid,
                    "name": name,
                    "address": None,
                    "symbol": symbol,
                    "url": f"https://{slug}.example",
                    "description": f"{name} ({category}).",
                    "chain": chains[0] if len(chains) == 1 else "Multi-Chain",
                    "logo": f"https://icons.llama.fi/{slug}.jpg",
                    "audits": "2",
                    "audit_note": None,
                    "gecko_id": None,
                    "cmcId": None,
                    "category": category,
                    "chains": list(chains),
                    "module": f"{slug}/index.js",
                    "twitter": None,
                    "forkedFrom": [],
                    "oracles": [],
                    "listedAt": 1_640_000_000,
                    "slug": slug,
                    "tvl": tvl,
                    "chainTvls": {c: tvl * w for c, w in weights.items()},
                    "change_1h": _pct(tvl, self.protocol_tvl(slug, base, self.t - 1 / 24)),
                    "change_1d": _pct(tvl, self.protocol_tvl(slug, base, self.t - 1)),
                    "change_7d": _pct(tvl, self.protocol_tvl(slug, base, self.t - 7)),
                    "tokenBreakdowns": {},
                    "mcap": None,
                }
            )
        return out

    # ------------------------------------------------------------ dimension overviews

    def daily(self, kind: str, row: _Dim, day: int, data_type: str) -> float:
        value = row[4] * _level(self.seed, f"{kind}:{row[0]}", day)
        if data_type in ("dailyRevenue", "dailyHoldersRevenue"):
            value *= _REVENUE_SHARE.get(row[0], 0.0)
        if data_type == "dailyHoldersRevenue":
            value *= _HOLDERS_SHARE.get(row[0], 0.0)
        return value

    def overview(
        self,
        kind: str,
        rows: tuple[_Dim, ...],
        chain: str | None,
        data_type: str,
        with_chart: bool,
        with_breakdown: bool,
    ) -> dict[str, Any]:
        last = self.today - 1  # totals cover complete UTC days

        def scoped(row: _Dim) -> float:
            if chain is None:
                return 1.0
            return _weights(self.seed, row[0], row[3]).get(chain, 0.0)

        picked = [r for r in rows if scoped(r) > 0]

        def value(row: _Dim, day: int) -> float:
            return self.daily(kind, row, day, data_type) * scoped(row)

        def window(row: _Dim, end: int, n: int) -> float:
            return sum(value(row, d) for d in range(end - n + 1, end + 1))

        protocols = []
        for r in picked:
            t24, t48, year = value(r, last), value(r, last - 1), window(r, last, 365)
            entry: dict[str, Any] = {
                "defillamaId": str(1000 + int(_u(self.seed, "dlid", r[0]) * 9000)),
                "name": r[0],
                "displayName": r[1],
                "module": r[0].lower().replace(" ", "-"),
                "category": r[2],
                "logo": f"https://icons.llama.fi/{r[0].lower().replace(' ', '-')}.png",
                "chains": list(r[3]),
                "protocolType": "protocol",
                "methodologyURL": None,
                "methodology": None,
                "latestFetchIsOk": True,
                "parentProtocol": None,
                "slug": r[0].lower().replace(" ", "-"),
                "linkedProtocols": None,
                "total24h": t24,
                "total48hto24h": t48,
                "total7d": window(r, last, 7),
                "total14dto7d": window(r, last - 7, 7),
                "total30d": window(r, last, 30),
                "total1y": year,
                "totalAllTime": year * 2.5,
                "change_1d": _pct(t24, t48),
                "change_7d": _pct(t24, value(r, last - 7)),
                "change_1m": _pct(t24, value(r, last - 30)),
                "breakdown24h": None,
            }
            if kind == "fees":
                entry["revenue24h"] = self.daily(kind, r, last, "dailyRevenue") * scoped(r)
            protocols.append(entry)

        def total(day: int) -> float:
            return sum(value(r, day) for r in picked)

        def total_window(end: int, n: int) -> float:
            return sum(window(r, end, n) for r in picked)

        chart_days = range(self.today - _CHART_DAYS, self.today)
        t24, t48 = total(last), total(last - 1)
        year = sum(p["total1y"] for p in protocols)
        return {
            "totalDataChart": [[d * DAY_S, total(d)] for d in chart_days] if with_chart else [],
            "totalDataChartBreakdown": (
                [[d * DAY_S, {r[0]: value(r, d) for r in picked}] for d in chart_days]
                if with_breakdown
                else []
            ),
            "breakdown24h": None,
            "chain": chain,
            "allChains": sorted({c for r in rows for c in r[3]}),
            "total24h": t24,
            "total48hto24h": t48,
            "total7d": total_window(last, 7),
            "total14dto7d": total_window(last - 7, 7),
            "total30d": total_window(last, 30),
            "total1y": year,
            "totalAllTime": year * 2.5,
            "change_1d": _pct(t24, t48),
            "change_7d": _pct(t24, total(last - 7)),
            "change_1m": _pct(t24, total(last - 30)),
            "protocols": protocols,
        }

    # ------------------------------------------------------------ stablecoins

    def supply(self, coin: str, base: float, t_days: float) -> float:
        return base * _level(self.seed, f"stable:{coin}", t_days)

    def stablecoins(self, include_prices: bool) -> dict[str, Any]:
        assets = []
        for sid, name, symbol, gecko, peg, mech, chains, base, price in _STABLES:
            weights = _weights(self.seed, symbol, chains)

            def amounts(t: float, share: float = 1.0) -> dict[str, float]:
                return {peg: self.supply(symbol, base, t) * share}  # noqa: B023 (used in-loop)

            asset: dict[str, Any] = {
                "id": sid,
                "name": name,
                "symbol": symbol,
                "gecko_id": gecko,
                "pegType": peg,
                "priceSource": "defillama",
                "pegMechanism": mech,
                "circulating": amounts(self.t),
                "circulatingPrevDay": amounts(self.t - 1),
                "circulatingPrevWeek": amounts(self.t - 7),
                "circulatingPrevMonth": amounts(self.t - 30),
                "chainCirculating": {
                    c: {
                        "current": amounts(self.t, w),
                        "circulatingPrevDay": amounts(self.t - 1, w),
                        "circulatingPrevWeek": amounts(self.t - 7, w),
                        "circulatingPrevMonth": amounts(self.t - 30, w),
                    }
                    for c, w in weights.items()
                },
                "chains": list(chains),
            }
            if include_prices:
                asset["price"] = price
            assets.append(asset)
        return {"peggedAssets": assets}

    def stable_chart(self, chain: str | None, stablecoin: str | None) -> list[dict[str, Any]]:
        coins = [s for s in _STABLES if stablecoin is None or s[0] == stablecoin]
        out = []
        for d in range(self.today - _HISTORY_DAYS + 1, self.today + 1):
            native: dict[str, float] = {}
            usd: dict[str, float] = {}
            for _, _, symbol, _, peg, _, chains, base, price in coins:
                share = (
                    1.0 if chain is None else _weights(self.seed, symbol, chains).get(chain, 0.0)
                )
                if share == 0.0:
                    continue
                amount = self.supply(symbol, base, d) * share
                native[peg] = native.get(peg, 0.0) + amount
                usd[peg] = usd.get(peg, 0.0) + amount * (1.0 if peg == "peggedUSD" else price)
            if native:
                out.append(
                    {"date": str(d * DAY_S), "totalCirculating": native, "totalCirculatingUSD": usd}
                )
        return out

    def stable_chains(self) -> list[dict[str, Any]]:
        by_chain: dict[str, dict[str, float]] = {}
        for _, _, symbol, _, peg, _, chains, base, price in _STABLES:
            for c, w in _weights(self.seed, symbol, chains).items():
                usd = self.supply(symbol, base, self.t) * w * (1.0 if peg == "peggedUSD" else price)
                slot = by_chain.setdefault(c, {})
                slot[peg] = slot.get(peg, 0.0) + usd
        meta = {c[0]: c for c in _CHAINS}
        return [
            {
                "gecko_id": meta[c][1] if c in meta else None,
                "totalCirculatingUSD": amounts,
                "tokenSymbol": meta[c][2] if c in meta else None,
                "name": c,
            }
            for c, amounts in sorted(by_chain.items(), key=lambda kv: -sum(kv[1].values()))
        ]


def routes_for(seed: int, now_ms: Callable[[], int]) -> list[BaseRoute]:
    """`api.llama.fi` + `stablecoins.llama.fi` paths over a synthetic, seeded macro model."""

    def model() -> _Model:
        return _Model(seed, now_ms())

    async def chains(request: Request) -> Response:
        return _json(model().chains())

    async def history(request: Request) -> Response:
        raw = request.path_params.get("chain")
        chain = None if raw is None else _find(raw, _CHAIN_NAMES)
        if raw is not None and chain is None:
            return PlainTextResponse("Chain not found", status_code=404)
        return _json(model().history(chain))

    async def protocols(request: Request) -> Response:
        return _json(model().protocols())

    def overview(kind: str, rows: tuple[_Dim, ...]):
        all_chains = tuple(sorted({c for r in rows for c in r[3]}))

        async def handler(request: Request) -> Response:
            raw = request.path_params.get("chain")
            chain = None if raw is None else _find(raw, all_chains)
            if raw is not None and chain is None:
                return PlainTextResponse(f"Chain {raw} not supported", status_code=404)
            data_type = request.query_params.get("dataType", "dailyFees" if kind == "fees" else "")
            if kind == "fees" and data_type not in (
                "dailyFees",
                "dailyRevenue",
                "dailyHoldersRevenue",
            ):
                return PlainTextResponse(f"Invalid dataType {data_type}", status_code=400)
            body = model().overview(
                kind,
                rows,
                chain,
                data_type,
                with_chart=not _flag(request, "excludeTotalDataChart"),
                with_breakdown=not _flag(request, "excludeTotalDataChartBreakdown"),
            )
            return _json(body)

        return handler

    async def stablecoins(request: Request) -> Response:
        return _json(model().stablecoins(_flag(request, "includePrices")))

    async def stable_chart(request: Request) -> Response:
        raw = request.path_params["chain"]
        names = tuple(sorted({c for s in _STABLES for c in s[6]}))
        chain = None if raw == "all" else _find(raw, names)
        if raw != "all" and chain is None:
            return _json([])
        return _json(model().stable_chart(chain, request.query_params.get("stablecoin")))

    async def stable_chains(request: Request) -> Response:
        return _json(model().stable_chains())

    return [
        Route("/v2/chains", chains, methods=["GET"]),
        Route("/v2/historicalChainTvl", history, methods=["GET"]),
        Route("/v2/historicalChainTvl/{chain}", history, methods=["GET"]),
        Route("/protocols", protocols, methods=["GET"]),
        Route("/overview/dexs", overview("dexs", _DEXS), methods=["GET"]),
        Route("/overview/dexs/{chain}", overview("dexs", _DEXS), methods=["GET"]),
        Route("/overview/fees", overview("fees", _FEES), methods=["GET"]),
        Route("/overview/fees/{chain}", overview("fees", _FEES), methods=["GET"]),
        Route(
            "/overview/open-interest", overview("open-interest", _OPEN_INTEREST), methods=["GET"]
        ),
        Route("/stablecoins", stablecoins, methods=["GET"]),
        Route("/stablecoincharts/{chain}", stable_chart, methods=["GET"]),
        Route("/stablecoinchains", stable_chains, methods=["GET"]),
    ]
