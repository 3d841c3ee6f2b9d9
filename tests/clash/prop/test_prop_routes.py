"""The prop routes through httpx's ASGI transport, on a minimal app around the prop module."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from clash.http.auth import DevHeaderIdentity
from clash.http.errors import EXCEPTION_HANDLERS
from clash.http.routes.prop import routes
from clash.prop.gates import Action
from clash.prop.money import usd

from tests.helpers.prop_writer import PropEnv, prop_runtime

pytestmark = pytest.mark.anyio
ADMIN = {"authorization": "Bearer t", "x-admin-name": "alice"}
OWNER = {"x-user-id": "u1"}


@asynccontextmanager
async def served(tmp_path: Path) -> AsyncIterator[tuple[PropEnv, httpx.AsyncClient, str]]:
    async with prop_runtime(tmp_path / "p.db") as env:
        app = Starlette(routes=routes, exception_handlers=EXCEPTION_HANDLERS)
        app.state.runtime = env.runtime
        app.state.identity = DevHeaderIdentity()
        app.state.admin_token = "t"
        account = await env.module.open_account(
            7, "sandbox", universe=["BTC", "ETH"], owner_user_id="u1"
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://clash") as client:
            yield env, client, account


async def owner_get(client: httpx.AsyncClient, path: str, **params) -> dict:
    response = await client.get(path, params=params, headers=OWNER)
    assert response.status_code == 200, response.text
    return response.json()


async def trade(env: PropEnv, account: str, n: int) -> None:
    for i in range(n):
        kind = "open_long" if i % 2 == 0 else "close"
        size = usd(1_000) if kind == "open_long" else None
        await env.module.submit(
            account, Action(action_id=f"a{i}", kind=kind, symbol="BTC", size_usd=size, leverage=2)
        )


async def test_the_owner_reads_the_account_with_money_as_decimal_strings(tmp_path: Path):
    async with served(tmp_path) as (env, client, account):
        await env.module.submit(
            account,
            Action(
                action_id="a1",
                kind="open_long",
                symbol="BTC",
                size_usd=usd(5_000),
                leverage=5,
                stop_loss=Decimal(90_000),
            ),
        )
        response = await client.get(f"/api/v1/prop/accounts/{account}", headers=OWNER)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["clone_id"] == 7
        assert body["balance_usd"] == "9997.748875"
        assert body["equity_usd"] == "9995.248875"  # marked at 100000 after buying at 100050
        assert body["fees_paid_usd"] == "2.251125"
        assert body["limits"]["taker_fee_bps"] == "4.5"
        assert body["return"] == "-0.000476"
        (position,) = body["positions"]
        assert position["size"] == "0.05000"  # sizes keep the asset's szDecimals
        assert (position["entry_px"], position["stop_loss"], position["margin_usd"]) == (
            "100050",
            "90000",
            "1000.500000",
        )

        positions = await owner_get(client, f"/api/v1/prop/accounts/{account}/positions")
        assert positions["positions"] == body["positions"]
        orders = await owner_get(client, f"/api/v1/prop/accounts/{account}/orders")
        assert [(o["order_no"], o["side"], o["ref_px"]) for o in orders["items"]] == [
            (1, "buy", "100000")
        ]
        fills = await owner_get(client, f"/api/v1/prop/accounts/{account}/fills")
        assert [(f["px"], f["fee_usd"], f["notional_usd"]) for f in fills["items"]] == [
            ("100050", "2.251125", "5002.500000")
        ]
        equity = await owner_get(client, f"/api/v1/prop/accounts/{account}/equity")
        assert equity["points"][0]["equity_usd"] == "10000.000000"


async def test_the_ledger_pages_newest_first(tmp_path: Path):
    async with served(tmp_path) as (env, client, account):
        await trade(env, account, 6)  # deposit + 3 x (fee) + 3 x (fee, pnl) = 10 rows
        url = f"/api/v1/prop/accounts/{account}/ledger"
        first = await owner_get(client, url, limit=4)
        ids = [e["entry_id"] for e in first["items"]]
        assert ids == sorted(ids, reverse=True) and len(ids) == 4
        seen = list(ids)
        cursor = first["next_before_id"]
        while cursor is not None:
            page = await owner_get(client, url, limit=4, before_id=cursor)
            seen += [e["entry_id"] for e in page["items"]]
            cursor = page["next_before_id"]
        assert len(seen) == len(set(seen)) == 10
        assert seen == sorted(seen, reverse=True)
        (last,) = (await owner_get(client, url, limit=1, before_id=seen[-2]))["items"]
        assert (last["kind"], last["amount_usd"], last["ref"]) == (
            "deposit",
            "10000.000000",
            "opening",
        )
        orders = await owner_get(client, f"/api/v1/prop/accounts/{account}/orders", limit=2)
        assert [o["order_no"] for o in orders["items"]] == [6, 5] and orders["next_before_id"] == 5
        bad = await client.get(url, params={"limit": 0}, headers=OWNER)
        assert (bad.status_code, bad.json()["error"]["code"]) == (422, "invalid_query")


async def test_reads_need_the_owner_or_an_admin(tmp_path: Path):
    async with served(tmp_path) as (_env, client, account):
        url = f"/api/v1/prop/accounts/{account}"
        assert (await client.get(url)).status_code == 401
        stranger = await client.get(url, headers={"x-user-id": "u2"})
        assert (stranger.status_code, stranger.json()["error"]["code"]) == (
            403,
            "not_account_owner",
        )
        assert (await client.get(url, headers=ADMIN)).status_code == 200
        bad_token = await client.get(url, headers={"authorization": "Bearer nope"})
        assert bad_token.status_code == 401
        missing = await client.get("/api/v1/prop/accounts/pa_nope/ledger", headers=OWNER)
        assert (missing.status_code, missing.json()["error"]["code"]) == (404, "account_not_found")


async def test_admin_controls_are_audited_and_need_the_token(tmp_path: Path):
    async with served(tmp_path) as (env, client, account):
        await trade(env, account, 1)
        base = f"/api/v1/admin/prop/accounts/{account}"
        assert (await client.post(f"{base}/pause", headers=OWNER)).status_code == 401
        paused = await client.post(f"{base}/pause", headers=ADMIN)
        assert (paused.status_code, paused.json()["status"]) == (200, "paused")
        assert (await client.post(f"{base}/resume", headers=ADMIN)).json()["status"] == "active"
        flat = (await client.post(f"{base}/flatten", headers=ADMIN)).json()
        assert flat["positions"] == []
        killed = (await client.post(f"{base}/kill", headers=ADMIN)).json()
        assert (killed["status"], killed["halt_reason"]) == ("halted", "killed")
        audit = [(a.admin, a.op) for a in await env.module.admin_actions(account)]
        assert audit == [("alice", op) for op in ("pause", "resume", "flatten", "kill")]
        unknown = await client.post(f"{base}/explode", headers=ADMIN)
        assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "unknown_op")
        missing = await client.post("/api/v1/admin/prop/accounts/pa_nope/pause", headers=ADMIN)
        assert (missing.status_code, missing.json()["error"]["code"]) == (404, "account_not_found")
        await env.module.finalize(account)
        frozen = await client.post(f"{base}/pause", headers=ADMIN)
        assert (frozen.status_code, frozen.json()["error"]["code"]) == (409, "account_finalized")
        result = (await client.get(f"/api/v1/prop/accounts/{account}", headers=OWNER)).json()
        assert result["finalized_at_ms"] is not None
