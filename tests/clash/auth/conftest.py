"""A runtime with the auth module on a VirtualClock over a real SQLite file, and an HTTP client."""

from collections.abc import AsyncIterator

import httpx
import msgspec
import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount

from actors import VirtualClock
from actors.testkit import EPOCH_2026
from clash.auth import AuthModule
from clash.config import Secrets
from clash.http.app import create_app
from clash.ops import OpsModule
from clash.runtime import Runtime, boot

from tests.clash.conftest import ADMIN_TOKEN, test_config

ADMIN_KEY: LocalAccount = Account.create()


def auth_config(tmp_path, **auth):
    config = test_config(tmp_path)
    defaults = {
        "domain": "clash.test",
        "uri": "https://clash.test/login",
        "chain_ids": [1, 10],
        "admin_wallets": [ADMIN_KEY.address.lower()],
        "rate_burst": 100,
    }
    section = msgspec.structs.replace(config.auth, **{**defaults, **auth})
    return msgspec.structs.replace(config, auth=section)


@pytest.fixture
async def auth_runtime(tmp_path) -> AsyncIterator[Runtime]:
    clock = VirtualClock(EPOCH_2026)
    secrets = Secrets(
        admin_token=ADMIN_TOKEN, jwt_secret="test-jwt-secret-of-some-length-0123456789"
    )
    async with boot(auth_config(tmp_path), secrets, clock, [OpsModule, AuthModule]) as rt:
        await clock.settle()
        yield rt
        report = await rt.db.check()
        assert report.ok, report.problems


@pytest.fixture
async def api(auth_runtime) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(auth_runtime))
    async with httpx.AsyncClient(transport=transport, base_url="https://clash.test") as c:
        yield c


def sign(key: LocalAccount, message: str) -> str:
    return "0x" + Account.sign_message(encode_defunct(text=message), key.key).signature.hex()


async def challenge(api: httpx.AsyncClient, address: str, chain_id: int | None = None) -> str:
    body: dict[str, object] = {"address": address}
    if chain_id is not None:
        body["chain_id"] = chain_id
    r = await api.post("/api/v1/auth/challenge", json=body)
    assert r.status_code == 200, r.text
    return r.json()["message"]


async def sign_in(api: httpx.AsyncClient, key: LocalAccount) -> dict:
    message = await challenge(api, key.address)
    r = await api.post(
        "/api/v1/auth/verify", json={"message": message, "signature": sign(key, message)}
    )
    assert r.status_code == 200, r.text
    return r.json()
