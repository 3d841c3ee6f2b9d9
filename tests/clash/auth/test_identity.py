"""The bearer identity as other modules see it: a clones route owned by the signed-in user."""

from collections.abc import AsyncIterator

import httpx
import pytest
from eth_account import Account

from actors import VirtualClock
from actors.testkit import EPOCH_2026
from clash.auth import AuthModule
from clash.clones import ClonesModule
from clash.config import Secrets
from clash.http.app import create_app
from clash.ops import OpsModule
from clash.runtime import boot

from .conftest import auth_config, sign_in
from tests.clash.conftest import ADMIN_TOKEN

pytestmark = pytest.mark.anyio


@pytest.fixture
async def app_client(tmp_path) -> AsyncIterator[httpx.AsyncClient]:
    clock = VirtualClock(EPOCH_2026)
    secrets = Secrets(admin_token=ADMIN_TOKEN, jwt_secret="identity-test-secret-0123456789abcdef")
    modules = [OpsModule, AuthModule, ClonesModule]
    async with boot(auth_config(tmp_path), secrets, clock, modules) as rt:
        transport = httpx.ASGITransport(app=create_app(rt))
        async with httpx.AsyncClient(transport=transport, base_url="https://clash.test") as c:
            yield c


async def test_a_signed_in_user_owns_what_they_create(app_client):
    alice, bob = (
        await sign_in(app_client, Account.create()),
        await sign_in(app_client, Account.create()),
    )
    as_alice = {"authorization": f"Bearer {alice['access_token']}"}
    r = await app_client.post("/api/v1/clones", json={"name": "Alice's"}, headers=as_alice)
    assert r.status_code == 201, r.text
    assert r.json()["owner_id"] == str(alice["user_id"])  # owners are strings until they migrate

    mine = (await app_client.get("/api/v1/clones", headers=as_alice)).json()
    assert [c["name"] for c in mine] == ["Alice's"]
    as_bob = {"authorization": f"Bearer {bob['access_token']}"}
    assert (await app_client.get("/api/v1/clones", headers=as_bob)).json() == []


async def test_a_bad_token_is_refused_not_anonymous_and_dev_header_still_works(app_client):
    r = await app_client.get("/api/v1/clones", headers={"authorization": "Bearer forged"})
    assert (r.status_code, r.json()["error"]["code"]) == (401, "invalid_token")
    r = await app_client.get("/api/v1/clones", headers={"x-user-id": "dev-alice"})
    assert r.status_code == 200  # development fallback without a bearer token
    r = await app_client.get("/api/v1/clones", headers={"authorization": f"Bearer {ADMIN_TOKEN}"})
    assert (r.status_code, r.json()["error"]["code"]) == (401, "unauthenticated")
