"""Decision routes: history per clone (and per asset), one decision's snapshot, costs, dry runs,
and the admin pauses. Handlers decode, call the trading module and encode.

Reads are the clone owner's (x-user-id) or an admin's (a request with an Authorization header is
checked as an admin bearer token only). USD renders as decimal strings with six places.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

import msgspec
from msgspec import Meta
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from clash.clones import ClonesModule
from clash.http.auth import require_admin, require_user
from clash.http.bodies import decode_optional_body, json_response, query_int, query_str
from clash.http.errors import ApiError
from clash.prop import format_usd
from clash.trading import (
    RUN_STATUSES,
    ActionRow,
    ArtifactPart,
    ArtifactRow,
    ContextSummary,
    CostLine,
    Decision,
    Pause,
    RunRow,
    TradingModule,
    VersionRef,
)

PAGE_DEFAULT, PAGE_MAX = 50, 500
DAYS_DEFAULT, DAYS_MAX = 30, 366


# -- bodies ----------------------------------------------------------------------------------------


def _d(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


class FillView(msgspec.Struct, frozen=True, kw_only=True):
    account_id: str | None
    """None for a dry run's synthetic fill."""
    order_no: int | None
    side: str
    size: str
    px: str
    notional_usd: str
    fee_usd: str
    at_ms: int


class ActionView(msgspec.Struct, frozen=True, kw_only=True):
    action_id: str
    """The prop action id (equal to the run id): prop's idempotency key."""
    status: str
    """`validated`, `rejected` (by the answer checks or the prop gates), `executed` or `held`."""
    kind: str | None
    stage: str | None
    reason_code: str | None
    reason: str | None
    confidence: str | None
    size_usd: str | None
    size_fraction: str | None
    leverage: int | None
    take_profit: str | None
    stop_loss: str | None
    invalidation: str | None
    rationale: str | None
    """The engine's own reason for the action."""
    fill: FillView | None

    @classmethod
    def of(cls, a: ActionRow) -> ActionView:
        fill = None
        if a.status == "executed" and a.fill_px is not None:
            fill = FillView(
                account_id=a.account_id,
                order_no=a.order_no,
                side=a.fill_side or "",
                size=_d(a.fill_size) or "0",
                px=_d(a.fill_px) or "0",
                notional_usd=format_usd(a.fill_notional_micro or 0),
                fee_usd=format_usd(a.fill_fee_micro or 0),
                at_ms=a.executed_ms or a.decided_ms,
            )
        return cls(
            action_id=a.action_id,
            status=a.status,
            kind=a.kind,
            stage=a.stage,
            reason_code=a.reason_code,
            reason=a.reason,
            confidence=_d(a.confidence),
            size_usd=_d(a.size_usd),
            size_fraction=_d(a.size_fraction),
            leverage=a.leverage,
            take_profit=_d(a.take_profit),
            stop_loss=_d(a.stop_loss),
            invalidation=a.invalidation,
            rationale=a.rationale,
            fill=fill,
        )


class DecisionView(msgspec.Struct, frozen=True, kw_only=True):
    run_id: str
    seq: int | None
    clone_id: int
    version: int | None
    account_id: str | None
    dry_run: bool
    prompt_node_id: str
    symbol: str
    due_ms: int
    started_ms: int
    finished_ms: int
    status: str
    """filled, held, rejected, hold_only, failed, entitlement_denied or skipped."""
    engine: str
    model: str | None
    prompt_version: str | None
    cached: bool
    attempts: int
    latency_ms: int
    engine_latency_ms: int
    input_tokens: int
    output_tokens: int
    cost_usd: str
    legal: list[str]
    candidate_rank: int | None
    candidate_reason: str | None
    error_code: str | None
    error: str | None
    action: ActionView | None

    @classmethod
    def of(cls, d: Decision) -> DecisionView:
        r: RunRow = d.run
        return cls(
            run_id=r.run_id,
            seq=r.seq,
            clone_id=r.clone_id,
            version=r.version,
            account_id=r.account_id,
            dry_run=r.dry_run,
            prompt_node_id=r.prompt_node_id,
            symbol=r.symbol,
            due_ms=r.due_ms,
            started_ms=r.started_ms,
            finished_ms=r.finished_ms,
            status=r.status,
            engine=r.engine,
            model=r.model,
            prompt_version=r.prompt_version,
            cached=r.cached,
            attempts=r.attempts,
            latency_ms=r.latency_ms,
            engine_latency_ms=r.engine_latency_ms,
            input_tokens=r.input_tokens,
            output_tokens=r.output_tokens,
            cost_usd=format_usd(r.cost_micro_usd),
            legal=r.legal,
            candidate_rank=r.candidate_rank,
            candidate_reason=r.candidate_reason,
            error_code=r.error_code,
            error=r.error,
            action=None if d.action is None else ActionView.of(d.action),
        )


class DecisionPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[DecisionView]
    next_before_seq: int | None
    """Pass as `before_seq` for the next (older) page; null on the last page."""


class ArtifactView(msgspec.Struct, frozen=True, kw_only=True):
    key: str
    parts: dict[str, ArtifactPart]
    """Each payload in the object: [bytes, sha256] of its JSON."""
    stored_bytes: int
    created_ms: int
    expires_ms: int
    deleted_ms: int | None

    @classmethod
    def of(cls, a: ArtifactRow) -> ArtifactView:
        return cls(
            key=a.key,
            parts={k: v for k, v in a.parts.items()},
            stored_bytes=a.stored_bytes,
            created_ms=a.created_ms,
            expires_ms=a.expires_ms,
            deleted_ms=a.deleted_ms,
        )


class DecisionSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    """Why the clone did what it did: what it saw, what it was asked, what it answered, what filled."""

    decision: DecisionView
    context_summary: ContextSummary | None
    artifact: ArtifactView | None
    """Where the full payloads are kept; null for runs that reached no engine."""
    artifacts_expired: bool
    context: Any | None
    """The context artifact (each series cut to its newest rows); null once expired."""
    prompt: Any | None
    """{version, system, user, est_tokens}; null for the rules engine (it reads the context)."""
    response: Any | None
    """The engine's raw answer text with its model, tokens, cost, latency and attempts."""
    reasoning: Any | None


class CostView(msgspec.Struct, frozen=True, kw_only=True):
    key: str
    """A clone id, a UTC day (YYYY-MM-DD) or a symbol."""
    runs: int
    engine_calls: int
    cached: int
    input_tokens: int
    output_tokens: int
    cost_usd: str

    @classmethod
    def of(cls, c: CostLine) -> CostView:
        return cls(
            key=c.key,
            runs=c.runs,
            engine_calls=c.engine_calls,
            cached=c.cached,
            input_tokens=c.input_tokens,
            output_tokens=c.output_tokens,
            cost_usd=format_usd(c.cost_micro_usd),
        )


class CloneCostsView(msgspec.Struct, frozen=True, kw_only=True):
    clone_id: int
    since_ms: int
    total: CostView
    days: list[CostView]
    """Newest day first."""
    assets: list[CostView]


class CloneDayCost(msgspec.Struct, frozen=True, kw_only=True):
    day: str
    clone_id: int
    cost: CostView


class DailyCostsView(msgspec.Struct, frozen=True, kw_only=True):
    since_ms: int
    days: list[CostView]
    clones: list[CloneDayCost]


class DryRunView(msgspec.Struct, frozen=True, kw_only=True):
    dry_run_id: str
    clone_id: int
    ref: str
    as_of_ms: int
    problems: list[str]
    """Entitlement errors; when set every decision is `entitlement_denied` and nothing ran."""
    decisions: list[DecisionView]


class PauseIn(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    reason: Annotated[str, Meta(max_length=1000)] = ""


class PauseView(msgspec.Struct, frozen=True, kw_only=True):
    scope: str
    name: str
    paused: bool
    paused_by: str | None = None
    reason: str = ""
    paused_ms: int | None = None

    @classmethod
    def of(cls, p: Pause) -> PauseView:
        return cls(
            scope=p.scope,
            name=p.name,
            paused=True,
            paused_by=p.paused_by,
            reason=p.reason,
            paused_ms=p.paused_ms,
        )


class PausesView(msgspec.Struct, frozen=True, kw_only=True):
    pauses: list[PauseView]


# -- handlers --------------------------------------------------------------------------------------


def _trading(request: Request) -> TradingModule:
    return request.app.state.runtime.module(TradingModule)


async def _reader(request: Request) -> str | None:
    """The user whose ownership is checked, or None for an admin."""
    if "authorization" in request.headers:
        require_admin(request)
        return None
    return await require_user(request)


def _ref(request: Request) -> VersionRef:
    raw = request.query_params.get("version")
    if raw is None or raw in ("draft", "latest"):
        return raw or "draft"  # type: ignore[return-value]
    return query_int(request, "version", 0, lo=1, hi=2**31)


def _flag(request: Request, name: str) -> bool | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if raw not in ("true", "false"):
        raise ApiError(422, "invalid_query", f"{name} must be true or false, got {raw!r}")
    return raw == "true"


async def _body(request: Request) -> PauseIn:
    return await decode_optional_body(request, PauseIn, PauseIn())


async def list_decisions(request: Request) -> Response:
    user = await _reader(request)
    status = request.query_params.get("status")
    if status is not None and status not in RUN_STATUSES:
        raise ApiError(
            422, "invalid_query", f"status must be one of {', '.join(RUN_STATUSES)}, got {status!r}"
        )
    limit = query_int(request, "limit", PAGE_DEFAULT, lo=1, hi=PAGE_MAX)
    before = (
        query_int(request, "before_seq", 0, lo=1) if "before_seq" in request.query_params else None
    )
    found = await _trading(request).history(
        request.path_params["clone_id"],
        user=user,
        symbol=query_str(request, "symbol"),
        status=status,
        dry_run=_flag(request, "dry_run"),
        account_id=query_str(request, "account_id"),
        before_seq=before,
        limit=limit,
    )
    last = found[-1].run.seq if len(found) == limit else None
    return json_response(
        DecisionPage(items=[DecisionView.of(d) for d in found], next_before_seq=last)
    )


async def get_decision(request: Request) -> Response:
    user = await _reader(request)
    d = await _trading(request).decision(request.path_params["run_id"], user=user)
    expired = d.artifact is not None and d.artifact.deleted_ms is not None
    return json_response(
        DecisionSnapshot(
            decision=DecisionView.of(Decision(run=d.run, action=d.action)),
            context_summary=d.run.context_summary,
            artifact=None if d.artifact is None else ArtifactView.of(d.artifact),
            artifacts_expired=expired,
            context=d.context,
            prompt=d.prompt,
            response=d.response,
            reasoning=d.reasoning,
        )
    )


async def clone_costs(request: Request) -> Response:
    user = await _reader(request)
    days = query_int(request, "days", DAYS_DEFAULT, lo=1, hi=DAYS_MAX)
    c = await _trading(request).clone_costs(request.path_params["clone_id"], user=user, days=days)
    return json_response(
        CloneCostsView(
            clone_id=c.clone_id,
            since_ms=c.since_ms,
            total=CostView.of(c.total),
            days=[CostView.of(x) for x in c.days],
            assets=[CostView.of(x) for x in c.assets],
        )
    )


async def dry_run(request: Request) -> Response:
    user = await require_user(request)
    result = await _trading(request).dry_run(
        request.path_params["clone_id"], user=user, ref=_ref(request)
    )
    return json_response(
        DryRunView(
            dry_run_id=result.dry_run_id,
            clone_id=result.clone_id,
            ref=result.ref,
            as_of_ms=result.as_of_ms,
            problems=result.problems,
            decisions=[DecisionView.of(d) for d in result.decisions],
        )
    )


async def admin_costs(request: Request) -> Response:
    require_admin(request)
    days = query_int(request, "days", DAYS_DEFAULT, lo=1, hi=DAYS_MAX)
    c = await _trading(request).daily_costs(days)
    return json_response(
        DailyCostsView(
            since_ms=c.since_ms,
            days=[CostView.of(x) for x in c.days],
            clones=[
                CloneDayCost(day=day, clone_id=int(x.key), cost=CostView.of(x))
                for day, x in c.clones
            ],
        )
    )


async def admin_pauses(request: Request) -> Response:
    require_admin(request)
    return json_response(
        PausesView(pauses=[PauseView.of(p) for p in await _trading(request).pauses()])
    )


async def admin_clone(request: Request) -> Response:
    admin = require_admin(request)
    body = await _body(request)
    clone_id, op = request.path_params["clone_id"], request.url.path.rsplit("/", 1)[-1]
    trading = _trading(request)
    if op == "pause":
        return json_response(PauseView.of(await trading.pause_clone(clone_id, admin, body.reason)))
    await request.app.state.runtime.module(ClonesModule).clone_owner(clone_id)  # 404 like pause
    await trading.resume_clone(clone_id, admin, body.reason)
    return json_response(PauseView(scope="clone", name=str(clone_id), paused=False))


async def admin_source(request: Request) -> Response:
    admin = require_admin(request)
    body = await _body(request)
    family, op = request.path_params["family"], request.url.path.rsplit("/", 1)[-1]
    trading = _trading(request)
    if op == "pause":
        return json_response(
            PauseView.of(await trading.pause_source_family(family, admin, body.reason))
        )
    await trading.resume_source_family(family, admin, body.reason)
    return json_response(PauseView(scope="source", name=family, paused=False))


_C = "/api/v1/clones/{clone_id:id}/decisions"

routes = [
    Route(_C, list_decisions, methods=["GET"]),
    Route(f"{_C}/costs", clone_costs, methods=["GET"]),
    Route(f"{_C}/dry-run", dry_run, methods=["POST"]),
    Route("/api/v1/decisions/{run_id}", get_decision, methods=["GET"]),
    Route("/api/v1/admin/decisions/costs", admin_costs, methods=["GET"]),
    Route("/api/v1/admin/trading/pauses", admin_pauses, methods=["GET"]),
    Route("/api/v1/admin/trading/clones/{clone_id:id}/pause", admin_clone, methods=["POST"]),
    Route("/api/v1/admin/trading/clones/{clone_id:id}/resume", admin_clone, methods=["POST"]),
    Route("/api/v1/admin/trading/sources/{family}/pause", admin_source, methods=["POST"]),
    Route("/api/v1/admin/trading/sources/{family}/resume", admin_source, methods=["POST"]),
]
