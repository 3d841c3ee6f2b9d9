"""Async client for DefiLlama's free endpoints (paths exactly as in the OpenAPI spec).

Two hosts: `api.llama.fi` (TVL, protocols, dimension overviews) and `stablecoins.llama.fi`.
The simulator serves both under one prefix; their paths do not collide. Same error contract
as the Gamma client: retried 429/5xx/transport → `SourceError`, bad body → `DecodeError`.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import quote

import anyio
import httpx

from clash.market.polymarket.gamma import get_json
from clash.market.retry import RetryPolicy, Sleep

from . import metrics as mx
from .metrics import MacroMetric, MacroTarget
from .wire import (
    Chain,
    DimensionOverview,
    PeggedAsset,
    Protocol,
    SourceError,
    StablecoinChain,
    StablecoinChartPoint,
    StablecoinsResponse,
    TvlPoint,
    decode,
)

__all__ = ["LLAMA_API", "LLAMA_STABLECOINS", "FeesDataType", "DefiLlamaClient"]

LLAMA_API = "https://api.llama.fi"
LLAMA_STABLECOINS = "https://stablecoins.llama.fi"

FeesDataType = Literal["dailyFees", "dailyRevenue", "dailyHoldersRevenue"]

# The spec marks both as required on every overview call; charts are not read by metrics.
_NO_CHARTS = {"excludeTotalDataChart": "true", "excludeTotalDataChartBreakdown": "true"}


class DefiLlamaClient:
    def __init__(
        self,
        api_base: str = LLAMA_API,
        stablecoins_base: str = LLAMA_STABLECOINS,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout_s: float = 20.0,
        retry: RetryPolicy = RetryPolicy(),
        sleep: Sleep = anyio.sleep,
    ) -> None:
        """`sleep` waits out retry backoff (the actor clock's in the product)."""
        self._sleep = sleep
        self._api = api_base.rstrip("/")
        self._stable = stablecoins_base.rstrip("/")
        self._http = httpx.AsyncClient(
            transport=transport, timeout=timeout_s, headers={"accept": "application/json"}
        )
        self._retry = retry

    async def __aenter__(self) -> DefiLlamaClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _get(self, url: str, params: dict[str, str] | None = None) -> bytes:
        return await get_json(
            self._http,
            url,
            params=params,
            policy=self._retry,
            source="defillama",
            sleep=self._sleep,
        )

    async def chains(self) -> list[Chain]:
        return decode(await self._get(f"{self._api}/v2/chains"), list[Chain], "/v2/chains")

    async def historical_chain_tvl(self, chain: str | None = None) -> list[TvlPoint]:
        """All-chain daily TVL, or one chain's (`chain` is a `/v2/chains` name, e.g. "Ethereum")."""
        path = "/v2/historicalChainTvl" + (f"/{quote(chain, safe='')}" if chain else "")
        return decode(await self._get(self._api + path), list[TvlPoint], path)

    async def protocols(self) -> list[Protocol]:
        return decode(await self._get(f"{self._api}/protocols"), list[Protocol], "/protocols")

    async def _overview(
        self, kind: str, chain: str | None, extra: dict[str, str]
    ) -> DimensionOverview:
        path = f"/overview/{kind}" + (f"/{quote(chain, safe='')}" if chain else "")
        body = await self._get(self._api + path, {**_NO_CHARTS, **extra})
        return decode(body, DimensionOverview, path)

    async def dex_overview(self, chain: str | None = None) -> DimensionOverview:
        return await self._overview("dexs", chain, {})

    async def fees_overview(
        self, chain: str | None = None, data_type: FeesDataType = "dailyFees"
    ) -> DimensionOverview:
        return await self._overview("fees", chain, {"dataType": data_type})

    async def open_interest_overview(self) -> DimensionOverview:
        return await self._overview("open-interest", None, {})

    async def stablecoins(self, include_prices: bool = True) -> list[PeggedAsset]:
        params = {"includePrices": "true" if include_prices else "false"}
        body = await self._get(f"{self._stable}/stablecoins", params)
        return decode(body, StablecoinsResponse, "/stablecoins").pegged_assets

    async def stablecoin_chart(
        self, chain: str | None = None, stablecoin: int | None = None
    ) -> list[StablecoinChartPoint]:
        """Daily stablecoin supply, all chains (`/stablecoincharts/all`) or one chain."""
        path = "/stablecoincharts/" + (quote(chain, safe="") if chain else "all")
        params = {"stablecoin": str(stablecoin)} if stablecoin is not None else None
        body = await self._get(self._stable + path, params)
        return decode(body, list[StablecoinChartPoint], path)

    async def stablecoin_chains(self) -> list[StablecoinChain]:
        body = await self._get(f"{self._stable}/stablecoinchains")
        return decode(body, list[StablecoinChain], "/stablecoinchains")

    async def collect(self, target: MacroTarget, now_ms: int) -> list[MacroMetric]:
        """All three metric families for one macro target. A chain that one dimension does
        not cover (HTTP 400/404 on its overview path) simply yields no throughput rows."""
        rows: list[MacroMetric] = []
        if target.scope == "global":
            rows.append(mx.global_tvl(await self.chains(), now_ms))
            rows += mx.tvl_flows(await self.historical_chain_tvl())
            assets = await self.stablecoins()
            rows += [r for r in mx.stablecoin_supplies(assets, now_ms) if r.scope == "global"]
            rows += [r for r in mx.stablecoin_flows(assets, now_ms) if r.scope == "global"]
            rows += mx.throughput(await self.dex_overview(), "dex_volume", now_ms)
            rows += mx.throughput(await self.fees_overview(), "fees", now_ms)
            rows += mx.throughput(
                await self.fees_overview(data_type="dailyRevenue"), "revenue", now_ms
            )
            rows += mx.throughput(await self.open_interest_overview(), "open_interest", now_ms)
        elif target.scope == "chain":
            name = target.subject
            rows += mx.chain_tvls(await self.chains(), now_ms, [name])
            rows += mx.tvl_flows(await self.historical_chain_tvl(name), "chain", name)
            rows += mx.chain_stablecoin_supplies(await self.stablecoin_chains(), now_ms, [name])
            rows += mx.stablecoin_chart_flows(await self.stablecoin_chart(name), "chain", name)
            for kind, fetch in (
                ("dex_volume", lambda: self.dex_overview(name)),
                ("fees", lambda: self.fees_overview(name)),
                ("revenue", lambda: self.fees_overview(name, "dailyRevenue")),
            ):
                try:
                    overview = await fetch()
                except SourceError as e:
                    if e.status in (400, 404):
                        continue
                    raise
                rows += mx.throughput(overview, kind, now_ms, "chain", name)  # type: ignore[arg-type]
        elif target.scope == "protocol":
            names = [target.subject]
            protocols = await self.protocols()
            rows += mx.protocol_tvls(protocols, now_ms, names)
            rows += mx.protocol_flows(protocols, now_ms, names)
            rows += mx.protocol_throughput(await self.dex_overview(), "dex_volume", now_ms, names)
            rows += mx.protocol_throughput(await self.fees_overview(), "fees", now_ms, names)
            rows += mx.protocol_throughput(
                await self.fees_overview(data_type="dailyRevenue"), "revenue", now_ms, names
            )
            rows += mx.protocol_throughput(
                await self.open_interest_overview(), "open_interest", now_ms, names
            )
        else:
            assets = await self.stablecoins()
            rows += mx.stablecoin_supplies(assets, now_ms) + mx.stablecoin_flows(assets, now_ms)
        return mx.rows_for_target(rows, target)
