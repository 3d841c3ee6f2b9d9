"""The trading module: its public API for routes and other modules.

Compile a clone's graph, preview its context packet, the Latest Data drawer; and the decision
runtime: activate a clone on a prop account (a `Pilot` actor schedules its runs), dry runs, admin
pauses, decision history, one decision's snapshot, costs. Graphs come from the clones module, the
registry from its catalog, market memory through the market module's as-of reads, account state
from the prop module. Time from the runtime clock.
"""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import anyio
import msgspec

from actors import Actor, Clock, Message, Unhandled
from clash.clones.catalog import AssetCatalog
from clash.clones.entitlements import check_entitlement
from clash.clones.graph import Pipeline, TradingPromptNode, errors, validate
from clash.clones.service import CloneError
from clash.prop.manager import AccountNotFound
from clash.store import Database
from clash.trading import context, records, runner
from clash.trading.artifacts import Artifacts, LocalObjectStore, ObjectStore
from clash.trading.cache import ResponseCache
from clash.trading.candidates import choose
from clash.trading.compiler import compile_pipeline
from clash.trading.context import MarketMemory, MemoryReader
from clash.trading.config import TradingConfig
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
    DailyCosts,
    Decision,
    DecisionDetail,
    DryRun,
    HistoryQuery,
    Pause,
    PauseScope,
    RecordWriter,
)
from clash.trading.rules import RulesDecider
from clash.trading.runner import (
    MONOTONIC,
    Decider,
    InstantMemo,
    ModelDecider,
    RunDeps,
    RunSpec,
    SharedReads,
    SyntheticSide,
)
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
from clash.trading.sqlite_cache import SqliteAnswerStore

if TYPE_CHECKING:
    from clash.runtime import Runtime

Ref = int | Literal["draft", "latest"]
RECENT_ROWS = 20
DAY_MS = 86_400_000
ENGINE_FAMILIES = ("anthropic", "rules", "scripted", "hold")
SOURCE_FAMILIES = ("hyperliquid", "polymarket", "defillama")
ENTITLEMENT_CODES = frozenset({"too_many_active_assets", "model_strength_not_allowed"})
DEMO_OWNER = "demo"
DEMO_ASSETS = ("BTC", "ETH", "SOL")
DEMO_CADENCE_S = 60
DEMO_PROMPT = ("Follow the trend, do not chase: enter in the direction of the trend when MACD momentum agrees "
               "and RSI is not stretched; cut the position when momentum turns against it.")


class TradingError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class TradingModule:
    name = "trading"
    package = "clash.trading"

    def __init__(self, catalog: AssetCatalog | None = None, memory: MarketMemory | None = None, *,
                 decider: Decider | None = None, artifact_store: ObjectStore | None = None) -> None:
        """`decider` replaces the engine the config picks (tests); `artifact_store` the local folder."""
        self._catalog = catalog
        self._memory = memory
        self._decider = decider
        self._store = artifact_store

    def register_checks(self, db: Database) -> None:
        db.register_check("trading.decisions", records.check_decisions)

    async def start(self, rt: Runtime) -> None:
        self.attach(rt.clock, rt.module("clones"), rt.modules.get("prop"), self._memory or MemoryReader(rt.db),
                    self._catalog)
        await self.start_runtime(rt)

    async def start_runtime(self, rt: Runtime) -> None:
        """The decision runtime: engine, artifact store, scheduler, retention, activations, demo."""
        cfg: TradingConfig = rt.config.trading
        self.rt, self.config, self.db = rt, cfg, rt.db
        self.market = rt.modules.get("market")
        self._mark_memo = InstantMemo()
        self.writer = RecordWriter(rt.db)
        self.answers = SqliteAnswerStore(rt.db, self.writer, rt.clock.now_ms)
        self.cache = ResponseCache(cfg.cache_max_entries, self.answers)
        self.decider: Decider = self._decider or build_decider(cfg, rt.secrets.anthropic_api_key, self.cache)
        root = Path(cfg.artifacts.dir) if cfg.artifacts.dir else rt.artifacts_dir
        self.artifacts = Artifacts(self._store or LocalObjectStore(root), round(cfg.artifacts.retention_days * DAY_MS))
        deps = RunDeps(clock=rt.clock, memory=SharedReads(self.memory), marks=self._marks, decider=self.decider,
                       limiter=anyio.CapacityLimiter(cfg.max_concurrent_model_calls), writer=self.writer, db=rt.db,
                       config=cfg, artifacts=self.artifacts, monotonic=MONOTONIC)
        async with rt.db.read() as r:
            pauses = await records.pauses(r)
            active = await records.activations(r)
        self.scheduler = Scheduler(system=rt.system, writer=self.writer, clones=self.clones, prop=self.prop,
                                   market=self.market, catalog=self.catalog, config=cfg, deps=deps, pauses=Pauses(pauses))
        rt.system.supervisor(SUPERVISOR)
        rt.system.spawn("trading.retention", lambda: Retention(self._sweep, cfg.artifacts.retention_interval_s,
                                                               self._close), supervisor=SUPERVISOR)
        self.scheduler.metronome = rt.system.spawn("trading.metronome", lambda: Metronome(self.scheduler),
                                                   supervisor=SUPERVISOR)
        for a in active:
            self._spawn(a.clone_id, a.account_id)
        if cfg.demo_clone:
            rt.system.spawn("trading.demo", lambda: DemoSetup(self), supervisor=SUPERVISOR)

    def attach(self, clock: Clock, clones: Any, prop: Any, memory: MarketMemory,
               catalog: AssetCatalog | None = None) -> None:
        """Bind to the clock, the clones module, the prop module (or None) and market memory."""
        self.clock = clock
        self.clones = clones
        self.prop = prop
        self.memory = memory
        self.catalog: AssetCatalog = catalog or clones.catalog

    # ------------------------------------------------------------ public API

    async def compile(self, clone_id: int, ref: Ref = "draft", *, user: str | None = None) -> Compilation:
        """Compile the draft (owner only), a published version, or the latest one. `user=None` is
        the runtime's own access (no check)."""
        clone, pipeline = await self._source(clone_id, ref, user)
        assets = await self.catalog.assets()
        compiled = compile_pipeline(pipeline, assets)
        problems = [*validate(pipeline, assets), *check_entitlement(clone.tier, pipeline, clone.model_strength, assets)]
        return Compilation(clone=clone, compiled=compiled, problems=problems)

    async def preview(self, clone_id: int, as_of_ms: int | None = None, account_id: str | None = None, *,
                      ref: Ref = "draft", user: str | None = None) -> Preview:
        """The context packet a decision round would get at `as_of_ms` (default now)."""
        as_of = self._as_of(as_of_ms)
        c = await self.compile(clone_id, ref, user=user)
        account = await self._account(c.clone, account_id, as_of, user) if account_id else None
        packet = await context.resolve_packet(self.memory, c.clone, c.compiled, as_of, account)
        return Preview(problems=c.problems, packet_sha256=digest(packet), packet_bytes=len(encode(packet)),
                       packet=packet)

    async def latest_data(self, clone_id: int, symbol: str, *, ref: Ref = "draft", user: str | None = None,
                          as_of_ms: int | None = None) -> LatestData:
        as_of = self._as_of(as_of_ms)
        c = await self.compile(clone_id, ref, user=user)
        if not any(a.symbol == symbol for b in c.compiled.branches for a in b.assets):
            raise TradingError("symbol_not_connected", f"{symbol} is not selected by any asset block of clone "
                                                       f"{clone_id} that feeds a trading prompt")
        contexts = await context.resolve_latest(self.memory, c.clone, c.compiled, symbol, as_of)
        asset = next((a for a in c.compiled.universe if a.symbol == symbol), None)
        return LatestData(clone_id=clone_id, symbol=symbol, as_of_ms=as_of, asset=asset, contexts=contexts)

    # ------------------------------------------------------------ internals

    def _as_of(self, as_of_ms: int | None) -> int:
        now = self.clock.now_ms()
        if as_of_ms is None:
            return now
        if as_of_ms > now:
            raise TradingError("as_of_in_future", f"as_of_ms {as_of_ms} is after now ({now})")
        return as_of_ms

    async def _source(self, clone_id: int, ref: Ref, user: str | None) -> tuple[CloneRef, Pipeline]:
        reader = user if user is not None else await self.clones.clone_owner(clone_id)
        clone = await self.clones.get_clone(reader, clone_id)
        if ref == "draft":
            view = await self.clones.get_pipeline(reader, clone_id)
            pipeline, version, revision, strength = view.pipeline, None, view.revision, view.model_strength
        else:
            if ref == "latest":
                v = await self.clones.published_version(clone_id)
            else:
                v = await self.clones.get_version(reader, clone_id, ref)
            pipeline, version, revision, strength = v.pipeline, v.version, None, v.model_strength
        ident = CloneRef(clone_id=clone.id, owner_id=clone.owner_id, name=clone.name,
                         ref="draft" if ref == "draft" else "version", version=version, revision=revision,
                         model_strength=strength, tier=clone.tier)
        return ident, pipeline

    async def _account(self, clone: CloneRef, account_id: str, as_of_ms: int, user: str | None) -> AccountState:
        """Prop-account state is only known now: a past `as_of_ms` cannot have it."""
        if self.prop is None:
            raise TradingError("account_not_found", "the prop module is not running")
        if as_of_ms < self.clock.now_ms():
            raise TradingError("account_state_is_live", "prop-account state exists only now; omit as_of_ms "
                                                        "with account_id")
        try:
            row = await self.prop.account(account_id)
        except AccountNotFound:
            raise TradingError("account_not_found", f"no prop account {account_id}") from None
        if row.clone_id != str(clone.clone_id) or (user is not None and user != clone.owner_id):
            raise TradingError("account_not_of_clone", f"prop account {account_id} is not one of clone "
                                                       f"{clone.clone_id}'s accounts")
        snapshot = await self.prop.snapshot(account_id)
        orders = await self.prop.orders(account_id, RECENT_ROWS)
        fills = await self.prop.fills(account_id, RECENT_ROWS)
        ledger = await self.prop.ledger(account_id, RECENT_ROWS)
        return context.account_state(snapshot, orders, fills, ledger, as_of_ms)

    # ------------------------------------------------------------ decision runtime: activations

    async def activate(self, clone_id: int, account_id: str, *, demo: bool = False) -> Activation:
        """Run the clone's latest published version on the prop account, at each branch's cadence,
        from now on and after every restart, until `deactivate`."""
        try:
            await self.clones.published_version(clone_id)
        except CloneError as exc:
            raise TradingError(exc.code, exc.message) from None
        if self.prop is None:
            raise TradingError("account_not_found", "the prop module is not running")
        try:
            row = await self.prop.account(account_id)
        except AccountNotFound:
            raise TradingError("account_not_found", f"no prop account {account_id}") from None
        if row.clone_id != str(clone_id):
            raise TradingError("account_not_of_clone", f"prop account {account_id} is not one of clone {clone_id}'s")
        if row.finalized_at_ms is not None:
            raise TradingError("account_finalized", f"prop account {account_id} is finalized")
        async with self.db.read() as r:
            other = await r.fetchval("SELECT clone_id FROM trading_activations WHERE account_id = ? AND clone_id != ?",
                                     (account_id, clone_id))
        if other is not None:
            raise TradingError("account_in_use", f"prop account {account_id} is activated for clone {other}")
        now = self.clock.now_ms()
        await self.writer.write(records.activate_statements(clone_id, account_id, demo, now))
        self._spawn(clone_id, account_id)
        return Activation(clone_id=clone_id, account_id=account_id, active=True, demo=demo, activated_ms=now)

    async def deactivate(self, clone_id: int, account_id: str) -> None:
        """Stop scheduling the pair; runs in flight finish and are recorded."""
        await self.writer.write(records.deactivate_statements(clone_id, account_id, self.clock.now_ms()))
        name = pilot_name(clone_id, account_id)
        if name in self.rt.system.names():
            await self.rt.system.stop(name, timeout=self.config.run_timeout_s)

    async def activations(self, *, active_only: bool = True) -> list[Activation]:
        async with self.db.read() as r:
            return await records.activations(r, active_only=active_only)

    async def pilot_state(self, clone_id: int, account_id: str) -> PilotState:
        return await self.rt.system.ref(pilot_name(clone_id, account_id)).ask(PilotStats())

    def _spawn(self, clone_id: int, account_id: str) -> None:
        name = pilot_name(clone_id, account_id)
        if name not in self.rt.system.names():
            self.rt.system.spawn(name, lambda: Pilot(self.scheduler, clone_id, account_id), supervisor=SUPERVISOR)

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
        return Pause(scope=scope, name=name, paused_by=admin, reason=reason, paused_ms=now)

    async def _resume(self, scope: PauseScope, name: str, admin: str, reason: str) -> None:
        await self.writer.write(records.resume_statements(scope, name, admin, reason, self.clock.now_ms()))
        self.scheduler.pauses.remove(scope, name)

    # ------------------------------------------------------------ decision runtime: reads

    async def history(self, clone_id: int, *, user: str | None = None, symbol: str | None = None,
                      status: str | None = None, dry_run: bool | None = None, account_id: str | None = None,
                      before_seq: int | None = None, limit: int = 50) -> list[Decision]:
        """Decision runs of a clone, newest first (`before_seq` pages on); `user=None` reads as admin."""
        await self._readable(clone_id, user)
        q = HistoryQuery(clone_id=clone_id, symbol=symbol, status=status, dry_run=dry_run, account_id=account_id,
                         before_seq=before_seq, limit=limit)
        async with self.db.read() as r:
            return await records.history(r, q)

    async def decision(self, run_id: str, *, user: str | None = None, keep_rows: int = 10) -> DecisionDetail:
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

    async def clone_costs(self, clone_id: int, *, user: str | None = None, days: int = 30) -> CloneCosts:
        await self._readable(clone_id, user)
        since = self._day_start(days)
        async with self.db.read() as r:
            total, by_day, by_asset = await records.clone_costs(r, clone_id, since)
        return CloneCosts(clone_id=clone_id, since_ms=since, total=total, days=by_day, assets=by_asset)

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

    async def dry_run(self, clone_id: int, *, user: str | None = None, ref: Ref = "draft") -> DryRun:
        """Run the pipeline once for every candidate of every enabled branch, on a synthetic book at
        the default starting equity: dry-run rows only, no prop account touched."""
        c = await self.compile(clone_id, ref, user=user)
        broken = [p for p in errors(c.problems) if p.code not in ENTITLEMENT_CODES]
        if broken:
            raise TradingError("invalid_graph", "; ".join(p.message for p in broken))
        denied = [p.message for p in errors(c.problems) if p.code in ENTITLEMENT_CODES]
        now = self.clock.now_ms()
        dry_id = uuid.uuid4().hex[:16]
        facts = await self.scheduler.facts()
        specs: list[RunSpec] = []
        for branch in c.compiled.branches:
            if not branch.enabled:
                continue
            scores = await context.prefilter_scores(self.scheduler.deps.memory, branch, now)
            by_symbol = {a.symbol: a for a in branch.assets}
            for candidate in choose(branch, [], scores).selected:
                key = f"{dry_id}\x1f{branch.prompt_node_id}\x1f{candidate.symbol}".encode()
                specs.append(RunSpec(
                    run_id="dd_" + hashlib.sha256(key).hexdigest()[:24], clone=c.clone, version=c.clone.version,
                    branch=branch, asset=by_symbol[candidate.symbol], candidate=candidate, due_ms=now,
                    model_strength=c.clone.model_strength, facts=facts.get(candidate.symbol), dry_run=True))
        if denied:
            await self.scheduler.record(
                runner.bare_row(s, None, "entitlement_denied", now, error_code="entitlement", error="; ".join(denied),
                                engine=self.decider.name) for s in specs)
        else:
            limits = self.rt.config.prop.limits.to_limits()
            side = SyntheticSide(limits, {s: f.spec() for s, f in facts.items()}, now)
            async with anyio.create_task_group() as tg:
                for spec in specs:
                    tg.start_soon(runner.execute, spec, side, self.scheduler.deps)
        async with self.db.read() as r:
            found = await records.decisions(r, [s.run_id for s in specs])
        return DryRun(dry_run_id=dry_id, clone_id=clone_id, ref=str(ref), as_of_ms=now, problems=denied,
                      decisions=found)

    # ------------------------------------------------------------ decision runtime: internals

    async def _marks(self, symbols: Any) -> dict[str, Any]:
        """Latest execution prices, fresher than `mark_max_age_s`; read once per instant for every
        enabled asset, so the runs of one tick share one read."""
        wanted = list(symbols)
        now = self.clock.now_ms()
        universe = tuple(sorted({*self.rt.config.market.hyperliquid.assets, *wanted}))
        found = await self._mark_memo.get(now, universe, lambda: self._read_marks(universe, now))
        missing = [s for s in wanted if s not in found and s not in universe]
        extra = await self._read_marks(tuple(missing), now) if missing else {}
        return {s: px for s in wanted if (px := found.get(s, extra.get(s))) is not None}

    async def _read_marks(self, symbols: tuple[str, ...], now: int) -> dict[str, Any]:
        max_age = round(self.config.mark_max_age_s * 1000)
        if self.market is not None:
            return await self.market.latest_marks(list(symbols), max_age_ms=max_age)
        prices = await self.memory.latest_prices(list(symbols), now)
        return {s: px for s, (px, at) in prices.items() if now - at <= max_age}

    async def _sweep(self, now_ms: int) -> int:
        cfg = self.config
        deleted = await self.artifacts.sweep(self.db, self.writer, now_ms, cfg.artifacts.retention_batch)
        await self.answers.prune(now_ms - round(cfg.cache_retention_days * DAY_MS))
        return deleted

    async def _close(self) -> None:
        engine = getattr(self.decider, "engine", None)
        if engine is not None and hasattr(engine, "aclose"):
            await engine.aclose()

    async def ensure_demo(self) -> Activation | None:
        """The demo clone (owner `demo`) on BTC, ETH and SOL in a sandbox account, once per database."""
        from clash.clones.basic import BasicChoices, build

        async with self.db.read() as r:
            if await r.fetchval("SELECT 1 FROM trading_activations WHERE demo = 1"):
                return None
        wanted = [s for s in DEMO_ASSETS if s in self.rt.config.market.hyperliquid.assets]
        pipeline = build(BasicChoices(assets=wanted, profile="balanced", prompt=DEMO_PROMPT))
        nodes = [msgspec.structs.replace(n, config=msgspec.structs.replace(n.config, decision_cadence_sec=DEMO_CADENCE_S))
                 if isinstance(n, TradingPromptNode) else n for n in pipeline.nodes]
        pipeline = msgspec.structs.replace(pipeline, nodes=nodes)
        owned = await self.clones.list_clones(DEMO_OWNER)
        clone = owned[0] if owned else await self.clones.create_clone(DEMO_OWNER, "Demo Trend")
        if not clone.latest_version:
            await self.clones.save_pipeline(DEMO_OWNER, clone.id, pipeline)
            await self.clones.publish(DEMO_OWNER, clone.id, "demo")
        accounts = [a for a in await self.prop.accounts_of_clone(str(clone.id)) if a.finalized_at_ms is None]
        account = accounts[0].account_id if accounts else await self.prop.open_account(
            str(clone.id), "sandbox", universe=wanted, owner_user_id=DEMO_OWNER)
        return await self.activate(clone.id, account, demo=True)


def _family(name: str) -> str:
    if name not in (*ENGINE_FAMILIES, *SOURCE_FAMILIES):
        raise TradingError("unknown_source_family", f"{name!r} is not a source family (engines: "
                                                    f"{', '.join(ENGINE_FAMILIES)}; data: {', '.join(SOURCE_FAMILIES)})")
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


def build_decider(cfg: TradingConfig, api_key: str | None, cache: ResponseCache) -> Decider:
    """`auto`: Anthropic when a key is configured, else the rules engine."""
    from clash.trading.engines.hold import HoldEngine

    choice = cfg.engine
    if choice == "auto":
        choice = "anthropic" if api_key else "rules"
    if choice == "rules":
        return RulesDecider(cfg.rules)
    if choice == "hold":
        return ModelDecider(HoldEngine())
    if not api_key:
        raise TradingError("engine_not_configured", "trading.engine = \"anthropic\" needs ANTHROPIC_API_KEY")
    from clash.trading.engines.anthropic import AnthropicEngine

    a = cfg.anthropic
    engine = AnthropicEngine(api_key=api_key, now=MONOTONIC, base_url=a.base_url, timeout=a.timeout_s,
                             attempts=a.attempts, backoff_base=a.backoff_base_s, backoff_max=a.backoff_max_s,
                             retry_after_max=a.retry_after_max_s)
    return ModelDecider(engine, cache)


class DemoTry(Message, frozen=True):
    """Timer: try to set up the demo clone (the registry may not have its assets yet)."""


class DemoSetup(Actor):
    RETRY_S = 10.0

    def __init__(self, module: TradingModule) -> None:
        self.module = module
        self.done = False
        self.last_error: str | None = None

    async def on_start(self) -> None:
        self.after(0, DemoTry())

    async def receive(self, msg: Any) -> Any:
        if not isinstance(msg, DemoTry):
            raise Unhandled(msg)
        if not self.done:
            try:
                await self.module.ensure_demo()
                self.done = True
            except Exception as exc:  # the registry may lag behind boot: try again later
                self.last_error = repr(exc)
                self.after(self.RETRY_S, DemoTry())
        return None
