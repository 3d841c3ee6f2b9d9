"""DefiLlama wire types against the recorded `/v2/chains` and the OpenAPI spec's own examples."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import pytest

from clash.market.defillama.wire import (
    Chain,
    DecodeError,
    DimensionOverview,
    PeggedAsset,
    Protocol,
    StablecoinChain,
    StablecoinChartPoint,
    StablecoinsResponse,
    TvlPoint,
    date_s,
    decode,
)


@pytest.fixture
def chains_raw(fixtures_dir: Path) -> bytes:
    return (fixtures_dir / "real" / "defillama" / "chains_2022-09.json").read_bytes()


@pytest.fixture
def spec_example(fixtures_dir: Path) -> Callable[[str], bytes]:
    spec = json.loads((fixtures_dir / "specs" / "defillama-openapi-free.json").read_text())

    def build(path: str) -> bytes:
        schema = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"][
            "schema"
        ]
        return json.dumps(_example(schema)).encode()

    return build


def _example(schema: dict[str, Any]) -> Any:
    """An instance built from the spec's `example` values (documentation, not a recording)."""
    if "example" in schema:
        return schema["example"]
    kind = schema.get("type")
    if kind == "object":
        out = {k: _example(v) for k, v in schema.get("properties", {}).items()}
        if "additionalProperties" in schema:
            out["Ethereum"] = _example(schema["additionalProperties"])
        return out
    if kind == "array":
        return [_example(schema["items"])]
    raise AssertionError(f"no example for {schema}")


def test_recorded_chains_decode_strictly(chains_raw):
    chains = decode(chains_raw, list[Chain], "/v2/chains")
    assert len(chains) == 140
    by_name = {c.name: c for c in chains}
    assert by_name["Evmos"].chain_id == "9001"  # a string chainId, as recorded
    assert by_name["Ethereum"].chain_id == 1 and by_name["Ethereum"].token_symbol == "ETH"
    assert by_name["Ethereum"].cmc_id == "1027" and by_name["Ethereum"].gecko_id == "ethereum"
    assert by_name["Solana"].chain_id is None
    assert by_name["Arbitrum"].gecko_id is None and by_name["Arbitrum"].token_symbol is None
    # every key of every element landed in a field
    for c, r in zip(chains, json.loads(chains_raw)):
        assert msgspec.to_builtins(c) == {k: r[k] for k in ("name", "tvl", "gecko_id")} | {
            "tokenSymbol": r["tokenSymbol"],
            "cmcId": r["cmcId"],
            "chainId": r["chainId"],
        }


@pytest.mark.parametrize(
    ("path", "type_"),
    [
        ("/v2/chains", list[Chain]),
        ("/v2/historicalChainTvl", list[TvlPoint]),
        ("/v2/historicalChainTvl/{chain}", list[TvlPoint]),
        ("/protocols", list[Protocol]),
        ("/overview/dexs", DimensionOverview),
        ("/overview/dexs/{chain}", DimensionOverview),
        ("/overview/fees", DimensionOverview),
        ("/overview/fees/{chain}", DimensionOverview),
        ("/overview/open-interest", DimensionOverview),
        ("/stablecoins", StablecoinsResponse),
        ("/stablecoincharts/all", list[StablecoinChartPoint]),
        ("/stablecoincharts/{chain}", list[StablecoinChartPoint]),
        ("/stablecoinchains", list[StablecoinChain]),
    ],
)
def test_spec_examples_decode(path, type_, spec_example):
    decoded = decode(spec_example(path), type_, path)
    assert decoded


def test_spec_example_values_land_in_fields(spec_example):
    (asset,) = decode(spec_example("/stablecoins"), StablecoinsResponse, "s").pegged_assets
    assert (
        isinstance(asset, PeggedAsset) and asset.symbol == "USDT" and asset.peg_type == "peggedUSD"
    )
    assert asset.circulating == {"peggedUSD": 159510682147.76874}
    assert asset.chain_circulating["Ethereum"].current == {"peggedUSD": 50000000000}
    (proto,) = decode(spec_example("/protocols"), list[Protocol], "p")
    assert (
        proto.chain_tvls == {"Ethereum": 3200000000, "Polygon": 2000000000}
        and proto.change_7d == -5.3
    )
    fees = decode(spec_example("/overview/fees"), DimensionOverview, "f")
    assert fees.protocols[0].revenue24h == 2000000
    assert fees.total_data_chart == [(1640995200, 25000000.0)]
    assert fees.total_data_chart_breakdown == [
        (1640995200, {"Uniswap": 5000000, "Compound": 3000000})
    ]
    oi = decode(spec_example("/overview/open-interest"), DimensionOverview, "oi")
    assert oi.protocols[0].name == "Hyperliquid Perps" and oi.all_chains[0] == "Hyperliquid L1"
    (chain,) = decode(spec_example("/stablecoinchains"), list[StablecoinChain], "sc")
    assert chain.total_circulating == {"peggedUSD": 75000000000}


def test_stablecoin_chart_date_as_number_or_string():
    points = decode(
        b'[{"date": 1609459200, "totalCirculating": {"peggedUSD": 1.5}},'
        b' {"date": "1609545600", "totalCirculatingUSD": {"peggedUSD": 2}}]',
        list[StablecoinChartPoint],
        "c",
    )
    assert [date_s(p) for p in points] == [1609459200, 1609545600]
    with pytest.raises(DecodeError):
        date_s(StablecoinChartPoint(date="yesterday"))


def test_overview_nulls_and_empty_charts():
    body = (
        b'{"protocols": [{"name": "X", "total24h": null, "change_1d": null}], "totalDataChart": [],'
        b' "totalDataChartBreakdown": [], "total24h": null, "chain": null, "allChains": []}'
    )
    o = decode(body, DimensionOverview, "o")
    assert o.total24h is None and o.protocols[0].total24h is None and o.total_data_chart == []


def test_bad_payloads_are_decode_errors(chains_raw):
    with pytest.raises(DecodeError):
        decode(chains_raw[:1000], list[Chain], "/v2/chains")
    with pytest.raises(DecodeError):
        decode(b'[{"name": "X", "tvl": "12.5"}]', list[Chain], "/v2/chains")  # no str→number
    with pytest.raises(DecodeError):
        decode(b'[{"date": 1, "tvl": 2, "extra": 3}, {"tvl": 2}]', list[TvlPoint], "h")
