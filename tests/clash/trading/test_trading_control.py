"""The owner's trading control over HTTP (the whole app served by hypercorn on loopback, a real
SQLite file, market memory from the simulator on a VirtualClock): sandbox accounts of a clone, the Trading Clone Block (trading on/off
and the model strength per account, audited), the preview of an account's state now, and a
second user who can neither see nor change any of it."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
import httpx
import pytest
from hypercorn.asyncio import serve
from hypercorn.config import Config

from clash.http.app import create_app
from clash.trading import records

from tests.helpers.decision_world import ASSETS, PROMPT, decision_world

pytestmark = pytest.mark.anyio

ADA = {"x-user-id": "ada"}
BOB = {"x-user-id": "bob"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def error(response, status, code):
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code, response.json()
    return response.json()["error"]


def ok(response, status=200):
    assert response.status_code == status, response.text
    return response.json()


@asynccontextmanager
async def loopback(w) -> AsyncIterator[httpx.AsyncClient]:
    """The product's app served by hypercorn on a loopback port; a client of it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    port = sock.getsockname()[1]
    config = Config()
    config.bind = [f"fd://{sock.detach()}"]
    config.graceful_timeout = 0.2
    config.accesslog = config.errorlog = None
    stop = anyio.Event()
    async with anyio.create_task_group() as tg:
        tg.start_soon(lambda: serve(create_app(w.rt), config, shutdown_trigger=stop.wait))
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                yield client
        finally:
            stop.set()


async def control_rows(w) -> list[tuple]:
    async with w.rt.db.read() as r:
        return await r.fetchall(
            "SELECT clone_id, account_id, changed_by, op, model_strength, version, at_ms"
            " FROM trading_control_log ORDER BY id"
        )


async def test_create_publish_open_trade_and_stop_over_http(tmp_path) -> None:
    async with decision_world(tmp_path) as w, loopback(w) as c:
        cid = ok(await c.post("/api/v1/clones", json={"name": "Trend"}, headers=ADA), 201)["id"]
        url = f"/api/v1/clones/{cid}"
        error(await c.post(f"{url}/accounts", headers=ADA), 409, "no_published_version")
        basic = {"assets": list(ASSETS), "prompt": PROMPT}
        ok(await c.put(f"{url}/pipeline/basic", json=basic, headers=ADA))
        assert ok(await c.post(f"{url}/versions", json={}, headers=ADA), 201)["version"] == 1

        opened = ok(await c.post(f"{url}/accounts", headers=ADA), 201)
        account = opened["account_id"]
        assert (opened["kind"], opened["status"], opened["clone_id"]) == ("sandbox", "active", cid)
        assert set(opened["universe"]) == set(ASSETS)
        assert (opened["equity_usd"], opened["return"], opened["drawdown_usd"]) == (
            "10000.000000",
            "0.000000",
            "0.000000",
        )
        page = ok(await c.get(f"{url}/accounts", headers=ADA))
        assert page == {"items": [opened], "next_cursor": None}

        block = ok(await c.get(f"{url}/trading", headers=ADA))
        assert (block["tier"], block["allowed_model_strengths"]) == ("starter", ["light"])
        assert (block["published_version"], block["version_model_strength"]) == (1, "light")
        assert block["accounts"] == [
            {
                "account_id": account,
                "kind": "sandbox",
                "account_status": "active",
                "enabled": False,
                "model_strength": "light",
                "model_strength_source": "version",
                "version": 1,
                "changed_ms": None,
            }
        ]
        assert block["changes"] == []

        body = {"account_id": account, "enabled": True}
        on_at = w.clock.now_ms()
        on = ok(await c.put(f"{url}/trading", json=body, headers=ADA))
        assert on["accounts"][0]["enabled"] and on["accounts"][0]["changed_ms"] == on_at
        assert ok(await c.put(f"{url}/trading", json=body, headers=ADA)) == on  # idempotent
        assert await control_rows(w) == [(cid, account, "ada", "on", None, 1, on_at)]

        await w.clock.advance(900)
        runs = await w.runs(cid)
        assert runs and {r.account_id for r in runs} == {account}
        assert {r.symbol for r in runs} == set(ASSETS)
        decisions = ok(await c.get(f"{url}/decisions", params={"limit": 100}, headers=ADA))
        assert len(decisions["items"]) == len(runs)
        listed = ok(await c.get(f"{url}/accounts", headers=ADA))["items"][0]
        assert listed["account_id"] == account and listed["at_ms"] == w.clock.now_ms()

        off_at = w.clock.now_ms()
        off = ok(await c.put(f"{url}/trading", json=body | {"enabled": False}, headers=ADA))
        assert not off["accounts"][0]["enabled"] and off["accounts"][0]["changed_ms"] == off_at
        ok(await c.put(f"{url}/trading", json=body | {"enabled": False}, headers=ADA))
        assert [row[3] for row in await control_rows(w)] == ["on", "off"]
        assert [c["op"] for c in off["changes"]] == ["off", "on"]
        before = len(await w.runs(cid))
        await w.clock.advance(900)
        assert len(await w.runs(cid)) == before
        assert await w.trading.activations() == []


async def test_model_strength_is_held_to_the_tier_and_runs_use_it(tmp_path) -> None:
    async with decision_world(tmp_path) as w, loopback(w) as c:
        cid = await w.publish(cadence=300)
        url = f"/api/v1/clones/{cid}"
        account = ok(await c.post(f"{url}/accounts", headers=ADA), 201)["account_id"]
        body = {"account_id": account, "enabled": True, "model_strength": "standard"}
        error(
            await c.put(f"{url}/trading", json=body, headers=ADA), 422, "model_strength_not_allowed"
        )
        assert await control_rows(w) == [] and await w.trading.activations() == []
        error(
            await c.put(f"{url}/trading", json=body | {"model_strength": "huge"}, headers=ADA),
            422,
            "invalid_body",
        )

        await w.clones.grant_tier(cid, "builder", source="admin", granted_by="test")
        block = ok(await c.put(f"{url}/trading", json=body, headers=ADA))
        assert block["allowed_model_strengths"] == ["light", "standard"]
        mine = block["accounts"][0]
        assert (mine["enabled"], mine["model_strength"], mine["model_strength_source"]) == (
            True,
            "standard",
            "account",
        )
        await w.clock.advance(300)
        runs = await w.runs(cid)
        assert runs and all(r.model == w.trading.decider.model_for("standard") for r in runs)

        # Back to the version's tier: the pilot's plan now breaks the tier, so runs are refused.
        await w.clones.grant_tier(cid, "starter", source="admin", granted_by="test")
        seen = len(runs)
        await w.clock.advance(300)
        later = (await w.runs(cid))[seen:]
        assert later and {r.status for r in later} == {"entitlement_denied"}

        # Setting the strength while on is one audited change; the same request again is none.
        light = body | {"model_strength": "light"}
        ok(await c.put(f"{url}/trading", json=light, headers=ADA))
        ok(await c.put(f"{url}/trading", json=light, headers=ADA))
        assert [(r[2], r[3], r[4]) for r in await control_rows(w)] == [
            ("ada", "on", "standard"),
            ("ada", "model_strength", "light"),
        ]


async def test_accounts_page_and_limits(tmp_path) -> None:
    async with decision_world(tmp_path) as w, loopback(w) as c:
        cid = await w.publish()
        url = f"/api/v1/clones/{cid}/accounts"
        ids = [ok(await c.post(url, headers=ADA), 201)["account_id"] for _ in range(3)]
        first = ok(await c.get(url, params={"limit": 2}, headers=ADA))
        assert [a["account_id"] for a in first["items"]] == ids[:2]
        rest = ok(
            await c.get(url, params={"limit": 2, "cursor": first["next_cursor"]}, headers=ADA)
        )
        assert [a["account_id"] for a in rest["items"]] == ids[2:] and rest["next_cursor"] is None
        error(await c.get(url, params={"cursor": "pa_nope"}, headers=ADA), 422, "invalid_cursor")
        error(await c.get(url, params={"limit": 0}, headers=ADA), 422, "invalid_query")
        for _ in range(7):
            ok(await c.post(url, headers=ADA), 201)
        error(await c.post(url, headers=ADA), 409, "too_many_accounts")
        error(await c.post("/api/v1/clones/999/accounts", headers=ADA), 404, "clone_not_found")
        await w.clones.archive_clone("ada", cid)
        on = {"account_id": ids[0], "enabled": True}
        error(
            await c.put(f"/api/v1/clones/{cid}/trading", json=on, headers=ADA),
            409,
            "clone_archived",
        )
        error(await c.post(url, headers=ADA), 409, "clone_archived")
        error(await c.get(url), 401, "unauthenticated")


class LiveTime:
    """The runtime clock as a live one looks to a request: each reading is a millisecond later."""

    def __init__(self, clock) -> None:
        self.clock, self.ticks = clock, 0

    def now_ms(self) -> int:
        self.ticks += 1
        return self.clock.now_ms() + self.ticks

    def __getattr__(self, name):
        return getattr(self.clock, name)


async def test_preview_with_an_account_reads_its_state_now(tmp_path) -> None:
    async with decision_world(tmp_path) as w, loopback(w) as c:
        cid = await w.publish()
        account = ok(await c.post(f"/api/v1/clones/{cid}/accounts", headers=ADA), 201)["account_id"]
        url = f"/api/v1/clones/{cid}/pipeline/preview"
        virtual, w.trading.clock = w.trading.clock, LiveTime(w.clock)
        try:
            preview = ok(await c.get(url, params={"account_id": account}, headers=ADA))
        finally:
            w.trading.clock = virtual
        state = preview["packet"]["account"]
        assert (state["account_id"], state["equity_micro"]) == (account, 10_000_000_000)
        past = {"account_id": account, "as_of_ms": w.clock.now_ms() - 60_000}
        error(await c.get(url, params=past, headers=ADA), 422, "account_state_is_live")


async def test_another_user_can_neither_see_nor_change_the_owners_accounts(tmp_path) -> None:
    async with decision_world(tmp_path) as w, loopback(w) as c:
        cid = await w.publish()
        url = f"/api/v1/clones/{cid}"
        account = ok(await c.post(f"{url}/accounts", headers=ADA), 201)["account_id"]
        on = {"account_id": account, "enabled": True}
        ok(await c.put(f"{url}/trading", json=on, headers=ADA))
        rows_before = await control_rows(w)
        async with w.rt.db.read() as r:
            accounts_before = await r.fetchall("SELECT account_id FROM prop_accounts")

        error(await c.post(f"{url}/accounts", headers=BOB), 403, "not_owner")
        error(await c.get(f"{url}/accounts", headers=BOB), 403, "not_owner")
        error(await c.get(f"{url}/trading", headers=BOB), 403, "not_owner")
        for body in (on | {"enabled": False}, on | {"model_strength": "light"}):
            error(await c.put(f"{url}/trading", json=body, headers=BOB), 403, "not_owner")
        error(
            await c.get(f"{url}/pipeline/preview", params={"account_id": account}, headers=BOB),
            403,
            "not_owner",
        )
        error(
            await c.get(f"/api/v1/prop/accounts/{account}", headers=BOB), 403, "not_account_owner"
        )

        # Bob's own clone cannot reach Ada's account either.
        bobs = await w.publish(owner="bob")
        burl = f"/api/v1/clones/{bobs}"
        error(
            await c.put(f"{burl}/trading", json=on | {"enabled": False}, headers=BOB),
            404,
            "account_not_found",
        )
        error(await c.put(f"{burl}/trading", json=on, headers=BOB), 404, "account_not_found")
        error(
            await c.get(f"{burl}/pipeline/preview", params={"account_id": account}, headers=BOB),
            422,
            "account_not_of_clone",
        )
        assert ok(await c.get(f"{burl}/accounts", headers=BOB))["items"] == []

        assert await control_rows(w) == rows_before
        async with w.rt.db.read() as r:
            assert await r.fetchall("SELECT account_id FROM prop_accounts") == accounts_before
            assert [a.account_id for a in await records.activations(r)] == [account]
