"""The decision scheduler: one `Pilot` actor per active (clone, prop account) pair, and one
`Metronome` that owns the cadence timers.

Cadence ticks are aligned to the cadence's boundaries (plus `align_offset_s`), so every pilot with
a 300 s cadence is due at the same instant: the metronome keeps one timer per distinct cadence and
tells each subscribed pilot. (One timer, not one per pilot, also lets a VirtualClock start every
clone's runs of a tick together, as a live clock would.) On a tick a pilot reloads the latest
published version,
checks pauses and the clone's entitlement again, picks each branch's candidates (compiler
candidate policy over the account's positions), and starts one run per due (branch, asset) as a
task in the actor system. A run holds the lease of its (account, asset): the same asset is never
run twice at once; a second branch due on a leased asset waits its turn, a tick that finds its own
(branch, asset) still running is dropped. Runs report back by message. An engine failure is
retried after a backoff (the lease kept) while the next attempt still lands before the next
cadence tick; then the run is recorded `failed` and the asset runs again at its next cadence.

Leases and the running-task count live in the `Scheduler` service, not in the actor, so a
restarted pilot neither loses nor double-starts a run still in flight.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import anyio
import msgspec

from actors import Actor, Message, Ref, System, Timer, Unhandled
from clash.clones import AssetCatalog, CloneError, ClonesModule, check_entitlement, graph_errors
from clash.market import MarketModule
from clash.prop import AccountSnapshot, PropError, PropModule
from clash.trading import records, runner
from clash.trading.account_side import PropSide
from clash.trading.candidates import choose
from clash.trading.compiler import compile_pipeline
from clash.trading.config import TradingConfig
from clash.trading.context import prefilter_scores
from clash.trading.packet import Branch, BranchAsset, Candidate, CloneRef, CompiledPipeline
from clash.trading.records import RecordWriter, RunStatus
from clash.trading.run_rows import bare_row
from clash.trading.run_spec import AssetFacts, RunResult, RunSpec, run_id_for
from clash.trading.runner import RunDeps
from clash.trading.shared_reads import InstantMemo
from clash.trading.tick_order import UNORDERED, TickOrder

log = logging.getLogger(__name__)

SUPERVISOR = "trading"
LeaseKey = tuple[str, str]
"""(account id, symbol)."""


def pilot_name(clone_id: int, account_id: str) -> str:
    return f"trading/{clone_id}/{account_id}"


# ================================================================= messages


class PilotTick(Message, frozen=True):
    """The runs of every (branch, asset) with this cadence are due at `due_ms` (default: now)."""

    cadence_s: int
    due_ms: int | None = None


class MetronomeCadence(Message, frozen=True):
    """Make sure a timer ticks at this cadence (a pilot subscribed to it)."""

    cadence_s: int


class MetronomeTick(Message, frozen=True):
    cadence_s: int


class PilotRunDone(Message, frozen=True):
    run_id: str
    symbol: str
    status: str | None
    """None: the attempt failed and may be retried."""
    attempts: int
    error_code: str | None = None


class PilotRetry(Message, frozen=True):
    run_id: str


class PilotStats(Message, frozen=True):
    """Answered with `PilotState`."""


class PilotState(msgspec.Struct, frozen=True, kw_only=True):
    clone_id: int
    account_id: str
    version: int | None
    cadences: list[int]
    running: list[str]
    pending: int
    retrying: int
    dropped_ticks: int
    ticks: int


# ================================================================= shared state


class Leases:
    """Which run holds each (account, asset)."""

    def __init__(self) -> None:
        self._held: dict[LeaseKey, str] = {}

    def acquire(self, key: LeaseKey, run_id: str) -> bool:
        if key in self._held:
            return False
        self._held[key] = run_id
        return True

    def release(self, key: LeaseKey, run_id: str) -> None:
        if self._held.get(key) == run_id:
            del self._held[key]

    def of_account(self, account_id: str) -> dict[LeaseKey, str]:
        return {k: v for k, v in self._held.items() if k[0] == account_id}


class Pauses:
    """Admin pauses in memory (the table is the record; loaded at start)."""

    def __init__(self, rows: Iterable[records.Pause] = ()) -> None:
        self.clones: set[int] = set()
        self.sources: set[str] = set()
        for row in rows:
            self.add(row.scope, row.name)

    def add(self, scope: str, name: str) -> None:
        if scope == "clone":
            self.clones.add(int(name))
        else:
            self.sources.add(name)

    def remove(self, scope: str, name: str) -> None:
        if scope == "clone":
            self.clones.discard(int(name))
        else:
            self.sources.discard(name)

    def blocking(self, clone_id: int, engine: str, asset: BranchAsset) -> str | None:
        """Why a run of `asset` may not run now, or None."""
        if clone_id in self.clones:
            return f"clone {clone_id} is paused by an admin"
        if engine in self.sources:
            return f"the {engine} engine is paused by an admin"
        for plan in asset.reads:
            if plan.source in self.sources:
                return f"the {plan.source} source family is paused by an admin ({plan.stream_node_id} reads it)"
        return None


@dataclass
class Scheduler:
    """What every pilot shares: dependencies, leases, pauses, and the runs in flight."""

    system: System
    writer: RecordWriter
    clones: ClonesModule
    prop: PropModule | None
    market: MarketModule | None
    catalog: AssetCatalog
    config: TradingConfig
    deps: RunDeps
    pauses: Pauses = field(default_factory=Pauses)
    leases: Leases = field(default_factory=Leases)
    pilots: dict[str, Ref] = field(default_factory=dict)
    subscriptions: dict[str, set[int]] = field(default_factory=dict)
    """pilot name → the cadences it ticks at."""
    metronome: Ref | None = None
    running: dict[str, str] = field(default_factory=dict)
    """run id → account id of the tasks in flight."""
    _drained: dict[str, anyio.Event] = field(default_factory=dict)
    memo: InstantMemo = field(default_factory=InstantMemo)
    """Registry reads shared by the pilots ticking at the same instant."""
    strengths: dict[str, str] = field(default_factory=dict)
    """account id → the model strength its owner chose (absent: the published version's)."""

    # -- runs ---------------------------------------------------------------------------------------
    def start_run(
        self,
        owner: str,
        account_id: str,
        spec: RunSpec,
        order: TickOrder = UNORDERED,
        at_tick: AccountSnapshot | None = None,
    ) -> None:
        """Run `spec` as a task of the system; the VirtualClock waits for it like for a message."""
        self.running[spec.run_id] = account_id
        side = PropSide(self.prop, account_id, at_tick)
        self.system.start_work(
            self._run, owner, account_id, spec, side, order, name=f"decision {spec.run_id}"
        )

    async def _run(
        self, owner: str, account_id: str, spec: RunSpec, side: PropSide, order: TickOrder
    ) -> None:
        key = (account_id, spec.asset.symbol)
        try:
            try:
                result = await runner.execute(spec, side, self.deps, order)
            except Exception as exc:  # recording itself failed: the lease must still come free
                log.exception(
                    "decision run not recorded",
                    extra={
                        "clone_id": spec.clone.clone_id,
                        "account_id": account_id,
                        "run_id": spec.run_id,
                    },
                )
                result = RunResult(
                    run_id=spec.run_id,
                    status="failed",
                    attempts=spec.spent_attempts,
                    error_code="internal",
                    error=repr(exc),
                )
            del self.running[spec.run_id]
            ref = self.pilots.get(owner)
            if ref is not None:
                await ref.tell(
                    PilotRunDone(
                        run_id=spec.run_id,
                        symbol=spec.asset.symbol,
                        status=result.status,
                        attempts=result.attempts,
                        error_code=result.error_code,
                    )
                )
            else:
                self.leases.release(key, spec.run_id)
            self._maybe_drained(account_id)
        finally:
            self.running.pop(spec.run_id, None)

    async def subscribe(self, pilot: str, cadences: set[int]) -> None:
        new = cadences - {c for subs in self.subscriptions.values() for c in subs}
        self.subscriptions[pilot] = set(cadences)
        if self.metronome is not None:
            for cadence in sorted(new):
                await self.metronome.tell(MetronomeCadence(cadence_s=cadence))

    def subscribers(self, cadence: int) -> list[Ref]:
        return [
            ref
            for name, subs in sorted(self.subscriptions.items())
            if cadence in subs and (ref := self.pilots.get(name)) is not None
        ]

    def in_flight(self, account_id: str) -> set[str]:
        return {r for r, a in self.running.items() if a == account_id}

    def _maybe_drained(self, account_id: str) -> None:
        if (
            not self.in_flight(account_id)
            and (event := self._drained.pop(account_id, None)) is not None
        ):
            event.set()

    async def wait_drained(self, account_id: str) -> None:
        while self.in_flight(account_id):
            event = self._drained.setdefault(account_id, anyio.Event())
            await event.wait()

    # -- rows a pilot writes itself -----------------------------------------------------------------
    async def record(self, rows: Iterable[records.RunRow]) -> None:
        statements = [s for row in rows for s in records.run_statements(row)]
        if statements:
            await self.writer.write(statements)

    async def facts(self, now_ms: int | None = None) -> dict[str, AssetFacts]:
        """The registry's specs (once per instant `now_ms`, however many pilots ask)."""
        if self.market is None:
            return {}
        if now_ms is None:
            return await self._facts()
        return await self.memo.get(now_ms, "facts", self._facts)

    async def _facts(self) -> dict[str, AssetFacts]:
        if self.market is None:
            raise RuntimeError("decision runs need the market module")
        specs = await self.market.asset_specs()
        return {
            s: AssetFacts(
                symbol=s,
                sz_decimals=a.sz_decimals,
                max_leverage=a.max_leverage,
                is_spot=a.is_spot,
                enabled=a.enabled and not a.delisted,
            )
            for s, a in specs.items()
        }

    async def assets(self, now_ms: int) -> dict[str, Any]:
        """The catalog (what the compiler and the entitlement check read), once per instant."""
        return await self.memo.get(now_ms, "catalog", self.catalog.assets)


class Plan(msgspec.Struct, frozen=True, kw_only=True):
    clone: CloneRef
    version: int
    compiled: CompiledPipeline
    problems: list[str]
    """Entitlement errors: non-empty means every due run is `entitlement_denied`."""
    archived: bool = False

    def cadences(self) -> list[int]:
        return sorted(
            {
                a.decision_cadence_sec
                for b in self.compiled.branches
                if b.enabled
                for a in b.assets
                if a.enabled
            }
        )

    def due(self, cadence: int) -> list[tuple[Branch, BranchAsset]]:
        return [
            (b, a)
            for b in self.compiled.branches
            if b.enabled
            for a in b.assets
            if a.enabled and a.decision_cadence_sec == cadence
        ]


def first_tick(now_s: float, cadence_s: int, offset_s: float) -> float:
    """The next cadence boundary plus the offset, strictly after now."""
    t = math.floor(now_s / cadence_s) * cadence_s + offset_s
    while t <= now_s:
        t += cadence_s
    return t


def last_tick(now_s: float, cadence_s: int, offset_s: float) -> float:
    """The latest cadence boundary plus the offset at or before now (a tick's due time)."""
    return math.floor((now_s - offset_s) / cadence_s) * cadence_s + offset_s


def backoff_s(cfg: TradingConfig, attempt: int) -> float:
    """The wait after failed attempt `attempt` (1-based)."""
    return min(cfg.retry_backoff_s * 2 ** (attempt - 1), cfg.retry_backoff_max_s)


def is_final(cfg: TradingConfig, attempt: int, now_ms: int, due_ms: int, cadence_s: int) -> bool:
    """No retry after this attempt: attempts spent, or the next one would land at the next tick."""
    return (
        attempt >= cfg.run_attempts
        or now_ms + backoff_s(cfg, attempt) * 1000 >= due_ms + cadence_s * 1000
    )


# ================================================================= the actor


class Pilot(Actor):
    def __init__(self, svc: Scheduler, clone_id: int, account_id: str) -> None:
        self.svc = svc
        self.cfg = svc.config
        self.clone_id = clone_id
        self.account_id = account_id
        self.plan: Plan | None = None
        self.cadences: set[int] = set()
        self.active: dict[tuple[str, str], RunSpec] = {}
        """(branch, symbol) → the spec of its run in flight or waiting to retry."""
        self.pending: dict[LeaseKey, deque[RunSpec]] = {}
        self.retrying: dict[str, RunSpec] = {}
        self.dropped_ticks = 0
        self.ticks = 0

    async def on_start(self) -> None:
        self.svc.pilots[self.name] = self.ref
        for key, run_id in self.svc.leases.of_account(self.account_id).items():
            if run_id not in self.svc.running:  # a retry the previous incarnation was waiting for
                self.svc.leases.release(key, run_id)
        await self._reload()

    async def on_stop(self) -> None:
        self.svc.pilots.pop(self.name, None)
        self.svc.subscriptions.pop(self.name, None)
        for spec in self.retrying.values():
            self.svc.leases.release((self.account_id, spec.asset.symbol), spec.run_id)
        await self.svc.wait_drained(self.account_id)

    async def receive(self, msg: Any) -> Any:
        match msg:
            case PilotTick(cadence_s=cadence, due_ms=due):
                await self._tick(cadence, due if due is not None else self.clock.now_ms())
            case PilotRunDone():
                self._done(msg)
            case PilotRetry(run_id=run_id):
                spec = self.retrying.pop(run_id, None)
                if spec is not None:
                    self.svc.start_run(self.name, self.account_id, spec)
            case PilotStats():
                return PilotState(
                    clone_id=self.clone_id,
                    account_id=self.account_id,
                    version=self.plan.version if self.plan else None,
                    cadences=sorted(self.cadences),
                    running=sorted(self.svc.in_flight(self.account_id)),
                    pending=sum(len(q) for q in self.pending.values()),
                    retrying=len(self.retrying),
                    dropped_ticks=self.dropped_ticks,
                    ticks=self.ticks,
                )
            case _:
                raise Unhandled(msg)
        return None

    # -- plan and cadences --------------------------------------------------------------------------
    async def _reload(self) -> Plan | None:
        try:
            plan = await self._load_plan()
        except CloneError:
            plan = None
        self.plan = plan
        wanted = set(plan.cadences()) if plan is not None else set()
        if wanted != self.cadences:
            self.cadences = wanted
            await self.svc.subscribe(self.name, wanted)
        return plan

    async def _load_plan(self) -> Plan:
        clones = self.svc.clones
        version = await clones.published_version(self.clone_id)
        owner = await clones.clone_owner(self.clone_id)
        clone = await clones.get_clone(owner, self.clone_id)
        assets = await self.svc.assets(self.clock.now_ms())
        strength = self.svc.strengths.get(self.account_id, version.model_strength)
        ref = CloneRef(
            clone_id=clone.id,
            owner_id=clone.owner_id,
            name=clone.name,
            ref="version",
            version=version.version,
            revision=None,
            model_strength=strength,
            tier=clone.tier,
        )
        compiled = compile_pipeline(version.pipeline, assets)
        problems = graph_errors(check_entitlement(clone.tier, version.pipeline, strength, assets))
        return Plan(
            clone=ref,
            version=version.version,
            compiled=compiled,
            problems=[p.message for p in problems],
            archived=clone.status != "active",
        )

    # -- a tick -------------------------------------------------------------------------------------
    async def _tick(self, cadence: int, now: int) -> None:
        self.ticks += 1
        plan = await self._reload()
        if plan is None or cadence not in self.cadences:
            return
        due = plan.due(cadence)
        engine = self.svc.deps.decider.name
        refused: list[records.RunRow] = []

        def refuse(b: Branch, a: BranchAsset, status: RunStatus, code: str, why: str) -> None:
            spec = self._spec(
                plan, b, a, Candidate(symbol=a.symbol, rank=0, reason="universe"), now, cadence, {}
            )
            refused.append(
                bare_row(
                    spec, self.account_id, status, now, error_code=code, error=why, engine=engine
                )
            )

        if plan.archived:
            for b, a in due:
                refuse(b, a, "skipped", "clone_archived", f"clone {self.clone_id} is archived")
            return await self.svc.record(refused)
        if plan.problems:
            for b, a in due:
                refuse(b, a, "entitlement_denied", "entitlement", "; ".join(plan.problems))
            return await self.svc.record(refused)
        if self.svc.prop is None:
            raise RuntimeError("an activated account needs the prop module")
        try:
            snapshot = await self.svc.prop.snapshot(self.account_id)
        except PropError as exc:
            return await self._account_gone(str(exc))
        except (
            Exception
        ) as exc:  # the account did not answer in time: this tick fails, the next may not
            log.warning("tick failed: account unavailable: %r", exc, extra=self._extra())
            for b, a in due:
                refuse(
                    b,
                    a,
                    "failed",
                    "account_unavailable",
                    f"prop account {self.account_id}: {exc!r}",
                )
            return await self.svc.record(refused)
        if snapshot.finalized_at_ms is not None:
            return await self._account_gone(f"prop account {self.account_id} is finalized")
        positions = [p.symbol for p in snapshot.positions]
        facts = await self.svc.facts(now)
        wanted = {(b.prompt_node_id, a.symbol) for b, a in due}
        to_start: list[RunSpec] = []
        for branch in {b.prompt_node_id: b for b, _ in due}.values():
            scores = await prefilter_scores(self.svc.deps.memory, branch, now)
            by_symbol = {a.symbol: a for a in branch.assets}
            for candidate in choose(branch, positions, scores).selected:
                if (branch.prompt_node_id, candidate.symbol) not in wanted:
                    continue
                asset = by_symbol[candidate.symbol]
                if (why := self.svc.pauses.blocking(self.clone_id, engine, asset)) is not None:
                    refuse(branch, asset, "skipped", "paused", why)
                    continue
                to_start.append(self._spec(plan, branch, asset, candidate, now, cadence, facts))
        await self.svc.record(refused)
        starting = [
            s for s in sorted(to_start, key=lambda s: (s.asset.symbol, s.run_id)) if self._claim(s)
        ]
        order = TickOrder([s.run_id for s in starting])
        for spec in starting:
            self.svc.start_run(self.name, self.account_id, spec, order, snapshot)

    def _spec(
        self,
        plan: Plan,
        branch: Branch,
        asset: BranchAsset,
        candidate: Candidate,
        now: int,
        cadence: int,
        facts: Mapping[str, AssetFacts],
    ) -> RunSpec:
        return RunSpec(
            run_id=run_id_for(self.account_id, branch.prompt_node_id, asset.symbol, now),
            clone=plan.clone,
            version=plan.version,
            branch=branch,
            asset=asset,
            candidate=candidate,
            due_ms=now,
            model_strength=plan.clone.model_strength,
            facts=facts.get(asset.symbol),
            final=is_final(self.cfg, 1, now, now, cadence),
        )

    def _extra(self) -> dict[str, object]:
        return {"clone_id": self.clone_id, "account_id": self.account_id}

    def _claim(self, spec: RunSpec) -> bool:
        """True: `spec` holds its asset's lease and starts now. Else it waits for the lease, or is
        dropped (its (branch, asset) is still running)."""
        slot = (spec.branch.prompt_node_id, spec.asset.symbol)
        if (
            slot in self.active or spec.run_id in self.svc.running
        ):  # still running, or this very run again
            self.dropped_ticks += 1
            return False
        self.active[slot] = spec
        key = (self.account_id, spec.asset.symbol)
        if self.svc.leases.acquire(key, spec.run_id):
            return True
        self.pending.setdefault(key, deque()).append(spec)
        return False

    def _done(self, msg: PilotRunDone) -> None:
        key = (self.account_id, msg.symbol)
        spec = next((s for s in self.active.values() if s.run_id == msg.run_id), None)
        if spec is not None and msg.status is None:
            self._retry_later(spec, msg.attempts)
            return
        if spec is not None:
            del self.active[(spec.branch.prompt_node_id, spec.asset.symbol)]
        # else: started by an earlier incarnation of this pilot (any retry it wanted is dropped)
        self.svc.leases.release(key, msg.run_id)
        queue = self.pending.get(key)
        while queue:
            nxt = queue.popleft()
            if self.svc.leases.acquire(key, nxt.run_id):
                self.svc.start_run(self.name, self.account_id, nxt)
                break
        if queue is not None and not queue:
            del self.pending[key]

    def _retry_later(self, spec: RunSpec, attempts: int) -> None:
        """Keep the lease; run the next attempt after the backoff."""
        delay = backoff_s(self.cfg, spec.attempt)
        due_next = self.clock.now_ms() + round(delay * 1000)
        nxt = msgspec.structs.replace(
            spec,
            attempt=spec.attempt + 1,
            spent_attempts=attempts,
            final=is_final(
                self.cfg, spec.attempt + 1, due_next, spec.due_ms, spec.asset.decision_cadence_sec
            ),
        )
        self.active[(spec.branch.prompt_node_id, spec.asset.symbol)] = nxt
        self.retrying[spec.run_id] = nxt
        self.after(delay, PilotRetry(run_id=spec.run_id))

    async def _account_gone(self, why: str) -> None:
        """The account no longer trades: stop ticking and record the pair inactive."""
        log.warning("deactivated: %s", why, extra=self._extra())
        self.cadences = set()
        self.svc.subscriptions.pop(self.name, None)
        self.svc.pilots.pop(self.name, None)
        await self.svc.writer.write(
            records.deactivate_statements(self.clone_id, self.account_id, self.clock.now_ms())
        )


# ================================================================= the cadence timers


class Metronome(Actor):
    """One timer per cadence any pilot ticks at; a tick is told to every subscribed pilot. The
    subscriptions live in the `Scheduler` service, so a restarted metronome rebuilds its timers."""

    def __init__(self, svc: Scheduler) -> None:
        self.svc = svc
        self.timers: dict[int, Timer] = {}

    async def on_start(self) -> None:
        self.svc.metronome = self.ref
        for cadence in sorted({c for subs in self.svc.subscriptions.values() for c in subs}):
            self._ensure(cadence)

    async def receive(self, msg: Any) -> Any:
        match msg:
            case MetronomeCadence(cadence_s=cadence):
                self._ensure(cadence)
            case MetronomeTick(cadence_s=cadence):
                pilots = self.svc.subscribers(cadence)
                if not pilots:
                    self.timers.pop(cadence).cancel()
                due = round(
                    last_tick(self.clock.now(), cadence, self.svc.config.align_offset_s) * 1000
                )
                for ref in pilots:
                    await ref.tell(PilotTick(cadence_s=cadence, due_ms=due))
            case _:
                raise Unhandled(msg)
        return None

    def _ensure(self, cadence: int) -> None:
        if cadence not in self.timers:
            first = first_tick(self.clock.now(), cadence, self.svc.config.align_offset_s)
            self.timers[cadence] = self.every(
                cadence, MetronomeTick(cadence_s=cadence), first=first
            )


# ================================================================= retention


class RetentionSweep(Message, frozen=True):
    """Timer: delete expired artifacts (and old cache entries), in batches."""


class Retention(Actor):
    def __init__(self, sweep: Any, interval_s: float, on_stop: Any = None) -> None:
        self._sweep = sweep
        self._interval = interval_s
        self._closing = on_stop

    async def on_start(self) -> None:
        self.every(self._interval, RetentionSweep())

    async def on_stop(self) -> None:
        if self._closing is not None:
            await self._closing()

    async def receive(self, msg: Any) -> Any:
        if isinstance(msg, RetentionSweep):
            return await self._sweep(self.clock.now_ms())
        return None
