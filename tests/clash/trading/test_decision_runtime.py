"""The decision runtime end to end: market memory from the simulator, a published clone activated
on a sandbox prop account, the scheduler's cadence timers on a VirtualClock, real SQLite."""

from __future__ import annotations

import collections
import time

import anyio
import msgspec
import pytest

from clash.clones.graph import decode_pipeline
from clash.trading import records
from clash.trading.actions import hold_answer, parse_answer
from clash.trading.deciders import DecisionJob, ModelDecider
from clash.trading.engines import EngineError, ScriptedEngine
from clash.trading.rules import RulesDecider
from clash.trading.scheduler import PilotTick, first_tick, pilot_name

from tests.helpers.decision_world import ASSETS, Intercept, decision_world, trading_config

pytestmark = pytest.mark.anyio

ILLEGAL_CLOSE = '{"action": "close", "asset": "SOL", "confidence": 0.5, "reason": "scripted: close what is not open"}'


def expected_ticks(start_s: float, seconds: float, cadence: int, offset: float = 7.0) -> list[int]:
    t, out = first_tick(start_s, cadence, offset), []
    while t <= start_s + seconds:
        out.append(round(t * 1000))
        t += cadence
    return out


async def test_rules_engine_trades_three_assets_for_an_hour(tmp_path) -> None:
    injected: list[str] = []

    def one_illegal(job: DecisionJob) -> str | None:
        if job.context.symbol == "SOL" and not injected and "close" not in job.legal:
            injected.append(job.run_id)
            return ILLEGAL_CLOSE
        return None

    decider = Intercept(RulesDecider(trading_config().rules), one_illegal)
    async with decision_world(tmp_path, decider=decider) as w:
        cid = await w.publish()
        account = await w.activate(cid)
        start = w.clock.now()
        await w.clock.advance(3600)

        runs = await w.runs(cid)
        ticks = expected_ticks(start, 3600, 300)
        assert len(ticks) == 12
        by_asset = collections.defaultdict(list)
        for r in runs:
            by_asset[r.symbol].append(r.due_ms)
        assert {s: sorted(v) for s, v in by_asset.items()} == {s: ticks for s in ASSETS}
        assert all(r.engine == "rules" and r.model == "rules-v1" and not r.dry_run for r in runs)
        assert all(r.account_id == account and r.version == 1 for r in runs)

        decisions = await w.decisions(cid)
        executed = [d for d in decisions if d.action and d.action.status == "executed"]
        assert executed, collections.Counter(d.run.status for d in decisions)
        fills = {f.order_no: f for f in await w.prop.fills(account, 500)}
        assert len(fills) == len(executed)
        for d in executed:
            assert d.run.status == "filled" and d.action.action_id == d.run.run_id
            fill = fills[d.action.order_no]
            assert (fill.px, fill.size, fill.symbol) == (
                d.action.fill_px,
                d.action.fill_size,
                d.run.symbol,
            )

        (rejected,) = [d for d in decisions if d.run.run_id == injected[0]]
        expected = parse_answer(ILLEGAL_CLOSE, "SOL", rejected.run.legal)
        assert rejected.run.status == "rejected" and rejected.action.status == "rejected"
        assert (rejected.action.stage, rejected.action.reason_code, rejected.action.reason) == (
            "answer",
            "illegal_action",
            expected.message,
        )
        assert rejected.action.order_no is None

        async with w.rt.db.read() as r:
            stored = [await records.artifact_of(r, d.run.run_id) for d in decisions]
        assert all(a is not None and a.deleted_ms is None for a in stored)
        for a, d in zip(stored, decisions):
            assert set(a.parts) == {"context", "response", "reasoning"}
            assert a.parts["context"].sha256 == d.run.context_sha256
            assert (w.rt.artifacts_dir / a.key).is_file()

        report = await w.rt.db.check()
        assert report.ok, report.problems


def two_prompts(symbols=("BTC", "ETH")) -> dict:
    return {
        "nodes": [
            {
                "type": "data_stream",
                "id": "candles",
                "config": {"source": "hyperliquid", "channel": "ohlcv", "profile": "fast"},
            },
            {
                "type": "asset_selection",
                "id": "assets",
                "config": {"explicitlyEnabledSymbols": list(symbols)},
            },
            {
                "type": "trading_prompt",
                "id": "p1",
                "config": {"customBehaviorPrompt": "one", "decisionCadenceSec": 300},
            },
            {
                "type": "trading_prompt",
                "id": "p2",
                "config": {"customBehaviorPrompt": "two", "decisionCadenceSec": 300},
            },
        ],
        "edges": [
            {"source": "candles", "target": "assets"},
            {"source": "assets", "target": "p1"},
            {"source": "assets", "target": "p2"},
        ],
    }


class Slow:
    """Holds after a real-time delay, counting how many decisions run at once, per asset and overall."""

    name = "scripted"
    needs_prompt = True

    def __init__(self, delay: float = 0.08) -> None:
        self.delay = delay
        self.now: collections.Counter[str] = collections.Counter()
        self.peak: collections.Counter[str] = collections.Counter()
        self.peak_total = 0
        self.calls = 0

    def model_for(self, model_strength: str) -> str:
        return "slow"

    def prompt_version(self) -> str:
        return "v1"

    async def decide(self, job: DecisionJob):
        from clash.trading.engines.base import EngineAnswer

        symbol = job.context.symbol
        self.calls += 1
        self.now[symbol] += 1
        self.peak[symbol] = max(self.peak[symbol], self.now[symbol])
        self.peak_total = max(self.peak_total, sum(self.now.values()))
        try:
            await anyio.sleep(self.delay)
        finally:
            self.now[symbol] -= 1
        return EngineAnswer(text=hold_answer(symbol, "slow"), engine=self.name, model="slow")


async def test_a_slow_engine_never_runs_the_same_asset_twice_at_once(tmp_path) -> None:
    slow = Slow()
    async with decision_world(tmp_path, decider=slow) as w:
        pipeline, problems = decode_pipeline(msgspec.json.encode(two_prompts()))
        assert pipeline is not None, problems
        cid = await w.publish(graph=pipeline)
        account = await w.activate(cid, universe=["BTC", "ETH"])
        await w.clock.advance(1800)
        assert slow.peak == {"BTC": 1, "ETH": 1}
        assert slow.peak_total == 2  # different assets overlap
        runs = await w.runs(cid)
        per = collections.Counter((r.prompt_node_id, r.symbol) for r in runs)
        assert per == {(p, s): 6 for p in ("p1", "p2") for s in ("BTC", "ETH")}

        ref = w.rt.system.ref(pilot_name(cid, account))
        await ref.tell(PilotTick(cadence_s=300))
        await ref.tell(PilotTick(cadence_s=300))  # its own runs are still in flight: dropped
        await w.clock.settle()
        state = await w.trading.pilot_state(cid, account)
        assert state.dropped_ticks == 4 and state.running == [] and state.pending == 0
        assert slow.peak == {"BTC": 1, "ETH": 1}


async def test_engine_failure_is_retried_then_recorded_and_the_asset_runs_again(tmp_path) -> None:
    hold = lambda req: hold_answer(req.asset, "scripted")  # noqa: E731
    engine = ScriptedEngine(
        [
            EngineError("server_error", "boom"),
            EngineError("overloaded", "busy"),
            EngineError("server_error", "boom"),
            hold,
            hold,
            hold,
        ]
    )
    async with decision_world(
        tmp_path,
        decider=ModelDecider(engine),
        trading=trading_config(run_attempts=3, retry_backoff_s=20.0),
    ) as w:
        cid = await w.publish(assets=["BTC"])
        await w.activate(cid, universe=["BTC"])
        await w.clock.advance(900)
        runs = await w.runs(cid)
        assert [(r.status, r.attempts, r.error_code) for r in runs] == [
            ("failed", 3, "server_error"),
            ("held", 1, None),
            ("held", 1, None),
        ]
        assert runs[1].due_ms - runs[0].due_ms == 300_000
        assert len(engine.requests) == 5 and engine.remaining == 1


async def test_only_hold_means_no_engine_call(tmp_path) -> None:
    engine = ScriptedEngine([])
    async with decision_world(tmp_path, decider=ModelDecider(engine)) as w:
        cid = await w.publish(assets=["BTC", "ETH"])
        account = await w.activate(cid, universe=["BTC", "ETH"])
        await w.prop.pause(account, "ops")
        await w.clock.advance(600)
        runs = await w.runs(cid)
        assert len(runs) == 4 and {r.status for r in runs} == {"hold_only"}
        assert all(r.engine == "none" and r.attempts == 0 and r.legal == ["hold"] for r in runs)
        assert engine.requests == []


async def test_a_clone_over_its_tier_is_not_run(tmp_path) -> None:
    engine = ScriptedEngine([])
    async with decision_world(tmp_path, decider=ModelDecider(engine)) as w:
        cid = await w.publish(assets=["BTC", "ETH", "SOL", "HYPE/USDC"], tier="builder")
        await w.activate(cid, universe=["BTC", "ETH", "SOL", "HYPE/USDC"])
        await w.clones.grant_tier(
            cid, "starter", source="admin", granted_by="ops", reason="downgrade"
        )
        await w.clock.advance(300)
        runs = await w.runs(cid)
        assert len(runs) == 4 and {r.status for r in runs} == {"entitlement_denied"}
        assert "3" in runs[0].error and engine.requests == []


async def test_admin_pauses_skip_runs_until_resumed(tmp_path) -> None:
    async with decision_world(tmp_path) as w:
        cid = await w.publish(assets=["BTC"])
        await w.activate(cid, universe=["BTC"])
        await w.trading.pause_clone(cid, "ops", "investigating")
        await w.clock.advance(300)
        await w.trading.resume_clone(cid, "ops")
        await w.trading.pause_source_family("rules", "ops")
        await w.clock.advance(300)
        await w.trading.resume_source_family("rules", "ops")
        await w.trading.pause_source_family("polymarket", "ops")  # the graph reads none of it
        await w.clock.advance(300)
        runs = await w.runs(cid)
        assert [(r.status, r.error_code) for r in runs][:2] == [
            ("skipped", "paused"),
            ("skipped", "paused"),
        ]
        assert "clone" in runs[0].error and "rules engine" in runs[1].error
        assert runs[2].status in ("held", "filled")
        assert [(p.scope, p.name) for p in await w.trading.pauses()] == [("source", "polymarket")]


async def test_dry_run_writes_dry_run_rows_only(tmp_path) -> None:
    async with decision_world(tmp_path) as w:
        cid = await w.publish()
        async with w.rt.db.read() as r:
            before = await r.fetchval("SELECT COUNT(*) FROM prop_actions")
        result = await w.trading.dry_run(cid, user="ada")
        assert [d.run.symbol for d in result.decisions] == list(ASSETS) and result.problems == []
        for d in result.decisions:
            assert (
                d.run.dry_run
                and d.run.account_id is None
                and d.run.status in ("held", "filled", "rejected")
            )
            assert d.action is not None and d.action.dry_run and d.action.order_no is None
        assert await w.prop.accounts_of_clone(cid) == []
        async with w.rt.db.read() as r:
            assert await r.fetchval("SELECT COUNT(*) FROM prop_actions") == before
            assert await records.runs_of_clone(r, cid, dry_run=False) == []


class Gate:
    """Holds once `release` is set; counts the decisions in flight."""

    name = "scripted"
    needs_prompt = True

    def __init__(self) -> None:
        self.release = anyio.Event()
        self.in_flight = 0
        self.calls = 0

    def model_for(self, model_strength: str) -> str:
        return "gate"

    def prompt_version(self) -> str:
        return "v1"

    async def decide(self, job: DecisionJob):
        from clash.trading.engines.base import EngineAnswer

        self.calls += 1
        self.in_flight += 1
        try:
            await self.release.wait()
        finally:
            self.in_flight -= 1
        return EngineAnswer(
            text=hold_answer(job.context.symbol, "gate"), engine=self.name, model="gate"
        )


async def test_a_pilot_restarted_mid_run_neither_doubles_nor_strands_the_asset(tmp_path) -> None:
    gate = Gate()
    async with decision_world(tmp_path, decider=gate) as w:
        cid = await w.publish(assets=["BTC"])
        account = await w.activate(cid, universe=["BTC"])
        ref = w.rt.system.ref(pilot_name(cid, account))
        due = w.clock.now_ms()
        await ref.tell(PilotTick(cadence_s=300, due_ms=due))
        while gate.in_flight == 0:
            await anyio.sleep(0.01)

        clones, failed = w.clones, []
        real = clones.published_version

        async def once_broken(clone_id, version=None):
            if not failed:
                failed.append(clone_id)
                raise RuntimeError("database hiccup")
            return await real(clone_id, version)

        clones.published_version = once_broken
        try:  # crashes the pilot; after its restart the tick is handled and waits for the lease
            await ref.tell(PilotTick(cadence_s=300, due_ms=due + 1000))
            await w.trading.pilot_state(cid, account)  # answered after the tick (one mailbox)
        finally:
            clones.published_version = real
        await ref.tell(PilotTick(cadence_s=300, due_ms=due))  # the run in flight, again: dropped
        state = await w.trading.pilot_state(cid, account)
        assert failed and state.pending == 1 and state.dropped_ticks == 1
        assert (gate.in_flight, gate.calls) == (1, 1)

        gate.release.set()
        await w.clock.settle()
        assert (gate.calls, gate.in_flight) == (2, 0)
        assert [(r.status, r.due_ms) for r in await w.runs(cid)] == [
            ("held", due),
            ("held", due + 1000),
        ]
        assert w.trading.scheduler.leases.of_account(account) == {}
        await w.clock.advance(300)
        assert gate.calls == 3


class SlowOnTheClock:
    """A model that takes `seconds` of clock time for each of its first `slow` calls, then holds."""

    name = "scripted"
    needs_prompt = False

    def __init__(self, seconds: float, slow: int) -> None:
        self.seconds = seconds
        self.slow = slow
        self.calls: list[int] = []
        self.clock = None

    def model_for(self, model_strength: str) -> str:
        return "slow-on-the-clock"

    def prompt_version(self) -> str:
        return "none"

    async def decide(self, job: DecisionJob):
        from clash.trading.engines.base import EngineAnswer

        self.calls.append(self.clock.now_ms())
        if len(self.calls) <= self.slow:
            await self.clock.sleep(self.seconds)
        return EngineAnswer(
            text=hold_answer(job.context.symbol, "slow"), engine=self.name, model="slow"
        )


async def test_run_timeouts_and_retry_backoff_elapse_on_the_virtual_clock(tmp_path) -> None:
    slow = SlowOnTheClock(seconds=3600, slow=2)
    cfg = trading_config(run_timeout_s=60.0, run_attempts=2, retry_backoff_s=30.0)
    async with decision_world(tmp_path, decider=slow, trading=cfg) as w:
        slow.clock = w.clock
        cid = await w.publish(assets=["BTC"])
        await w.activate(cid, universe=["BTC"])
        wall = time.monotonic()
        await w.clock.advance(600)
        assert (
            time.monotonic() - wall < 30
        )  # 2 x 60 s of timeouts and a 30 s backoff, none of it slept
        first, second = await w.runs(cid)
        assert (first.status, first.error_code, first.attempts) == ("failed", "timeout", 2)
        # attempt 1 times out at +60 s, attempt 2 starts after the 30 s backoff and times out 60 s later
        assert [c - first.due_ms for c in slow.calls[:2]] == [0, 90_000]
        assert first.finished_ms - first.due_ms == 150_000
        assert (second.status, second.due_ms - first.due_ms, len(slow.calls)) == (
            "held",
            300_000,
            3,
        )
