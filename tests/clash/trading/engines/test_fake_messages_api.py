"""The fake API's wire format, checked with plain HTTP (the SDK's view is in test_engine_anthropic)."""

import httpx
import pytest

from clash.trading.engines.fake_messages_api import FakeMessagesApi, Fail, Reply, overloaded, rate_limited, server_error

HEADERS = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
BODY = {"model": "claude-haiku-4-5", "max_tokens": 64, "system": [{"type": "text", "text": "sys"}],
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Asset: SOL"}]}]}


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
    assert body["type"] == "message" and body["role"] == "assistant" and body["id"].startswith("msg_")
    assert body["model"] == "claude-haiku-4-5" and body["stop_reason"] == "max_tokens"
    assert body["content"] == [{"type": "text", "text": '{"x":1}'}]
    assert body["usage"]["input_tokens"] == 7 and body["usage"]["output_tokens"] == 3
    [seen] = api.requests
    assert (seen.system, seen.user, seen.max_tokens) == ("sys", "Asset: SOL", 64)


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("step", "status", "kind"),
    [(rate_limited(2), 429, "rate_limit_error"), (overloaded(), 529, "overloaded_error"),
     (server_error(), 500, "api_error")],
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
        r = await http.post("/v1/messages", json=BODY,
                            headers={"authorization": "Bearer k", "anthropic-version": "2023-06-01"})
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
