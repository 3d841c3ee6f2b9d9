"""Sign-in settings (the `[auth]` section)."""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta


class AuthConfig(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    domain: Annotated[str, Meta(min_length=1, max_length=255)] = "localhost:8080"
    """The RFC 3986 authority SIWE messages must name (the site the wallet signs in to)."""
    uri: Annotated[str, Meta(min_length=1, max_length=2048)] = "http://localhost:8080"
    """The URI SIWE messages must carry."""
    statement: Annotated[str, Meta(max_length=512)] = "Sign in to Clash."
    chain_ids: Annotated[list[Annotated[int, Meta(ge=1)]], Meta(min_length=1, max_length=64)] = (
        msgspec.field(default_factory=lambda: [1])
    )
    """Chains a signature may be bound to; the first is what `challenge` offers by default."""
    challenge_minutes: Annotated[int, Meta(ge=1, le=60)] = 10
    access_minutes: Annotated[int, Meta(ge=1, le=60)] = 15
    refresh_days: Annotated[int, Meta(ge=1, le=90)] = 30
    admin_wallets: Annotated[list[str], Meta(max_length=100)] = msgspec.field(default_factory=list)
    """Wallet addresses (any case) whose users have the `admin` role."""
    rate_burst: Annotated[int, Meta(ge=1, le=10_000)] = 10
    """Challenge and verify requests one IP or one address may make at once ..."""
    rate_per_minute: Annotated[float, Meta(gt=0, le=100_000)] = 10.0
    """... and the pace at which that allowance refills."""
