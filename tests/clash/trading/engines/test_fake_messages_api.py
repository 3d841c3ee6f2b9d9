"""The fake API's wire format, checked with plain HTTP (the SDK's view is in test_engine_anthropic)."""

import httpx
import pytest

from clash.trading.engines.fake_messages_api import (
    Fail,
    FakeMessagesApi,
    Reply,
    overloaded,
    rate_limited,
    refusal,
    server_error,
)
from clash.trading.tokens import estimate_tokens

HEADERS = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
BODY = {
    "model": "claude-haiku-4-5",
    "max_tokens": 64,
    "system": [{"type": "text", "text": "sys"}],
    "messages": [{"role": "user", "content": [{"type": "text", "text": "Asset: SOL"}]}],
}


def client(api: FakeMessagesApi) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=api.app), base_url="http://fake")


@pytest.mark.anyio
async def test_message_shape() -> None:
    api = FakeMessagesApi()
    api.script(Reply(text='{"x":1}', input_tokens=7, output_tokens=3, stop_reason="max_tokens"))
    async with client(api) as http:
        r = await http.post("/v1/messages", json=BODY, headers=HEADERS)
    assert r.status_code == 200 and r.headers["request-id"].startswith("req_")
    body = r.json()
    assert (
        body["type"] == "message" and body["role"] == "assistant" and body["id"].startswith("msg_")
    )
    assert body["model"] == "claude-haiku-4-5" and body["stop_reason"] == "max_tokens"
    assert body["content"] == [{"type": "text", "text": '{"x":1}'}]
    assert body["usage"]["input_tokens"] == 7 and body["usage"]["output_tokens"] == 3
    [seen] = api.requests
    assert (seen.system, seen.user, seen.max_tokens) == ("sys", "Asset: SOL", 64)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("step", "status", "kind"),
    [
        (rate_limited(2), 429, "rate_limit_error"),
        (overloaded(), 529, "overloaded_error"),
        (server_error(), 500, "api_error"),
    ],
)
async def test_errors_in_anthropic_shape(step: Fail, status: int, kind: str) -> None:
    api = FakeMessagesApi()
    api.script(step)
    async with client(api) as http:
        r = await http.post("/v1/messages", json=BODY, headers=HEADERS)
    assert r.status_code == status
    body = r.json()
    assert body["type"] == "error" and body["error"]["type"] == kind and body["error"]["message"]
    assert body["request_id"] == r.headers["request-id"]
    assert r.headers.get("retry-after") == ("2" if status == 429 else None)


@pytest.mark.anyio
async def test_headers_and_body_are_checked() -> None:
    api = FakeMessagesApi()
    async with client(api) as http:
        r = await http.post("/v1/messages", json=BODY, headers={"anthropic-version": "2023-06-01"})
        assert r.status_code == 401 and r.json()["error"]["type"] == "authentication_error"
        r = await http.post(
            "/v1/messages",
            json=BODY,
            headers={"authorization": "Bearer k", "anthropic-version": "2023-06-01"},
        )
        assert r.status_code == 200
        r = await http.post("/v1/messages", json=BODY, headers={"x-api-key": "k"})
        assert r.status_code == 400 and "anthropic-version" in r.json()["error"]["message"]
        r = await http.post("/v1/messages", json={"model": "m"}, headers=HEADERS)
        assert r.status_code == 400 and r.json()["error"]["type"] == "invalid_request_error"
    assert len(api.requests) == 1


@pytest.mark.anyio
async def test_default_responder_holds_the_prompt_asset() -> None:
    api = FakeMessagesApi()
    async with client(api) as http:
        r = await http.post("/v1/messages", json=BODY, headers=HEADERS)
    assert '"asset":"SOL"' in r.json()["content"][0]["text"]


@pytest.mark.anyio
async def test_models_listing_shape_and_pages() -> None:
    api = FakeMessagesApi()
    async with client(api) as http:
        r = await http.get("/v1/models", params={"limit": 2}, headers=HEADERS)
        first = r.json()
        r2 = await http.get(
            "/v1/models", params={"limit": 100, "after_id": first["last_id"]}, headers=HEADERS
        )
        rest = r2.json()
        unauthorized = await http.get("/v1/models", headers={"anthropic-version": "2023-06-01"})
    assert r.status_code == 200 and first["has_more"] is True and len(first["data"]) == 2
    model = first["data"][0]
    assert model["type"] == "model" and model["id"] == first["first_id"] == "claude-sonnet-5-5"
    assert (
        model["display_name"]
        and model["created_at"].endswith("Z")
        and model["lifecycle"] == "active"
    )
    assert rest["has_more"] is False and "claude-haiku-4-5" in [m["id"] for m in rest["data"]]
    assert unauthorized.status_code == 401 and api.model_listings == 2


@pytest.mark.anyio
async def test_adaptive_thinking_puts_a_thinking_block_before_the_text() -> None:
    api = FakeMessagesApi()
    api.script(Reply(text="answer", thinking_tokens=40))
    body = {
        **BODY,
        "model": "claude-opus-5-5",
        "thinking": {"type": "adaptive"},
        "output_config": {"effort": "medium"},
    }
    async with client(api) as http:
        r = await http.post("/v1/messages", json=body, headers=HEADERS)
    content = r.json()["content"]
    assert [b["type"] for b in content] == ["thinking", "text"] and content[0]["signature"]
    assert content[1]["text"] == "answer"
    assert r.json()["usage"]["output_tokens"] == 40 + estimate_tokens("answer")


@pytest.mark.anyio
async def test_a_refusal_carries_stop_details() -> None:
    api = FakeMessagesApi()
    api.script(refusal("not this one"))
    async with client(api) as http:
        r = await http.post("/v1/messages", json=BODY, headers=HEADERS)
    assert r.json()["stop_reason"] == "refusal"
    assert r.json()["stop_details"] == {
        "type": "refusal",
        "category": None,
        "explanation": "not this one",
    }


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("change", "status", "says"),
    [
        ({"model": "claude-sonnet-4-5"}, 404, "model: claude-sonnet-4-5"),
        ({"max_tokens": 64_001}, 400, "maximum allowed number of output tokens"),
        ({"temperature": 1.0}, 400, "temperature"),
        ({"thinking": {"type": "adaptive"}}, 400, "adaptive"),
        ({"output_config": {"effort": "low"}}, 400, "effort is not supported"),
        (
            {"model": "claude-opus-5-5", "output_config": {"effort": "extreme"}},
            400,
            "must be one of",
        ),
        (
            {"model": "claude-opus-5-5", "thinking": {"type": "enabled", "budget_tokens": 1000}},
            400,
            "thinking.type.enabled",
        ),
        ({"tools": []}, 400, "unknown field"),
    ],
)
async def test_what_current_models_refuse(change: dict, status: int, says: str) -> None:
    api = FakeMessagesApi()
    async with client(api) as http:
        r = await http.post("/v1/messages", json={**BODY, **change}, headers=HEADERS)
    assert r.status_code == status and says in r.json()["error"]["message"] and api.requests == []
