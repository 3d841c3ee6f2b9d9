import pytest


@pytest.fixture
def anyio_backend():
    """The product runs on asyncio (aiosqlite, websockets); only the kernel's tests add trio."""
    return "asyncio"
