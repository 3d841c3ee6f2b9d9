"""Entitlement tiers (Starter, Builder, Pro) and the pure checks every path calls again.

The clone service checks at save and publish; the runtime, dry runs and backtests call the same
functions with the tier stored on the clone, so a clone whose tier was lowered after saving is
still held to its tier. The table itself is data: tiers.toml beside this file.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Literal, get_args

import msgspec

from clash.clones.catalog import CatalogAsset
from clash.clones.graph import Pipeline, Problem, active_assets

TierId = Literal["starter", "builder", "pro"]
ModelStrength = Literal["light", "standard", "max"]
TIER_IDS: tuple[str, ...] = get_args(TierId)
MODEL_STRENGTHS: tuple[str, ...] = get_args(ModelStrength)
DEFAULT_TIER: TierId = "starter"
DEFAULT_MODEL_STRENGTH: ModelStrength = "light"
DATA_FILE = Path(__file__).with_name("tiers.toml")


class BacktestLimits(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    daily_runs: int
    max_decision_calls: int
    max_active_assets: int
    max_estimated_tokens: int


class Tier(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    id: TierId = DEFAULT_TIER
    name: str
    max_active_assets: int
    model_strengths: tuple[ModelStrength, ...]
    backtest: BacktestLimits


def load_tiers(path: Path = DATA_FILE) -> dict[str, Tier]:
    raw = msgspec.toml.decode(path.read_bytes(), type=dict[TierId, Tier], strict=True)
    tiers: dict[str, Tier] = {k: msgspec.structs.replace(t, id=k) for k, t in raw.items()}
    if set(tiers) != set(TIER_IDS):
        raise ValueError(f"{path}: needs exactly the tiers {TIER_IDS}, got {sorted(tiers)}")
    return {k: tiers[k] for k in TIER_IDS}


@cache
def tiers() -> dict[str, Tier]:
    return load_tiers()


def tier(tier_id: str) -> Tier:
    try:
        return tiers()[tier_id]
    except KeyError:
        raise ValueError(
            f"unknown tier {tier_id!r}; expected one of {', '.join(TIER_IDS)}"
        ) from None


def _resolve(t: Tier | str) -> Tier:
    return t if isinstance(t, Tier) else tier(t)


def check_model_strength(t: Tier | str, model_strength: str) -> list[Problem]:
    t = _resolve(t)
    if model_strength in t.model_strengths:
        return []
    if model_strength not in MODEL_STRENGTHS:
        message = f"unknown model strength {model_strength!r}; expected one of {', '.join(MODEL_STRENGTHS)}"
    else:
        message = (
            f"model strength {model_strength!r} is not in the {t.name} tier "
            f"(allowed: {', '.join(t.model_strengths)})"
        )
    return [
        Problem(
            node_id=None, field="model_strength", code="model_strength_not_allowed", message=message
        )
    ]


def check_active_assets(t: Tier | str, symbols: list[str]) -> list[Problem]:
    t = _resolve(t)
    if len(symbols) <= t.max_active_assets:
        return []
    shown = ", ".join(symbols[:12]) + (", ..." if len(symbols) > 12 else "")
    return [
        Problem(
            node_id=None,
            field="active_assets",
            code="too_many_active_assets",
            message=f"{len(symbols)} active assets ({shown}); the {t.name} tier allows "
            f"{t.max_active_assets}",
        )
    ]


def check_entitlement(
    t: Tier | str, pipeline: Pipeline, model_strength: str, assets: Mapping[str, CatalogAsset]
) -> list[Problem]:
    """The tier's limits against a pipeline: active asset count and model strength.

    `assets` is the registry snapshot that expands category selections into symbols; callers
    pass the same catalog they validate with.
    """
    return [
        *check_active_assets(t, active_assets(pipeline, assets)),
        *check_model_strength(t, model_strength),
    ]


def check_backtest(
    t: Tier | str,
    *,
    runs_today: int,
    decision_calls: int,
    active_assets: int,
    estimated_tokens: int,
) -> list[Problem]:
    """A backtest run against seed 000's per-tier guardrails; `runs_today` counts accepted runs
    before this one (clone × user × UTC day)."""
    t = _resolve(t)
    b = t.backtest
    checks = (
        ("runs_today", runs_today + 1, b.daily_runs, "daily_runs_exceeded", "accepted runs today"),
        (
            "decision_calls",
            decision_calls,
            b.max_decision_calls,
            "too_many_decision_calls",
            "decision calls",
        ),
        (
            "active_assets",
            active_assets,
            b.max_active_assets,
            "too_many_active_assets",
            "active assets",
        ),
        (
            "estimated_tokens",
            estimated_tokens,
            b.max_estimated_tokens,
            "too_many_tokens",
            "estimated tokens",
        ),
    )
    return [
        Problem(
            node_id=None,
            field=field,
            code=code,
            message=f"{value} {what}; the {t.name} tier allows {limit} per backtest"
            if field != "runs_today"
            else f"this would be run {value} today; the {t.name} tier allows {limit}",
        )
        for field, value, limit, code, what in checks
        if value > limit
    ]
