import pytest


@pytest.fixture
def anyio_backend():
    """The product runs on asyncio (websockets); the kernel's and the store's tests add trio."""
    return "asyncio"
