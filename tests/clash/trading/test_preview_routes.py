"""The pipeline preview and Latest Data routes over the booted product, and their OpenAPI fragment."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from clash.clones.service import ClonePatch
from clash.http.routes.trading import routes

from tests.helpers.trading_world import seed_graph, trading_world

pytestmark = pytest.mark.anyio

ADA = {"x-user-id": "ada"}
BOB = {"x-user-id": "bob"}
SPEC = Path(__file__).resolve().parents[3] / "docs" / "openapi" / "trading.yaml"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def error(response, status, code):
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code, response.json()
    return response.json()["error"]


async def test_preview_and_latest_data_routes(tmp_path) -> None:
    async with trading_world(tmp_path) as w:
        cid = await w.clone(seed_graph())
        url = f"/api/v1/clones/{cid}/pipeline"
        async with w.client() as c:
            r = await c.get(f"{url}/preview", headers=ADA)
            assert r.status_code == 200, r.text
            body = r.json()
            assert set(body) == {"problems", "packet_sha256", "packet_bytes", "packet"}
            packet = body["packet"]
            assert packet["as_of_ms"] == w.clock.now_ms() and packet["clone"]["ref"] == "draft"
            reads = packet["compiled"]["branches"][0]["assets"][0]["reads"]
            eth = next(x for x in reads if x["stream_node_id"] == "eth-candles")
            assert (eth["symbol"], eth["context_symbol"], eth["cross_asset"]) == (
                "BTC",
                "ETH",
                True,
            )
            blocks = packet["assets"][0]["blocks"]
            assert blocks[0]["data"]["type"] == "candles" and blocks[0]["data"]["bars"]

            as_of = w.clock.now_ms() - 10 * 60_000
            again = (await c.get(f"{url}/preview", params={"as_of_ms": as_of}, headers=ADA)).json()
            same = (await c.get(f"{url}/preview", params={"as_of_ms": as_of}, headers=ADA)).json()
            assert (
                again["packet"]["as_of_ms"] == as_of
                and again["packet_sha256"] == same["packet_sha256"]
            )

            latest = await c.get(f"{url}/latest-data", params={"symbol": "BTC"}, headers=ADA)
            assert latest.status_code == 200, latest.text
            ctx = latest.json()
            assert (ctx["symbol"], ctx["asset"]["source"], len(ctx["contexts"])) == (
                "BTC",
                "explicit",
                1,
            )
            assert [b["stream_node_id"] for b in ctx["contexts"][0]["blocks"]] == [
                "eth-candles",
                "own-rsi",
                "own-funding",
                "macro",
                "pm",
            ]

            error(
                await c.get(f"{url}/latest-data", params={"symbol": "ETH"}, headers=ADA),
                404,
                "symbol_not_connected",
            )
            error(await c.get(f"{url}/latest-data", headers=ADA), 422, "invalid_query")
            error(await c.get(f"{url}/preview"), 401, "unauthenticated")
            error(await c.get(f"{url}/preview", headers=BOB), 403, "not_owner")
            error(
                await c.get("/api/v1/clones/999/pipeline/preview", headers=ADA),
                404,
                "clone_not_found",
            )
            error(
                await c.get(
                    f"{url}/preview", params={"as_of_ms": w.clock.now_ms() + 1}, headers=ADA
                ),
                422,
                "as_of_in_future",
            )
            error(
                await c.get(f"{url}/preview", params={"as_of_ms": "soon"}, headers=ADA),
                422,
                "invalid_query",
            )
            error(
                await c.get(f"{url}/preview", params={"version": "latest"}, headers=ADA),
                409,
                "no_published_version",
            )
            error(
                await c.get(f"{url}/preview", params={"version": 1}, headers=ADA),
                404,
                "version_not_found",
            )
            error(
                await c.get(f"{url}/preview", params={"account_id": "pa_x"}, headers=ADA),
                404,
                "account_not_found",
            )


async def test_published_versions_of_public_strategies_preview_for_others(tmp_path) -> None:
    async with trading_world(tmp_path) as w:
        cid = await w.clone(seed_graph())
        await w.clones.publish("ada", cid)
        account = await w.prop.open_account(cid, "sandbox", universe=["BTC"], owner_user_id="ada")
        url = f"/api/v1/clones/{cid}/pipeline/preview"
        async with w.client() as c:
            error(await c.get(url, params={"version": 1}, headers=BOB), 403, "not_owner")
            await w.clones.update_clone("ada", cid, ClonePatch(strategy_public=True))
            r = await c.get(url, params={"version": "latest"}, headers=BOB)
            assert r.status_code == 200 and r.json()["packet"]["clone"]["version"] == 1
            error(await c.get(url, params={"version": 2}, headers=BOB), 404, "version_not_found")
            error(await c.get(url, headers=BOB), 403, "not_owner")  # the draft stays the owner's
            error(
                await c.get(url, params={"version": 1, "account_id": account}, headers=BOB),
                422,
                "account_not_of_clone",
            )
            mine = await c.get(url, params={"version": 1, "account_id": account}, headers=ADA)
            assert (
                mine.status_code == 200
                and mine.json()["packet"]["account"]["account_id"] == account
            )
            error(
                await c.get(
                    url,
                    params={"account_id": account, "as_of_ms": w.clock.now_ms() - 1},
                    headers=ADA,
                ),
                422,
                "account_state_is_live",
            )


def documented() -> set[tuple[str, str]]:
    found, path = set(), None
    for line in SPEC.read_text().splitlines():
        if m := re.fullmatch(r"  \"?(/api/[^\"\s]+)\"?:", line):
            path = m[1]
        elif re.fullmatch(r"\S.*", line):
            path = None
        elif path and (m := re.fullmatch(r"    (get|put|post|patch|delete):", line)):
            found.add((m[1].upper(), path))
    return found


def test_every_route_and_error_code_is_in_the_openapi_fragment() -> None:
    served = {
        (method, re.sub(r":\w+}", "}", r.path)) for r in routes for method in r.methods - {"HEAD"}
    }
    assert served == documented()
