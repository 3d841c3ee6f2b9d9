"""Shared fixtures for the market tests (Hyperliquid, Polymarket, DefiLlama, simulator)."""

from pathlib import Path

import pytest

FIXTURES_DIR = Path(__file__).parents[3].parent / "shared" / "fixtures"


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """`../shared/fixtures` beside the repo. Missing means a broken checkout: fail, never skip."""
    if not FIXTURES_DIR.is_dir():
        pytest.fail(f"recorded fixtures folder is missing: {FIXTURES_DIR}", pytrace=False)
    return FIXTURES_DIR


@pytest.fixture
def anyio_backend() -> str:
    # httpx's ASGI transport is portable, but websockets and hypercorn are asyncio-only.
    return "asyncio"
