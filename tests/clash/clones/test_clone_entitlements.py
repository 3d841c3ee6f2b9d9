"""Entitlement tiers: seed 000's backtest table, and the pure checks every path repeats."""

import msgspec
import pytest

from clash.clones.catalog import perp, spot
from clash.clones.entitlements import check_backtest, check_entitlement, load_tiers, tier, tiers
from clash.clones.graph import decode_pipeline

ASSETS = {
    a.symbol: a
    for a in [perp("BTC"), perp("ETH"), perp("SOL"), perp("HYPE"), perp("DOGE"), spot("HYPE/USDC")]
}


def pipeline(symbols=(), categories=()):
    body = {
        "nodes": [
            {
                "type": "asset_selection",
                "id": "a",
                "config": {
                    "explicitlyEnabledSymbols": list(symbols),
                    "highLevelCategories": list(categories),
                },
            },
            {"type": "trading_prompt", "id": "p", "config": {"customBehaviorPrompt": "go"}},
        ],
        "edges": [{"source": "a", "target": "p"}],
    }
    p, problems = decode_pipeline(msgspec.json.encode(body))
    assert not problems
    return p


def test_the_backtest_limits_are_seed_000s_table():
    table = {
        t.name: (
            t.backtest.daily_runs,
            t.backtest.max_decision_calls,
            t.backtest.max_active_assets,
            t.backtest.max_estimated_tokens,
        )
        for t in tiers().values()
    }
    assert table == {
        "Starter": (3, 24, 3, 120_000),
        "Builder": (10, 100, 6, 500_000),
        "Pro": (25, 200, 10, 1_000_000),
    }


def test_tiers_grow_monotonically():
    starter, builder, pro = tiers().values()
    assert starter.max_active_assets < builder.max_active_assets < pro.max_active_assets
    assert set(starter.model_strengths) < set(builder.model_strengths) < set(pro.model_strengths)


def test_starter_allows_three_active_assets():
    assert check_entitlement("starter", pipeline(["BTC", "ETH", "SOL"]), "light", ASSETS) == []
    (problem,) = check_entitlement(
        "starter", pipeline(["BTC", "ETH", "SOL", "HYPE"]), "light", ASSETS
    )
    assert (problem.code, problem.field) == ("too_many_active_assets", "active_assets")
    assert problem.message == "4 active assets (BTC, ETH, SOL, HYPE); the Starter tier allows 3"
    assert (
        check_entitlement("builder", pipeline(["BTC", "ETH", "SOL", "HYPE"]), "light", ASSETS) == []
    )


def test_categories_count_every_symbol_they_expand_to():
    (problem,) = check_entitlement(tier("starter"), pipeline(categories=["All"]), "light", ASSETS)
    assert problem.message.startswith("6 active assets")


@pytest.mark.parametrize(
    ("tier_id", "strength", "ok"),
    [
        ("starter", "light", True),
        ("starter", "standard", False),
        ("builder", "standard", True),
        ("builder", "max", False),
        ("pro", "max", True),
        ("pro", "turbo", False),
    ],
)
def test_model_strength_follows_the_tier(tier_id, strength, ok):
    problems = check_entitlement(tier_id, pipeline(["BTC"]), strength, ASSETS)
    assert (problems == []) is ok
    if not ok:
        assert problems[0].code == "model_strength_not_allowed"


def test_backtest_limits_are_checked_per_run():
    assert (
        check_backtest(
            "starter", runs_today=2, decision_calls=24, active_assets=3, estimated_tokens=120_000
        )
        == []
    )
    found = check_backtest(
        "starter", runs_today=3, decision_calls=25, active_assets=4, estimated_tokens=120_001
    )
    assert [p.code for p in found] == [
        "daily_runs_exceeded",
        "too_many_decision_calls",
        "too_many_active_assets",
        "too_many_tokens",
    ]
    assert found[0].message == "this would be run 4 today; the Starter tier allows 3"


def test_the_tier_file_is_strict(tmp_path):
    bad = tmp_path / "tiers.toml"
    bad.write_text(
        '[starter]\nname = "S"\nmax_active_assets = 3\nmodel_strengths = ["light"]\nbonus = 1\n'
    )
    with pytest.raises(msgspec.ValidationError, match="bonus"):
        load_tiers(bad)
    with pytest.raises(ValueError, match="unknown tier"):
        tier("gold")
