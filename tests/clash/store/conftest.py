from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from clash.store import Database


@pytest.fixture
def anyio_backend() -> str:
    # aiosqlite is asyncio-only, and so is the product.
    return "asyncio"


@pytest.fixture
async def db(tmp_path: Path, anyio_backend: str) -> AsyncIterator[Database]:
    async with await Database.open(tmp_path / "clash.db") as db:
        yield db
