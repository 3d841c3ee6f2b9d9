"""One run's inputs (what the scheduler hands the runner) and its result."""

from __future__ import annotations

import hashlib

import msgspec

from clash.prop import AssetSpec
from clash.trading.packet import Branch, BranchAsset, Candidate, CloneRef
from clash.trading.records import RunStatus


class AssetFacts(msgspec.Struct, frozen=True, kw_only=True):
    """What the run needs from the asset registry."""

    symbol: str
    sz_decimals: int
    max_leverage: int
    is_spot: bool
    enabled: bool = True

    def spec(self) -> AssetSpec:
        return AssetSpec(
            symbol=self.symbol,
            sz_decimals=self.sz_decimals,
            max_leverage=self.max_leverage,
            is_spot=self.is_spot,
            enabled=self.enabled,
        )


class RunSpec(msgspec.Struct, frozen=True, kw_only=True):
    run_id: str
    clone: CloneRef
    version: int | None
    branch: Branch
    asset: BranchAsset
    candidate: Candidate
    due_ms: int
    model_strength: str
    facts: AssetFacts | None = None
    dry_run: bool = False
    attempt: int = 1
    spent_attempts: int = 0
    """Engine calls made by earlier attempts of this run."""
    final: bool = True
    """The last attempt: an engine failure is recorded as `failed` instead of asking for a retry."""


class RunResult(msgspec.Struct, frozen=True, kw_only=True):
    run_id: str
    status: RunStatus | None
    """None when the attempt failed and asks for a retry (nothing recorded yet)."""
    attempts: int = 0
    error_code: str | None = None
    error: str | None = None


def run_id_for(account_id: str, prompt_node_id: str, symbol: str, due_ms: int) -> str:
    """Deterministic: the same run retried has the same id, and so the same prop action id."""
    raw = "\x1f".join((account_id, prompt_node_id, symbol, str(due_ms))).encode()
    return "dr_" + hashlib.sha256(raw).hexdigest()[:24]
