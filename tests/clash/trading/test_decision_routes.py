"""The decision routes over the booted product: history pages and filters, one decision's snapshot,
costs, dry runs, ownership and admin auth, the admin pauses; artifact retention; the fragment."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from clash.http.routes.decisions import routes
from clash.trading.config import ArtifactSettings

from tests.helpers.decision_world import ADMIN_TOKEN, decision_world, trading_config

pytestmark = pytest.mark.anyio

ADA = {"x-user-id": "ada"}
BOB = {"x-user-id": "bob"}
ADMIN = {"authorization": f"Bearer {ADMIN_TOKEN}", "x-admin-name": "ops"}
SPEC = Path(__file__).resolve().parents[3] / "docs" / "openapi" / "decisions.yaml"


def error(response, status, code):
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code, response.json()
    return response.json()["error"]


async def test_history_snapshot_costs_and_auth(tmp_path) -> None:
    async with decision_world(tmp_path) as w:
        cid = await w.publish()
        account = await w.activate(cid)
        await w.clock.advance(3600)
        url = f"/api/v1/clones/{cid}/decisions"
        async with w.client() as c:
            seen, before = [], None
            while True:
                params = {"limit": 7} | ({"before_seq": before} if before else {})
                page = (await c.get(url, params=params, headers=ADA)).json()
                seen += page["items"]
                before = page["next_before_seq"]
                if before is None:
                    break
            assert len(seen) == 36 and len({d["run_id"] for d in seen}) == 36
            assert [d["seq"] for d in seen] == sorted((d["seq"] for d in seen), reverse=True)

            btc = (await c.get(url, params={"symbol": "BTC", "limit": 100}, headers=ADA)).json()[
                "items"
            ]
            assert len(btc) == 12 and {d["symbol"] for d in btc} == {"BTC"}
            filled = (await c.get(url, params={"status": "filled"}, headers=ADA)).json()["items"]
            assert filled and {d["status"] for d in filled} == {"filled"}
            fill = filled[0]["action"]["fill"]
            assert fill["account_id"] == account and fill["order_no"] >= 1 and float(fill["px"]) > 0

            snap = await c.get(f"/api/v1/decisions/{filled[0]['run_id']}", headers=ADA)
            assert snap.status_code == 200, snap.text
            body = snap.json()
            assert (
                body["decision"]["run_id"] == filled[0]["run_id"] and not body["artifacts_expired"]
            )
            assert set(body["artifact"]["parts"]) == {"context", "response", "reasoning"}
            assert body["context"]["asset"]["symbol"] == filled[0]["symbol"]
            assert all(
                len(b["data"]["bars"]) <= 10
                for b in body["context"]["asset"]["blocks"]
                if b["data"] and b["data"]["type"] == "candles"
            )
            kind = body["decision"]["action"]["kind"]
            assert kind != "hold" and body["response"]["text"].startswith(f'{{"action":"{kind}"')
            assert body["reasoning"]["reason"] == body["decision"]["action"]["rationale"]
            assert body["prompt"] is None and body["context_summary"]["mark_px"]
            assert (
                await c.get(f"/api/v1/decisions/{filled[0]['run_id']}", headers=ADMIN)
            ).status_code == 200

            costs = (await c.get(f"{url}/costs", headers=ADA)).json()
            assert costs["total"]["runs"] == 36 and costs["total"]["cost_usd"] == "0.000000"
            assert [d["key"] for d in costs["days"]] == ["2026-01-01"]
            assert {a["key"]: a["runs"] for a in costs["assets"]} == {
                "BTC": 12,
                "ETH": 12,
                "SOL": 12,
            }
            daily = (await c.get("/api/v1/admin/decisions/costs", headers=ADMIN)).json()
            assert daily["days"][0]["runs"] == 36 and daily["clones"][0]["clone_id"] == cid

            dry = await c.post(f"{url}/dry-run", headers=ADA)
            assert dry.status_code == 200, dry.text
            assert [d["dry_run"] for d in dry.json()["decisions"]] == [True] * 3
            dry_page = (await c.get(url, params={"dry_run": "true"}, headers=ADA)).json()["items"]
            assert {d["run_id"] for d in dry_page} == {d["run_id"] for d in dry.json()["decisions"]}

            error(await c.get(url), 401, "unauthenticated")
            error(await c.get(url, headers=BOB), 403, "not_owner")
            error(
                await c.get(url, headers={"authorization": "Bearer nope"}), 401, "bad_admin_token"
            )
            error(
                await c.get(f"/api/v1/decisions/{filled[0]['run_id']}", headers=BOB),
                403,
                "not_owner",
            )
            error(await c.get("/api/v1/decisions/dr_nope", headers=ADA), 404, "decision_not_found")
            error(await c.get("/api/v1/clones/999/decisions", headers=ADA), 404, "clone_not_found")
            error(await c.get(url, params={"status": "great"}, headers=ADA), 422, "invalid_query")
            error(await c.get(url, params={"dry_run": "maybe"}, headers=ADA), 422, "invalid_query")
            error(await c.post(f"{url}/dry-run", headers=BOB), 403, "not_owner")
            error(await c.get("/api/v1/admin/decisions/costs", headers=ADA), 401, "bad_admin_token")


async def test_admin_pause_routes(tmp_path) -> None:
    async with decision_world(tmp_path) as w:
        cid = await w.publish(assets=["BTC"])
        await w.activate(cid, universe=["BTC"])
        async with w.client() as c:
            r = await c.post(
                f"/api/v1/admin/trading/clones/{cid}/pause", json={"reason": "audit"}, headers=ADMIN
            )
            assert r.status_code == 200 and r.json()["paused"] and r.json()["paused_by"] == "ops"
            r = await c.post("/api/v1/admin/trading/sources/anthropic/pause", headers=ADMIN)
            assert r.status_code == 200 and r.json()["name"] == "anthropic"
            pauses = (await c.get("/api/v1/admin/trading/pauses", headers=ADMIN)).json()["pauses"]
            assert [(p["scope"], p["name"], p["reason"]) for p in pauses] == [
                ("clone", str(cid), "audit"),
                ("source", "anthropic", ""),
            ]
            await w.clock.advance(300)
            assert [r.status for r in await w.runs(cid)] == ["skipped"]
            r = await c.post(f"/api/v1/admin/trading/clones/{cid}/resume", headers=ADMIN)
            assert r.status_code == 200 and not r.json()["paused"]
            await w.clock.advance(300)
            assert (await w.runs(cid))[-1].status in ("held", "filled")

            error(
                await c.post("/api/v1/admin/trading/sources/mystery/pause", headers=ADMIN),
                404,
                "unknown_source_family",
            )
            error(
                await c.post("/api/v1/admin/trading/clones/999/pause", headers=ADMIN),
                404,
                "clone_not_found",
            )
            error(
                await c.post(f"/api/v1/admin/trading/clones/{cid}/pause", headers=ADA),
                401,
                "bad_admin_token",
            )
            error(
                await c.post(
                    f"/api/v1/admin/trading/clones/{cid}/pause", content=b"{", headers=ADMIN
                ),
                400,
                "malformed_json",
            )
        async with w.rt.db.read() as r:
            log = await r.fetchall(
                "SELECT admin, op, scope, name FROM trading_admin_log ORDER BY id"
            )
        assert log == [
            ("ops", "pause", "clone", str(cid)),
            ("ops", "pause", "source", "anthropic"),
            ("ops", "resume", "clone", str(cid)),
        ]


async def test_retention_deletes_artifacts_and_keeps_summaries(tmp_path) -> None:
    cfg = trading_config(
        artifacts=ArtifactSettings(retention_days=600 / 86_400, retention_interval_s=300)
    )
    async with decision_world(tmp_path, trading=cfg) as w:
        cid = await w.publish(assets=["BTC"])
        await w.activate(cid, universe=["BTC"])
        await w.clock.advance(300)
        (first,) = await w.runs(cid)
        detail = await w.trading.decision(first.run_id)
        file = w.rt.artifacts_dir / detail.artifact.key
        assert detail.context is not None and file.is_file()
        await w.clock.advance(1200)
        detail = await w.trading.decision(first.run_id)
        assert (
            detail.context is None
            and detail.response is None
            and detail.artifact.deleted_ms is not None
        )
        assert not file.exists()
        assert detail.run.context_summary is not None and detail.run.status == first.status
        async with w.client() as c:
            body = (await c.get(f"/api/v1/decisions/{first.run_id}", headers=ADA)).json()
        assert (
            body["artifacts_expired"]
            and body["context"] is None
            and body["decision"]["status"] == first.status
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
