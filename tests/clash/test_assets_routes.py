"""The asset picker over HTTP: the registry and the category tree, with the market simulator ingested
into a real SQLite file by the market actors on a VirtualClock."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import msgspec
import pytest

from actors import VirtualClock
from clash.config import Config, Secrets, SystemConfig
from clash.http.app import create_app
from clash.market.listing import category_tree, listings, page
from clash.market.registry import PERP_CHANNELS, SPOT_CHANNELS, AssetInfo
from clash.market.taxonomy import categorize
from clash.ops.module import OpsModule
from clash.runtime import boot

from tests.helpers.trading_world import IN_PROCESS_MARKET, START, market_config

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def client(tmp_path) -> AsyncIterator[tuple[httpx.AsyncClient, VirtualClock]]:
    clock = VirtualClock(START)
    config = Config(
        system=SystemConfig(data_dir=str(tmp_path / "var"), heartbeat_interval_s=0),
        market=market_config(backfill_minutes=30),
    )
    async with boot(config, Secrets(), clock, [OpsModule, IN_PROCESS_MARKET]) as rt:
        await clock.settle()
        await clock.advance(0)
        await clock.advance(5 * 60)
        app = create_app(rt)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app), base_url="http://clash"
        ) as c:
            yield c, clock


async def _all(c: httpx.AsyncClient, **params: str) -> list[dict]:
    r = await c.get("/api/v1/assets", params={**params, "limit": "500"})
    assert r.status_code == 200, r.text
    assert r.json()["next_cursor"] is None
    return r.json()["items"]


async def test_registry_lists_perps_and_spot_pairs_with_their_capabilities(client) -> None:
    c, _ = client
    items = {a["symbol"]: a for a in await _all(c)}
    assert len(items) == 31 and list(items) == sorted(items)
    btc, spot = items["BTC"], items["HYPE/USDC"]
    assert btc["kind"] == "perp" and btc["asset_class"] == "Crypto"
    assert btc["subcategories"] == ["Crypto/Layer 1"] and btc["unmapped"] is False
    assert btc["provenance"]["Crypto/Layer 1"] == "hyperliquid_app"
    assert btc["capabilities"] == {
        "candles": True,
        "indicators": True,
        "mids": True,
        "funding": True,
        "open_interest": True,
        "profiles": True,
    }
    assert btc["enabled"] is True and btc["delisted"] is False
    assert btc["max_leverage"] > 1 and btc["sz_decimals"] >= 0
    assert spot["kind"] == "spot" and spot["asset_class"] is None
    assert spot["subcategories"] == ["Spot/USDC"] and (spot["base"], spot["quote"]) == (
        "HYPE",
        "USDC",
    )
    assert spot["capabilities"]["funding"] is False
    assert spot["capabilities"]["open_interest"] is False
    assert spot["capabilities"]["candles"] is True
    assert spot["max_leverage"] is None
    assert spot["enabled"] is True and items["PURR/USDC"]["enabled"] is False
    assert items["kPEPE"]["provenance"]["Crypto/Meme"] == "clash_added"


async def test_filters_by_category_kind_prefix_and_trending(client) -> None:
    c, _ = client
    meme = await _all(c, category="Crypto/Meme")
    assert [a["symbol"] for a in meme] == ["DOGE", "WIF", "kPEPE"]
    spot = await _all(c, kind="spot")
    assert {a["symbol"] for a in spot} == {
        "HYPE/USDC",
        "PURR/USDC",
        "UBTC/USDC",
        "UETH/USDC",
        "USOL/USDC",
    }
    assert [a["symbol"] for a in await _all(c, q="hy")] == ["HYPE", "HYPE/USDC"]
    assert await _all(c, category="Spot", kind="perp") == []
    hot = await _all(c, trending="true")
    assert 0 < len(hot) <= 10 and all(a["trending"] for a in hot)
    assert {a["symbol"] for a in hot} == {a["symbol"] for a in await _all(c, category="Trending")}
    cold = await _all(c, trending="false")
    assert len(hot) + len(cold) == 31 and not any(a["trending"] for a in cold)


async def test_pages_by_symbol_until_no_cursor(client) -> None:
    c, _ = client
    first = (await c.get("/api/v1/assets", params={"limit": 20})).json()
    assert len(first["items"]) == 20 and first["next_cursor"] == first["items"][-1]["symbol"]
    second = (
        await c.get("/api/v1/assets", params={"limit": 20, "cursor": first["next_cursor"]})
    ).json()
    assert len(second["items"]) == 11 and second["next_cursor"] is None
    symbols = [a["symbol"] for a in first["items"] + second["items"]]
    assert symbols == sorted(set(symbols)) and len(symbols) == 31
    exact = (await c.get("/api/v1/assets", params={"category": "Spot", "limit": 5})).json()
    assert len(exact["items"]) == 5 and exact["next_cursor"] is None


@pytest.mark.parametrize(
    "params",
    [
        {"sort": "symbol"},
        {"limit": "0"},
        {"limit": "501"},
        {"limit": "ten"},
        {"category": "Crypto/Stocks"},
        {"kind": "future"},
        {"trending": "yes"},
    ],
)
async def test_bad_queries_are_422_invalid_query(client, params) -> None:
    c, _ = client
    r = await c.get("/api/v1/assets", params=params)
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_query", r.text


async def test_categories_refuses_query_parameters(client) -> None:
    c, _ = client
    r = await c.get("/api/v1/assets/categories", params={"kind": "perp"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_query"


async def test_etag_answers_304_until_the_registry_changes(client) -> None:
    c, clock = client
    for url in ("/api/v1/assets?category=Crypto", "/api/v1/assets/categories"):
        r = await c.get(url)
        etag = r.headers["etag"]
        again = await c.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["etag"] == etag
        assert (await c.get(url, headers={"If-None-Match": 'W/"other"'})).status_code == 200
    r = await c.get("/api/v1/assets")
    other = await c.get("/api/v1/assets?kind=spot")
    assert r.headers["etag"] != other.headers["etag"]
    await clock.advance(10 * 60)  # the contexts poll rewrites the 24h stats Trending ranks on
    later = await c.get("/api/v1/assets", headers={"If-None-Match": r.headers["etag"]})
    assert later.status_code == 200 and later.headers["etag"] != r.headers["etag"]


async def test_category_counts_equal_the_assets_listed_per_category(client) -> None:
    c, _ = client
    tree = (await c.get("/api/v1/assets/categories")).json()
    ids = [n["id"] for n in tree["items"]]
    assert ids == ["All", "Perps", "Spot", "Crypto", "Tradfi", "Trending"]
    crypto = next(n for n in tree["items"] if n["id"] == "Crypto")
    assert [ch["name"] for ch in crypto["children"]] == [
        "AI",
        "Defi",
        "Gaming",
        "Layer 1",
        "Layer 2",
        "Meme",
    ]
    nodes = [n for top in tree["items"] for n in (top, *top["children"])]
    for node in nodes:
        assert node["count"] == len(await _all(c, category=node["id"])), node["id"]
    counts = {n["id"]: n["count"] for n in nodes}
    assert counts["All"] == 31 and counts["Perps"] == 26 and counts["Spot/USDC"] == 5
    assert counts["Tradfi"] == 0 and tree["unmapped"] == {"count": 0, "symbols": []}


def _perp(symbol: str) -> AssetInfo:
    return AssetInfo(
        symbol=symbol,
        coin=symbol,
        kind="perp",
        asset_index=0,
        sz_decimals=2,
        max_leverage=5,
        is_spot=False,
        enabled=True,
        channels=PERP_CHANNELS,
        categories=tuple(categorize(symbol)),
    )


def test_unmapped_symbols_are_counted_and_named() -> None:
    spot = msgspec.structs.replace(
        _perp("FOO/BAR"),
        kind="spot",
        is_spot=True,
        channels=SPOT_CHANNELS,
        categories=tuple(categorize("FOO/BAR")),
    )
    items = listings([_perp("BTC"), _perp("NEWCOIN"), _perp("xyz:NEWCO"), spot], ["NEWCOIN"])
    tree = category_tree(items)
    assert tree.unmapped.symbols == ["FOO/BAR", "NEWCOIN", "xyz:NEWCO"]
    counts = {n.id: n.count for top in tree.items for n in (top, *top.children)}
    assert counts["All"] == 4 and counts["Crypto"] == 2 and counts["Tradfi"] == 1
    assert counts["Trending"] == 1 and counts["Spot"] == 1 and counts["Spot/USDC"] == 0
    assert [a.symbol for a in page(items, category="Unmapped").items] == tree.unmapped.symbols
    tsla = listings([_perp("xyz:NEWCO")], [])[0]
    assert tsla.asset_class == "Tradfi" and tsla.provenance == {
        "Perps": "registry",
        "Tradfi": "hip3_dex",
    }
