"""One decision run: one clone, one trading prompt branch, one asset, one due time.

    legal actions (code decides) ── only hold? ──► `hold_only` row, no engine call
          ▼
    context (as of the due time) ► prompt v1 ► engine (cached, behind the shared model-call limiter)
          ▼                                      └─ EngineError ─► retry (scheduler) or `failed` row
    strict parse ─► Rejected ─► `rejected` row (stage `answer`), no trade
          ▼
    hold ─► `held` row (a hold changes no account: it is recorded here, not sent to prop)
          ▼
    prop submit (action id = run id: a retried run replays, never fills twice)
          ▼
    filled / held / rejected (stage `gates`) ► artifacts ► run + action + artifact rows, one commit

The decision pieces are pure functions; `execute` strings them together over its dependencies
(`RunDeps`) and an account side: a prop account, or a synthetic book for dry runs. Market reads
go through `SharedReads`, so the runs of one tick read each (table, symbol) once.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

import anyio
import msgspec

from actors import Clock
from clash.prop import AccountBook, PropError
from clash.store import Database
from clash.trading import records
from clash.trading.account_side import AccountSide
from clash.trading.actions import Rejected, ValidAction, parse_answer, to_prop_action
from clash.trading.artifacts import Artifacts
from clash.trading.config import TradingConfig
from clash.trading.context import MarketMemory
from clash.trading.deciders import MONOTONIC, Decider, DecisionJob
from clash.trading.engines.base import EngineAnswer, EngineError, request_for
from clash.trading.legal import HOLD_ONLY, legal_for, only_hold, ordered
from clash.trading.packet import AssetContext
from clash.trading.packet_prompt import prompt_input
from clash.trading.prompt import Prompt, render_prompt
from clash.trading.records import (
    ArtifactKind,
    RecordWriter,
    RunRow,
)
from clash.trading.run_rows import (
    action_row,
    bare_row,
    context_payload,
    prompt_payload,
    reasoning_payload,
    response_payload,
    run_status,
    summarize,
)
from clash.trading.run_spec import RunResult, RunSpec
from clash.trading.shared_reads import resolve_context
from clash.trading.tick_order import UNORDERED, TickOrder

log = logging.getLogger(__name__)

TRANSIENT: frozenset[str] = frozenset(
    {"rate_limited", "overloaded", "server_error", "timeout", "connection"}
)
"""Engine error codes worth another attempt of the run."""


@dataclass
class RunDeps:
    clock: Clock
    memory: MarketMemory
    marks: Callable[[Sequence[str]], Awaitable[dict[str, Decimal]]]
    """Latest execution prices, stale ones left out (what prop fills at)."""
    decider: Decider
    limiter: anyio.CapacityLimiter
    writer: RecordWriter
    db: Database
    config: TradingConfig
    artifacts: Artifacts | None = None
    monotonic: Callable[[], float] = MONOTONIC


async def execute(
    spec: RunSpec, side: AccountSide, deps: RunDeps, order: TickOrder = UNORDERED
) -> RunResult:
    """Run one attempt; record it unless it failed and may be retried. Never raises (but cancels).

    The deciding part (reads, engine) is bounded by `run_timeout_s` on the clock; the commit
    (submit, rows) waits for the run's turn in its tick's `order`."""
    started = deps.monotonic()
    try:
        failure: tuple[str, str, int, bool]
        try:
            with deps.clock.fail_after(deps.config.run_timeout_s):
                decided = await _decide(spec, side, deps, started)
        except EngineError as exc:
            failure = (exc.code, exc.message, exc.attempts, True)
        except TimeoutError:
            failure = (
                "timeout",
                f"the run took longer than {deps.config.run_timeout_s:g}s",
                1,
                True,
            )
        except Exception as exc:
            failure = _unexpected(exc)
        else:
            await order.turn(spec.run_id)
            try:
                return await _commit(spec, side, deps, decided, started)
            except Exception as exc:
                failure = _unexpected(exc)
        code, message, attempts, retryable = failure
        total = spec.spent_attempts + attempts
        if retryable and not spec.final and code in TRANSIENT:
            log.info("decision run failed (%s), retrying", code, extra=_log_extra(spec, side))
            return RunResult(
                run_id=spec.run_id, status=None, attempts=total, error_code=code, error=message
            )
        await order.turn(spec.run_id)
        return await _failed(spec, side, deps, code, message, total, started)
    finally:
        order.done(spec.run_id)


def _unexpected(exc: Exception) -> tuple[str, str, int, bool]:
    if isinstance(exc, PropError):
        return "account_unavailable", str(exc), 0, False
    return "internal", repr(exc), 0, False


def _log_extra(spec: RunSpec, side: AccountSide) -> dict[str, object]:
    return {"clone_id": spec.clone.clone_id, "account_id": side.account_id, "run_id": spec.run_id}


async def _failed(
    spec: RunSpec,
    side: AccountSide,
    deps: RunDeps,
    code: str,
    message: str,
    attempts: int,
    started: float,
) -> RunResult:
    log.warning("decision run failed: %s: %s", code, message, extra=_log_extra(spec, side))
    now = deps.clock.now_ms()
    row = msgspec.structs.replace(
        bare_row(
            spec,
            side.account_id,
            "failed",
            now,
            error_code=code,
            error=message,
            engine=deps.decider.name,
            latency_ms=_ms(deps.monotonic() - started),
        ),
        attempts=attempts,
        model=deps.decider.model_for(spec.model_strength),
        prompt_version=deps.decider.prompt_version(),
    )
    await deps.writer.write(records.run_statements(row))
    return RunResult(
        run_id=spec.run_id, status="failed", attempts=attempts, error_code=code, error=message
    )


def _ms(seconds: float) -> int:
    return max(0, round(seconds * 1000))


@dataclass(frozen=True)
class Decided:
    """What a run saw and what its engine answered: everything its commit needs."""

    now: int
    book: AccountBook
    marks: dict[str, Decimal]
    mark: Decimal | None
    legal: frozenset[str]
    ctx: AssetContext
    prompt: Prompt | None
    answer: EngineAnswer
    parsed: ValidAction | Rejected
    proposed: int


async def _decide(
    spec: RunSpec, side: AccountSide, deps: RunDeps, started: float
) -> Decided | RunRow:
    """Reads and the engine call, no writes: a `Decided`, or the `hold_only` row to record."""
    clock, cfg = deps.clock, deps.config
    now = clock.now_ms()
    symbol = spec.asset.symbol
    book, limits = await side.book()
    marks = await deps.marks([symbol, *book.positions])
    mark = marks.get(symbol)
    facts = spec.facts
    legal = (
        legal_for(book, symbol, marks, limits, can_short=not (facts and facts.is_spot))
        if mark is not None
        else HOLD_ONLY
    )
    if only_hold(legal):
        why = (
            None
            if mark is not None
            else f"no price for {symbol} in the last {cfg.mark_max_age_s:g}s"
        )
        return bare_row(
            spec,
            side.account_id,
            "hold_only",
            now,
            error_code=None if mark is not None else "no_price",
            error=why,
            legal=legal,
            summary=summarize(None, now, mark, book, marks),
            latency_ms=_ms(deps.monotonic() - started),
        )

    ctx = await resolve_context(deps.memory, spec.branch, spec.asset, spec.candidate, spec.due_ms)
    position = book.positions.get(symbol)
    leverage_cap = min(facts.max_leverage if facts else limits.max_leverage, limits.max_leverage)
    decider = deps.decider
    prompt: Prompt | None = None
    if decider.needs_prompt:
        notes = {}
        if book.positions and side.account_id is not None:
            async with deps.db.read() as r:
                notes = await records.invalidations(
                    r, side.account_id, sorted(book.positions), spec.due_ms
                )
        prompt = render_prompt(
            prompt_input(
                clone_name=spec.clone.name,
                ctx=ctx,
                strategy_prompt=spec.asset.prompt,
                legal=legal,
                now_ms=spec.due_ms,
                mark_px=mark,
                book=book,
                marks=marks,
                limits=limits,
                asset_max_leverage=leverage_cap,
                invalidations=notes,
            )
        )
    job = DecisionJob(
        run_id=spec.run_id,
        context=ctx,
        legal=legal,
        mark_px=mark,
        position_side=position.side if position is not None else None,
        leverage_cap=leverage_cap,
        model_strength=spec.model_strength,
        request=None
        if prompt is None
        else request_for(
            prompt,
            symbol,
            model_strength=spec.model_strength,  # type: ignore[arg-type]
            run_id=spec.run_id,
            clone_id=spec.clone.clone_id,
        ),
    )
    async with deps.limiter:
        answer = await decider.decide(job)
    return Decided(
        now=now,
        book=book,
        marks=marks,
        mark=mark,
        legal=legal,
        ctx=ctx,
        prompt=prompt,
        answer=answer,
        parsed=parse_answer(answer.text, symbol, legal, stop_reason=answer.stop_reason),
        proposed=clock.now_ms(),
    )


async def _commit(
    spec: RunSpec, side: AccountSide, deps: RunDeps, d: Decided | RunRow, started: float
) -> RunResult:
    """Submit the action (not a hold) to the account, archive the artifacts, write the rows."""
    if isinstance(d, RunRow):
        await deps.writer.write(records.run_statements(d))
        return RunResult(run_id=spec.run_id, status="hold_only", attempts=spec.spent_attempts)
    clock, decider, answer, parsed, prompt = deps.clock, deps.decider, d.answer, d.parsed, d.prompt
    execution = None
    if isinstance(parsed, ValidAction) and parsed.kind != "hold":
        execution = await side.submit(to_prop_action(parsed, spec.run_id), d.marks, clock.now_ms())
    action = action_row(spec, side.account_id, parsed, d.proposed, clock.now_ms(), execution)

    parts: dict[ArtifactKind, bytes] = {
        "context": context_payload(spec, d.ctx, d.legal, d.mark, d.book, spec.due_ms),
        "response": response_payload(answer),
        "reasoning": reasoning_payload(parsed),
    }
    if prompt is not None:
        parts["prompt"] = prompt_payload(prompt)
    stored = (
        await deps.artifacts.archive(spec.run_id, d.now, parts)
        if deps.artifacts is not None
        else None
    )
    context_sha = (
        stored.parts["context"].sha256 if stored else hashlib.sha256(parts["context"]).hexdigest()
    )
    status = run_status(action)
    run = RunRow(
        run_id=spec.run_id,
        clone_id=spec.clone.clone_id,
        version=spec.version,
        account_id=side.account_id,
        dry_run=spec.dry_run,
        prompt_node_id=spec.branch.prompt_node_id,
        symbol=spec.asset.symbol,
        due_ms=spec.due_ms,
        started_ms=d.now,
        finished_ms=clock.now_ms(),
        status=status,
        engine=answer.engine,
        model=answer.model,
        prompt_version=prompt.version if prompt is not None else decider.prompt_version(),
        cached=answer.cached,
        attempts=spec.spent_attempts + (0 if answer.cached else answer.attempts),
        latency_ms=_ms(deps.monotonic() - started),
        engine_latency_ms=answer.latency_ms,
        input_tokens=answer.input_tokens,
        output_tokens=answer.output_tokens,
        cost_micro_usd=answer.cost_micro_usd,
        est_prompt_tokens=prompt.est_tokens if prompt is not None else None,
        legal=list(ordered(d.legal)),
        candidate_rank=spec.candidate.rank,
        candidate_reason=spec.candidate.reason,
        context_sha256=context_sha,
        context_summary=summarize(d.ctx, spec.due_ms, d.mark, d.book, d.marks),
        error_code=action.reason_code if status == "rejected" else None,
        error=action.reason if status == "rejected" else None,
    )
    await deps.writer.write(records.run_statements(run, action, stored))
    return RunResult(run_id=spec.run_id, status=status, attempts=run.attempts)
