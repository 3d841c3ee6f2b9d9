import logging
from decimal import Decimal

import httpx
import pytest
from starlette.routing import Route

from actors import Actor, Message, Unhandled
from clash.http.app import all_routes, create_app

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
        (
            {"to": "ops.heartbeats", "message": {"type": "OpsPing"}},
            {"authorization": "Bearer nope"},
            401,
            "bad_admin_token",
        ),
        ({"to": "nobody", "message": {"type": "OpsPing"}}, ADMIN, 404, "unknown_actor"),
        ({"to": "ops.heartbeats", "message": {"type": "Nope"}}, ADMIN, 422, "invalid_message"),
        (
            {"to": "ops.heartbeats", "message": {"type": "OpsPing", "note": 3}},
            ADMIN,
            422,
            "invalid_message",
        ),
        ({"message": {"type": "OpsPing"}}, ADMIN, 422, "invalid_body"),
    ],
)
async def test_bad_admin_messages_get_a_clear_error_and_change_nothing(
    client, runtime, body, headers, status, code
):
    response = await client.post("/api/v1/admin/messages", json=body, headers=headers)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    async with runtime.db.read() as r:
        assert await r.fetchval("SELECT count(*) FROM admin_messages") == 0


async def test_malformed_json_is_a_400(client):
    response = await client.post(
        "/api/v1/admin/messages",
        content=b"{nope",
        headers=ADMIN | {"content-type": "application/json"},
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == "malformed_json"


async def test_unknown_routes_answer_in_the_same_error_shape(client):
    response = await client.get("/api/v1/nothing-here")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


class Explode(Message, frozen=True):
    pass


class NobodyHandles(Message, frozen=True):
    pass


class Fragile(Actor):
    async def receive(self, msg):
        if isinstance(msg, NobodyHandles):
            raise Unhandled(msg)
        raise RuntimeError("cannot handle this")


async def test_a_message_that_crashes_twice_lands_in_the_dead_letters_table(runtime):
    ref = runtime.system.spawn("fragile", Fragile)
    await ref.tell(Explode())
    await runtime.clock.settle()
    async with runtime.db.read() as r:
        rows = await r.fetchall(
            "SELECT actor, message_type, message_json, error, reason FROM dead_letters"
        )
    assert [row[:3] for row in rows] == [("fragile", "Explode", '{"type":"Explode"}')]
    assert "cannot handle this" in rows[0][3] and rows[0][4] == "crashed"


async def test_a_message_no_actor_handles_lands_in_the_dead_letters_table_as_unhandled(runtime):
    ref = runtime.system.spawn("fragile", Fragile)
    await ref.tell(NobodyHandles())
    await runtime.clock.settle()
    async with runtime.db.read() as r:
        rows = await r.fetchall("SELECT actor, message_type, reason FROM dead_letters")
    assert rows == [("fragile", "NobodyHandles", "unhandled")]


async def test_heartbeats_are_persisted(runtime):
    await runtime.clock.advance(15)
    async with runtime.db.read() as r:
        rows = await r.fetchall("SELECT name, state, recorded_at_ms FROM worker_heartbeats")
    assert rows == [("ops.heartbeats", "running", runtime.clock.now_ms())]


async def test_migrations_are_recorded_at_boot(runtime):
    async with runtime.db.read() as r:
        modules = {row[0] for row in await r.fetchall("SELECT module FROM schema_migrations")}
    assert "clash.ops" in modules


# -- the hardened edge -----------------------------------------------------------------------------

ID_ROUTES = sorted(
    {
        (method, route.path)
        for route in all_routes()
        if ":id}" in route.path
        for method in route.methods - {"HEAD"}
    }
)


@pytest.mark.parametrize(("method", "path"), ID_ROUTES)
@pytest.mark.parametrize("huge", ["9223372036854775808", "99999999999999999999999999"])
async def test_an_id_beyond_64_bits_is_404_on_every_id_route(client, method, path, huge):
    url = path.replace("{clone_id:id}", huge).replace("{version:id}", huge)
    for headers in ({"x-user-id": "ada"}, ADMIN):
        response = await client.request(method, url, headers=headers, json={})
        assert response.status_code == 404, (url, response.text)
        assert response.json()["error"]["code"] == "not_found"


class Measure(Message, frozen=True):
    value: Decimal
    ratio: float = 1.0
    label: str = ""


class Recorder(Actor):
    def __init__(self) -> None:
        self.seen: list[Message] = []

    async def receive(self, msg):
        self.seen.append(msg)
        return len(self.seen)


@pytest.fixture
async def recorder(runtime):
    actor = Recorder()
    runtime.system.spawn("recorder", lambda: actor)
    await runtime.clock.settle()
    return actor


def measure(value: object, **fields: object) -> bytes:
    import json

    return json.dumps(
        {"to": "recorder", "message": {"type": "Measure", "value": value, **fields}}
    ).encode()


JSON = ADMIN | {"content-type": "application/json"}


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (measure("NaN"), 422, "invalid_number"),
        (measure("Infinity"), 422, "invalid_number"),
        (measure("-Infinity"), 422, "invalid_number"),
        (measure("1e999999"), 422, "invalid_number"),
        (measure("1e-40"), 422, "invalid_number"),
        (measure("1", ratio="x").replace(b'"x"', b"1e999"), 422, "invalid_number"),
        (measure("1", ratio="x").replace(b'"x"', b"NaN"), 422, "invalid_number"),
        (measure("1", ratio="x").replace(b'"x"', b"Infinity"), 422, "invalid_number"),
        (measure("1", ratio="x").replace(b'"x"', b"9223372036854775808"), 422, "invalid_number"),
        (measure("1", label="\u001b[31mred"), 422, "invalid_text"),
        (measure("1", label="a\u0000b"), 422, "invalid_text"),
        (measure("1", label="\u202eevil"), 422, "invalid_text"),
        (measure("1", label="\u2066x"), 422, "invalid_text"),
        (
            b'{"to": "recorder", "to": "ops.heartbeats", "message": {"type": "Measure", "value": "1"}}',
            400,
            "duplicate_key",
        ),
        (measure("1", label="x").replace(b'"x"', b"[" * 40 + b"]" * 40), 400, "json_too_deep"),
        (b"[" * 100_000 + b"]" * 100_000, 400, "json_too_deep"),
        (b"1" * 5000, 422, "invalid_number"),
        (b"\xff\xfe{}", 400, "malformed_json"),
    ],
)
async def test_bad_numbers_text_and_json_are_refused_before_any_actor_sees_them(
    client, runtime, recorder, body, status, code
):
    response = await client.post("/api/v1/admin/messages", content=body, headers=JSON)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert recorder.seen == []
    async with runtime.db.read() as r:
        assert await r.fetchval("SELECT count(*) FROM admin_messages") == 0


async def test_a_good_measure_reaches_the_actor(client, recorder):
    response = await client.post(
        "/api/v1/admin/messages", content=measure("0.25", ratio=2.5, label="ok\tfine"), headers=JSON
    )
    assert response.status_code == 200, response.text
    assert recorder.seen == [Measure(value=Decimal("0.25"), ratio=2.5, label="ok\tfine")]


async def test_a_body_over_the_limit_is_413_while_it_is_read(client, recorder):
    big = measure("1", label="x" * (2**20))
    response = await client.post("/api/v1/admin/messages", content=big, headers=JSON)
    assert response.status_code == 413 and response.json()["error"]["code"] == "body_too_large"

    async def chunks():  # no Content-Length: the limit holds while streaming
        for _ in range(40):
            yield b" " * 65_536

    response = await client.post("/api/v1/admin/messages", content=chunks(), headers=JSON)
    assert response.status_code == 413 and response.json()["error"]["code"] == "body_too_large"
    assert recorder.seen == []


async def test_a_non_json_content_type_is_415(client, recorder):
    for content_type in (
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
    ):
        response = await client.post(
            "/api/v1/admin/messages",
            content=measure("1"),
            headers=ADMIN | {"content-type": content_type},
        )
        assert response.status_code == 415, content_type
        assert response.json()["error"]["code"] == "unsupported_media_type"
    ok = await client.post(
        "/api/v1/admin/messages",
        content=measure("1"),
        headers=ADMIN | {"content-type": "application/json; charset=utf-8"},
    )
    assert ok.status_code == 200 and len(recorder.seen) == 1


async def test_405_names_every_allowed_method(client):
    response = await client.delete("/api/v1/health")
    assert response.status_code == 405 and response.headers["allow"] == "GET, HEAD"
    assert response.json()["error"]["code"] == "method_not_allowed"
    response = await client.delete("/api/v1/clones/3/pipeline")
    assert response.status_code == 405 and response.headers["allow"] == "GET, HEAD, PUT"


async def test_control_characters_or_overlong_names_in_identity_headers_are_refused(client):
    for value in (b"ada\x9b[31m", b"a" * 200):
        response = await client.get("/api/v1/clones", headers=[(b"x-user-id", value)])
        assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_header"
    ping = {"to": "ops.heartbeats", "message": {"type": "OpsPing"}}
    response = await client.post(
        "/api/v1/admin/messages",
        json=ping,
        headers=[(b"authorization", b"Bearer test-admin-token"), (b"x-admin-name", b"\xc2\x85x")],
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_header"


async def test_refused_requests_are_logged_with_their_status_and_code(client, caplog):
    caplog.set_level(logging.INFO, logger="clash.http.errors")
    await client.post("/api/v1/admin/messages", content=b"{", headers=JSON)
    await client.post("/api/v1/admin/messages", json={}, headers={"authorization": "Bearer nope"})
    records = [(r.levelno, r.method, r.path, r.status, r.code) for r in caplog.records]
    assert records == [
        (logging.INFO, "POST", "/api/v1/admin/messages", 400, "malformed_json"),
        (logging.WARNING, "POST", "/api/v1/admin/messages", 401, "bad_admin_token"),
    ]


async def test_an_unexpected_error_is_a_500_in_the_error_shape_logged_with_its_traceback(
    runtime, caplog
):
    async def boom(request):
        raise RuntimeError("kaboom")

    app = create_app(runtime)
    app.router.routes.append(Route("/boom", boom))
    caplog.set_level(logging.INFO, logger="clash.http.errors")
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://clash") as c:
        response = await c.get("/boom")
    assert response.status_code == 500
    assert response.json() == {"error": {"code": "internal", "message": "internal error"}}
    (record,) = caplog.records
    assert record.levelno == logging.ERROR and record.status == 500 and record.code == "internal"
    assert record.exc_info and "kaboom" in str(record.exc_info[1])
