"""DefiLlamaClient against the DefiLlama simulator (ASGI) and against scripted failures."""

from itertools import pairwise

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from clash.market.defillama import DecodeError, DefiLlamaClient, SourceError
from clash.market.defillama.metrics import (
    MacroTarget,
    chain_symbol_table,
    chain_tvls,
    global_tvl,
    rows_for_asset,
    tvl_flows,
)
from clash.market.polymarket.gamma import RetryPolicy
from clash.market.sim.defillama import routes_for

NOW = 1_773_307_350_000  # 2026-03-12T09:22:30Z
TODAY_S = NOW // 86_400_000 * 86_400
FAST = RetryPolicy(attempts=3, base_s=0.0, max_s=0.0)


def sim_client(seed: int = 7, now: int = NOW) -> DefiLlamaClient:
    app = Starlette(routes=[Mount("/defillama", routes=routes_for(seed, lambda: now))])
    base = "http://sim/defillama"
    return DefiLlamaClient(base, base, transport=httpx.ASGITransport(app=app), retry=FAST)


@pytest.mark.anyio
async def test_sim_tvl_endpoints_decode_and_agree():
    async with sim_client() as c:
        chains = await c.chains()
        history = await c.historical_chain_tvl()
        eth = await c.historical_chain_tvl("Ethereum")
        hl = await c.historical_chain_tvl("Hyperliquid L1")
        protocols = await c.protocols()
        per_chain = [await c.historical_chain_tvl(ch.name) for ch in chains]
        with pytest.raises(SourceError) as err:
            await c.historical_chain_tvl("Atlantis")
    assert err.value.status == 404
    names = {ch.name for ch in chains}
    assert {"Ethereum", "Solana", "Hyperliquid L1", "Bitcoin"} <= names
    assert any(isinstance(ch.chain_id, str) for ch in chains)  # the recorded Evmos quirk
    assert history[-1].date == TODAY_S and len(history) == len(eth) == len(hl) == 120
    assert all(b.date - a.date == 86_400 for a, b in pairwise(history))
    assert eth == next(h for ch, h in zip(chains, per_chain) if ch.name == "Ethereum")
    assert history[-1].tvl == pytest.approx(sum(h[-1].tvl for h in per_chain))
    assert global_tvl(chains, NOW).usd_micros == sum(r.usd_micros for r in chain_tvls(chains, NOW))
    assert {r.metric for r in tvl_flows(hl, "chain", "Hyperliquid L1")} == {
        "tvl_change_1d",
        "tvl_change_7d",
    }
    lido = next(p for p in protocols if p.name == "Lido")
    assert lido.tvl == pytest.approx(sum(lido.chain_tvls.values()))
    assert (
        rows_for_asset(chain_tvls(chains, NOW), "HYPE", chain_symbol_table(chains))[0].subject
        == "Hyperliquid L1"
    )


@pytest.mark.anyio
async def test_sim_dimension_and_stablecoin_endpoints_decode():
    async with sim_client() as c:
        dexs = await c.dex_overview()
        dexs_eth = await c.dex_overview("ethereum")
        fees = await c.fees_overview()
        revenue = await c.fees_overview(data_type="dailyRevenue")
        holders = await c.fees_overview("Hyperliquid L1", data_type="dailyHoldersRevenue")
        oi = await c.open_interest_overview()
        assets = await c.stablecoins()
        no_prices = await c.stablecoins(include_prices=False)
        chart = await c.stablecoin_chart()
        usdt_eth = await c.stablecoin_chart("Ethereum", stablecoin=1)
        stable_chains = await c.stablecoin_chains()
    assert dexs.total_data_chart == [] and dexs.total_data_chart_breakdown == []  # excluded
    assert dexs.chain is None and dexs_eth.chain == "Ethereum"
    assert dexs.total24h == pytest.approx(sum(p.total24h for p in dexs.protocols))
    assert 0 < dexs_eth.total24h < dexs.total24h
    assert revenue.total24h < fees.total24h and 0 < holders.total24h
    assert oi.protocols[0].name == "Hyperliquid Perps"
    assert {a.symbol for a in assets} >= {"USDT", "USDC", "EURC"}
    assert all(a.price is not None for a in assets) and all(a.price is None for a in no_prices)
    usdt = next(a for a in assets if a.symbol == "USDT")
    assert usdt.circulating["peggedUSD"] == pytest.approx(
        sum(cc.current["peggedUSD"] for cc in usdt.chain_circulating.values())
    )
    assert isinstance(chart[-1].date, str) and int(chart[-1].date) == TODAY_S
    assert (
        usdt_eth
        and usdt_eth[-1].total_circulating["peggedUSD"] < chart[-1].total_circulating["peggedUSD"]
    )
    assert "peggedEUR" in chart[-1].total_circulating_usd
    assert stable_chains[0].total_circulating_usd["peggedUSD"] > 0


@pytest.mark.anyio
async def test_collect_each_scope():
    async with sim_client() as c:
        glob = await c.collect(MacroTarget(), NOW)
        chain = await c.collect(MacroTarget("chain", "Ethereum"), NOW)
        btc_chain = await c.collect(MacroTarget("chain", "Bitcoin"), NOW)  # no dex/fees overview
        proto = await c.collect(MacroTarget("protocol", "Hyperliquid Perps"), NOW)
        coin = await c.collect(MacroTarget("stablecoin", "USDC"), NOW)
    assert {r.family for r in glob} == {"capital_base", "capital_flows", "economic_throughput"}
    assert {r.metric for r in glob} >= {
        "tvl",
        "tvl_change_1d",
        "tvl_change_7d",
        "stablecoin_supply",
        "stablecoin_supply_change_1d",
        "stablecoin_supply_change_7d",
        "dex_volume_24h",
        "fees_24h",
        "revenue_24h",
        "open_interest",
    }
    assert all(r.scope == "global" for r in glob)
    assert {(r.scope, r.subject) for r in chain} == {("chain", "Ethereum")}
    assert {"tvl", "stablecoin_supply", "dex_volume_24h", "fees_24h", "revenue_24h"} <= {
        r.metric for r in chain
    }
    assert {r.metric for r in btc_chain} == {"tvl", "tvl_change_1d", "tvl_change_7d"}
    assert {r.metric for r in proto} >= {"fees_24h", "revenue_24h", "open_interest"}
    assert {r.metric for r in coin} == {
        "stablecoin_supply",
        "stablecoin_supply_change_1d",
        "stablecoin_supply_change_7d",
    }


@pytest.mark.anyio
async def test_sim_is_deterministic_per_seed_and_time():
    async with sim_client() as a, sim_client() as b, sim_client(seed=8) as other:
        assert await a.chains() == await b.chains()
        assert await a.stablecoins() == await b.stablecoins()
        assert await a.chains() != await other.chains()
    async with sim_client(now=NOW + 86_400_000) as later:
        assert (await later.historical_chain_tvl())[-1].date == TODAY_S + 86_400


def scripted(*replies):
    seen: list[httpx.Request] = []
    queue = list(replies)

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return queue.pop(0) if len(queue) > 1 else queue[0]

    return httpx.MockTransport(handle), seen


@pytest.mark.anyio
async def test_retries_429_then_200_and_uses_spec_paths():
    body = b'[{"gecko_id":"ethereum","tvl":1.5,"tokenSymbol":"ETH","cmcId":"1027","name":"Ethereum","chainId":1}]'
    transport, seen = scripted(httpx.Response(429), httpx.Response(200, content=body))
    async with DefiLlamaClient(transport=transport, retry=FAST) as c:
        (chain,) = await c.chains()
    assert chain.name == "Ethereum" and len(seen) == 2
    assert str(seen[-1].url) == "https://api.llama.fi/v2/chains"

    transport, seen = scripted(httpx.Response(200, json={"peggedAssets": []}))
    async with DefiLlamaClient(transport=transport, retry=FAST) as c:
        assert await c.stablecoins() == []
        await c.fees_overview("Hyperliquid L1", "dailyRevenue")
    assert str(seen[0].url) == "https://stablecoins.llama.fi/stablecoins?includePrices=true"
    assert seen[1].url.raw_path.split(b"?")[0] == b"/overview/fees/Hyperliquid%20L1"
    assert seen[1].url.params["dataType"] == "dailyRevenue"
    assert seen[1].url.params["excludeTotalDataChart"] == "true"


@pytest.mark.anyio
async def test_errors():
    transport, seen = scripted(httpx.Response(500))
    async with DefiLlamaClient(transport=transport, retry=FAST) as c:
        with pytest.raises(SourceError) as err:
            await c.protocols()
    assert len(seen) == 3 and err.value.status == 500 and not isinstance(err.value, DecodeError)

    transport, _ = scripted(httpx.Response(200, content=b'[{"date": 1609459200, "tvl": 15000'))
    async with DefiLlamaClient(transport=transport, retry=FAST) as c:
        with pytest.raises(DecodeError):
            await c.historical_chain_tvl()
