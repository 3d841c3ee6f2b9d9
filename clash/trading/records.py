"""Decision run and action rows: typed writes and reads of the trading module's tables.

Writes go through :class:`RecordWriter`, a group commit: rows handed in while a transaction runs
commit together in the next one, so many concurrent runs cost few transactions. Each run's rows
(run, action, artifact keys) still land whole in one transaction.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any, Literal

import msgspec

from clash.store import Database, GroupCommit, Reader, Session

RunStatus = Literal[
    "filled", "held", "rejected", "hold_only", "failed", "entitlement_denied", "skipped"
]
RUN_STATUSES: tuple[str, ...] = (
    "filled",
    "held",
    "rejected",
    "hold_only",
    "failed",
    "entitlement_denied",
    "skipped",
)
ActionStatus = Literal["validated", "rejected", "executed", "held"]
ArtifactKind = Literal["context", "prompt", "response", "reasoning"]
PauseScope = Literal["clone", "source"]

Statements = list[tuple[str, Sequence[Sequence[Any]]]]


class BlockSummary(msgspec.Struct, frozen=True, array_like=True):
    stream_node_id: str
    source: str
    channel: str
    context_symbol: str
    status: str
    points: int
    latest_ms: int | None


class ContextSummary(msgspec.Struct, frozen=True, kw_only=True):
    """What a run saw, small enough to keep for good beside its row."""

    as_of_ms: int
    mark_px: Decimal | None
    blocks: list[BlockSummary] = []
    skipped_reads: int = 0
    positions: list[str] = []
    equity_micro: int | None = None


class RunRow(msgspec.Struct, frozen=True, kw_only=True):
    run_id: str
    clone_id: int
    version: int | None
    account_id: str | None
    dry_run: bool
    prompt_node_id: str
    symbol: str
    due_ms: int
    started_ms: int
    finished_ms: int
    status: RunStatus
    engine: str
    model: str | None = None
    prompt_version: str | None = None
    cached: bool = False
    attempts: int = 0
    latency_ms: int = 0
    engine_latency_ms: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost_micro_usd: int = 0
    est_prompt_tokens: int | None = None
    legal: list[str] = []
    candidate_rank: int | None = None
    candidate_reason: str | None = None
    context_sha256: str | None = None
    context_summary: ContextSummary | None = None
    error_code: str | None = None
    error: str | None = None
    seq: int | None = None


class ActionRow(msgspec.Struct, frozen=True, kw_only=True):
    run_id: str
    clone_id: int
    account_id: str | None
    dry_run: bool
    symbol: str
    action_id: str
    status: ActionStatus
    kind: str | None = None
    stage: Literal["answer", "gates"] | None = None
    """Which check rejected it: the strict answer checks, or the prop gates."""
    reason_code: str | None = None
    reason: str | None = None
    confidence: Decimal | None = None
    size_usd: Decimal | None = None
    size_fraction: Decimal | None = None
    leverage: int | None = None
    take_profit: Decimal | None = None
    stop_loss: Decimal | None = None
    invalidation: str | None = None
    rationale: str | None = None
    """The answer's own `reason`."""
    order_no: int | None = None
    fill_side: str | None = None
    fill_size: Decimal | None = None
    fill_px: Decimal | None = None
    fill_notional_micro: int | None = None
    fill_fee_micro: int | None = None
    proposed_ms: int
    decided_ms: int
    executed_ms: int | None = None


class ArtifactPart(msgspec.Struct, frozen=True, array_like=True):
    bytes: int
    sha256: str


class ArtifactRow(msgspec.Struct, frozen=True, kw_only=True):
    """One run's object in the artifact store."""

    key: str
    run_id: str
    parts: dict[ArtifactKind, ArtifactPart]
    """Each payload in the object: its size and SHA-256 (of the uncompressed JSON)."""
    stored_bytes: int
    created_ms: int
    expires_ms: int
    deleted_ms: int | None = None


class Activation(msgspec.Struct, frozen=True, kw_only=True):
    clone_id: int
    account_id: str
    active: bool
    demo: bool
    activated_ms: int
    deactivated_ms: int | None = None
    model_strength: str | None = None
    """The owner's choice for this account; None runs the published version's."""


class ControlChange(msgspec.Struct, frozen=True, kw_only=True):
    """One audited change of trading control: who turned trading on or off, or set the strength."""

    clone_id: int
    account_id: str
    changed_by: str
    op: Literal["on", "off", "model_strength"]
    model_strength: str | None
    version: int | None
    at_ms: int


class Pause(msgspec.Struct, frozen=True, kw_only=True):
    scope: PauseScope
    name: str
    paused_by: str
    reason: str
    paused_ms: int


class CostLine(msgspec.Struct, frozen=True, kw_only=True):
    """Totals of a set of runs (a clone, a day, a clone's day)."""

    key: str
    runs: int
    engine_calls: int
    """Engine calls made (retries included); a cached answer made none."""
    cached: int
    input_tokens: int
    output_tokens: int
    cost_micro_usd: int


# ================================================================= encoding


_json = msgspec.json.Encoder(decimal_format="string")
_summary = msgspec.json.Decoder(ContextSummary)
_legal = msgspec.json.Decoder(list[str])


def _d(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _dec(raw: str | None) -> Decimal | None:
    return None if raw is None else Decimal(raw)


_RUN_COLUMNS = (
    "run_id",
    "clone_id",
    "version",
    "account_id",
    "dry_run",
    "prompt_node_id",
    "symbol",
    "due_ms",
    "started_ms",
    "finished_ms",
    "status",
    "engine",
    "model",
    "prompt_version",
    "cached",
    "attempts",
    "latency_ms",
    "engine_latency_ms",
    "input_tokens",
    "output_tokens",
    "cost_micro_usd",
    "est_prompt_tokens",
    "legal",
    "candidate_rank",
    "candidate_reason",
    "context_sha256",
    "context_summary",
    "error_code",
    "error",
)
_ACTION_COLUMNS = (
    "run_id",
    "clone_id",
    "account_id",
    "dry_run",
    "symbol",
    "action_id",
    "status",
    "kind",
    "stage",
    "reason_code",
    "reason",
    "confidence",
    "size_usd",
    "size_fraction",
    "leverage",
    "take_profit",
    "stop_loss",
    "invalidation",
    "rationale",
    "order_no",
    "fill_side",
    "fill_size",
    "fill_px",
    "fill_notional_micro",
    "fill_fee_micro",
    "proposed_ms",
    "decided_ms",
    "executed_ms",
)
_ARTIFACT_COLUMNS = (
    "key",
    "run_id",
    "parts",
    "stored_bytes",
    "created_ms",
    "expires_ms",
    "deleted_ms",
)


def _insert(table: str, columns: Sequence[str]) -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


INSERT_RUN = _insert("decision_runs", _RUN_COLUMNS)
INSERT_ACTION = _insert("decision_actions", _ACTION_COLUMNS)
INSERT_ARTIFACT = _insert("decision_artifacts", _ARTIFACT_COLUMNS)


def run_params(r: RunRow) -> tuple[Any, ...]:
    summary = None if r.context_summary is None else _json.encode(r.context_summary).decode()
    return (
        r.run_id,
        r.clone_id,
        r.version,
        r.account_id,
        int(r.dry_run),
        r.prompt_node_id,
        r.symbol,
        r.due_ms,
        r.started_ms,
        r.finished_ms,
        r.status,
        r.engine,
        r.model,
        r.prompt_version,
        int(r.cached),
        r.attempts,
        r.latency_ms,
        r.engine_latency_ms,
        r.input_tokens,
        r.output_tokens,
        r.cost_micro_usd,
        r.est_prompt_tokens,
        _json.encode(r.legal).decode(),
        r.candidate_rank,
        r.candidate_reason,
        r.context_sha256,
        summary,
        r.error_code,
        r.error,
    )


def action_params(a: ActionRow) -> tuple[Any, ...]:
    return (
        a.run_id,
        a.clone_id,
        a.account_id,
        int(a.dry_run),
        a.symbol,
        a.action_id,
        a.status,
        a.kind,
        a.stage,
        a.reason_code,
        a.reason,
        _d(a.confidence),
        _d(a.size_usd),
        _d(a.size_fraction),
        a.leverage,
        _d(a.take_profit),
        _d(a.stop_loss),
        a.invalidation,
        a.rationale,
        a.order_no,
        a.fill_side,
        _d(a.fill_size),
        _d(a.fill_px),
        a.fill_notional_micro,
        a.fill_fee_micro,
        a.proposed_ms,
        a.decided_ms,
        a.executed_ms,
    )


def artifact_params(a: ArtifactRow) -> tuple[Any, ...]:
    return (
        a.key,
        a.run_id,
        _json.encode(a.parts).decode(),
        a.stored_bytes,
        a.created_ms,
        a.expires_ms,
        a.deleted_ms,
    )


def run_statements(
    run: RunRow, action: ActionRow | None = None, artifact: ArtifactRow | None = None
) -> Statements:
    """One run's rows, in foreign-key order."""
    out: Statements = [(INSERT_RUN, [run_params(run)])]
    if action is not None:
        out.append((INSERT_ACTION, [action_params(action)]))
    if artifact is not None:
        out.append((INSERT_ARTIFACT, [artifact_params(artifact)]))
    return out


def _run(row: Sequence[Any]) -> RunRow:
    (
        seq,
        run_id,
        clone_id,
        version,
        account_id,
        dry_run,
        prompt_node_id,
        symbol,
        due_ms,
        started_ms,
        finished_ms,
        status,
        engine,
        model,
        prompt_version,
        cached,
        attempts,
        latency_ms,
        engine_latency_ms,
        input_tokens,
        output_tokens,
        cost,
        est,
        legal,
        rank,
        reason,
        sha,
        summary,
        error_code,
        error,
    ) = row
    return RunRow(
        seq=seq,
        run_id=run_id,
        clone_id=clone_id,
        version=version,
        account_id=account_id,
        dry_run=bool(dry_run),
        prompt_node_id=prompt_node_id,
        symbol=symbol,
        due_ms=due_ms,
        started_ms=started_ms,
        finished_ms=finished_ms,
        status=status,
        engine=engine,
        model=model,
        prompt_version=prompt_version,
        cached=bool(cached),
        attempts=attempts,
        latency_ms=latency_ms,
        engine_latency_ms=engine_latency_ms,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cost_micro_usd=cost,
        est_prompt_tokens=est,
        legal=_legal.decode(legal),
        candidate_rank=rank,
        candidate_reason=reason,
        context_sha256=sha,
        context_summary=None if summary is None else _summary.decode(summary),
        error_code=error_code,
        error=error,
    )


def _action(row: Sequence[Any]) -> ActionRow:
    values = dict(zip(_ACTION_COLUMNS, row, strict=True))
    for name in (
        "confidence",
        "size_usd",
        "size_fraction",
        "take_profit",
        "stop_loss",
        "fill_size",
        "fill_px",
    ):
        values[name] = _dec(values[name])
    values["dry_run"] = bool(values["dry_run"])
    return ActionRow(**values)


_parts = msgspec.json.Decoder(dict[ArtifactKind, ArtifactPart])


def _artifact(row: Sequence[Any]) -> ArtifactRow:
    key, run_id, parts, stored, created, expires, deleted = row
    return ArtifactRow(
        key=key,
        run_id=run_id,
        parts=_parts.decode(parts),
        stored_bytes=stored,
        created_ms=created,
        expires_ms=expires,
        deleted_ms=deleted,
    )


_SELECT_RUN = "SELECT seq, " + ", ".join(_RUN_COLUMNS) + " FROM decision_runs"
_SELECT_ACTION = "SELECT " + ", ".join(_ACTION_COLUMNS) + " FROM decision_actions"
_SELECT_ARTIFACT = "SELECT " + ", ".join(_ARTIFACT_COLUMNS) + " FROM decision_artifacts"


# ================================================================= group commit


class RecordWriter:
    """Group commit of the trading tables' writes (`clash.store.GroupCommit`)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._group: GroupCommit[Statements, None] = GroupCommit(self._commit)

    @property
    def transactions(self) -> int:
        return self._group.batches

    async def write(self, statements: Statements) -> None:
        await self._group.submit(statements)

    async def _commit(self, batch: Sequence[Statements]) -> list[None]:
        async with self._db.transaction() as tx:
            await tx.execute_batch([s for statements in batch for s in statements])
        return [None] * len(batch)


# ================================================================= reads


class HistoryQuery(msgspec.Struct, frozen=True, kw_only=True):
    clone_id: int
    symbol: str | None = None
    status: str | None = None
    dry_run: bool | None = None
    account_id: str | None = None
    before_seq: int | None = None
    limit: int = 50


async def history(r: Session, q: HistoryQuery) -> list[Decision]:
    """Runs newest first (by `seq`), with their actions."""
    where: list[str] = ["clone_id = ?"]
    params: list[object] = [q.clone_id]
    for column, value in (("symbol", q.symbol), ("status", q.status), ("account_id", q.account_id)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if q.dry_run is not None:
        where.append("dry_run = ?")
        params.append(int(q.dry_run))
    if q.before_seq is not None:
        where.append("seq < ?")
        params.append(q.before_seq)
    rows = await r.fetchall(
        f"{_SELECT_RUN} WHERE {' AND '.join(where)} ORDER BY seq DESC LIMIT ?", (*params, q.limit)
    )
    runs = [_run(row) for row in rows]
    actions = await actions_of(r, [run.run_id for run in runs])
    return [Decision(run=run, action=actions.get(run.run_id)) for run in runs]


async def actions_of(r: Session, run_ids: Sequence[str]) -> dict[str, ActionRow]:
    out: dict[str, ActionRow] = {}
    for i in range(0, len(run_ids), 500):
        chunk = run_ids[i : i + 500]
        rows = await r.fetchall(
            f"{_SELECT_ACTION} WHERE run_id IN ({', '.join('?' * len(chunk))})", chunk
        )
        out.update((a.run_id, a) for a in map(_action, rows))
    return out


async def decision(r: Session, run_id: str) -> Decision | None:
    row = await r.fetchone(f"{_SELECT_RUN} WHERE run_id = ?", (run_id,))
    if row is None:
        return None
    action = await r.fetchone(f"{_SELECT_ACTION} WHERE run_id = ?", (run_id,))
    return Decision(run=_run(row), action=None if action is None else _action(action))


async def decisions(r: Session, run_ids: Sequence[str]) -> list[Decision]:
    """The runs named, in the order given (unknown ids left out)."""
    found: dict[str, RunRow] = {}
    for i in range(0, len(run_ids), 500):
        chunk = run_ids[i : i + 500]
        rows = await r.fetchall(
            f"{_SELECT_RUN} WHERE run_id IN ({', '.join('?' * len(chunk))})", chunk
        )
        found.update((x.run_id, x) for x in map(_run, rows))
    actions = await actions_of(r, [i for i in run_ids if i in found])
    return [Decision(run=found[i], action=actions.get(i)) for i in run_ids if i in found]


async def runs_of_clone(r: Session, clone_id: int, *, dry_run: bool | None = None) -> list[RunRow]:
    """Every run of a clone, oldest first (tests and tools)."""
    sql, params = f"{_SELECT_RUN} WHERE clone_id = ?", [clone_id]
    if dry_run is not None:
        sql += " AND dry_run = ?"
        params.append(int(dry_run))
    return [_run(row) for row in await r.fetchall(sql + " ORDER BY seq", params)]


async def artifact_of(r: Session, run_id: str) -> ArtifactRow | None:
    row = await r.fetchone(f"{_SELECT_ARTIFACT} WHERE run_id = ?", (run_id,))
    return None if row is None else _artifact(row)


async def expired_artifacts(r: Session, now_ms: int, limit: int) -> list[ArtifactRow]:
    return [
        _artifact(row)
        for row in await r.fetchall(
            f"{_SELECT_ARTIFACT} WHERE deleted_ms IS NULL AND expires_ms <= ? ORDER BY expires_ms LIMIT ?",
            (now_ms, limit),
        )
    ]


def mark_deleted(keys: Iterable[str], at_ms: int) -> Statements:
    return [
        (
            "UPDATE decision_artifacts SET deleted_ms = ? WHERE key = ? AND deleted_ms IS NULL",
            [(at_ms, k) for k in keys],
        )
    ]


async def invalidations(
    r: Session, account_id: str, symbols: Sequence[str], before_ms: int
) -> dict[str, str]:
    """The `invalidation` of the executed entry behind each open position (the newest per symbol),
    from entries executed before `before_ms` (a tick's own fills are not part of its inputs)."""
    if not symbols:
        return {}
    rows = await r.fetchall(
        "SELECT symbol, invalidation FROM decision_actions WHERE account_id = ? AND status = 'executed' "
        f"AND kind IN ('open_long', 'open_short') AND symbol IN ({', '.join('?' * len(symbols))}) "
        "AND executed_ms < ? ORDER BY executed_ms, order_no",
        (account_id, *symbols, before_ms),
    )
    out: dict[str, str] = {}
    for symbol, text in rows:
        if text:
            out[symbol] = text
        else:
            out.pop(symbol, None)
    return out


_COST_SUM = (
    "COUNT(*), SUM(CASE WHEN cached = 0 THEN attempts ELSE 0 END), SUM(cached), SUM(input_tokens), "
    "SUM(output_tokens), SUM(cost_micro_usd)"
)


def _cost(key: str, row: Sequence[Any]) -> CostLine:
    runs, calls, cached, tin, tout, cost = row
    return CostLine(
        key=key,
        runs=runs or 0,
        engine_calls=calls or 0,
        cached=cached or 0,
        input_tokens=tin or 0,
        output_tokens=tout or 0,
        cost_micro_usd=cost or 0,
    )


async def clone_costs(
    r: Session, clone_id: int, since_ms: int
) -> tuple[CostLine, list[CostLine], list[CostLine]]:
    """(total, per UTC day, per asset) of a clone's runs due since `since_ms`."""
    args = (clone_id, since_ms)
    total = await r.fetchone(
        f"SELECT {_COST_SUM} FROM decision_runs WHERE clone_id = ? AND due_ms >= ?", args
    )
    days = await r.fetchall(
        f"SELECT due_ms / 86400000, {_COST_SUM} FROM decision_runs WHERE clone_id = ? "
        "AND due_ms >= ? GROUP BY 1 ORDER BY 1 DESC",
        args,
    )
    assets = await r.fetchall(
        f"SELECT symbol, {_COST_SUM} FROM decision_runs WHERE clone_id = ? AND due_ms >= ? "
        "GROUP BY 1 ORDER BY 1",
        args,
    )
    return (
        _cost(str(clone_id), total or (0,) * 6),
        [_cost(day_key(d), row) for d, *row in days],
        [_cost(s, row) for s, *row in assets],
    )


async def daily_costs(
    r: Session, since_ms: int
) -> tuple[list[CostLine], list[tuple[str, CostLine]]]:
    """(per UTC day, per (day, clone)) over every clone, newest day first."""
    days = await r.fetchall(
        f"SELECT due_ms / 86400000, {_COST_SUM} FROM decision_runs WHERE due_ms >= ? "
        "GROUP BY 1 ORDER BY 1 DESC",
        (since_ms,),
    )
    clones = await r.fetchall(
        f"SELECT due_ms / 86400000, clone_id, {_COST_SUM} FROM decision_runs "
        "WHERE due_ms >= ? GROUP BY 1, 2 ORDER BY 1 DESC, 2",
        (since_ms,),
    )
    return (
        [_cost(day_key(d), row) for d, *row in days],
        [(day_key(d), _cost(str(c), row)) for d, c, *row in clones],
    )


def day_key(day: int) -> str:
    return (datetime.date(1970, 1, 1) + datetime.timedelta(days=day)).isoformat()


# ---------------------------------------------------------------- activations and pauses


async def activations(r: Session, *, active_only: bool = True) -> list[Activation]:
    sql = (
        "SELECT clone_id, account_id, active, demo, activated_ms, deactivated_ms, model_strength"
        " FROM trading_activations"
        + (" WHERE active = 1" if active_only else "")
        + " ORDER BY activated_ms, clone_id"
    )
    return [_activation(row) for row in await r.fetchall(sql)]


def _activation(row: Sequence[Any]) -> Activation:
    c, a, x, d, at, off, strength = row
    return Activation(
        clone_id=c,
        account_id=a,
        active=bool(x),
        demo=bool(d),
        activated_ms=at,
        deactivated_ms=off,
        model_strength=strength,
    )


async def activations_of_clone(r: Session, clone_id: int) -> dict[str, Activation]:
    """Every activation of the clone, active or not, by account id."""
    rows = await r.fetchall(
        "SELECT clone_id, account_id, active, demo, activated_ms, deactivated_ms, model_strength"
        " FROM trading_activations WHERE clone_id = ?",
        (clone_id,),
    )
    return {row[1]: _activation(row) for row in rows}


def activate_statements(
    clone_id: int, account_id: str, demo: bool, at_ms: int, model_strength: str | None = None
) -> Statements:
    return [
        (
            "INSERT INTO trading_activations (clone_id, account_id, active, demo, activated_ms, "
            "model_strength) VALUES (?, ?, 1, ?, ?, ?) ON CONFLICT (clone_id, account_id) DO UPDATE "
            "SET active = 1, activated_ms = excluded.activated_ms, deactivated_ms = NULL, "
            "model_strength = excluded.model_strength",
            [(clone_id, account_id, int(demo), at_ms, model_strength)],
        )
    ]


def strength_statements(
    clone_id: int, account_id: str, model_strength: str | None, at_ms: int
) -> Statements:
    """Set the strength of the pair's activation; a pair never turned on gets an inactive row
    that keeps the choice for when it is."""
    return [
        (
            "INSERT INTO trading_activations (clone_id, account_id, active, demo, activated_ms, "
            "deactivated_ms, model_strength) VALUES (?, ?, 0, 0, ?, ?, ?) "
            "ON CONFLICT (clone_id, account_id) DO UPDATE SET model_strength = excluded.model_strength",
            [(clone_id, account_id, at_ms, at_ms, model_strength)],
        )
    ]


def control_statements(change: ControlChange) -> Statements:
    return [
        (
            "INSERT INTO trading_control_log (clone_id, account_id, changed_by, op, model_strength,"
            " version, at_ms) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    change.clone_id,
                    change.account_id,
                    change.changed_by,
                    change.op,
                    change.model_strength,
                    change.version,
                    change.at_ms,
                )
            ],
        )
    ]


async def control_log(r: Session, clone_id: int, limit: int = 50) -> list[ControlChange]:
    """The clone's audited control changes, newest first."""
    rows = await r.fetchall(
        "SELECT clone_id, account_id, changed_by, op, model_strength, version, at_ms"
        " FROM trading_control_log WHERE clone_id = ? ORDER BY id DESC LIMIT ?",
        (clone_id, limit),
    )
    return [
        ControlChange(
            clone_id=c,
            account_id=a,
            changed_by=by,
            op=op,
            model_strength=strength,
            version=v,
            at_ms=at,
        )
        for c, a, by, op, strength, v, at in rows
    ]


def deactivate_statements(clone_id: int, account_id: str, at_ms: int) -> Statements:
    return [
        (
            "UPDATE trading_activations SET active = 0, deactivated_ms = ? WHERE clone_id = ? AND account_id = ? "
            "AND active = 1",
            [(at_ms, clone_id, account_id)],
        )
    ]


async def pauses(r: Session) -> list[Pause]:
    return [
        Pause(scope=s, name=n, paused_by=b, reason=why, paused_ms=at)
        for s, n, b, why, at in await r.fetchall(
            "SELECT scope, name, paused_by, reason, paused_ms FROM trading_pauses ORDER BY scope, name"
        )
    ]


def pause_statements(
    scope: PauseScope, name: str, admin: str, reason: str, at_ms: int
) -> Statements:
    return [
        (
            "INSERT INTO trading_pauses (scope, name, paused_by, reason, paused_ms) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (scope, name) DO UPDATE SET paused_by = excluded.paused_by, reason = excluded.reason, "
            "paused_ms = excluded.paused_ms",
            [(scope, name, admin, reason, at_ms)],
        ),
        (
            "INSERT INTO trading_admin_log (admin, op, scope, name, reason, at_ms) VALUES (?, 'pause', ?, ?, ?, ?)",
            [(admin, scope, name, reason, at_ms)],
        ),
    ]


def resume_statements(
    scope: PauseScope, name: str, admin: str, reason: str, at_ms: int
) -> Statements:
    return [
        ("DELETE FROM trading_pauses WHERE scope = ? AND name = ?", [(scope, name)]),
        (
            "INSERT INTO trading_admin_log (admin, op, scope, name, reason, at_ms) VALUES (?, 'resume', ?, ?, ?, ?)",
            [(admin, scope, name, reason, at_ms)],
        ),
    ]


# ---------------------------------------------------------------- invariants


async def check_decisions(r: Reader) -> list[str]:
    """`trading.decisions`: filled runs have an executed action with a fill, and the reverse;
    rejected runs a rejected action; live runs name an account."""
    problems = []
    for (run_id,) in await r.fetchall(
        "SELECT r.run_id FROM decision_runs r LEFT JOIN decision_actions a ON a.run_id = r.run_id "
        "WHERE (r.status = 'filled') != (COALESCE(a.status, '') = 'executed') LIMIT 20"
    ):
        problems.append(f"run {run_id}: status filled and an executed action must go together")
    for (run_id,) in await r.fetchall(
        "SELECT r.run_id FROM decision_runs r LEFT JOIN decision_actions a ON a.run_id = r.run_id "
        "WHERE r.status = 'rejected' AND COALESCE(a.status, '') != 'rejected' LIMIT 20"
    ):
        problems.append(f"run {run_id}: rejected without a rejected action")
    for (run_id,) in await r.fetchall(
        "SELECT run_id FROM decision_actions WHERE status = 'executed' AND dry_run = 0 AND order_no IS NULL "
        "LIMIT 20"
    ):
        problems.append(f"action {run_id}: executed on a prop account without an order number")
    return problems


# ---------------------------------------------------------------- read models of the module API


class Decision(msgspec.Struct, frozen=True, kw_only=True):
    run: RunRow
    action: ActionRow | None = None


class DecisionDetail(msgspec.Struct, frozen=True, kw_only=True):
    """One decision, grounded: what it saw, what it was asked, what it answered, what happened."""

    run: RunRow
    action: ActionRow | None
    artifact: ArtifactRow | None
    context: Any | None = None
    """The context artifact, each series trimmed to its newest rows; None once expired."""
    prompt: Any | None = None
    response: Any | None = None
    reasoning: Any | None = None


class CloneCosts(msgspec.Struct, frozen=True, kw_only=True):
    clone_id: int
    since_ms: int
    total: CostLine
    days: list[CostLine]
    assets: list[CostLine]


class DailyCosts(msgspec.Struct, frozen=True, kw_only=True):
    since_ms: int
    days: list[CostLine]
    clones: list[tuple[str, CostLine]]


class DryRun(msgspec.Struct, frozen=True, kw_only=True):
    dry_run_id: str
    clone_id: int
    ref: str
    as_of_ms: int
    problems: list[str]
    decisions: list[Decision]
