"""The trading module: its public API for routes and other modules.

Compile a clone's graph, preview its context packet, the Latest Data drawer; and the decision
runtime: activate a clone on a prop account (a `Pilot` actor schedules its runs), dry runs, admin
pauses, decision history, one decision's snapshot, costs. Graphs come from the clones module, the
registry from its catalog, market memory through the market module's as-of reads, account state
from the prop module. Time from the runtime clock.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import anyio
import msgspec

from actors import Clock, System
from clash.clones import (
    AssetCatalog,
    CloneError,
    ClonesModule,
    Pipeline,
    Version,
    check_entitlement,
    graph_errors,
    validate,
)
from clash.market import MarketModule, MemoryReader
from clash.prop import AccountNotFound, AccountRow, AccountSnapshot, Limits, PropModule
from clash.store import Database
from clash.trading import context, records
from clash.trading.activation import check_activation
from clash.trading.artifacts import Artifacts, LocalObjectStore, ObjectStore
from clash.trading.cache import ResponseCache
from clash.trading.compiler import compile_pipeline
from clash.trading.config import TradingConfig
from clash.trading.context import MarketMemory
from clash.trading.control import MAX_SANDBOX_ACCOUNTS, AccountTrading, TradingBlock
from clash.trading.deciders import MONOTONIC, Decider, EngineNotConfigured, build_decider
from clash.trading.demo import DemoSetup, check_settings
from clash.trading.dry_run import dry_run
from clash.trading.errors import TradingError
from clash.trading.marks import LatestMarks
from clash.trading.packet import (
    AccountState,
    CloneRef,
    Compilation,
    LatestData,
    Preview,
    digest,
    encode,
)
from clash.trading.records import (
    Activation,
    CloneCosts,
    ControlChange,
    DailyCosts,
    Decision,
    DecisionDetail,
    DryRun,
    HistoryQuery,
    Pause,
    PauseScope,
    RecordWriter,
    Statements,
)
from clash.trading.runner import RunDeps
from clash.trading.scheduler import (
    SUPERVISOR,
    Metronome,
    Pauses,
    Pilot,
    PilotState,
    PilotStats,
    Retention,
    Scheduler,
    pilot_name,
)
from clash.trading.shared_reads import SharedReads
from clash.trading.sqlite_cache import SqliteAnswerStore

if TYPE_CHECKING:
    from clash.runtime import Runtime

log = logging.getLogger(__name__)

VersionRef = int | Literal["draft", "latest"]
RECENT_ROWS = 20
DAY_MS = 86_400_000
ENGINE_FAMILIES = ("anthropic", "rules", "scripted", "hold")
SOURCE_FAMILIES = ("hyperliquid", "polymarket", "defillama")
ENTITLEMENT_CODES = frozenset({"too_many_active_assets", "model_strength_not_allowed"})
CONTROL_HISTORY = 20


class TradingModule:
    name = "trading"
    package = "clash.trading"

    def __init__(
        self,
        *,
        system: System,
        clock: Clock,
        db: Database,
        config: TradingConfig,
        clones: ClonesModule,
        prop: PropModule | None,
        market: MarketModule | None,
        memory: MarketMemory,
        catalog: AssetCatalog,
        decider: Decider,
        cache: ResponseCache,
        answers: SqliteAnswerStore,
        writer: RecordWriter,
        artifacts: Artifacts,
        account_limits: Limits,
        listed: list[str],
        pauses: Pauses,
    ) -> None:
        """Every dependency finished; `start` builds them at boot (the engine may ask a provider)."""
        self.system, self.clock, self.db, self.config = system, clock, db, config
        self.clones, self.prop, self.market, self.memory, self.catalog = (
            clones,
            prop,
            market,
            memory,
            catalog,
        )
        self.decider, self.cache, self.answers, self.writer = decider, cache, answers, writer
        self.artifacts = artifacts
        self._control = anyio.Lock()
        """Serialises the owner's trading-control changes (read the state, then change it)."""
        self.account_limits = account_limits
        self.listed = list(listed)
        """The market's ingestion universe (`[market.hyperliquid] assets`)."""
        marks = LatestMarks(clock, market, memory, listed, round(config.mark_max_age_s * 1000))
        deps = RunDeps(
            clock=clock,
            memory=SharedReads(memory),
            marks=marks,
            decider=decider,
            limiter=anyio.CapacityLimiter(config.max_concurrent_model_calls),
            writer=writer,
            db=db,
            config=config,
            artifacts=artifacts,
            monotonic=MONOTONIC,
        )
        self.scheduler = Scheduler(
            system=system,
            writer=writer,
            clones=clones,
            prop=prop,
            market=market,
            catalog=catalog,
            config=config,
            deps=deps,
            pauses=pauses,
        )

    @staticmethod
    def register_checks(db: Database) -> None:
        db.register_check("trading.decisions", records.check_decisions)

    @classmethod
    async def start(
        cls,
        rt: Runtime,
        *,
        catalog: AssetCatalog | None = None,
        memory: MarketMemory | None = None,
        decider: Decider | None = None,
        artifact_store: ObjectStore | None = None,
    ) -> TradingModule:
        """The decision runtime: engine, artifact store, scheduler, retention, activations, demo.
        `decider` replaces the engine the config picks (tests); `artifact_store` the local folder."""
        cfg: TradingConfig = rt.config.trading
        if cfg.demo_clone and cfg.demo is not None:
            check_settings(cfg.demo)
        clones = rt.module(ClonesModule)
        writer = RecordWriter(rt.db)
        answers = SqliteAnswerStore(rt.db, writer, rt.clock.now_ms)
        cache = ResponseCache(cfg.cache_max_entries, answers)
        try:
            decider = decider or await build_decider(
                cfg, rt.secrets.anthropic_api_key, cache, rt.clock
            )
        except EngineNotConfigured as exc:
            raise TradingError("engine_not_configured", str(exc)) from None
        root = Path(cfg.artifacts.dir) if cfg.artifacts.dir else rt.artifacts_dir
        artifacts = Artifacts(
            artifact_store or LocalObjectStore(root), round(cfg.artifacts.retention_days * DAY_MS)
        )
        async with rt.db.read() as r:
            pauses = await records.pauses(r)
            active = await records.activations(r)
        module = cls(
            system=rt.system,
            clock=rt.clock,
            db=rt.db,
            config=cfg,
            clones=clones,
            prop=rt.find(PropModule),
            market=rt.find(MarketModule),
            memory=memory or MemoryReader(rt.db),
            catalog=catalog or clones.catalog,
            decider=decider,
            cache=cache,
            answers=answers,
            writer=writer,
            artifacts=artifacts,
            account_limits=rt.config.prop.limits.to_limits(),
            listed=rt.config.market.hyperliquid.assets,
            pauses=Pauses(pauses),
        )
        module._spawn_actors(active)
        return module

    def _spawn_actors(self, active: list[Activation]) -> None:
        cfg = self.config
        self.system.supervisor(SUPERVISOR)
        self.system.spawn(
            "trading.retention",
            lambda: Retention(self._sweep, cfg.artifacts.retention_interval_s, self._close),
            supervisor=SUPERVISOR,
        )
        self.scheduler.metronome = self.system.spawn(
            "trading.metronome", lambda: Metronome(self.scheduler), supervisor=SUPERVISOR
        )
        for a in active:
            if a.model_strength is not None:
                self.scheduler.strengths[a.account_id] = a.model_strength
            self._spawn(a.clone_id, a.account_id)
        if cfg.demo_clone and cfg.demo is not None:
            demo = cfg.demo
            self.system.spawn("trading.demo", lambda: DemoSetup(self, demo), supervisor=SUPERVISOR)

    # ------------------------------------------------------------ public API

    async def compile(
        self, clone_id: int, ref: VersionRef = "draft", *, user: str | None = None
    ) -> Compilation:
        """Compile the draft (owner only), a published version, or the latest one. `user=None` is
        the runtime's own access (no check)."""
        clone, pipeline = await self._source(clone_id, ref, user)
        assets = await self.catalog.assets()
        compiled = compile_pipeline(pipeline, assets)
        problems = [
            *validate(pipeline, assets),
            *check_entitlement(clone.tier, pipeline, clone.model_strength, assets),
        ]
        return Compilation(clone=clone, compiled=compiled, problems=problems)

    async def preview(
        self,
        clone_id: int,
        as_of_ms: int | None = None,
        account_id: str | None = None,
        *,
        ref: VersionRef = "draft",
        user: str | None = None,
    ) -> Preview:
        """The context packet a decision round would get at `as_of_ms` (default now)."""
        as_of = self._as_of(as_of_ms)
        c = await self.compile(clone_id, ref, user=user)
        account = None
        if account_id:
            account = await self._account(c.clone, account_id, as_of, user, live=as_of_ms is None)
        packet = await context.resolve_packet(self.memory, c.clone, c.compiled, as_of, account)
        return Preview(
            problems=c.problems,
            packet_sha256=digest(packet),
            packet_bytes=len(encode(packet)),
            packet=packet,
        )

    async def latest_data(
        self,
        clone_id: int,
        symbol: str,
        *,
        ref: VersionRef = "draft",
        user: str | None = None,
        as_of_ms: int | None = None,
    ) -> LatestData:
        as_of = self._as_of(as_of_ms)
        c = await self.compile(clone_id, ref, user=user)
        if not any(a.symbol == symbol for b in c.compiled.branches for a in b.assets):
            raise TradingError(
                "symbol_not_connected",
                f"{symbol} is not selected by any asset block of clone "
                f"{clone_id} that feeds a trading prompt",
            )
        contexts = await context.resolve_latest(self.memory, c.clone, c.compiled, symbol, as_of)
        asset = next((a for a in c.compiled.universe if a.symbol == symbol), None)
        return LatestData(
            clone_id=clone_id, symbol=symbol, as_of_ms=as_of, asset=asset, contexts=contexts
        )

    # ------------------------------------------------------------ internals

    def _as_of(self, as_of_ms: int | None) -> int:
        now = self.clock.now_ms()
        if as_of_ms is None:
            return now
        if as_of_ms > now:
            raise TradingError("as_of_in_future", f"as_of_ms {as_of_ms} is after now ({now})")
        return as_of_ms

    async def _source(
        self, clone_id: int, ref: VersionRef, user: str | None
    ) -> tuple[CloneRef, Pipeline]:
        reader = user if user is not None else await self.clones.clone_owner(clone_id)
        clone = await self.clones.get_clone(reader, clone_id)
        if ref == "draft":
            view = await self.clones.get_pipeline(reader, clone_id)
            pipeline, version, revision, strength = (
                view.pipeline,
                None,
                view.revision,
                view.model_strength,
            )
        else:
            if ref == "latest":
                v = await self.clones.published_version(clone_id)
            else:
                v = await self.clones.get_version(reader, clone_id, ref)
            pipeline, version, revision, strength = v.pipeline, v.version, None, v.model_strength
        ident = CloneRef(
            clone_id=clone.id,
            owner_id=clone.owner_id,
            name=clone.name,
            ref="draft" if ref == "draft" else "version",
            version=version,
            revision=revision,
            model_strength=strength,
            tier=clone.tier,
        )
        return ident, pipeline

    async def _account(
        self, clone: CloneRef, account_id: str, as_of_ms: int, user: str | None, *, live: bool
    ) -> AccountState:
        """Prop-account state is only known now: a preview for now (`live`) reads it as it is when
        read; a past `as_of_ms` cannot have it."""
        if self.prop is None:
            raise TradingError("account_not_found", "the prop module is not running")
        if not live and as_of_ms < self.clock.now_ms():
            raise TradingError(
                "account_state_is_live",
                "prop-account state exists only now; omit as_of_ms with account_id",
            )
        try:
            row = await self.prop.account(account_id)
        except AccountNotFound:
            raise TradingError("account_not_found", f"no prop account {account_id}") from None
        if row.clone_id != clone.clone_id or (user is not None and user != clone.owner_id):
            raise TradingError(
                "account_not_of_clone",
                f"prop account {account_id} is not one of clone {clone.clone_id}'s accounts",
            )
        snapshot = await self.prop.snapshot(account_id)
        orders = await self.prop.orders(account_id, RECENT_ROWS)
        fills = await self.prop.fills(account_id, RECENT_ROWS)
        ledger = await self.prop.ledger(account_id, RECENT_ROWS)
        return context.account_state(snapshot, orders, fills, ledger, as_of_ms)

    # ------------------------------------------------------------ decision runtime: activations

    async def activate(
        self,
        clone_id: int,
        account_id: str,
        *,
        demo: bool = False,
        model_strength: str | None = None,
        audit: Statements | None = None,
    ) -> Activation:
        """Run the clone's latest published version on the prop account, at each branch's cadence,
        from now on and after every restart, until `deactivate`. `model_strength` replaces the
        version's for this account; `audit` rows are written in the same transaction."""
        await check_activation(self.clones, self.prop, self.db, clone_id, account_id)
        now = self.clock.now_ms()
        await self.writer.write(
            [
                *records.activate_statements(clone_id, account_id, demo, now, model_strength),
                *(audit or []),
            ]
        )
        self._set_strength(account_id, model_strength)
        self._spawn(clone_id, account_id)
        log.info("activated", extra={"clone_id": clone_id, "account_id": account_id, "demo": demo})
        return Activation(
            clone_id=clone_id,
            account_id=account_id,
            active=True,
            demo=demo,
            activated_ms=now,
            model_strength=model_strength,
        )

    async def deactivate(
        self, clone_id: int, account_id: str, *, audit: Statements | None = None
    ) -> None:
        """Stop scheduling the pair; runs in flight finish and are recorded."""
        await self.writer.write(
            [
                *records.deactivate_statements(clone_id, account_id, self.clock.now_ms()),
                *(audit or []),
            ]
        )
        log.info("deactivated", extra={"clone_id": clone_id, "account_id": account_id})
        name = pilot_name(clone_id, account_id)
        if name in self.system.names():
            await self.system.stop(name, timeout=self.config.run_timeout_s)

    def _set_strength(self, account_id: str, model_strength: str | None) -> None:
        if model_strength is None:
            self.scheduler.strengths.pop(account_id, None)
        else:
            self.scheduler.strengths[account_id] = model_strength

    async def activations(self, *, active_only: bool = True) -> list[Activation]:
        async with self.db.read() as r:
            return await records.activations(r, active_only=active_only)

    async def pilot_state(self, clone_id: int, account_id: str) -> PilotState:
        return await self.system.ref(pilot_name(clone_id, account_id)).ask(PilotStats())

    def _spawn(self, clone_id: int, account_id: str) -> None:
        name = pilot_name(clone_id, account_id)
        if name not in self.system.names():
            self.system.spawn(
                name, lambda: Pilot(self.scheduler, clone_id, account_id), supervisor=SUPERVISOR
            )

    # ------------------------------------------------------------ owner control: accounts, trading

    async def open_sandbox_account(self, user: str, clone_id: int) -> AccountSnapshot:
        """Open a sandbox prop account for the owner's clone; its universe is the published
        version's assets."""
        await self._readable(clone_id, user)
        prop = self._prop()
        clone = await self.clones.get_clone(user, clone_id)
        if clone.status != "active":
            raise TradingError("clone_archived", f"clone {clone_id} is archived")
        version = await self._published(clone_id)
        universe = [
            a.symbol
            for a in compile_pipeline(version.pipeline, await self.catalog.assets()).universe
        ]
        if not universe:
            raise TradingError(
                "empty_universe", f"version {version.version} of clone {clone_id} selects no asset"
            )
        async with self._control:
            rows = await prop.accounts_of_clone(clone_id)
            if sum(r.kind == "sandbox" for r in rows) >= MAX_SANDBOX_ACCOUNTS:
                raise TradingError(
                    "too_many_accounts",
                    f"clone {clone_id} has {MAX_SANDBOX_ACCOUNTS} sandbox accounts already",
                )
            account_id = await prop.open_account(
                clone_id, "sandbox", universe=universe, owner_user_id=user
            )
        log.info("sandbox account opened", extra={"clone_id": clone_id, "account_id": account_id})
        return await prop.snapshot(account_id)

    async def clone_accounts(
        self, user: str, clone_id: int, *, after: str | None = None, limit: int = 50
    ) -> tuple[list[AccountSnapshot], str | None]:
        """The clone's prop accounts (every kind) oldest first, after the account `after`; and the
        cursor of the next page (None on the last)."""
        await self._readable(clone_id, user)
        rows = await self._prop().accounts_of_clone(clone_id)
        start = 0
        if after is not None:
            ids = [r.account_id for r in rows]
            if after not in ids:
                raise TradingError(
                    "invalid_cursor", f"{after!r} is not an account of clone {clone_id}"
                )
            start = ids.index(after) + 1
        page = rows[start : start + limit]
        more = start + limit < len(rows)
        snapshots = [await self._prop().snapshot(r.account_id) for r in page]
        return snapshots, page[-1].account_id if more and page else None

    async def trading_block(self, user: str, clone_id: int) -> TradingBlock:
        """The Trading Clone Block: trading on/off and the model strength of each account of the
        clone, the strengths its tier allows, the published version it runs, recent changes."""
        await self._readable(clone_id, user)
        tier = await self.clones.clone_tier(clone_id)
        try:
            version = await self.clones.published_version(clone_id)
        except CloneError as exc:
            if exc.code != "no_published_version":
                raise TradingError(exc.code, exc.message) from None
            version = None
        rows = await self._prop().accounts_of_clone(clone_id)
        async with self.db.read() as r:
            active = await records.activations_of_clone(r, clone_id)
            changes = await records.control_log(r, clone_id, CONTROL_HISTORY)
        default = version.model_strength if version is not None else None
        return TradingBlock(
            clone_id=clone_id,
            tier=tier.id,
            allowed_model_strengths=list(tier.model_strengths),
            published_version=version.version if version is not None else None,
            version_model_strength=default,
            accounts=[
                _account_trading(row, active.get(row.account_id), version, default) for row in rows
            ],
            changes=changes,
        )

    async def set_trading(
        self,
        user: str,
        clone_id: int,
        account_id: str,
        *,
        enabled: bool,
        model_strength: str | None = None,
    ) -> TradingBlock:
        """Turn trading on (activate the pilot) or off for one account of the owner's clone, and
        optionally set the model strength it runs at (checked against the tier). Idempotent: a
        request that changes nothing writes nothing; each change is one audit row."""
        await self._readable(clone_id, user)
        async with self._control:
            row = await self._clone_account(clone_id, account_id)
            async with self.db.read() as r:
                current = (await records.activations_of_clone(r, clone_id)).get(account_id)
            on = current is not None and current.active
            stored = current.model_strength if current is not None else None
            strength = model_strength if model_strength is not None else stored
            version = None
            if enabled or model_strength is not None:
                version = await self._entitled(clone_id, strength)
            now = self.clock.now_ms()

            def change(op: Literal["on", "off", "model_strength"]) -> Statements:
                return records.control_statements(
                    ControlChange(
                        clone_id=clone_id,
                        account_id=account_id,
                        changed_by=user,
                        op=op,
                        model_strength=strength,
                        version=version.version if version is not None else None,
                        at_ms=now,
                    )
                )

            new_strength = strength != stored
            if enabled and not on:
                if (await self.clones.get_clone(user, clone_id)).status != "active":
                    raise TradingError("clone_archived", f"clone {clone_id} is archived")
                if row.finalized_at_ms is not None:
                    raise TradingError(
                        "account_finalized", f"prop account {account_id} is finalized"
                    )
                await self.activate(
                    clone_id, account_id, model_strength=strength, audit=change("on")
                )
            elif not enabled and on:
                audit = [*change("off"), *(change("model_strength") if new_strength else [])]
                if new_strength:
                    audit = [
                        *records.strength_statements(clone_id, account_id, strength, now),
                        *audit,
                    ]
                await self.deactivate(clone_id, account_id, audit=audit)
                self._set_strength(account_id, strength)
            elif new_strength:
                await self.writer.write(
                    [
                        *records.strength_statements(clone_id, account_id, strength, now),
                        *change("model_strength"),
                    ]
                )
                self._set_strength(account_id, strength)
            log.info(
                "trading control",
                extra={
                    "clone_id": clone_id,
                    "account_id": account_id,
                    "enabled": enabled,
                    "model_strength": strength,
                    "by": user,
                },
            )
        return await self.trading_block(user, clone_id)

    def _prop(self) -> PropModule:
        if self.prop is None:
            raise TradingError("account_not_found", "the prop module is not running")
        return self.prop

    async def _clone_account(self, clone_id: int, account_id: str) -> AccountRow:
        """The clone's account; another clone's is as unknown as a missing one."""
        try:
            row = await self._prop().account(account_id)
        except AccountNotFound:
            row = None
        if row is None or row.clone_id != clone_id:
            raise TradingError(
                "account_not_found", f"clone {clone_id} has no prop account {account_id}"
            )
        return row

    async def _published(self, clone_id: int) -> Version:
        try:
            return await self.clones.published_version(clone_id)
        except CloneError as exc:
            raise TradingError(exc.code, exc.message) from None

    async def _entitled(self, clone_id: int, model_strength: str | None) -> Version:
        """The published version, if the tier allows it at `model_strength` (None: its own)."""
        version = await self._published(clone_id)
        tier = await self.clones.clone_tier(clone_id)
        strength = model_strength if model_strength is not None else version.model_strength
        assets = await self.catalog.assets()
        problems = graph_errors(check_entitlement(tier, version.pipeline, strength, assets))
        if problems:
            raise TradingError(problems[0].code, "; ".join(p.message for p in problems))
        return version

    # ------------------------------------------------------------ decision runtime: admin pauses

    async def pause_clone(self, clone_id: int, admin: str, reason: str = "") -> Pause:
        await self.clones.clone_owner(clone_id)
        return await self._pause("clone", str(clone_id), admin, reason)

    async def resume_clone(self, clone_id: int, admin: str, reason: str = "") -> None:
        await self._resume("clone", str(clone_id), admin, reason)

    async def pause_source_family(self, name: str, admin: str, reason: str = "") -> Pause:
        """Pause an engine (`anthropic`, `rules`, ...) or a data source family (`polymarket`, ...)
        everywhere: runs that would use it are recorded `skipped`."""
        return await self._pause("source", _family(name), admin, reason)

    async def resume_source_family(self, name: str, admin: str, reason: str = "") -> None:
        await self._resume("source", _family(name), admin, reason)

    async def pauses(self) -> list[Pause]:
        async with self.db.read() as r:
            return await records.pauses(r)

    async def _pause(self, scope: PauseScope, name: str, admin: str, reason: str) -> Pause:
        now = self.clock.now_ms()
        await self.writer.write(records.pause_statements(scope, name, admin, reason, now))
        self.scheduler.pauses.add(scope, name)
        log.info("admin paused %s %s: %s", scope, name, reason, extra={"admin": admin})
        return Pause(scope=scope, name=name, paused_by=admin, reason=reason, paused_ms=now)

    async def _resume(self, scope: PauseScope, name: str, admin: str, reason: str) -> None:
        await self.writer.write(
            records.resume_statements(scope, name, admin, reason, self.clock.now_ms())
        )
        self.scheduler.pauses.remove(scope, name)
        log.info("admin resumed %s %s: %s", scope, name, reason, extra={"admin": admin})

    # ------------------------------------------------------------ decision runtime: reads

    async def history(
        self,
        clone_id: int,
        *,
        user: str | None = None,
        symbol: str | None = None,
        status: str | None = None,
        dry_run: bool | None = None,
        account_id: str | None = None,
        before_seq: int | None = None,
        limit: int = 50,
    ) -> list[Decision]:
        """Decision runs of a clone, newest first (`before_seq` pages on); `user=None` reads as admin."""
        await self._readable(clone_id, user)
        q = HistoryQuery(
            clone_id=clone_id,
            symbol=symbol,
            status=status,
            dry_run=dry_run,
            account_id=account_id,
            before_seq=before_seq,
            limit=limit,
        )
        async with self.db.read() as r:
            return await records.history(r, q)

    async def decision(
        self, run_id: str, *, user: str | None = None, keep_rows: int = 10
    ) -> DecisionDetail:
        """One decision with its artifacts: the grounded answer to "why did you do that?"."""
        async with self.db.read() as r:
            found = await records.decision(r, run_id)
            stored = await records.artifact_of(r, run_id) if found else None
        if found is None:
            raise TradingError("decision_not_found", f"no decision run {run_id}")
        await self._readable(found.run.clone_id, user)
        payloads = await self.artifacts.read(stored) if stored is not None else None
        parts: dict[str, Any] = {k: msgspec.json.decode(v) for k, v in (payloads or {}).items()}
        if "context" in parts:
            parts["context"] = trim_series(parts["context"], keep_rows)
        return DecisionDetail(run=found.run, action=found.action, artifact=stored, **parts)

    async def clone_costs(
        self, clone_id: int, *, user: str | None = None, days: int = 30
    ) -> CloneCosts:
        await self._readable(clone_id, user)
        since = self._day_start(days)
        async with self.db.read() as r:
            total, by_day, by_asset = await records.clone_costs(r, clone_id, since)
        return CloneCosts(
            clone_id=clone_id, since_ms=since, total=total, days=by_day, assets=by_asset
        )

    async def daily_costs(self, days: int = 30) -> DailyCosts:
        since = self._day_start(days)
        async with self.db.read() as r:
            by_day, by_clone = await records.daily_costs(r, since)
        return DailyCosts(since_ms=since, days=by_day, clones=by_clone)

    def _day_start(self, days: int) -> int:
        return (self.clock.now_ms() // DAY_MS - max(days, 1) + 1) * DAY_MS

    async def _readable(self, clone_id: int, user: str | None) -> None:
        try:
            owner = await self.clones.clone_owner(clone_id)
        except CloneError as exc:
            raise TradingError(exc.code, exc.message) from None
        if user is not None and user != owner:
            raise TradingError("not_owner", f"clone {clone_id}'s decisions are its owner's")

    # ------------------------------------------------------------ decision runtime: dry run

    async def dry_run(
        self, clone_id: int, *, user: str | None = None, ref: VersionRef = "draft"
    ) -> DryRun:
        """Run the pipeline once for every candidate of every enabled branch, on a synthetic book at
        the default starting equity: dry-run rows only, no prop account touched."""
        c = await self.compile(clone_id, ref, user=user)
        broken = [p for p in graph_errors(c.problems) if p.code not in ENTITLEMENT_CODES]
        if broken:
            raise TradingError("invalid_graph", "; ".join(p.message for p in broken))
        denied = [p.message for p in graph_errors(c.problems) if p.code in ENTITLEMENT_CODES]
        return await dry_run(
            c, str(ref), denied, self.scheduler, self.account_limits, self.db, self.clock.now_ms()
        )

    # ------------------------------------------------------------ decision runtime: internals

    async def _sweep(self, now_ms: int) -> int:
        cfg = self.config
        deleted = await self.artifacts.sweep(
            self.db, self.writer, now_ms, cfg.artifacts.retention_batch
        )
        await self.answers.prune(now_ms - round(cfg.cache_retention_days * DAY_MS))
        return deleted

    async def _close(self) -> None:
        engine = getattr(self.decider, "engine", None)
        if engine is not None and hasattr(engine, "aclose"):
            await engine.aclose()


def _account_trading(
    row: AccountRow, activation: Activation | None, version: Version | None, default: str | None
) -> AccountTrading:
    chosen = activation.model_strength if activation is not None else None
    changed = None
    if activation is not None:
        changed = activation.activated_ms if activation.active else activation.deactivated_ms
    return AccountTrading(
        account_id=row.account_id,
        kind=row.kind,
        account_status="finalized" if row.finalized_at_ms is not None else row.status,
        enabled=activation is not None and activation.active,
        model_strength=chosen or default,
        model_strength_source="account" if chosen is not None else "version",
        version=version.version if version is not None else None,
        changed_ms=changed,
    )


def _family(name: str) -> str:
    if name not in (*ENGINE_FAMILIES, *SOURCE_FAMILIES):
        raise TradingError(
            "unknown_source_family",
            f"{name!r} is not a source family (engines: "
            f"{', '.join(ENGINE_FAMILIES)}; data: {', '.join(SOURCE_FAMILIES)})",
        )
    return name


def trim_series(value: Any, keep: int) -> Any:
    """The context artifact with every list of a block's data cut to its newest `keep` items."""
    asset = value.get("asset") if isinstance(value, dict) else None
    for block in (asset or {}).get("blocks", []):
        data = block.get("data")
        if isinstance(data, dict):
            for name, items in data.items():
                if isinstance(items, list) and len(items) > keep and name != "fields":
                    data[name] = items[-keep:]
    return value
