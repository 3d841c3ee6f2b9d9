"""Shared fixtures for product tests: a booted runtime on a VirtualClock over a real SQLite file."""

from collections.abc import AsyncIterator

import httpx
import msgspec
import pytest

from actors import VirtualClock
from actors.testkit import EPOCH_2026
from clash.config import Config, Secrets, load_config
from clash.http.app import create_app
from clash.runtime import Runtime, boot

ADMIN_TOKEN = "test-admin-token"  # the tests send it as `Authorization: Bearer test-admin-token`


def test_config(tmp_path) -> Config:
    config = load_config(environ={})
    return msgspec.structs.replace(
        config, system=msgspec.structs.replace(config.system, data_dir=str(tmp_path / "var"))
    )


@pytest.fixture
async def runtime(tmp_path) -> AsyncIterator[Runtime]:
    """The product's ops module booted on a VirtualClock (other modules add their own fixtures)."""
    from clash.ops.module import OpsModule

    clock = VirtualClock(EPOCH_2026)
    async with boot(
        test_config(tmp_path), Secrets(admin_token=ADMIN_TOKEN), clock, [OpsModule]
    ) as rt:
        await clock.settle()
        yield rt
        report = await rt.db.check()
        assert report.ok, report.problems


@pytest.fixture
async def client(runtime) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://clash") as c:
        yield c
