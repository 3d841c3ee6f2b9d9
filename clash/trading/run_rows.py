"""Pure row and artifact building for one run: what is recorded, from what the run saw and did."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import msgspec

from clash.prop import AccountBook
from clash.trading.account_side import Execution
from clash.trading.actions import Rejected, ValidAction
from clash.trading.engines.base import EngineAnswer
from clash.trading.legal import ordered
from clash.trading.packet import AssetContext, encode
from clash.trading.prompt import Prompt
from clash.trading.records import (
    ActionRow,
    ActionStatus,
    BlockSummary,
    ContextSummary,
    RunRow,
    RunStatus,
)
from clash.trading.run_spec import RunSpec


def bare_row(
    spec: RunSpec,
    account_id: str | None,
    status: RunStatus,
    now_ms: int,
    *,
    error_code: str | None = None,
    error: str | None = None,
    legal: Iterable[str] = (),
    engine: str = "none",
    summary: ContextSummary | None = None,
    latency_ms: int = 0,
) -> RunRow:
    """A run that never reached an engine (hold only, skipped, entitlement denied, failed early)."""
    return RunRow(
        run_id=spec.run_id,
        clone_id=spec.clone.clone_id,
        version=spec.version,
        account_id=account_id,
        dry_run=spec.dry_run,
        prompt_node_id=spec.branch.prompt_node_id,
        symbol=spec.asset.symbol,
        due_ms=spec.due_ms,
        started_ms=now_ms,
        finished_ms=now_ms,
        status=status,
        engine=engine,
        attempts=spec.spent_attempts,
        legal=list(ordered(legal)),
        candidate_rank=spec.candidate.rank,
        candidate_reason=spec.candidate.reason,
        context_summary=summary,
        error_code=error_code,
        error=error,
        latency_ms=latency_ms,
    )


def summarize(
    ctx: AssetContext | None,
    as_of_ms: int,
    mark: Decimal | None,
    book: AccountBook,
    marks: Mapping[str, Decimal],
) -> ContextSummary:
    blocks = (
        []
        if ctx is None
        else [
            BlockSummary(
                b.stream_node_id,
                b.source,
                b.channel,
                b.context_symbol,
                b.status,
                b.points,
                b.latest_ms,
            )
            for b in ctx.blocks
        ]
    )
    return ContextSummary(
        as_of_ms=as_of_ms,
        mark_px=mark,
        blocks=blocks,
        skipped_reads=0 if ctx is None else len(ctx.skipped),
        positions=sorted(book.positions),
        equity_micro=book.equity_micro(marks),
    )


def action_row(
    spec: RunSpec,
    account_id: str | None,
    parsed: ValidAction | Rejected,
    proposed_ms: int,
    decided_ms: int,
    execution: Execution | None,
) -> ActionRow:
    """The action's final state: rejected by the answer checks, or as the account executed it."""
    common: dict[str, Any] = dict(
        run_id=spec.run_id,
        clone_id=spec.clone.clone_id,
        account_id=account_id,
        dry_run=spec.dry_run,
        symbol=spec.asset.symbol,
        action_id=spec.run_id,
        proposed_ms=proposed_ms,
        decided_ms=decided_ms,
    )
    if isinstance(parsed, Rejected):
        return ActionRow(
            status="rejected",
            stage="answer",
            reason_code=parsed.code,
            reason=parsed.message,
            **common,
        )
    v = parsed
    fields: dict[str, Any] = dict(
        kind=v.kind,
        confidence=v.confidence,
        size_usd=v.size_usd,
        size_fraction=v.size_fraction,
        leverage=v.leverage,
        take_profit=v.take_profit,
        stop_loss=v.stop_loss,
        invalidation=v.invalidation,
        rationale=v.reason,
    )
    if execution is None:
        status: ActionStatus = "held" if v.kind == "hold" else "validated"
        return ActionRow(status=status, **common, **fields)
    if execution.outcome == "rejected":
        return ActionRow(
            status="rejected",
            stage="gates",
            reason_code=execution.reason_code,
            reason=execution.message,
            **common,
            **fields,
        )
    if execution.outcome == "held":
        return ActionRow(status="held", **common, **fields)
    f = execution.fill
    assert f is not None
    return ActionRow(
        status="executed",
        order_no=execution.order_no,
        fill_side=f.side,
        fill_size=f.size,
        fill_px=f.px,
        fill_notional_micro=f.notional_micro,
        fill_fee_micro=f.fee_micro,
        executed_ms=f.at_ms,
        **common,
        **fields,
    )


_RUN_STATUS: dict[ActionStatus, RunStatus] = {
    "executed": "filled",
    "held": "held",
    "rejected": "rejected",
    "validated": "held",
}


def run_status(action: ActionRow) -> RunStatus:
    return _RUN_STATUS[action.status]


_enc = msgspec.json.Encoder(decimal_format="string", order="deterministic")


def context_payload(
    spec: RunSpec,
    ctx: AssetContext,
    legal: frozenset[str],
    mark: Decimal | None,
    book: AccountBook,
    now_ms: int,
) -> bytes:
    return encode(
        {
            "format": "clash.decision-context.v1",
            "run_id": spec.run_id,
            "as_of_ms": now_ms,
            "clone": spec.clone,
            "version": spec.version,
            "prompt_node_id": spec.branch.prompt_node_id,
            "candidate": spec.candidate,
            "legal": ordered(legal),
            "mark_px": mark,
            "account": book,
            "asset": ctx,
        }
    )


def response_payload(answer: EngineAnswer) -> bytes:
    return _enc.encode(answer)


def reasoning_payload(parsed: ValidAction | Rejected) -> bytes:
    if isinstance(parsed, Rejected):
        return _enc.encode({"rejected": parsed})
    return _enc.encode(
        {"reason": parsed.reason, "invalidation": parsed.invalidation, "action": parsed}
    )


def prompt_payload(prompt: Prompt) -> bytes:
    return _enc.encode(prompt)
