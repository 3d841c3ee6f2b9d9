"""The `rules` engine, pure: signals read off a context packet, the action chosen, and an answer
that passes the same strict parser as a model's."""

from __future__ import annotations

from decimal import Decimal

import pytest

from clash.trading.actions import ValidAction, parse_answer
from clash.trading.config import RulesSettings
from clash.trading.packet import (
    AssetContext,
    Bar,
    Candidate,
    CandleData,
    ContextBlock,
    FundingData,
    IndicatorData,
)
from clash.trading.rules import RULES_VERSION, Inputs, choose, decide, inputs_of, signals

CFG = RulesSettings()
FLAT = frozenset({"hold", "open_long", "open_short"})
HELD = frozenset({"hold", "reduce", "close"})


def block(data, channel="ohlcv", context_symbol="BTC", sid=None) -> ContextBlock:
    return ContextBlock(
        stream_node_id=sid or channel,
        symbol="BTC",
        context_symbol=context_symbol,
        source="hyperliquid",
        channel=channel,
        granularity="5m",
        include_in_prompt=True,
        status="ok",
        latest_ms=0,
        points=1,
        data=data,
    )


def context(closes=(), rsi=None, bands=None, hist=(), funding=None, extra=()) -> AssetContext:
    blocks = list(extra)
    if closes:
        blocks.append(
            block(
                CandleData(
                    interval="5m",
                    bars=[Bar(i * 300_000, c, c, c, c, 1.0) for i, c in enumerate(closes)],
                )
            )
        )
    if rsi is not None:
        blocks.append(block(IndicatorData(fields=["rsi"], rows=[[0, None], [1, rsi]]), "rsi"))
    if bands is not None:
        blocks.append(
            block(
                IndicatorData(
                    fields=["sma", "bb_upper", "bb_lower"], rows=[[0, 1.0, bands[1], bands[0]]]
                ),
                "bollinger_bands",
            )
        )
    if hist:
        blocks.append(
            block(
                IndicatorData(
                    fields=["macd", "macd_signal", "macd_hist"],
                    rows=[[i, 0.0, 0.0, h] for i, h in enumerate(hist)],
                ),
                "macd",
            )
        )
    if funding is not None:
        blocks.append(
            block(
                FundingData(polls=[[0, funding, None, 1.0, 1.0, None]], settled=[]), "funding_rates"
            )
        )
    return AssetContext(
        prompt_node_id="p",
        symbol="BTC",
        candidate=Candidate(symbol="BTC", rank=1, reason="universe"),
        decision_cadence_sec=300,
        blocks=blocks,
        skipped=[],
        sections=[],
        estimated_prompt_tokens=0,
    )


def test_inputs_come_from_the_decision_assets_own_blocks() -> None:
    eth = block(
        CandleData(interval="5m", bars=[Bar(0, 9, 9, 9, 9, 1)]), context_symbol="ETH", sid="eth"
    )
    got = inputs_of(
        context(
            closes=(100, 101),
            rsi=55.0,
            bands=(90, 110),
            hist=(1.0, 2.0),
            funding=0.00001,
            extra=[eth],
        )
    )
    assert got == Inputs(
        closes=(100, 101),
        rsi=55.0,
        bb_upper=110,
        bb_lower=90,
        macd_hist=(1.0, 2.0),
        funding_rate=0.00001,
    )
    assert inputs_of(context()) == Inputs()


@pytest.mark.parametrize(
    ("inp", "close", "votes"),
    [
        (Inputs(closes=(100, 100, 100)), 101.0, {"trend": 1}),
        (Inputs(closes=(100, 100, 100)), 99.0, {"trend": -1}),
        (Inputs(closes=(100, 100, 100)), 100.1, {"trend": 0}),
        (Inputs(macd_hist=(1.0, 2.0)), 1.0, {"momentum": 1}),
        (Inputs(macd_hist=(2.0, 1.0)), 1.0, {"momentum": 0}),
        (Inputs(macd_hist=(-1.0, -2.0)), 1.0, {"momentum": -1}),
        (Inputs(rsi=75.0), 1.0, {"rsi": -1}),
        (Inputs(rsi=25.0), 1.0, {"rsi": 1}),
        (Inputs(bb_lower=90.0, bb_upper=110.0), 111.0, {"bands": -1}),
        (Inputs(bb_lower=90.0, bb_upper=110.0), 89.0, {"bands": 1}),
        (Inputs(funding_rate=0.0002), 1.0, {"funding": -1}),
        (Inputs(funding_rate=-0.0002), 1.0, {"funding": 1}),
        (Inputs(funding_rate=0.00001), 1.0, {"funding": 0}),
    ],
)
def test_each_signal_votes(inp, close, votes) -> None:
    assert {s.name: s.vote for s in signals(inp, close, CFG)} == votes


def test_choose_enters_with_the_score_and_exits_against_the_position() -> None:
    assert choose(2, None, FLAT, CFG) == "open_long"
    assert choose(-2, None, FLAT, CFG) == "open_short"
    assert choose(-2, None, frozenset({"hold", "open_long"}), CFG) == "hold"  # spot: no short
    assert choose(1, None, FLAT, CFG) == "hold"
    assert choose(-1, "long", HELD, CFG) == "close"
    assert choose(0, "long", HELD, CFG) == "hold"
    assert choose(1, "short", HELD, CFG) == "close"
    assert choose(5, "long", frozenset({"hold"}), CFG) == "hold"


def test_an_entry_answer_passes_the_strict_parser_with_its_exit_plan() -> None:
    ctx = context(
        closes=(100, 100, 100, 100), rsi=55.0, bands=(90, 110), hist=(1.0, 2.0), funding=0.0
    )
    d = decide(ctx, FLAT, Decimal("101"), None, 5, CFG)
    assert (d.action, d.score) == ("open_long", 2)
    parsed = parse_answer(d.answer, "BTC", FLAT)
    assert isinstance(parsed, ValidAction) and parsed.kind == "open_long"
    assert (parsed.size_fraction, parsed.leverage) == (Decimal("0.2"), 2)
    assert (parsed.stop_loss, parsed.take_profit) == (Decimal("98.98"), Decimal("105.04"))
    assert parsed.reason.startswith(RULES_VERSION) and "score +2 reaches 2" in parsed.reason

    short = decide(context(closes=(100, 100), hist=(-1.0, -2.0)), FLAT, Decimal("99"), None, 1, CFG)
    parsed = parse_answer(short.answer, "BTC", FLAT)
    assert isinstance(parsed, ValidAction) and parsed.kind == "open_short" and parsed.leverage == 1
    assert parsed.stop_loss > Decimal(99) > parsed.take_profit


def test_exits_holds_and_missing_data_are_valid_answers() -> None:
    close = decide(
        context(closes=(100, 100), hist=(-1.0, -2.0)), HELD, Decimal("99"), "long", 5, CFG
    )
    assert close.action == "close" and isinstance(
        parse_answer(close.answer, "BTC", HELD), ValidAction
    )
    empty = decide(context(), FLAT, None, None, 5, CFG)
    parsed = parse_answer(empty.answer, "BTC", FLAT)
    assert (
        isinstance(parsed, ValidAction) and parsed.kind == "hold" and "no signals" in parsed.reason
    )
    assert (
        decide(context(closes=(100, 100), hist=(1.0, 2.0)), FLAT, None, None, 5, CFG).action
        == "hold"
    )


def test_the_same_packet_gives_the_same_answer() -> None:
    ctx = context(
        closes=(100, 102, 101), rsi=61.5, bands=(95, 105), hist=(0.5, 0.7), funding=0.00002
    )
    assert decide(ctx, FLAT, Decimal("101"), None, 5, CFG) == decide(
        ctx, FLAT, Decimal("101"), None, 5, CFG
    )
