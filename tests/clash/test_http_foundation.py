import pytest

from actors import Actor, Message

pytestmark = pytest.mark.anyio
ADMIN = {"authorization": "Bearer test-admin-token", "x-admin-name": "ada"}


async def test_health_answers_with_the_database_state(client):
    response = await client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok" and response.json()["db"] == "ok"


async def test_workers_lists_every_actor_with_its_heartbeat(client, runtime):
    await runtime.clock.advance(12)
    body = (await client.get("/api/v1/internal/health/workers")).json()
    (worker,) = body["workers"]
    assert worker["name"] == "ops.heartbeats" and worker["state"] == "running"
    assert worker["last_heartbeat_ms"] == runtime.clock.now_ms() - 2000  # heartbeats every 5 s
    assert worker["restarts"] == 0 and worker["mailbox_depth"] == 0
    assert body["stale"] == []


async def test_an_admin_message_reaches_the_actor_and_is_audited(client, runtime):
    response = await client.post(
        "/api/v1/admin/messages",
        json={"to": "ops.heartbeats", "message": {"type": "OpsPing", "note": "hello"}},
        headers=ADMIN,
    )
    assert response.status_code == 200
    assert response.json() == {
        "to": "ops.heartbeats",
        "reply": {"type": "OpsPong", "note": "hello", "at_ms": runtime.clock.now_ms()},
    }
    async with runtime.db.read() as r:
        rows = await r.fetchall("SELECT admin, actor, outcome FROM admin_messages")
    assert rows == [("ada", "ops.heartbeats", "ok")]


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        ({"to": "ops.heartbeats", "message": {"type": "OpsPing"}}, {}, 401, "bad_admin_token"),
        ({"to": "ops.heartbeats", "message": {"type": "OpsPing"}}, {"authorization": "Bearer nope"}, 401,
         "bad_admin_token"),
        ({"to": "nobody", "message": {"type": "OpsPing"}}, ADMIN, 404, "unknown_actor"),
        ({"to": "ops.heartbeats", "message": {"type": "Nope"}}, ADMIN, 422, "invalid_message"),
        ({"to": "ops.heartbeats", "message": {"type": "OpsPing", "note": 3}}, ADMIN, 422, "invalid_message"),
        ({"message": {"type": "OpsPing"}}, ADMIN, 422, "invalid_body"),
    ],
)
async def test_bad_admin_messages_get_a_clear_error_and_change_nothing(client, runtime, body, headers, status, code):
    response = await client.post("/api/v1/admin/messages", json=body, headers=headers)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    async with runtime.db.read() as r:
        assert await r.fetchval("SELECT count(*) FROM admin_messages") == 0


async def test_malformed_json_is_a_400(client):
    response = await client.post("/api/v1/admin/messages", content=b"{nope", headers=ADMIN)
    assert response.status_code == 400 and response.json()["error"]["code"] == "malformed_json"


async def test_unknown_routes_answer_in_the_same_error_shape(client):
    response = await client.get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


class Explode(Message, frozen=True):
    pass


class Fragile(Actor):
    async def receive(self, msg):
        raise RuntimeError("cannot handle this")


async def test_a_message_that_crashes_twice_lands_in_the_dead_letters_table(runtime):
    ref = runtime.system.spawn("fragile", Fragile)
    await ref.tell(Explode())
    await runtime.clock.settle()
    rows = await runtime.module("ops").dead_letters.recent()
    assert [(r.actor, r.message_type, r.message_json) for r in rows] == [
        ("fragile", "Explode", '{"type":"Explode"}')
    ]
    assert "cannot handle this" in rows[0].error


async def test_heartbeats_are_persisted(runtime):
    await runtime.clock.advance(15)
    async with runtime.db.read() as r:
        rows = await r.fetchall("SELECT name, state, recorded_at_ms FROM worker_heartbeats")
    assert rows == [("ops.heartbeats", "running", runtime.clock.now_ms())]


async def test_migrations_are_recorded_at_boot(runtime):
    async with runtime.db.read() as r:
        modules = {row[0] for row in await r.fetchall("SELECT module FROM schema_migrations")}
    assert "clash.ops" in modules
