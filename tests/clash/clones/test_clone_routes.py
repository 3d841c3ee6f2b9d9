"""Clone routes over a real SQLite file: CRUD, owner-only writes, the draft pipeline, versions, diff,
fork attribution, entitlements, profiles and the moderation flow."""

from collections.abc import AsyncIterator
from types import SimpleNamespace

import httpx
import pytest
from starlette.applications import Starlette

from actors import VirtualClock
from actors.testkit import EPOCH_2026
from clash.clones.catalog import StaticCatalog, perp, spot
from clash.clones.module import ClonesModule
from clash.http.auth import DevHeaderIdentity
from clash.http.errors import EXCEPTION_HANDLERS
from clash.http.routes.clones import routes
from clash.store import Database, discover_migrations

pytestmark = pytest.mark.anyio

ADA = {"x-user-id": "ada"}
BOB = {"x-user-id": "bob"}
ADMIN = {"authorization": "Bearer admin-secret", "x-admin-name": "mod-mia"}
CATALOG = StaticCatalog(
    [
        perp("BTC"),
        perp("ETH"),
        perp("SOL"),
        perp("HYPE"),
        perp("DOGE"),
        spot("HYPE/USDC"),
        perp("LUNA", enabled=False, delisted=True),
    ]
)


@pytest.fixture
async def clock() -> VirtualClock:
    return VirtualClock(EPOCH_2026)


@pytest.fixture
async def clones(tmp_path, clock) -> AsyncIterator[ClonesModule]:
    db = await Database.open(tmp_path / "clash.db")
    await db.migrate(discover_migrations(["clash.clones"]), now_ms=clock.now_ms())
    ClonesModule.register_checks(db)
    module = ClonesModule(db, clock, CATALOG)
    yield module
    report = await db.check()
    await db.close()
    assert report.ok, report.problems


@pytest.fixture
async def client(clones) -> AsyncIterator[httpx.AsyncClient]:
    app = Starlette(routes=routes, exception_handlers=EXCEPTION_HANDLERS)
    app.state.runtime = SimpleNamespace(module={ClonesModule: clones}.__getitem__)
    app.state.identity = DevHeaderIdentity()
    app.state.admin_token = "admin-secret"
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://clash"
    ) as c:
        yield c


def graph(symbols=("BTC",), prompt_text="Trade the trend.", context="ETH"):
    """The seed's example shape: a decision branch over `symbols` that also reads `context`."""
    return {
        "nodes": [
            {
                "type": "data_stream",
                "id": "ctx",
                "config": {"source": "hyperliquid", "channel": "ohlcv", "symbol": context},
            },
            {
                "type": "data_stream",
                "id": "own",
                "config": {"source": "hyperliquid", "channel": "rsi"},
            },
            {
                "type": "asset_selection",
                "id": "assets",
                "config": {"explicitlyEnabledSymbols": list(symbols)},
            },
            {
                "type": "trading_prompt",
                "id": "prompt",
                "config": {"customBehaviorPrompt": prompt_text},
            },
        ],
        "edges": [
            {"source": "ctx", "target": "assets"},
            {"source": "own", "target": "assets"},
            {"source": "assets", "target": "prompt"},
        ],
        "layout": {
            "strategyClone": {"position": {"x": 900, "y": 80}, "connectedPromptNodeIds": ["prompt"]}
        },
    }


def error(response, status, code):
    assert response.status_code == status, response.text
    body = response.json()["error"]
    assert body["code"] == code, body
    return body


async def new_clone(client, headers=ADA, name="Momentum") -> int:
    response = await client.post("/api/v1/clones", json={"name": name}, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def published(client, clone_id, body, headers=ADA, note="") -> int:
    assert (
        await client.put(f"/api/v1/clones/{clone_id}/pipeline", json=body, headers=headers)
    ).status_code == 200
    response = await client.post(
        f"/api/v1/clones/{clone_id}/versions", json={"note": note}, headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()["version"]


# ---------------------------------------------------------------- clones


async def test_create_list_read_update_archive(client, clock):
    clone_id = await new_clone(client)
    await new_clone(client, BOB, "Bob's")
    body = (await client.get(f"/api/v1/clones/{clone_id}", headers=ADA)).json()
    assert (
        body["owner_id"] == "ada"
        and body["tier"] == "starter"
        and body["model_strength"] == "light"
    )
    assert (
        body["created_at_ms"] == clock.now_ms()
        and body["latest_version"] == 0
        and body["forked_from"] is None
    )
    assert [c["name"] for c in (await client.get("/api/v1/clones", headers=ADA)).json()] == [
        "Momentum"
    ]

    await clock.advance(5)
    response = await client.patch(
        f"/api/v1/clones/{clone_id}", json={"name": "Momentum v2"}, headers=ADA
    )
    assert (
        response.json()["name"] == "Momentum v2"
        and response.json()["updated_at_ms"] == clock.now_ms()
    )

    archived = (await client.post(f"/api/v1/clones/{clone_id}/archive", headers=ADA)).json()
    assert archived["status"] == "archived" and archived["archived_at_ms"] == clock.now_ms()
    assert (await client.get("/api/v1/clones", headers=ADA)).json() == []
    assert len((await client.get("/api/v1/clones?include_archived=true", headers=ADA)).json()) == 1


async def test_archived_clones_take_no_writes(client):
    clone_id = await new_clone(client)
    await client.post(f"/api/v1/clones/{clone_id}/archive", headers=ADA)
    for method, path, body in [
        ("PATCH", "", {"name": "x"}),
        ("PUT", "/pipeline", graph()),
        ("POST", "/versions", {}),
        ("POST", "/archive", None),
        ("PUT", "/profile", {"display_name": "X"}),
    ]:
        response = await client.request(
            method, f"/api/v1/clones/{clone_id}{path}", json=body, headers=ADA
        )
        error(response, 409, "clone_archived")


async def test_writes_are_owner_only(client):
    clone_id = await new_clone(client)
    for method, path, body in [
        ("PATCH", "", {"name": "mine now"}),
        ("PUT", "/pipeline", graph()),
        ("POST", "/versions", {}),
        ("POST", "/archive", None),
        ("PUT", "/profile", {"display_name": "X"}),
        ("PUT", "/pipeline/layout", {}),
        ("GET", "/pipeline", None),
        ("GET", "/entitlements", None),
        ("GET", "", None),
        ("GET", "/versions", None),
    ]:
        response = await client.request(
            method, f"/api/v1/clones/{clone_id}{path}", json=body, headers=BOB
        )
        error(response, 403, "not_owner")
    assert (await client.get(f"/api/v1/clones/{clone_id}", headers=ADA)).json()[
        "name"
    ] == "Momentum"


async def test_missing_clones_and_anonymous_writes(client):
    error(await client.get("/api/v1/clones/999", headers=ADA), 404, "clone_not_found")
    error(await client.post("/api/v1/clones", json={"name": "x"}), 401, "unauthenticated")
    error(await client.post("/api/v1/clones", json={"name": " "}, headers=ADA), 422, "invalid_body")
    error(
        await client.post("/api/v1/clones", json={"name": "x", "tier": "pro"}, headers=ADA),
        422,
        "invalid_body",
    )


# ---------------------------------------------------------------- pipeline


async def test_the_pipeline_round_trips_with_its_layout(client):
    clone_id = await new_clone(client)
    empty = await client.get(f"/api/v1/clones/{clone_id}/pipeline", headers=ADA)
    assert empty.json()["pipeline"]["nodes"] == [] and empty.headers["etag"] == '"1"'

    saved = await client.put(f"/api/v1/clones/{clone_id}/pipeline", json=graph(), headers=ADA)
    assert saved.status_code == 200 and saved.headers["etag"] == '"2"'
    body = (await client.get(f"/api/v1/clones/{clone_id}/pipeline", headers=ADA)).json()
    assert body["revision"] == 2 and body["active_assets"] == ["BTC"] and body["problems"] == []
    assert body["pipeline"]["layout"]["strategyClone"] == {
        "position": {"x": 900.0, "y": 80.0},
        "connectedPromptNodeIds": ["prompt"],
    }
    assert body["pipeline"]["nodes"][0]["config"]["symbol"] == "ETH"
    again = await client.put(
        f"/api/v1/clones/{clone_id}/pipeline", json=body["pipeline"], headers=ADA
    )
    assert again.json()["pipeline"] == body["pipeline"]


async def test_a_bad_graph_is_refused_with_every_problem_and_changes_nothing(client):
    clone_id = await new_clone(client)
    bad = graph(symbols=["BTC", "NOPE"])
    bad["edges"].append({"source": "ctx", "target": "prompt"})
    bad["nodes"].append(
        {
            "type": "data_stream",
            "id": "spot-funding",
            "config": {"source": "hyperliquid", "channel": "funding_rates", "symbol": "HYPE/USDC"},
        }
    )
    bad["edges"].append({"source": "spot-funding", "target": "assets"})
    body = error(
        await client.put(f"/api/v1/clones/{clone_id}/pipeline", json=bad, headers=ADA),
        422,
        "invalid_graph",
    )
    found = [
        (p["node_id"], p["field"], p["code"]) for p in body["detail"] if p["severity"] == "error"
    ]
    assert found == [
        ("prompt", "edges", "edge_not_allowed"),
        ("assets", "config.explicitlyEnabledSymbols[1]", "unknown_symbol"),
        ("spot-funding", "config.channel", "unsupported_channel"),
    ]
    assert (await client.get(f"/api/v1/clones/{clone_id}/pipeline", headers=ADA)).json()[
        "revision"
    ] == 1


async def test_undecodable_configs_are_invalid_graph_with_node_and_field(client):
    clone_id = await new_clone(client)
    bad = graph()
    bad["nodes"][3]["config"]["decisionCadenceSec"] = "often"
    body = error(
        await client.put(f"/api/v1/clones/{clone_id}/pipeline", json=bad, headers=ADA),
        422,
        "invalid_graph",
    )
    assert body["detail"] == [
        {
            "node_id": "prompt",
            "field": "config.decisionCadenceSec",
            "code": "invalid_type",
            "message": "Expected `int`, got `str`",
            "edge_id": None,
            "severity": "error",
        }
    ]
    assert "node prompt, config.decisionCadenceSec" in body["message"]


async def test_starter_cannot_save_more_active_assets_than_its_tier(client):
    clone_id = await new_clone(client)
    response = await client.put(
        f"/api/v1/clones/{clone_id}/pipeline",
        json=graph(symbols=["BTC", "ETH", "SOL", "HYPE"]),
        headers=ADA,
    )
    body = error(response, 422, "invalid_graph")
    assert [(p["field"], p["code"]) for p in body["detail"]] == [
        ("active_assets", "too_many_active_assets")
    ]
    assert "the Starter tier allows 3" in body["detail"][0]["message"]

    response = await client.put(
        f"/api/v1/admin/clones/{clone_id}/entitlements",
        json={"tier": "builder", "reason": "paid audition"},
        headers=ADMIN,
    )
    assert response.json()["tier"]["id"] == "builder" and response.json()["granted_by"] == "mod-mia"
    saved = await client.put(
        f"/api/v1/clones/{clone_id}/pipeline",
        json=graph(symbols=["BTC", "ETH", "SOL", "HYPE"]),
        headers=ADA,
    )
    assert saved.status_code == 200


async def test_validate_reports_without_saving(client):
    clone_id = await new_clone(client)
    ok = (
        await client.post(f"/api/v1/clones/{clone_id}/pipeline/validate", json=graph(), headers=ADA)
    ).json()
    assert ok == {"ok": True, "tier": "starter", "active_assets": ["BTC"], "problems": []}
    bad = (
        await client.post(
            f"/api/v1/clones/{clone_id}/pipeline/validate",
            json={"nodes": [{"id": "x"}]},
            headers=ADA,
        )
    ).json()
    assert not bad["ok"] and bad["problems"][0]["code"] == "missing_field"
    assert (await client.get(f"/api/v1/clones/{clone_id}/pipeline", headers=ADA)).json()[
        "revision"
    ] == 1


async def test_if_match_refuses_a_stale_save(client):
    clone_id = await new_clone(client)
    await client.put(f"/api/v1/clones/{clone_id}/pipeline", json=graph(), headers=ADA)
    stale = {**ADA, "if-match": '"1"'}
    error(
        await client.put(f"/api/v1/clones/{clone_id}/pipeline", json=graph(), headers=stale),
        412,
        "revision_mismatch",
    )
    fresh = {**ADA, "if-match": '"2"'}
    assert (
        await client.put(f"/api/v1/clones/{clone_id}/pipeline", json=graph(), headers=fresh)
    ).status_code == 200


async def test_layout_saves_alone_and_checks_its_references(client):
    clone_id = await new_clone(client)
    await client.put(f"/api/v1/clones/{clone_id}/pipeline", json=graph(), headers=ADA)
    moved = {
        "strategyClone": {"position": {"x": 10, "y": 20}, "connectedPromptNodeIds": ["prompt"]},
        "controlMode": "power_user",
    }
    before = (await client.get(f"/api/v1/clones/{clone_id}/pipeline", headers=ADA)).json()
    body = (
        await client.put(f"/api/v1/clones/{clone_id}/pipeline/layout", json=moved, headers=ADA)
    ).json()
    assert body["pipeline"]["layout"]["strategyClone"]["position"] == {"x": 10.0, "y": 20.0}
    assert body["pipeline"]["layout"]["controlMode"] == "power_user"
    assert (
        body["pipeline"]["nodes"] == before["pipeline"]["nodes"]
        and body["revision"] == before["revision"] + 1
    )
    wrong = {"strategyClone": {"connectedPromptNodeIds": ["assets"]}}
    body = error(
        await client.put(f"/api/v1/clones/{clone_id}/pipeline/layout", json=wrong, headers=ADA),
        422,
        "invalid_graph",
    )
    assert body["detail"][0]["code"] == "layout_not_a_prompt"


async def test_basic_mode_writes_the_graph_and_reads_back(client):
    clone_id = await new_clone(client)
    choices = {"assets": ["BTC", "ETH"], "profile": "fast", "prompt": "Scalp the open."}
    body = (
        await client.put(f"/api/v1/clones/{clone_id}/pipeline/basic", json=choices, headers=ADA)
    ).json()
    assert (
        body["active_assets"] == ["BTC", "ETH"]
        and body["pipeline"]["layout"]["controlMode"] == "basic"
    )
    assert (await client.get(f"/api/v1/clones/{clone_id}/pipeline/basic", headers=ADA)).json()[
        "basic"
    ] == {
        "assets": ["BTC", "ETH"],
        "category": None,
        "profile": "fast",
        "prompt": "Scalp the open.",
    }

    custom = body["pipeline"]
    custom["nodes"][0]["config"]["symbol"] = "SOL"
    await client.put(f"/api/v1/clones/{clone_id}/pipeline", json=custom, headers=ADA)
    assert (await client.get(f"/api/v1/clones/{clone_id}/pipeline/basic", headers=ADA)).json()[
        "basic"
    ] is None

    too_many = {"category": "Perps", "prompt": "All of them."}
    error(
        await client.put(f"/api/v1/clones/{clone_id}/pipeline/basic", json=too_many, headers=ADA),
        422,
        "invalid_graph",
    )
    error(
        await client.put(
            f"/api/v1/clones/{clone_id}/pipeline/basic", json={"prompt": "x"}, headers=ADA
        ),
        422,
        "invalid_choices",
    )


# ---------------------------------------------------------------- versions, diff, fork


async def test_publishing_makes_numbered_immutable_versions(client, clock):
    clone_id = await new_clone(client)
    v1 = await published(client, clone_id, graph(prompt_text="First idea."), note="first")
    await clock.advance(60)
    await client.put(
        f"/api/v1/clones/{clone_id}/pipeline", json=graph(prompt_text="Second idea."), headers=ADA
    )
    # The draft moved on; version 1 did not.
    first = (await client.get(f"/api/v1/clones/{clone_id}/versions/{v1}", headers=ADA)).json()
    assert first["pipeline"]["nodes"][3]["config"]["customBehaviorPrompt"] == "First idea."
    assert first["note"] == "first" and first["parent"] is None and first["parent_hash"] == ""
    v2 = (await client.post(f"/api/v1/clones/{clone_id}/versions", json={}, headers=ADA)).json()
    assert (v1, v2["version"]) == (1, 2)
    assert (
        v2["parent"] == {"clone_id": clone_id, "version": 1} and v2["parent_hash"] == first["hash"]
    )
    assert v2["published_at_ms"] == clock.now_ms()
    listed = (await client.get(f"/api/v1/clones/{clone_id}/versions", headers=ADA)).json()
    assert [v["version"] for v in listed] == [1, 2] and "pipeline" not in listed[0]
    error(
        await client.post(f"/api/v1/clones/{clone_id}/versions", json={}, headers=ADA),
        409,
        "no_changes",
    )
    error(
        await client.get(f"/api/v1/clones/{clone_id}/versions/9", headers=ADA),
        404,
        "version_not_found",
    )


async def test_publish_refuses_an_empty_strategy(client):
    clone_id = await new_clone(client)
    body = error(
        await client.post(f"/api/v1/clones/{clone_id}/versions", json={}, headers=ADA),
        422,
        "invalid_graph",
    )
    assert body["detail"][0]["code"] == "nothing_to_trade"


async def test_publish_rechecks_the_tier(client, clones):
    clone_id = await new_clone(client)
    await clones.grant_tier(clone_id, "pro", source="economy:purchase-1", granted_by="economy")
    await client.patch(f"/api/v1/clones/{clone_id}", json={"model_strength": "max"}, headers=ADA)
    await client.put(
        f"/api/v1/clones/{clone_id}/pipeline",
        json=graph(symbols=["BTC", "ETH", "SOL", "HYPE"]),
        headers=ADA,
    )
    await clones.grant_tier(clone_id, "starter", source="admin", granted_by="mia", reason="refund")
    ent = (await client.get(f"/api/v1/clones/{clone_id}/entitlements", headers=ADA)).json()
    assert ent["tier"]["name"] == "Starter" and ent["source"] == "admin"
    assert [p["code"] for p in ent["problems"]] == [
        "too_many_active_assets",
        "model_strength_not_allowed",
    ]
    body = error(
        await client.post(f"/api/v1/clones/{clone_id}/versions", json={}, headers=ADA),
        422,
        "invalid_graph",
    )
    assert {p["code"] for p in body["detail"]} == {
        "too_many_active_assets",
        "model_strength_not_allowed",
    }


async def test_model_strength_is_held_to_the_tier(client):
    clone_id = await new_clone(client)
    body = error(
        await client.patch(
            f"/api/v1/clones/{clone_id}", json={"model_strength": "max"}, headers=ADA
        ),
        422,
        "model_strength_not_allowed",
    )
    assert "not in the Starter tier" in body["message"]
    error(
        await client.patch(
            f"/api/v1/clones/{clone_id}", json={"model_strength": "huge"}, headers=ADA
        ),
        422,
        "invalid_body",
    )


async def test_diff_between_versions_and_the_draft(client):
    clone_id = await new_clone(client)
    await published(client, clone_id, graph(prompt_text="Buy breakouts."))
    await published(
        client,
        clone_id,
        graph(symbols=["BTC", "SOL"], prompt_text="Buy breakouts.\nSell fades.", context="HYPE"),
    )
    d = (await client.get(f"/api/v1/clones/{clone_id}/diff?from=1&to=2", headers=ADA)).json()
    changed = {
        c["node_id"]: {f["path"]: [f["before"], f["after"]] for f in c["changes"]}
        for c in d["nodes_changed"]
    }
    assert changed == {
        "ctx": {"config.symbol": ["ETH", "HYPE"]},
        "assets": {"config.explicitlyEnabledSymbols": [["BTC"], ["BTC", "SOL"]]},
        "prompt": {
            "config.customBehaviorPrompt": ["Buy breakouts.", "Buy breakouts.\nSell fades."]
        },
    }
    assert d["prompts"][0]["unified"][-1] == "+Sell fades."
    assert d["nodes_added"] == d["edges_added"] == [] and not d["identical"]
    draft = (
        await client.get(f"/api/v1/clones/{clone_id}/diff?from=2&to=draft", headers=ADA)
    ).json()
    assert draft["identical"]
    error(
        await client.get(f"/api/v1/clones/{clone_id}/diff?from=1&to=latest", headers=ADA),
        422,
        "invalid_query",
    )
    error(
        await client.get(f"/api/v1/clones/{clone_id}/diff?from=1&to=7", headers=ADA),
        404,
        "version_not_found",
    )


async def test_fork_attributes_its_source_and_chains_provenance(client):
    source = await new_clone(client)
    await published(client, source, graph(prompt_text="Ada's edge."))
    error(
        await client.post(f"/api/v1/clones/{source}/fork", json={}, headers=BOB), 403, "not_owner"
    )
    await client.patch(f"/api/v1/clones/{source}", json={"strategy_public": True}, headers=ADA)
    error(
        await client.get(f"/api/v1/clones/{source}/diff?from=1&to=draft", headers=BOB),
        403,
        "not_owner",
    )

    forked = await client.post(f"/api/v1/clones/{source}/fork", json={"version": 1}, headers=BOB)
    assert forked.status_code == 201, forked.text
    fork = forked.json()["clone"]
    assert fork["owner_id"] == "bob" and fork["forked_from"] == {"clone_id": source, "version": 1}
    assert (
        fork["name"] == f"Fork of clone {source}"
        and fork["tier"] == "starter"
        and fork["latest_version"] == 0
    )
    assert forked.json()["problems"] == []
    pipeline = (await client.get(f"/api/v1/clones/{fork['id']}/pipeline", headers=BOB)).json()
    assert pipeline["base"] == {"clone_id": source, "version": 1}
    assert pipeline["pipeline"]["nodes"][3]["config"]["customBehaviorPrompt"] == "Ada's edge."

    v1 = await published(client, fork["id"], graph(prompt_text="Bob's twist."), headers=BOB)
    mine = (await client.get(f"/api/v1/clones/{fork['id']}/versions/{v1}", headers=BOB)).json()
    theirs = (await client.get(f"/api/v1/clones/{source}/versions/1", headers=BOB)).json()
    assert (
        mine["parent"] == {"clone_id": source, "version": 1}
        and mine["parent_hash"] == theirs["hash"]
    )
    # The source is untouched and still private to writes.
    error(
        await client.put(f"/api/v1/clones/{source}/pipeline", json=graph(), headers=BOB),
        403,
        "not_owner",
    )


async def test_owner_forks_an_unpublished_draft(client):
    source = await new_clone(client, name="Lab")
    await client.put(f"/api/v1/clones/{source}/pipeline", json=graph(), headers=ADA)
    fork = (
        await client.post(f"/api/v1/clones/{source}/fork", json={"name": "Lab B"}, headers=ADA)
    ).json()["clone"]
    assert fork["name"] == "Lab B" and fork["forked_from"] == {"clone_id": source, "version": None}
    error(
        await client.post(f"/api/v1/clones/{source}/fork", json={"version": 3}, headers=ADA),
        404,
        "version_not_found",
    )


async def test_reset_the_draft_to_a_version(client):
    clone_id = await new_clone(client)
    await published(client, clone_id, graph(prompt_text="v1 text"))
    await published(client, clone_id, graph(prompt_text="v2 text"))
    body = (
        await client.post(
            f"/api/v1/clones/{clone_id}/pipeline/reset", json={"version": 1}, headers=ADA
        )
    ).json()
    assert body["base"] == {"clone_id": clone_id, "version": 1}
    v3 = (await client.post(f"/api/v1/clones/{clone_id}/versions", json={}, headers=ADA)).json()
    assert v3["version"] == 3 and v3["parent"] == {"clone_id": clone_id, "version": 1}


# ---------------------------------------------------------------- entitlements


async def test_tiers_and_entitlements_are_readable(client):
    tiers = (await client.get("/api/v1/entitlements/tiers")).json()
    assert [t["id"] for t in tiers] == ["starter", "builder", "pro"]
    assert tiers[0]["backtest"] == {
        "daily_runs": 3,
        "max_decision_calls": 24,
        "max_active_assets": 3,
        "max_estimated_tokens": 120000,
    }
    clone_id = await new_clone(client)
    await client.put(
        f"/api/v1/clones/{clone_id}/pipeline", json=graph(symbols=["BTC", "SOL"]), headers=ADA
    )
    ent = (await client.get(f"/api/v1/clones/{clone_id}/entitlements", headers=ADA)).json()
    assert ent["tier"]["max_active_assets"] == 3 and ent["source"] == "default"
    assert ent["active_assets"] == ["BTC", "SOL"] and ent["problems"] == []
    error(
        await client.put(
            f"/api/v1/admin/clones/{clone_id}/entitlements", json={"tier": "pro", "reason": "x"}
        ),
        401,
        "bad_admin_token",
    )
    error(
        await client.put(
            f"/api/v1/admin/clones/{clone_id}/entitlements",
            json={"tier": "gold", "reason": "x"},
            headers=ADMIN,
        ),
        422,
        "invalid_body",
    )


# ---------------------------------------------------------------- profiles and moderation


async def test_profiles_publish_on_submit_and_stay_apart_from_the_strategy(client):
    clone_id = await new_clone(client)
    error(await client.get(f"/api/v1/profiles/{clone_id}"), 404, "profile_not_found")
    profile = {
        "display_name": "Ada's Momentum",
        "avatar_url": "https://cdn.example/a.png",
        "bio": "Trend follower.",
    }
    body = (
        await client.put(f"/api/v1/clones/{clone_id}/profile", json=profile, headers=ADA)
    ).json()
    assert body["status"] == "published" and body["open_reports"] == 0
    public = (await client.get(f"/api/v1/profiles/{clone_id}")).json()
    assert set(public) == {"clone_id", "display_name", "avatar_url", "bio", "published_at_ms"}
    assert [p["clone_id"] for p in (await client.get("/api/v1/profiles")).json()] == [clone_id]
    error(
        await client.put(
            f"/api/v1/clones/{clone_id}/profile",
            json={**profile, "avatar_url": "javascript:alert(1)"},
            headers=ADA,
        ),
        422,
        "invalid_body",
    )


async def test_report_and_moderation_flow(client, clock):
    clone_id = await new_clone(client)
    await client.put(
        f"/api/v1/clones/{clone_id}/profile", json={"display_name": "Totally Binance"}, headers=ADA
    )

    error(
        await client.post(f"/api/v1/profiles/{clone_id}/reports", json={"reason": "spam"}),
        401,
        "unauthenticated",
    )
    error(
        await client.post(
            f"/api/v1/profiles/{clone_id}/reports", json={"reason": "spam"}, headers=ADA
        ),
        403,
        "own_profile",
    )
    error(
        await client.post(
            f"/api/v1/profiles/{clone_id}/reports", json={"reason": "rude"}, headers=BOB
        ),
        422,
        "invalid_body",
    )
    report = await client.post(
        f"/api/v1/profiles/{clone_id}/reports",
        json={"reason": "impersonation", "note": "not Binance"},
        headers=BOB,
    )
    assert report.status_code == 201
    assert (
        report.json()["status"] == "open"
        and report.json()["profile_snapshot"]["display_name"] == "Totally Binance"
    )
    error(
        await client.post(
            f"/api/v1/profiles/{clone_id}/reports", json={"reason": "spam"}, headers=BOB
        ),
        409,
        "already_reported",
    )
    await clock.advance(30)
    await client.post(
        f"/api/v1/profiles/{clone_id}/reports", json={"reason": "scam"}, headers={"x-user-id": "cy"}
    )

    error(
        await client.get("/api/v1/admin/moderation/profiles", headers=BOB), 401, "bad_admin_token"
    )
    (entry,) = (await client.get("/api/v1/admin/moderation/profiles", headers=ADMIN)).json()
    assert entry["open_reports"] == 2 and entry["reasons"] == {"impersonation": 1, "scam": 1}
    assert entry["profile"]["status"] == "published" and len(entry["reports"]) == 2

    retired = await client.post(
        f"/api/v1/admin/profiles/{clone_id}/retire", json={"reason": "impersonation"}, headers=ADMIN
    )
    assert (
        retired.json()["reports_resolved"] == 2
        and retired.json()["profile"]["retired_by"] == "mod-mia"
    )
    assert (await client.get("/api/v1/admin/moderation/profiles", headers=ADMIN)).json() == []
    error(await client.get(f"/api/v1/profiles/{clone_id}"), 404, "profile_not_found")
    error(
        await client.post(
            f"/api/v1/admin/profiles/{clone_id}/retire", json={"reason": "again"}, headers=ADMIN
        ),
        409,
        "already_retired",
    )

    # The owner's edit does not lift the retirement; an admin reinstates.
    edited = await client.put(
        f"/api/v1/clones/{clone_id}/profile", json={"display_name": "Ada Trend"}, headers=ADA
    )
    assert (
        edited.json()["status"] == "retired" and edited.json()["retired_reason"] == "impersonation"
    )
    back = await client.post(
        f"/api/v1/admin/profiles/{clone_id}/reinstate", json={"reason": "renamed"}, headers=ADMIN
    )
    assert back.json()["profile"]["status"] == "published" and back.json()["reports_resolved"] == 0
    assert (await client.get(f"/api/v1/profiles/{clone_id}")).json()["display_name"] == "Ada Trend"
    error(
        await client.post(
            f"/api/v1/admin/profiles/{clone_id}/reinstate", json={"reason": "x"}, headers=ADMIN
        ),
        409,
        "nothing_to_reinstate",
    )


async def test_reinstating_a_reported_profile_dismisses_the_reports(client, clones):
    clone_id = await new_clone(client)
    await client.put(
        f"/api/v1/clones/{clone_id}/profile", json={"display_name": "Fine"}, headers=ADA
    )
    await client.post(f"/api/v1/profiles/{clone_id}/reports", json={"reason": "other"}, headers=BOB)
    result = (
        await client.post(
            f"/api/v1/admin/profiles/{clone_id}/reinstate",
            json={"reason": "no issue"},
            headers=ADMIN,
        )
    ).json()
    assert result["reports_resolved"] == 1 and result["profile"]["status"] == "published"
    assert await clones.profile_is_public(clone_id)
    # Bob may report again once his report is closed.
    again = await client.post(
        f"/api/v1/profiles/{clone_id}/reports", json={"reason": "spam"}, headers=BOB
    )
    assert again.status_code == 201


async def test_archived_clones_leave_the_public_list(client, clones):
    clone_id = await new_clone(client)
    await client.put(
        f"/api/v1/clones/{clone_id}/profile", json={"display_name": "Gone soon"}, headers=ADA
    )
    await client.post(f"/api/v1/clones/{clone_id}/archive", headers=ADA)
    assert (await client.get("/api/v1/profiles")).json() == []
    assert not await clones.profile_is_public(clone_id)
    error(
        await client.post(
            f"/api/v1/profiles/{clone_id}/reports", json={"reason": "spam"}, headers=BOB
        ),
        404,
        "profile_not_found",
    )
