from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from clash.store import Database


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    # The product runs on asyncio; the store itself works on both.
    return str(request.param)


@pytest.fixture
async def db(tmp_path: Path, anyio_backend: str) -> AsyncIterator[Database]:
    async with await Database.open(tmp_path / "clash.db") as db:
        yield db
