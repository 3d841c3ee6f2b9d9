"""The decision runtime's pure pieces and small stores: the packet → prompt mapping, run ids and
rows, cadence alignment and retry rules, leases, pauses, the artifact store, the SQLite cache."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from pathlib import Path

import msgspec
import pytest

from clash.prop.book import open_account
from clash.prop.fills import Fill, Position
from clash.prop.gates import Limits
from clash.store import Database, discover_migrations
from clash.trading import records
from clash.trading.account_side import Execution
from clash.trading.actions import Rejected, ValidAction
from clash.trading.artifacts import Artifacts, LocalObjectStore, artifact_key
from clash.trading.config import TradingConfig
from clash.trading.engines.base import EngineAnswer
from clash.trading.packet import (
    AssetContext,
    Bar,
    Branch,
    BranchAsset,
    Candidate,
    CandidatePolicyView,
    CandleData,
    CloneRef,
    ContextBlock,
    IndicatorData,
    MidData,
    ReadPlan,
)
from clash.trading.packet_prompt import num, prompt_input, sections
from clash.trading.prompt import render_prompt
from clash.trading.records import ArtifactPart, RecordWriter
from clash.trading.run_rows import action_row, bare_row, run_status
from clash.trading.run_spec import RunSpec, run_id_for
from clash.trading.scheduler import Leases, Pauses, backoff_s, first_tick, is_final, last_tick
from clash.trading.sqlite_cache import SqliteAnswerStore

pytestmark = pytest.mark.anyio

CLONE = CloneRef(
    clone_id=7,
    owner_id="ada",
    name="Trend",
    ref="version",
    version=2,
    revision=None,
    model_strength="light",
    tier="starter",
)


def ctx() -> AssetContext:
    candles = ContextBlock(
        stream_node_id="c",
        symbol="BTC",
        context_symbol="BTC",
        source="hyperliquid",
        channel="ohlcv",
        granularity="5m",
        include_in_prompt=True,
        status="ok",
        latest_ms=0,
        points=2,
        data=CandleData(
            interval="5m",
            bars=[Bar(600_000, 2, 3, 1, 2.5, 10), Bar(300_000, 1, 2, 0.5, 1.5, 12.25)],
        ),
    )
    rsi = ContextBlock(
        stream_node_id="r",
        symbol="BTC",
        context_symbol="ETH",
        source="hyperliquid",
        channel="rsi",
        granularity="5m",
        include_in_prompt=True,
        status="stale",
        latest_ms=0,
        points=1,
        data=IndicatorData(fields=["rsi"], rows=[[300_000, 41.123456789]]),
    )
    hidden = ContextBlock(
        stream_node_id="m",
        symbol="BTC",
        context_symbol="BTC",
        source="hyperliquid",
        channel="mid_price",
        granularity="1m",
        include_in_prompt=False,
        status="ok",
        latest_ms=0,
        points=1,
        data=MidData(px=Decimal("2.5"), at_ms=0),
    )
    return AssetContext(
        prompt_node_id="p",
        symbol="BTC",
        candidate=Candidate(symbol="BTC", rank=1, reason="universe"),
        decision_cadence_sec=300,
        blocks=[candles, rsi, hidden],
        skipped=[],
        sections=[],
        estimated_prompt_tokens=0,
    )


def test_packet_blocks_become_prompt_series_oldest_first_with_their_interval() -> None:
    got = sections(ctx())
    assert [(s.title, s.interval) for s in got] == [
        ("BTC candles", "5m"),
        ("ETH rsi (context for BTC) [stale]", "5m"),
    ]
    assert got[0].columns == ("open", "high", "low", "close", "volume")
    assert got[1].rows[0].cells == ("41.1235",)
    assert [num(x) for x in (1.25e-05, 89150.0, 1e21, 3)] == [
        Decimal("0.0000125"),
        "89150",
        Decimal("1E+21"),
        3,
    ]
    book = open_account(0, Limits()).book
    prompt = render_prompt(
        prompt_input(
            clone_name="Trend",
            ctx=ctx(),
            strategy_prompt="Buy dips.",
            legal=frozenset({"hold", "open_long"}),
            now_ms=900_000,
            mark_px=Decimal("2.5"),
            book=book,
            marks={},
            limits=Limits(),
            asset_max_leverage=40,
        )
    )
    assert "## BTC candles (interval 5m; 2 rows, oldest → newest)" in prompt.user
    rows = prompt.user.split("## BTC candles")[1].splitlines()[2:4]
    assert rows == ["1970-01-01T00:05:00Z,1,2,0.5,1.5,12.25", "1970-01-01T00:10:00Z,2,3,1,2.5,10"]
    assert (
        "mid" not in prompt.user.split("# Context")[1] and "leverage at most 10x" in prompt.system
    )


def test_run_ids_are_deterministic_and_distinct() -> None:
    a = run_id_for("pa_1", "p", "BTC", 1000)
    assert a == run_id_for("pa_1", "p", "BTC", 1000) and a.startswith("dr_") and len(a) == 27
    assert (
        len(
            {
                a,
                run_id_for("pa_2", "p", "BTC", 1000),
                run_id_for("pa_1", "q", "BTC", 1000),
                run_id_for("pa_1", "p", "ETH", 1000),
                run_id_for("pa_1", "p", "BTC", 2000),
            }
        )
        == 5
    )


def spec() -> RunSpec:
    asset = BranchAsset(
        symbol="BTC",
        enabled=True,
        decision_cadence_sec=300,
        prompt="x",
        prompt_source="global",
        reads=[],
        skipped=[],
    )
    branch = Branch(
        prompt_node_id="p",
        label=None,
        enabled=True,
        coverage_mode="global",
        decision_cadence_sec=300,
        candidate_policy=CandidatePolicyView(
            max_candidates=10, include_open_positions=True, prefilter="none"
        ),
        selection_node_ids=["s"],
        assets=[asset],
    )
    return RunSpec(
        run_id="dr_x",
        clone=CLONE,
        version=2,
        branch=branch,
        asset=asset,
        candidate=Candidate(symbol="BTC", rank=1, reason="universe"),
        due_ms=1000,
        model_strength="light",
    )


def test_action_rows_follow_the_action_through_parse_gates_and_fill() -> None:
    valid = ValidAction(
        kind="open_long",
        asset="BTC",
        confidence=Decimal("0.7"),
        reason="up",
        size_usd=Decimal(100),
        leverage=2,
        invalidation="below 90",
    )
    rejected = action_row(spec(), "pa_1", Rejected(code="not_json", message="bad"), 1, 2, None)
    assert (rejected.status, rejected.stage, rejected.reason_code, run_status(rejected)) == (
        "rejected",
        "answer",
        "not_json",
        "rejected",
    )
    gates = action_row(
        spec(),
        "pa_1",
        valid,
        1,
        2,
        Execution(
            outcome="rejected", reason_code="below_min_notional", message="too small", at_ms=2
        ),
    )
    assert (gates.status, gates.stage, gates.kind, gates.invalidation) == (
        "rejected",
        "gates",
        "open_long",
        "below 90",
    )
    fill = Fill(
        symbol="BTC",
        side="buy",
        size=Decimal("0.001"),
        px=Decimal("100000"),
        ref_px=Decimal("99990"),
        notional_micro=100_000_000,
        fee_micro=45_000,
        at_ms=3,
        action_id="dr_x",
    )
    done = action_row(
        spec(), "pa_1", valid, 1, 2, Execution(outcome="filled", fill=fill, order_no=4, at_ms=3)
    )
    assert (done.status, done.order_no, done.fill_px, done.executed_ms, run_status(done)) == (
        "executed",
        4,
        Decimal("100000"),
        3,
        "filled",
    )
    assert done.action_id == "dr_x"
    held = action_row(spec(), "pa_1", valid, 1, 2, Execution(outcome="held", at_ms=2))
    assert run_status(held) == "held"
    row = bare_row(spec(), "pa_1", "skipped", 5, error_code="paused", error="clone 7 is paused")
    assert (row.status, row.engine, row.attempts, row.started_ms) == ("skipped", "none", 0, 5)


def test_ticks_align_to_the_cadence_and_retries_stop_before_the_next_one() -> None:
    assert first_tick(1000.0, 300, 7.0) == 1207.0
    assert first_tick(1207.0, 300, 7.0) == 1507.0
    assert first_tick(1206.0, 60, 7.0) == 1207.0
    assert last_tick(1207.0, 300, 7.0) == 1207.0 and last_tick(1506.9, 300, 7.0) == 1207.0
    cfg = TradingConfig(run_attempts=3, retry_backoff_s=20.0, retry_backoff_max_s=30.0)
    assert [backoff_s(cfg, n) for n in (1, 2, 3)] == [20.0, 30.0, 30.0]
    assert not is_final(cfg, 1, 0, 0, 300) and is_final(cfg, 3, 0, 0, 300)
    assert is_final(cfg, 1, 290_000, 0, 300)  # the retry would land after the next tick


def test_leases_and_pauses() -> None:
    leases = Leases()
    assert leases.acquire(("pa", "BTC"), "r1") and not leases.acquire(("pa", "BTC"), "r1")
    assert not leases.acquire(("pa", "BTC"), "r2") and leases.of_account("pa") == {
        ("pa", "BTC"): "r1"
    }
    leases.release(("pa", "BTC"), "r2")
    assert leases.of_account("pa") == {("pa", "BTC"): "r1"}
    leases.release(("pa", "BTC"), "r1")
    assert leases.acquire(("pa", "BTC"), "r2") and leases.of_account("pa") == {("pa", "BTC"): "r2"}

    asset = spec().asset
    plan = ReadPlan(
        stream_node_id="pm",
        selection_node_id="s",
        symbol="BTC",
        context_symbol="BTC",
        cross_asset=False,
        source="polymarket",
        channel="market_discovery",
        profile="balanced",
        lookback_minutes=60,
        granularity="1h",
        max_datapoints=1,
        include_in_prompt=True,
        reads=[],
    )
    reading = msgspec.structs.replace(asset, reads=[plan])
    pauses = Pauses()
    assert pauses.blocking(7, "rules", reading) is None
    pauses.add("source", "polymarket")
    assert (
        "polymarket" in pauses.blocking(7, "rules", reading)
        and pauses.blocking(7, "rules", asset) is None
    )
    pauses.add("clone", "7")
    assert "clone 7" in pauses.blocking(7, "rules", asset)
    pauses.remove("clone", "7")
    pauses.add("source", "rules")
    assert "rules engine" in pauses.blocking(7, "rules", asset)


async def migrated(tmp_path: Path) -> Database:
    db = await Database.open(tmp_path / "t.db")
    await db.migrate(discover_migrations(["clash.trading"]), now_ms=0)
    return db


async def test_artifacts_round_trip_and_expire(tmp_path) -> None:
    db = await migrated(tmp_path)
    try:
        writer = RecordWriter(db)
        store = LocalObjectStore(tmp_path / "artifacts")
        arts = Artifacts(store, retention_ms=1000)
        rows = await asyncio_gather(
            arts,
            [
                ("dr_x", {"context": b'{"a":1}', "response": b'"text"'}),
                ("dr_y", {"context": b"[]"}),
            ],
        )
        row = rows[0]
        assert row.key == artifact_key("dr_x", 86_400_000) == "decisions/1970-01-02/dr_x.json.gz"
        assert row.parts["context"] == ArtifactPart(7, hashlib.sha256(b'{"a":1}').hexdigest())
        for r, run_id in zip(rows, ("dr_x", "dr_y")):
            run = msgspec.structs.replace(
                bare_row(spec(), "pa_1", "held", 86_400_000), run_id=run_id
            )
            await writer.write(records.run_statements(run, None, r))
        assert await arts.read(row) == {"context": b'{"a":1}', "response": b'"text"'}
        assert await arts.sweep(db, writer, 86_400_999, 10) == 0
        assert await arts.sweep(db, writer, 86_401_000, 10) == 2
        async with db.read() as r:
            after = await records.artifact_of(r, "dr_x")
        assert after.deleted_ms == 86_401_000 and await arts.read(after) is None
        assert not (tmp_path / "artifacts" / "decisions" / "1970-01-02").exists()
        for bad in ("../escape", "/abs", "a//b", ""):
            with pytest.raises(ValueError):
                store.path(bad)
    finally:
        await db.close()


async def asyncio_gather(arts: Artifacts, jobs) -> list:
    """Archive concurrently (they share one batch)."""
    import anyio

    out: dict[int, object] = {}

    async def one(i, run_id, parts):
        out[i] = await arts.archive(run_id, 86_400_000, parts)

    async with anyio.create_task_group() as tg:
        for i, (run_id, parts) in enumerate(jobs):
            tg.start_soon(one, i, run_id, parts)
    return [out[i] for i in range(len(jobs))]


async def test_the_sqlite_answer_store_survives_and_prunes(tmp_path) -> None:
    db = await migrated(tmp_path)
    try:
        now = [1000]
        store = SqliteAnswerStore(db, RecordWriter(db), lambda: now[0])
        answer = EngineAnswer(
            text="{}",
            engine="anthropic",
            model="m",
            input_tokens=3,
            output_tokens=4,
            cost_micro_usd=5,
        )
        assert await store.get("k") is None
        await store.put("k", answer)
        await store.put("k", answer)
        assert await store.get("k") == answer
        assert await store.prune(1000) == 0 and await store.prune(1001) == 1
        assert await store.get("k") is None
    finally:
        await db.close()


def test_positions_carry_the_invalidation_into_the_prompt() -> None:
    book = open_account(0, Limits()).book
    position = Position(
        symbol="BTC",
        side="long",
        size=Decimal("0.01"),
        entry_px=Decimal(2),
        leverage=2,
        margin_micro=10_000,
        mark_px=Decimal("2.5"),
        opened_at_ms=0,
        updated_at_ms=0,
    )
    book = msgspec.structs.replace(book, positions={"BTC": position})
    inp = prompt_input(
        clone_name="T",
        ctx=ctx(),
        strategy_prompt="",
        legal=frozenset({"hold", "close", "reduce"}),
        now_ms=0,
        mark_px=Decimal("2.5"),
        book=book,
        marks={"BTC": Decimal("2.5")},
        limits=Limits(),
        asset_max_leverage=40,
        invalidations={"BTC": "below 1.9"},
    )
    assert inp.positions[0].invalidation == "below 1.9" and "below 1.9" in render_prompt(inp).user


def test_the_demo_settings_are_validated_and_build_the_demo_graph() -> None:
    from clash.clones.graph import DataStreamNode, TradingPromptNode
    from clash.config import load_config
    from clash.trading.config import DemoSettings
    from clash.trading.demo import check_settings, demo_pipeline

    demo = load_config(environ={}).trading.demo
    assert demo is not None
    check_settings(demo)
    pipeline = demo_pipeline(demo, demo.assets)
    streams = [n for n in pipeline.nodes if isinstance(n, DataStreamNode)]
    assert [(s.config.channel, s.config.profile) for s in streams] == [
        (c, demo.profile) for c in demo.channels
    ]
    (prompt,) = [n for n in pipeline.nodes if isinstance(n, TradingPromptNode)]
    assert (prompt.config.decision_cadence_sec, prompt.config.custom_behavior_prompt) == (
        demo.cadence_s,
        demo.prompt,
    )
    assert {e.source for e in pipeline.edges if e.target == "basic-assets"} == {
        s.id for s in streams
    }

    with pytest.raises(ValueError, match="demo_clone needs"):
        TradingConfig(demo_clone=True)
    for bad, match in (
        (dict(cadence_s=30), "cadence_s"),
        (dict(assets=[]), "assets"),
        (dict(channels=["ohlcv", "ohlcv"]), "channels"),
        (dict(prompt="  "), "prompt"),
    ):
        with pytest.raises(ValueError, match=match):
            DemoSettings(**(msgspec.structs.asdict(demo) | bad))
    with pytest.raises(ValueError, match="unknown Hyperliquid channel"):
        check_settings(msgspec.structs.replace(demo, channels=["ohlcv", "tea_leaves"]))
