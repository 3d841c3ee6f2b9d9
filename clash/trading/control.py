"""Trading control by a clone's owner: the value types of the Trading Clone Block (seed 003's
clone-level model, trading on/off and history) and the limit on sandbox accounts."""

from __future__ import annotations

from typing import Literal

import msgspec

from clash.trading.records import ControlChange

MAX_SANDBOX_ACCOUNTS = 10
"""Sandbox accounts one clone may open (each is an actor and a ledger)."""


class AccountTrading(msgspec.Struct, frozen=True, kw_only=True):
    """Trading control of one prop account of the clone."""

    account_id: str
    kind: str
    account_status: str
    enabled: bool
    model_strength: str | None
    """The strength runs use: the owner's choice for this account, else the published
    version's (None while the clone has no published version)."""
    model_strength_source: Literal["account", "version"]
    version: int | None
    """The published version the account runs (the latest one, reloaded at every tick)."""
    changed_ms: int | None
    """When trading was last turned on or off for the account (None: never)."""


class TradingBlock(msgspec.Struct, frozen=True, kw_only=True):
    clone_id: int
    tier: str
    allowed_model_strengths: list[str]
    published_version: int | None
    version_model_strength: str | None
    accounts: list[AccountTrading]
    changes: list[ControlChange]
    """The newest audited changes of the clone's trading control, newest first."""
