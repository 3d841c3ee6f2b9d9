"""Basic mode builds the same graph Custom and Power User edit; diffs between snapshots are pure."""

import msgspec
import pytest

from clash.clones import basic
from clash.clones.basic import BasicChoices
from clash.clones.catalog import perp, spot
from clash.clones.diff import Snapshot, diff
from clash.clones.graph import AssetSelectionNode, DataStreamNode, Edge, active_assets, validate

ASSETS = {
    a.symbol: a
    for a in [perp("BTC"), perp("ETH"), perp("SOL"), perp("DOGE"), perp("WIF"), spot("HYPE/USDC")]
}


@pytest.mark.parametrize("profile", ["fast", "balanced", "deep"])
def test_basic_builds_a_whole_valid_graph(profile):
    p = basic.build(
        BasicChoices(assets=["BTC", "ETH"], profile=profile, prompt="Buy dips, cut losers.")
    )
    assert not [q for q in validate(p, ASSETS) if q.severity == "error"]
    assert active_assets(p, ASSETS) == ["BTC", "ETH"]
    kinds = [type(n).__name__ for n in p.nodes]
    assert kinds[-2:] == ["AssetSelectionNode", "TradingPromptNode"]
    assert all(isinstance(n, DataStreamNode) and n.config.profile == profile for n in p.nodes[:-2])
    assert p.layout.control_mode == "basic"
    assert p.layout.strategy_clone.connected_prompt_node_ids == [basic.PROMPT_ID]


def test_a_category_choice_selects_through_the_taxonomy():
    p = basic.build(BasicChoices(category="Crypto/Meme", prompt="Ride memes."))
    assert active_assets(p, ASSETS) == ["DOGE", "WIF"]
    assert p.node(basic.ASSETS_ID).config.subcategories == ["Crypto/Meme"]


def test_basic_reads_its_choices_back_from_the_graph():
    choices = BasicChoices(assets=["SOL"], category="Perps", profile="deep", prompt="Patience.")
    p = basic.build(choices)
    assert basic.read(p) == choices
    moved = msgspec.structs.replace(
        p, nodes=[msgspec.structs.replace(n, position=None) for n in p.nodes]
    )
    assert basic.read(moved) == choices


def test_a_graph_edited_beyond_basic_is_not_basic():
    p = basic.build(BasicChoices(assets=["BTC"], prompt="x"))
    sel = p.node(basic.ASSETS_ID)
    config = msgspec.structs.replace(sel.config, explicitly_disabled_symbols=["ETH"])
    edited = msgspec.structs.replace(sel, config=config)
    assert (
        basic.read(
            msgspec.structs.replace(p, nodes=[edited if n.id == sel.id else n for n in p.nodes])
        )
        is None
    )
    extra = AssetSelectionNode(id="more")
    assert (
        basic.read(
            msgspec.structs.replace(
                p,
                nodes=[*p.nodes, extra],
                edges=[*p.edges, Edge(source="more", target=basic.PROMPT_ID)],
            )
        )
        is None
    )


def test_basic_needs_assets_or_a_category():
    with pytest.raises(basic.NotBasic):
        basic.build(BasicChoices(prompt="x"))


def snap(ref, p, strength="light"):
    return Snapshot(ref=ref, pipeline=p, model_strength=strength)


def test_diff_lists_nodes_edges_and_prompt_text():
    a = basic.build(BasicChoices(assets=["BTC"], profile="fast", prompt="Line one.\nLine two."))
    b = basic.build(
        BasicChoices(assets=["BTC", "ETH"], profile="balanced", prompt="Line one.\nLine 2.")
    )
    d = diff(snap("1", a), snap("2", b, "standard"))
    assert not d.identical
    assert {n.node_id for n in d.nodes_added} == {
        "basic-hyperliquid-macd",
        "basic-hyperliquid-bollinger-bands",
    }
    assert d.nodes_removed == []
    changed = {c.node_id: {f.path: (f.before, f.after) for f in c.changes} for c in d.nodes_changed}
    assert changed[basic.ASSETS_ID]["config.explicitlyEnabledSymbols"] == (["BTC"], ["BTC", "ETH"])
    assert changed[basic.PROMPT_ID]["config.decisionCadenceSec"] == (60, 300)
    assert changed["basic-hyperliquid-ohlcv"] == {"config.profile": ("fast", "balanced")}
    assert [(e.source, e.target) for e in d.edges_added] == [
        ("basic-hyperliquid-bollinger-bands", basic.ASSETS_ID),
        ("basic-hyperliquid-macd", basic.ASSETS_ID),
    ]
    (prompt,) = d.prompts
    assert prompt.path == basic.PROMPT_ID
    assert prompt.unified[-2:] == ["-Line two.", "+Line 2."]
    assert (d.model_strength.before, d.model_strength.after) == ("light", "standard")


def test_diff_of_identical_snapshots_is_empty_and_positions_are_layout():
    a = basic.build(BasicChoices(assets=["BTC"], prompt="x"))
    assert diff(snap("1", a), snap("draft", a)).identical
    moved = msgspec.structs.replace(
        a, nodes=[msgspec.structs.replace(n, position=None) for n in a.nodes]
    )
    d = diff(snap("1", a), snap("draft", moved))
    assert d.layout_changed and not d.nodes_changed and not d.identical
