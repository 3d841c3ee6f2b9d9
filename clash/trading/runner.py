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
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal, Protocol

import anyio
import msgspec

from actors import Clock
from clash.market.candles import Candle
from clash.market.memory import (
    AssetProfile,
    FundingRow,
    IndicatorRow,
    Interval,
    MacroObservation,
    PolymarketContext,
    SettledFunding,
)
from clash.prop.book import DAY_MS, HOUR_MS, AccountBook, open_account
from clash.prop.fills import AssetSpec, Fill
from clash.prop.gates import Action, Limits
from clash.prop.manager import PropError
from clash.prop.messages import AccountSnapshot
from clash.store import Database
from clash.trading import records
from clash.trading.actions import Rejected, ValidAction, parse_answer, to_prop_action
from clash.trading.artifacts import Artifacts
from clash.trading.cache import CachedEngine, ResponseCache
from clash.trading.config import TradingConfig
from clash.trading.context import MarketMemory, build_block, fetch
from clash.trading.engines.base import Engine, EngineAnswer, EngineError, EngineRequest, request_for
from clash.trading.legal import HOLD_ONLY, legal_for, only_hold, ordered
from clash.trading.packet import AssetContext, Branch, BranchAsset, Candidate, CloneRef, ContextBlock, ReadPlan, encode
from clash.trading.packet_prompt import prompt_input
from clash.trading.prompt import PROMPT_VERSION, Prompt, render_prompt
from clash.trading.records import (
    ActionRow,
    ArtifactKind,
    BlockSummary,
    ContextSummary,
    RecordWriter,
    RunRow,
    RunStatus,
)

MONOTONIC: Callable[[], float] = anyio.current_time
"""The runtime's monotonic clock (seconds), for latencies only; domain time comes from `Clock`."""

TRANSIENT: frozenset[str] = frozenset({"rate_limited", "overloaded", "server_error", "timeout", "connection"})
"""Engine error codes worth another attempt of the run."""


# ================================================================= context, shared by the runs of one instant


class _Pending:
    __slots__ = ("done", "value", "error")

    def __init__(self) -> None:
        self.done = anyio.Event()
        self.value: Any = None
        self.error: BaseException | None = None


class InstantMemo:
    """Values computed once per instant (a timestamp) and key; concurrent askers of the same one
    wait for the first. Only the newest `instants` instants are kept; an older instant is not
    cached. A failed computation is not cached either: waiters compute it themselves."""

    def __init__(self, instants: int = 2) -> None:
        self.instants = instants
        self._memo: dict[int, dict[Any, _Pending]] = {}

    def _slot(self, instant: int) -> dict[Any, _Pending] | None:
        memo = self._memo.get(instant)
        if memo is None:
            if self._memo and instant < min(self._memo):
                return None
            memo = self._memo[instant] = {}
            for old in sorted(self._memo)[:-self.instants]:
                del self._memo[old]
        return memo

    async def get(self, instant: int, key: Any, compute: Callable[[], Awaitable[Any]]) -> Any:
        memo = self._slot(instant)
        if memo is None:
            return await compute()
        pending = memo.get(key)
        if pending is not None:
            await pending.done.wait()
            return pending.value if pending.error is None else await compute()
        pending = memo[key] = _Pending()
        try:
            pending.value = await compute()
        except BaseException as exc:
            pending.error = exc
            memo.pop(key, None)
            raise
        finally:
            pending.done.set()
        return pending.value

    def get_sync(self, instant: int, key: Any, compute: Callable[[], Any]) -> Any:
        memo = self._slot(instant)
        if memo is None:
            return compute()
        pending = memo.get(key)
        if pending is None:
            pending = memo[key] = _Pending()
            pending.value = compute()
            pending.done.set()
        return pending.value


class SharedReads:
    """`MarketMemory` whose reads, and the blocks built from them, are shared by every run with the
    same `as_of` (the runs of one cadence tick): many clones trading the same assets read each
    (table, symbol) once per tick. As-of reads are deterministic, so sharing changes no answer."""

    def __init__(self, inner: MarketMemory, instants: int = 2) -> None:
        self.inner = inner
        self.memo = InstantMemo(instants)

    def _shared(self, key: Any, as_of_ms: int, read: Callable[[], Awaitable[Any]]) -> Awaitable[Any]:
        return self.memo.get(as_of_ms, key, read)

    def block(self, plan: ReadPlan, fetched: Mapping[Any, Any], as_of_ms: int) -> ContextBlock:
        """`context.build_block`, once per distinct read plan and instant."""
        return self.memo.get_sync(as_of_ms, ("block", _plan_key(plan)), lambda: build_block(plan, fetched, as_of_ms))

    async def candles(self, symbol: str, interval: Interval, as_of_ms: int, limit: int) -> list[Candle]:
        return await self._shared(("candles", symbol, interval, limit), as_of_ms,
                                  lambda: self.inner.candles(symbol, interval, as_of_ms, limit))

    async def indicators(self, symbol: str, as_of_ms: int, limit: int) -> list[IndicatorRow]:
        return await self._shared(("indicators", symbol, limit), as_of_ms,
                                  lambda: self.inner.indicators(symbol, as_of_ms, limit))

    async def funding(self, symbol: str, as_of_ms: int, limit: int) -> list[FundingRow]:
        return await self._shared(("funding", symbol, limit), as_of_ms,
                                  lambda: self.inner.funding(symbol, as_of_ms, limit))

    async def settled_funding(self, symbol: str, as_of_ms: int, limit: int) -> list[SettledFunding]:
        return await self._shared(("settled", symbol, limit), as_of_ms,
                                  lambda: self.inner.settled_funding(symbol, as_of_ms, limit))

    async def profile(self, symbol: str, as_of_ms: int) -> AssetProfile | None:
        return await self._shared(("profile", symbol), as_of_ms, lambda: self.inner.profile(symbol, as_of_ms))

    async def polymarket_context(self, symbol: str | None, as_of_ms: int) -> PolymarketContext:
        return await self._shared(("polymarket", symbol), as_of_ms,
                                  lambda: self.inner.polymarket_context(symbol, as_of_ms))

    async def macro_context(self, symbol: str | None, as_of_ms: int) -> list[MacroObservation]:
        return await self._shared(("macro", symbol), as_of_ms, lambda: self.inner.macro_context(symbol, as_of_ms))

    async def latest_prices(self, symbols: Any, as_of_ms: int) -> dict[str, tuple[Decimal, int]]:
        wanted = tuple(symbols)
        return await self._shared(("prices", wanted), as_of_ms, lambda: self.inner.latest_prices(wanted, as_of_ms))



_plan_bytes = msgspec.json.Encoder()


def _plan_key(plan: ReadPlan) -> bytes:
    return _plan_bytes.encode(plan)


async def resolve_context(mem: MarketMemory, branch: Branch, asset: BranchAsset, candidate: Candidate,
                          as_of_ms: int) -> AssetContext:
    """One run's slice of the context packet: its asset's blocks as of `as_of_ms` (reads through
    `SharedReads` when given one). The packet's text sections are left out: prompt v1 renders its
    own from the blocks (`packet_prompt`)."""
    fetched = await fetch(mem, asset.reads, as_of_ms)
    shared = mem if isinstance(mem, SharedReads) else None
    blocks = [shared.block(p, fetched, as_of_ms) if shared else build_block(p, fetched, as_of_ms) for p in asset.reads]
    return AssetContext(prompt_node_id=branch.prompt_node_id, symbol=asset.symbol, candidate=candidate,
                        decision_cadence_sec=asset.decision_cadence_sec, blocks=blocks, skipped=asset.skipped,
                        sections=[], estimated_prompt_tokens=0)


# ================================================================= engines, as the runner sees them


class DecisionJob(msgspec.Struct, frozen=True, kw_only=True):
    """What an engine may look at: the rendered prompt (model engines) or the packet (rules)."""

    run_id: str
    context: AssetContext
    legal: frozenset[str]
    mark_px: Decimal | None
    position_side: str | None
    leverage_cap: int
    model_strength: str
    request: EngineRequest | None = None


class Decider(Protocol):
    name: str
    needs_prompt: bool

    def model_for(self, model_strength: str) -> str: ...

    def prompt_version(self) -> str: ...

    async def decide(self, job: DecisionJob) -> EngineAnswer: ...


class ModelDecider:
    """A prompt-reading engine (`anthropic`, `scripted`, `hold`) behind the response cache."""

    needs_prompt = True

    def __init__(self, engine: Engine, cache: ResponseCache | None = None) -> None:
        self.engine = engine
        self.name = engine.name
        self._call: Engine = CachedEngine(engine, cache) if cache is not None else engine

    def model_for(self, model_strength: str) -> str:
        return self.engine.model_for(EngineRequest(system="", user="", asset="", model_strength=model_strength))  # type: ignore[arg-type]

    def prompt_version(self) -> str:
        return PROMPT_VERSION

    async def decide(self, job: DecisionJob) -> EngineAnswer:
        assert job.request is not None
        return await self._call.decide(job.request)


# ================================================================= the account a run trades


class Execution(msgspec.Struct, frozen=True, kw_only=True):
    outcome: Literal["filled", "held", "rejected"]
    reason_code: str | None = None
    message: str | None = None
    fill: Fill | None = None
    order_no: int | None = None
    at_ms: int


class AccountSide(Protocol):
    account_id: str | None

    async def book(self) -> tuple[AccountBook, Limits]: ...

    async def submit(self, action: Action, marks: Mapping[str, Decimal], now_ms: int) -> Execution: ...


def book_of(s: AccountSnapshot) -> AccountBook:
    """The prop snapshot as a book (what `legal_for` and the prompt's account block read)."""
    return AccountBook(
        balance_micro=s.balance_micro, positions={p.symbol: p for p in s.positions}, status=s.status,
        halt_reason=s.halt_reason, peak_equity_micro=s.peak_equity_micro,
        day_start_equity_micro=s.day_start_equity_micro, day=s.at_ms // DAY_MS, funding_hour=s.at_ms // HOUR_MS,
        deposits_micro=s.deposits_micro, realized_pnl_micro=s.realized_pnl_micro, fees_paid_micro=s.fees_paid_micro,
        funding_paid_micro=s.funding_paid_micro, liquidation_micro=s.liquidation_micro, updated_at_ms=s.at_ms)


class PropSide:
    """A live prop account, through the prop module's public API."""

    def __init__(self, prop: Any, account_id: str) -> None:
        self.prop = prop
        self.account_id: str | None = account_id

    async def book(self) -> tuple[AccountBook, Limits]:
        snapshot = await self.prop.snapshot(self.account_id)
        return book_of(snapshot), snapshot.limits

    async def submit(self, action: Action, marks: Mapping[str, Decimal], now_ms: int) -> Execution:
        r = await self.prop.submit(self.account_id, action)
        return Execution(outcome=r.outcome, reason_code=r.reason_code, message=r.message, fill=r.fill,
                         order_no=r.order_no, at_ms=r.at_ms)


class SyntheticSide:
    """A dry run's account: a fresh book at the default starting equity, never persisted."""

    account_id: str | None = None

    def __init__(self, limits: Limits, specs: Mapping[str, AssetSpec], now_ms: int) -> None:
        self.limits = limits
        self.specs = dict(specs)
        self._book = open_account(now_ms, limits).book

    async def book(self) -> tuple[AccountBook, Limits]:
        return self._book, self.limits

    async def submit(self, action: Action, marks: Mapping[str, Decimal], now_ms: int) -> Execution:
        out = self._book.submit(action, self.specs, marks, now_ms, self.limits)
        if out.rejection is not None:
            return Execution(outcome="rejected", reason_code=out.rejection.code, message=out.rejection.message,
                             at_ms=now_ms)
        if out.fills:
            return Execution(outcome="filled", fill=out.fills[0], at_ms=now_ms)
        return Execution(outcome="held", at_ms=now_ms)


# ================================================================= one run's inputs and result


class AssetFacts(msgspec.Struct, frozen=True, kw_only=True):
    """What the run needs from the asset registry."""

    symbol: str
    sz_decimals: int
    max_leverage: int
    is_spot: bool
    enabled: bool = True

    def spec(self) -> AssetSpec:
        return AssetSpec(symbol=self.symbol, sz_decimals=self.sz_decimals, max_leverage=self.max_leverage,
                         is_spot=self.is_spot, enabled=self.enabled)


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

    @property
    def retry(self) -> bool:
        return self.status is None


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


def run_id_for(account_id: str, prompt_node_id: str, symbol: str, due_ms: int) -> str:
    """Deterministic: the same run retried has the same id, and so the same prop action id."""
    raw = "\x1f".join((account_id, prompt_node_id, symbol, str(due_ms))).encode()
    return "dr_" + hashlib.sha256(raw).hexdigest()[:24]


# ================================================================= pure pieces


def bare_row(spec: RunSpec, account_id: str | None, status: RunStatus, now_ms: int, *, error_code: str | None = None,
             error: str | None = None, legal: Sequence[str] = (), engine: str = "none",
             summary: ContextSummary | None = None, latency_ms: int = 0) -> RunRow:
    """A run that never reached an engine (hold only, skipped, entitlement denied, failed early)."""
    return RunRow(
        run_id=spec.run_id, clone_id=spec.clone.clone_id, version=spec.version, account_id=account_id,
        dry_run=spec.dry_run, prompt_node_id=spec.branch.prompt_node_id, symbol=spec.asset.symbol,
        due_ms=spec.due_ms, started_ms=now_ms, finished_ms=now_ms, status=status, engine=engine,
        attempts=spec.spent_attempts, legal=list(ordered(legal)), candidate_rank=spec.candidate.rank,
        candidate_reason=spec.candidate.reason, context_summary=summary, error_code=error_code, error=error,
        latency_ms=latency_ms)


def summarize(ctx: AssetContext | None, as_of_ms: int, mark: Decimal | None, book: AccountBook,
              marks: Mapping[str, Decimal]) -> ContextSummary:
    blocks = [] if ctx is None else [
        BlockSummary(b.stream_node_id, b.source, b.channel, b.context_symbol, b.status, b.points, b.latest_ms)
        for b in ctx.blocks]
    return ContextSummary(as_of_ms=as_of_ms, mark_px=mark, blocks=blocks,
                          skipped_reads=0 if ctx is None else len(ctx.skipped), positions=sorted(book.positions),
                          equity_micro=book.equity_micro(marks))


def action_row(spec: RunSpec, account_id: str | None, parsed: ValidAction | Rejected, proposed_ms: int,
               decided_ms: int, execution: Execution | None) -> ActionRow:
    """The action's final state: rejected by the answer checks, or as the account executed it."""
    common = dict(run_id=spec.run_id, clone_id=spec.clone.clone_id, account_id=account_id, dry_run=spec.dry_run,
                  symbol=spec.asset.symbol, action_id=spec.run_id, proposed_ms=proposed_ms, decided_ms=decided_ms)
    if isinstance(parsed, Rejected):
        return ActionRow(status="rejected", stage="answer", reason_code=parsed.code, reason=parsed.message,
                         **common)  # type: ignore[arg-type]
    v = parsed
    fields = dict(kind=v.kind, confidence=v.confidence, size_usd=v.size_usd, size_fraction=v.size_fraction,
                  leverage=v.leverage, take_profit=v.take_profit, stop_loss=v.stop_loss, invalidation=v.invalidation,
                  rationale=v.reason)
    if execution is None:
        status = "held" if v.kind == "hold" else "validated"
        return ActionRow(status=status, **common, **fields)  # type: ignore[arg-type]
    if execution.outcome == "rejected":
        return ActionRow(status="rejected", stage="gates", reason_code=execution.reason_code,
                         reason=execution.message, **common, **fields)  # type: ignore[arg-type]
    if execution.outcome == "held":
        return ActionRow(status="held", **common, **fields)  # type: ignore[arg-type]
    f = execution.fill
    assert f is not None
    return ActionRow(status="executed", order_no=execution.order_no, fill_side=f.side, fill_size=f.size, fill_px=f.px,
                     fill_notional_micro=f.notional_micro, fill_fee_micro=f.fee_micro, executed_ms=f.at_ms,
                     **common, **fields)  # type: ignore[arg-type]


def run_status(action: ActionRow) -> RunStatus:
    return {"executed": "filled", "held": "held", "rejected": "rejected", "validated": "held"}[action.status]  # type: ignore[return-value]


_enc = msgspec.json.Encoder(decimal_format="string", order="deterministic")


def context_payload(spec: RunSpec, ctx: AssetContext, legal: frozenset[str], mark: Decimal | None,
                    book: AccountBook, now_ms: int) -> bytes:
    return encode({"format": "clash.decision-context.v1", "run_id": spec.run_id, "as_of_ms": now_ms,
                   "clone": spec.clone, "version": spec.version, "prompt_node_id": spec.branch.prompt_node_id,
                   "candidate": spec.candidate, "legal": ordered(legal), "mark_px": mark, "account": book,
                   "asset": ctx})


def response_payload(answer: EngineAnswer) -> bytes:
    return _enc.encode(answer)


def reasoning_payload(parsed: ValidAction | Rejected) -> bytes:
    if isinstance(parsed, Rejected):
        return _enc.encode({"rejected": parsed})
    return _enc.encode({"reason": parsed.reason, "invalidation": parsed.invalidation, "action": parsed})


def prompt_payload(prompt: Prompt) -> bytes:
    return _enc.encode(prompt)


# ================================================================= the run


async def execute(spec: RunSpec, side: AccountSide, deps: RunDeps) -> RunResult:
    """Run one attempt; record it unless it failed and may be retried. Never raises (but cancels)."""
    started = deps.monotonic()
    try:
        with anyio.fail_after(deps.config.run_timeout_s):
            return await _execute(spec, side, deps, started)
    except EngineError as exc:
        return await _failed(spec, side, deps, exc.code, exc.message, exc.attempts, started)
    except TimeoutError:
        return await _failed(spec, side, deps, "timeout", f"the run took longer than {deps.config.run_timeout_s:g}s",
                             1, started)
    except PropError as exc:
        return await _failed(spec, side, deps, "account_unavailable", str(exc), 0, started, retryable=False)
    except Exception as exc:
        return await _failed(spec, side, deps, "internal", repr(exc), 0, started, retryable=False)


async def _failed(spec: RunSpec, side: AccountSide, deps: RunDeps, code: str, message: str, attempts: int,
                  started: float, *, retryable: bool = True) -> RunResult:
    total = spec.spent_attempts + attempts
    if retryable and not spec.final and code in TRANSIENT:
        return RunResult(run_id=spec.run_id, status=None, attempts=total, error_code=code, error=message)
    now = deps.clock.now_ms()
    row = msgspec.structs.replace(
        bare_row(spec, side.account_id, "failed", now, error_code=code, error=message,
                 engine=deps.decider.name, latency_ms=_ms(deps.monotonic() - started)),
        attempts=total, model=deps.decider.model_for(spec.model_strength),
        prompt_version=deps.decider.prompt_version())
    await deps.writer.write(records.run_statements(row))
    return RunResult(run_id=spec.run_id, status="failed", attempts=total, error_code=code, error=message)


def _ms(seconds: float) -> int:
    return max(0, round(seconds * 1000))


async def _execute(spec: RunSpec, side: AccountSide, deps: RunDeps, started: float) -> RunResult:
    clock, cfg = deps.clock, deps.config
    now = clock.now_ms()
    symbol = spec.asset.symbol
    book, limits = await side.book()
    marks = await deps.marks([symbol, *book.positions])
    mark = marks.get(symbol)
    facts = spec.facts
    legal = legal_for(book, symbol, marks, limits, can_short=not (facts and facts.is_spot)) if mark is not None \
        else HOLD_ONLY
    if only_hold(legal):
        why = None if mark is not None else f"no price for {symbol} in the last {cfg.mark_max_age_s:g}s"
        row = bare_row(spec, side.account_id, "hold_only", now, error_code=None if mark is not None else "no_price",
                       error=why, legal=legal, summary=summarize(None, now, mark, book, marks),
                       latency_ms=_ms(deps.monotonic() - started))
        await deps.writer.write(records.run_statements(row))
        return RunResult(run_id=spec.run_id, status="hold_only", attempts=spec.spent_attempts)

    ctx = await resolve_context(deps.memory, spec.branch, spec.asset, spec.candidate, spec.due_ms)
    position = book.positions.get(symbol)
    leverage_cap = min(facts.max_leverage if facts else limits.max_leverage, limits.max_leverage)
    decider = deps.decider
    prompt: Prompt | None = None
    if decider.needs_prompt:
        notes = {}
        if book.positions and side.account_id is not None:
            async with deps.db.read() as r:
                notes = await records.invalidations(r, side.account_id, sorted(book.positions))
        prompt = render_prompt(prompt_input(
            clone_name=spec.clone.name, ctx=ctx, strategy_prompt=spec.asset.prompt, legal=legal, now_ms=spec.due_ms,
            mark_px=mark, book=book, marks=marks, limits=limits, asset_max_leverage=leverage_cap,
            invalidations=notes))
    job = DecisionJob(
        run_id=spec.run_id, context=ctx, legal=legal, mark_px=mark,
        position_side=position.side if position is not None else None, leverage_cap=leverage_cap,
        model_strength=spec.model_strength,
        request=None if prompt is None else request_for(prompt, symbol, model_strength=spec.model_strength,  # type: ignore[arg-type]
                                                        run_id=spec.run_id, clone_id=spec.clone.clone_id))
    async with deps.limiter:
        answer = await decider.decide(job)
    proposed = clock.now_ms()
    parsed = parse_answer(answer.text, symbol, legal, stop_reason=answer.stop_reason)
    execution = None
    if isinstance(parsed, ValidAction) and parsed.kind != "hold":
        execution = await side.submit(to_prop_action(parsed, spec.run_id), marks, clock.now_ms())
    decided = clock.now_ms()
    action = action_row(spec, side.account_id, parsed, proposed, decided, execution)

    parts: dict[ArtifactKind, bytes] = {"context": context_payload(spec, ctx, legal, mark, book, spec.due_ms),
                                        "response": response_payload(answer), "reasoning": reasoning_payload(parsed)}
    if prompt is not None:
        parts["prompt"] = prompt_payload(prompt)
    stored = await deps.artifacts.archive(spec.run_id, now, parts) if deps.artifacts is not None else None
    context_sha = stored.parts["context"].sha256 if stored else hashlib.sha256(parts["context"]).hexdigest()
    status = run_status(action)
    run = RunRow(
        run_id=spec.run_id, clone_id=spec.clone.clone_id, version=spec.version, account_id=side.account_id,
        dry_run=spec.dry_run, prompt_node_id=spec.branch.prompt_node_id, symbol=symbol, due_ms=spec.due_ms,
        started_ms=now, finished_ms=clock.now_ms(), status=status, engine=answer.engine, model=answer.model,
        prompt_version=prompt.version if prompt is not None else decider.prompt_version(), cached=answer.cached,
        attempts=spec.spent_attempts + (0 if answer.cached else answer.attempts),
        latency_ms=_ms(deps.monotonic() - started), engine_latency_ms=answer.latency_ms,
        input_tokens=answer.input_tokens, output_tokens=answer.output_tokens, cost_micro_usd=answer.cost_micro_usd,
        est_prompt_tokens=prompt.est_tokens if prompt is not None else None,
        legal=list(ordered(legal)), candidate_rank=spec.candidate.rank, candidate_reason=spec.candidate.reason,
        context_sha256=context_sha, context_summary=summarize(ctx, spec.due_ms, mark, book, marks),
        error_code=action.reason_code if status == "rejected" else None,
        error=action.reason if status == "rejected" else None)
    await deps.writer.write(records.run_statements(run, action, stored))
    return RunResult(run_id=spec.run_id, status=status, attempts=run.attempts)
