"""The simulator answers in Hyperliquid's exact JSON: same keys as the recordings, strict types."""

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.routing import Mount

from clash.market.hyperliquid import wire
from clash.market.sim.app import create_sim_app
from clash.market.sim.market import DAY_MS, HOUR_MS, MINUTE_MS, SimMarket

T0 = 1_790_431_200_000
NOW = T0 + 10 * DAY_MS + 7 * MINUTE_MS + 4_321
MARKET = SimMarket(21, T0)  # pure in (seed, time), so one instance can serve every test

REQUESTS = [
    wire.AllMidsRequest(),
    wire.MetaRequest(),
    wire.SpotMetaRequest(),
    wire.MetaAndAssetCtxsRequest(),
    wire.SpotMetaAndAssetCtxsRequest(),
    wire.CandleSnapshotRequest(wire.CandleWindow("BTC", "1h", NOW - DAY_MS, NOW)),
    wire.CandleSnapshotRequest(wire.CandleWindow("@107", "1d", NOW - 5 * DAY_MS)),
    wire.PredictedFundingsRequest(),
    wire.FundingHistoryRequest("BTC", NOW - DAY_MS),
]


async def _post(body: bytes, now: int = NOW, **kw: Any) -> httpx.Response:
    app = create_sim_app(MARKET, lambda: now, **kw)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://s") as c:
        return await c.post("/info", content=body, headers={"Content-Type": "application/json"})


def _keys(obj: dict[str, Any]) -> set[str]:
    return set(obj)


@pytest.mark.anyio
@pytest.mark.parametrize("request_", REQUESTS, ids=lambda r: type(r).__name__)
async def test_answers_decode_strictly_with_the_wire_types(request_: wire.InfoRequest) -> None:
    response = await _post(wire.encode(request_))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    value = wire.decode(response.content, wire.RESPONSE_TYPES[type(request_)])
    assert value
    exponent = re.compile(r"-?[\d.]+[eE][-+]?\d+")
    assert not any(exponent.fullmatch(s) for s in _strings(json.loads(response.content)))


def _strings(obj: Any) -> list[str]:
    if isinstance(obj, str):
        return [obj]
    if isinstance(obj, dict):
        return [s for v in obj.values() for s in _strings(v)]
    if isinstance(obj, list):
        return [s for v in obj for s in _strings(v)]
    return []


async def _json(request_: wire.InfoRequest) -> Any:
    return json.loads((await _post(wire.encode(request_))).content)


@pytest.mark.anyio
async def test_same_keys_as_the_recordings(fixtures_dir: Path) -> None:
    hl = fixtures_dir / "real" / "hyperliquid"

    def load(name: str) -> Any:
        return json.loads((hl / name).read_text(encoding="utf-8"))

    rec_meta, rec_ctxs = load("metaAndAssetCtxs_trimmed_2026-09-27.json")
    meta, ctxs = await _json(wire.MetaAndAssetCtxsRequest())
    assert _keys(meta) == _keys(rec_meta)
    assert {frozenset(u) for u in meta["universe"]} == {frozenset(rec_meta["universe"][0])}
    assert _keys(meta["marginTables"][0][1]) == _keys(rec_meta["marginTables"][0][1])
    assert {frozenset(c) for c in ctxs} == {frozenset(rec_ctxs[0])}
    assert len(ctxs) == len(meta["universe"])
    assert await _json(wire.MetaRequest()) == meta

    rec_spot = load("spotMeta_trimmed_2026-09-27.json")
    spot = await _json(wire.SpotMetaRequest())
    assert {frozenset(p) for p in spot["universe"]} == {frozenset(rec_spot["universe"][0])}
    assert {frozenset(t) for t in spot["tokens"]} == {frozenset(rec_spot["tokens"][0])}
    rec_spot_ctx = load("spotMetaAndAssetCtxs_2025-11-09.json")[1][0]
    spot_meta, spot_ctxs = await _json(wire.SpotMetaAndAssetCtxsRequest())
    assert spot_meta == spot
    assert {frozenset(c) for c in spot_ctxs} == {frozenset(rec_spot_ctx)}

    rec_candle = load("candleSnapshot_ETH_1h_2026-09-27.json")[0]
    candles = await _json(wire.CandleSnapshotRequest(wire.CandleWindow("ETH", "1h", NOW - DAY_MS)))
    assert [list(c) for c in candles[:1]] == [list(rec_candle)]  # even the 2026 key order

    rec_funding = load("fundingHistory_BTC_start1681923833000_end1684811870000_2023-07-17.json")
    funding = await _json(wire.FundingHistoryRequest("BTC", NOW - DAY_MS, NOW))
    assert {frozenset(r) for r in funding} == {frozenset(rec_funding[0])}

    rec_predicted = load("predictedFundings_trimmed_2026-09-27.json")
    predicted = await _json(wire.PredictedFundingsRequest())
    assert [v for v, _ in predicted[0][1]] == [v for v, _ in rec_predicted[0][1]]
    assert _keys(predicted[0][1][0][1]) == _keys(rec_predicted[0][1][0][1])
    assert dict(predicted)["HYPE"][0] == ["BinPerp", None]

    mids = await _json(wire.AllMidsRequest())
    assert {"BTC", "ETH", "PURR/USDC", "@107"} <= set(mids)


@pytest.mark.anyio
async def test_candle_snapshot_limits() -> None:
    window = wire.CandleWindow("BTC", "1m", T0, None)
    candles = wire.decode(
        (await _post(wire.encode(wire.CandleSnapshotRequest(window)))).content, wire.CandleSnapshot
    )
    assert candles is not None and len(candles) == 5000
    newest_minute = NOW // MINUTE_MS * MINUTE_MS
    assert candles[0].open_ms == newest_minute - 4999 * MINUTE_MS  # only the latest 5000 exist
    assert candles[-1].open_ms == newest_minute  # still open
    future = wire.CandleWindow("BTC", "1h", NOW + HOUR_MS, NOW + 2 * HOUR_MS)
    response = await _post(wire.encode(wire.CandleSnapshotRequest(future)))
    assert response.json() == []


@pytest.mark.anyio
@pytest.mark.parametrize(
    "body",
    [
        b'{"type":"nope"}',
        b"{",
        b'{"type":"candleSnapshot","req":{"coin":"BTC"}}',
        b'{"type":"candleSnapshot","req":{"coin":"BTC","interval":"7m","startTime":0}}',
    ],
)
async def test_bad_requests_are_422(body: bytes) -> None:
    assert (await _post(body)).status_code == 422


@pytest.mark.anyio
async def test_rate_limit_uses_the_simulated_clock() -> None:
    clock = [NOW]
    app = create_sim_app(MARKET, lambda: clock[0], weight_per_minute=40)
    body = wire.encode(wire.MetaRequest())
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://s") as c:
        codes = [(await c.post("/info", content=body)).status_code for _ in range(3)]
        clock[0] += 30_000
        codes.append((await c.post("/info", content=body)).status_code)
    assert codes == [200, 200, 429, 200]


def test_app_mounts_all_three_sources() -> None:
    app = create_sim_app(MARKET, lambda: NOW)
    paths = {getattr(r, "path", None) for r in app.routes}
    assert {"/info", "/ws", "/polymarket", "/defillama"} <= paths
    assert all(r.routes for r in app.routes if isinstance(r, Mount))
