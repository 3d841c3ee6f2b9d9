"""Candidate policy (seed 003): open positions first, then the enabled universe, then
deterministic prefilters; cap 10 by default, 25 at most."""

import math

import pytest

from clash.market.candles import Candle
from clash.trading.candidates import DEFAULT_CAP, MAX_CAP, choose, score
from clash.trading.packet import Branch, BranchAsset, CandidatePolicyView

SYMBOLS = [f"A{i:02d}" for i in range(30)]


def branch(
    symbols=SYMBOLS, *, cap=DEFAULT_CAP, prefilter="none", positions_first=True, disabled=()
):
    return Branch(
        prompt_node_id="p",
        label=None,
        enabled=True,
        coverage_mode="global",
        decision_cadence_sec=300,
        candidate_policy=CandidatePolicyView(
            max_candidates=cap, include_open_positions=positions_first, prefilter=prefilter
        ),
        selection_node_ids=["sel"],
        assets=[
            BranchAsset(
                symbol=s,
                enabled=s not in disabled,
                decision_cadence_sec=300,
                prompt="x",
                prompt_source="global",
                reads=[],
                skipped=[],
            )
            for s in symbols
        ],
    )


def picked(result):
    return [(c.symbol, c.rank, c.reason) for c in result.selected]


def test_default_cap_is_ten_in_universe_order():
    r = choose(branch())
    assert r.cap == 10 and [c.symbol for c in r.selected] == SYMBOLS[:10]
    assert [c.rank for c in r.selected] == list(range(1, 11))
    assert [c.symbol for c in r.over_cap] == SYMBOLS[10:] and r.over_cap[0].rank == 11
    assert {c.reason for c in r.selected + r.over_cap} == {"universe"}


def test_open_positions_come_first_and_are_never_crowded_out():
    r = choose(branch(cap=3), positions=["A20", "A05", "ZZZ"])
    assert picked(r) == [
        ("A05", 1, "open_position"),
        ("A20", 2, "open_position"),
        ("A00", 3, "universe"),
    ]
    assert "ZZZ" not in [c.symbol for c in r.selected + r.over_cap]  # not this branch's asset


def test_positions_can_be_left_to_the_ranking():
    r = choose(branch(cap=2, positions_first=False), positions=["A20"])
    assert picked(r) == [("A00", 1, "universe"), ("A01", 2, "universe")]


def test_cap_is_clamped_to_the_advanced_maximum():
    assert choose(branch(cap=40)).cap == MAX_CAP == 25
    assert len(choose(branch(cap=40)).selected) == 25
    assert len(choose(branch(cap=25)).selected) == 25


def test_prefilter_ranks_by_score_unscored_last_ties_in_universe_order():
    scores = {"A00": 0.1, "A01": None, "A02": 0.5, "A03": 0.1, "A04": 0.9}
    r = choose(branch(SYMBOLS[:5], cap=4, prefilter="momentum"), positions=["A03"], scores=scores)
    assert picked(r) == [
        ("A03", 1, "open_position"),
        ("A04", 2, "prefilter"),
        ("A02", 3, "prefilter"),
        ("A00", 4, "prefilter"),
    ]
    assert [(c.symbol, c.score) for c in r.over_cap] == [("A01", None)]
    assert r.selected[1].score == 0.9


def test_disabled_assets_are_not_candidates():
    r = choose(branch(SYMBOLS[:4], disabled=("A00", "A02")), positions=["A02"])
    assert picked(r) == [("A01", 1, "universe"), ("A03", 2, "universe")]


def test_choice_is_deterministic():
    scores = {s: (i % 3) / 10 for i, s in enumerate(SYMBOLS)}
    a = choose(branch(prefilter="volume"), positions=["A07"], scores=scores)
    b = choose(branch(prefilter="volume"), positions=["A07"], scores=dict(reversed(scores.items())))
    assert a == b


def hours(closes, volume=10.0):
    return [
        Candle(
            i * 3_600_000,
            closes[max(i - 1, 0)],
            max(c, closes[max(i - 1, 0)]),
            min(c, closes[max(i - 1, 0)]),
            c,
            volume,
            5,
        )
        for i, c in enumerate(closes)
    ]


def test_prefilter_scores():
    up = hours([100.0, 102.0, 104.0, 110.0])
    assert score("momentum", up) == pytest.approx(0.10)
    assert score("volume", up) == pytest.approx(10 * (100 + 102 + 104 + 110))
    flat = hours([100.0] * 5)
    assert score("volatility", flat) == 0.0
    swing = hours([100.0, 110.0, 100.0, 110.0])
    r = math.log(1.1)
    assert score("volatility", swing) == pytest.approx(
        math.sqrt(sum((x - r / 3) ** 2 for x in (r, -r, r)) / 3)
    )
    assert score("momentum", []) is None and score("volatility", hours([1.0, 2.0])) is None
    assert score("none", up) is None
