"""Sign-in, sessions and identity over HTTP against a real app and SQLite file."""

import logging

import pytest
from eth_account import Account

from clash.auth import AuthModule, format_message, iso, parse
from clash.auth.ratelimit import RateLimiter

from .conftest import ADMIN_KEY, challenge, sign, sign_in

pytestmark = pytest.mark.anyio


def bearer(tokens: dict) -> dict:
    return {"authorization": f"Bearer {tokens['access_token']}"}


async def verify(api, message: str, signature: str):
    return await api.post("/api/v1/auth/verify", json={"message": message, "signature": signature})


async def test_sign_in_makes_a_user_with_its_wallet(api):
    key = Account.create()
    message = await challenge(api, key.address.lower())
    m = parse(message)
    assert (m.domain, m.uri, m.chain_id, m.address) == (
        "clash.test",
        "https://clash.test/login",
        1,
        key.address,
    )
    assert len(m.nonce) >= 8 and m.nonce.isalnum()
    assert m.expiration_time == iso(1_767_225_600_000 + 10 * 60_000)

    tokens = (await verify(api, message, sign(key, message))).json()
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 900
    me = await api.get("/api/v1/me", headers=bearer(tokens))
    assert me.json() == {
        "user_id": tokens["user_id"],
        "wallets": [{"address": key.address, "chain_id": 1}],
        "roles": ["user"],
    }
    again = await sign_in(api, key)
    assert again["user_id"] == tokens["user_id"]
    assert again["session_id"] != tokens["session_id"]
    other = await sign_in(api, Account.create())
    assert other["user_id"] != tokens["user_id"]


async def test_admin_wallets_have_the_admin_role(api):
    tokens = await sign_in(api, ADMIN_KEY)
    me = (await api.get("/api/v1/me", headers=bearer(tokens))).json()
    assert me["roles"] == ["user", "admin"]


async def test_a_nonce_signs_in_once(api):
    key = Account.create()
    message = await challenge(api, key.address)
    signature = sign(key, message)
    assert (await verify(api, message, signature)).status_code == 200
    r = await verify(api, message, signature)
    assert (r.status_code, r.json()["error"]["code"]) == (401, "nonce_used")


def _edit(message: str, **terms) -> str:
    import msgspec

    return format_message(msgspec.structs.replace(parse(message), **terms))


@pytest.mark.parametrize(
    ("terms", "code"),
    [
        ({"domain": "evil.test"}, "domain_mismatch"),
        ({"scheme": "https", "domain": "clash.test:444"}, "domain_mismatch"),
        ({"uri": "https://clash.test/other"}, "uri_mismatch"),
        ({"chain_id": 5}, "chain_not_allowed"),
        ({"chain_id": 10}, "chain_not_allowed"),  # allowed, but the nonce was issued for chain 1
        ({"nonce": "NotOurNonce123"}, "nonce_unknown"),
        ({"expiration_time": "2025-12-31T23:59:59Z"}, "expired"),
        ({"not_before": "2026-01-01T01:00:00Z"}, "not_yet_valid"),
        ({"issued_at": "2026-01-01T00:05:00Z"}, "not_yet_valid"),
    ],
)
async def test_each_wrong_term_has_its_code(api, terms, code):
    key = Account.create()
    message = _edit(await challenge(api, key.address), **terms)
    r = await verify(api, message, sign(key, message))
    assert r.status_code == 401
    assert r.json()["error"]["code"] == code


async def test_signature_failures(api):
    key, thief = Account.create(), Account.create()
    message = await challenge(api, key.address)
    cases = [
        (sign(thief, message), "address_mismatch"),  # signed by another key
        (sign(key, message + " "), "address_mismatch"),  # signed another text
        ("0x" + "00" * 65, "bad_signature"),
        ("0x" + "12" * 100, "contract_wallet_unsupported"),
    ]
    for signature, code in cases:
        r = await verify(api, message, signature)
        assert r.json()["error"]["code"] == code, signature
    # The nonce is not spent by failed attempts: the owner still signs in.
    assert (await verify(api, message, sign(key, message))).status_code == 200


async def test_a_nonce_issued_to_another_address(api):
    key, other = Account.create(), Account.create()
    message = _edit(await challenge(api, key.address), address=other.address)
    r = await verify(api, message, sign(other, message))
    assert r.json()["error"]["code"] == "address_mismatch"


async def test_malformed_message_is_422(api):
    r = await verify(api, "hello", "0x00")
    assert (r.status_code, r.json()["error"]["code"]) == (422, "malformed_message")


async def test_challenge_expires_on_the_runtime_clock(api, auth_runtime):
    key = Account.create()
    message = await challenge(api, key.address)
    await auth_runtime.clock.advance(10 * 60)
    r = await verify(api, message, sign(key, message))
    assert r.json()["error"]["code"] == "expired"


async def test_challenge_input_is_checked(api):
    r = await api.post("/api/v1/auth/challenge", json={"address": "0x12"})
    assert (r.status_code, r.json()["error"]["code"]) == (422, "invalid_address")
    address = Account.create().address
    r = await api.post("/api/v1/auth/challenge", json={"address": address, "chain_id": 5})
    assert (r.status_code, r.json()["error"]["code"]) == (422, "chain_not_allowed")
    assert parse(await challenge(api, address, 10)).chain_id == 10


async def test_refresh_rotates_and_reuse_revokes_the_family(api, auth_runtime, caplog):
    key = Account.create()
    first = await sign_in(api, key)
    await auth_runtime.clock.advance(60)
    second = (
        await api.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    ).json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["session_id"] == first["session_id"]
    assert second["access_token"] != first["access_token"]

    with caplog.at_level(logging.WARNING, logger="clash.auth.module"):
        r = await api.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert (r.status_code, r.json()["error"]["code"]) == (401, "refresh_token_reused")
    assert any("refresh token reused" in rec.getMessage() for rec in caplog.records)
    # The thief's copy and the owner's newer token are both dead now.
    r = await api.post("/api/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert r.json()["error"]["code"] == "session_revoked"
    sessions = (await api.get("/api/v1/auth/sessions", headers=bearer(second))).json()
    assert sessions == {"items": []}


async def test_refresh_token_expires_after_30_days(api, auth_runtime):
    tokens = await sign_in(api, Account.create())
    await auth_runtime.clock.advance(30 * 86_400)
    r = await api.post("/api/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert r.json()["error"]["code"] == "refresh_expired"
    r = await api.post("/api/v1/auth/refresh", json={"refresh_token": "nope"})
    assert r.json()["error"]["code"] == "invalid_refresh_token"


async def test_access_token_expires_after_15_minutes(api, auth_runtime):
    tokens = await sign_in(api, Account.create())
    await auth_runtime.clock.advance(15 * 60 - 1)
    assert (await api.get("/api/v1/me", headers=bearer(tokens))).status_code == 200
    await auth_runtime.clock.advance(1)
    r = await api.get("/api/v1/me", headers=bearer(tokens))
    assert (r.status_code, r.json()["error"]["code"]) == (401, "token_expired")
    assert r.headers["www-authenticate"] == "Bearer"
    r = await api.get("/api/v1/me", headers={"authorization": "Bearer not.a.jwt"})
    assert r.json()["error"]["code"] == "invalid_token"
    r = await api.get("/api/v1/me")
    assert r.json()["error"]["code"] == "unauthenticated"


async def test_sessions_list_delete_and_logout(api):
    key = Account.create()
    laptop, phone = await sign_in(api, key), await sign_in(api, key)
    listed = (await api.get("/api/v1/auth/sessions", headers=bearer(laptop))).json()["items"]
    assert [(s["id"], s["current"]) for s in listed] == [
        (laptop["session_id"], True),
        (phone["session_id"], False),
    ]
    assert listed[0]["wallet"] == key.address

    stranger = await sign_in(api, Account.create())
    r = await api.delete(f"/api/v1/auth/sessions/{phone['session_id']}", headers=bearer(stranger))
    assert (r.status_code, r.json()["error"]["code"]) == (404, "session_not_found")

    r = await api.delete(f"/api/v1/auth/sessions/{phone['session_id']}", headers=bearer(laptop))
    assert r.status_code == 204
    r = await api.post("/api/v1/auth/refresh", json={"refresh_token": phone["refresh_token"]})
    assert r.json()["error"]["code"] == "session_revoked"

    assert (await api.post("/api/v1/auth/logout", headers=bearer(laptop))).status_code == 204
    r = await api.post("/api/v1/auth/refresh", json={"refresh_token": laptop["refresh_token"]})
    assert r.json()["error"]["code"] == "session_revoked"


async def test_rate_limit_per_address_and_per_ip(api, auth_runtime):
    auth_runtime.module(AuthModule).limiter = RateLimiter(5, 6)
    key = Account.create()
    for _ in range(5):
        await challenge(api, key.address)
    r = await api.post("/api/v1/auth/challenge", json={"address": key.address})
    assert (r.status_code, r.json()["error"]["code"]) == (429, "rate_limited")
    assert r.headers["retry-after"] == "10"  # 6 per minute: one token every 10 s
    await auth_runtime.clock.advance(10)
    await challenge(api, key.address)
    # The IP bucket (5 at once) is dry too by now, for any address.
    r = await api.post("/api/v1/auth/challenge", json={"address": Account.create().address})
    assert r.status_code == 429
    r = await verify(api, "x\n" + key.address, "0x00")
    assert r.status_code == 429
