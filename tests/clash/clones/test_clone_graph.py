"""The pipeline graph (seed 003, formats A–C): strict decoding and save-time validation."""

import msgspec
import pytest

from clash.clones.catalog import StaticCatalog, perp, spot
from clash.clones.graph import (
    BUILTIN_PROFILES,
    AssetSelectionConfig,
    DataStreamConfig,
    StreamOverride,
    TradingPromptNode,
    active_assets,
    decode_pipeline,
    decode_stored,
    encode_graph,
    encode_layout,
    errors,
    resolve_retrieval,
    selection_symbols,
    validate,
)

ASSETS = {
    a.symbol: a
    for a in [
        perp("BTC"),
        perp("ETH"),
        perp("SOL"),
        perp("HYPE"),
        perp("DOGE"),
        perp("AVAX"),
        perp("kPEPE"),
        spot("HYPE/USDC"),
        perp("LUNA", enabled=False, delisted=True),
        perp("XRP", enabled=False),
    ]
}


def doc(nodes, edges=(), layout=None) -> bytes:
    body = {"nodes": list(nodes), "edges": [{"source": s, "target": t} for s, t in edges]}
    if layout is not None:
        body["layout"] = layout
    return msgspec.json.encode(body)


def stream(node_id, **config):
    return {"type": "data_stream", "id": node_id, "config": {"source": "hyperliquid", **config}}


def assets_node(node_id, **config):
    return {"type": "asset_selection", "id": node_id, "config": config}


def prompt(node_id, **config):
    return {
        "type": "trading_prompt",
        "id": node_id,
        "config": {"customBehaviorPrompt": "Trade the trend.", **config},
    }


def decoded(raw: bytes):
    pipeline, problems = decode_pipeline(raw)
    assert problems == [], problems
    return pipeline


def codes(problems):
    return [(p.node_id, p.field, p.code) for p in problems]


# The seed's cross-asset example: a BTC decision branch that reads ETH context.
BTC_READS_ETH = doc(
    [
        stream("eth-candles", channel="ohlcv", symbol="ETH", profile="deep"),
        stream("own-rsi", channel="rsi"),
        {
            "type": "data_stream",
            "id": "macro",
            "config": {
                "source": "defillama",
                "channel": "capital_flows",
                "defillama": {"scope": "chain", "subject": "Ethereum"},
            },
        },
        assets_node("btc", explicitlyEnabledSymbols=["BTC"]),
        prompt(
            "momentum",
            decisionCadenceSec=300,
            coverageMode="global",
            candidatePolicy={"maxCandidates": 10, "includeOpenPositions": True},
        ),
    ],
    [("eth-candles", "btc"), ("own-rsi", "btc"), ("macro", "btc"), ("btc", "momentum")],
    {"strategyClone": {"position": {"x": 960, "y": 120}, "connectedPromptNodeIds": ["momentum"]}},
)


def test_the_seed_cross_asset_branch_decodes_and_validates_clean():
    p = decoded(BTC_READS_ETH)
    assert validate(p, ASSETS) == []
    assert active_assets(p, ASSETS) == ["BTC"]
    eth = p.node("eth-candles")
    assert eth.config.symbol == "ETH" and eth.config.profile == "deep"
    assert p.layout.strategy_clone.connected_prompt_node_ids == ["momentum"]


def test_graph_json_is_camel_case_and_round_trips_through_storage():
    p = decoded(BTC_READS_ETH)
    wire = msgspec.json.decode(msgspec.json.encode(p))
    assert wire["nodes"][4]["config"]["customBehaviorPrompt"] == "Trade the trend."
    assert wire["layout"]["strategyClone"]["position"] == {"x": 960.0, "y": 120.0}
    assert decode_stored(encode_graph(p), encode_layout(p.layout)) == p


def test_layout_is_kept_apart_from_the_executable_graph():
    p = decoded(BTC_READS_ETH)
    assert b"strategyClone" not in encode_graph(p)


def test_legacy_prompt_fields_are_accepted_and_dropped():
    p = decoded(
        doc(
            [
                prompt(
                    "p",
                    maxAssetsPerRun=5,
                    traderType="scalper",
                    analysisTimeframe="1h",
                    marketMomentumSensitivity=0.7,
                )
            ]
        )
    )
    stored = msgspec.json.decode(encode_graph(p))["nodes"][0]["config"]
    assert not {
        "maxAssetsPerRun",
        "traderType",
        "analysisTimeframe",
        "marketMomentumSensitivity",
    } & set(stored)


def test_format_a_category_selection_with_explicit_enables_and_disables():
    config = AssetSelectionConfig(
        subcategories=["Crypto/Layer 1"],
        explicitly_enabled_symbols=["DOGE"],
        explicitly_disabled_symbols=["SOL"],
    )
    # Layer 1 in the registry: BTC ETH SOL HYPE AVAX; SOL disabled; DOGE explicit; LUNA/XRP not tradable.
    assert selection_symbols(config, ASSETS) == ["BTC", "ETH", "HYPE", "DOGE", "AVAX"]
    assert selection_symbols(AssetSelectionConfig(high_level_categories=["Spot"]), ASSETS) == [
        "HYPE/USDC"
    ]


def test_trending_selects_what_the_registry_marks_trending():
    assets = {**ASSETS, "DOGE": perp("DOGE", trending=True)}
    assert selection_symbols(AssetSelectionConfig(high_level_categories=["Trending"]), assets) == [
        "DOGE"
    ]


def test_only_enabled_asset_blocks_feeding_enabled_prompts_count_as_active():
    p = decoded(
        doc(
            [
                assets_node("a", explicitlyEnabledSymbols=["BTC"]),
                assets_node("b", explicitlyEnabledSymbols=["ETH"]),
                assets_node("c", enabled=False, explicitlyEnabledSymbols=["SOL"]),
                assets_node("d", explicitlyEnabledSymbols=["HYPE"]),
                prompt("on"),
                prompt("off", enabled=False),
            ],
            [("a", "on"), ("b", "on"), ("c", "on"), ("d", "off")],
        )
    )
    assert active_assets(p, ASSETS) == ["BTC", "ETH"]


@pytest.mark.parametrize(
    ("source", "target"),
    [("ds", "p"), ("p", "a"), ("a", "ds"), ("a", "a2"), ("ds", "ds2"), ("p", "p")],
)
def test_only_the_two_seed_paths_are_allowed(source, target):
    p = decoded(
        doc(
            [
                stream("ds", channel="ohlcv"),
                stream("ds2", channel="rsi"),
                assets_node("a"),
                assets_node("a2"),
                prompt("p"),
            ],
            [(source, target)],
        )
    )
    (problem,) = [q for q in validate(p, ASSETS) if q.code == "edge_not_allowed"]
    assert problem.edge_id == f"{source}->{target}"
    assert (
        "allowed: data_stream → asset_selection, asset_selection → trading_prompt"
        in problem.message
    )


def test_edges_must_join_existing_nodes_once():
    p = decoded(
        doc(
            [assets_node("a", explicitlyEnabledSymbols=["BTC"]), prompt("p")],
            [("a", "p"), ("a", "p"), ("ghost", "p")],
        )
    )
    assert codes(errors(validate(p, ASSETS))) == [
        ("p", "edges", "duplicate_edge"),
        (None, "source", "edge_unknown_node"),
    ]


def test_the_trading_clone_block_is_not_a_node():
    _, problems = decode_pipeline(doc([{"type": "trading_clone", "id": "clone"}]))
    (problem,) = problems
    assert (problem.node_id, problem.field, problem.code) == ("clone", "type", "unknown_node_type")
    assert "layout.strategyClone" in problem.message


def test_layout_may_only_connect_prompts_that_exist():
    p = decoded(
        doc(
            [stream("ds", channel="ohlcv"), prompt("p")],
            [],
            {"strategyClone": {"connectedPromptNodeIds": ["p", "ds", "gone"]}},
        )
    )
    layout = [q for q in validate(p, ASSETS) if q.field.startswith("layout")]
    assert codes(layout) == [
        ("ds", "layout.strategyClone.connectedPromptNodeIds[1]", "layout_not_a_prompt"),
        ("gone", "layout.strategyClone.connectedPromptNodeIds[2]", "layout_unknown_node"),
    ]


def test_every_bad_node_config_is_reported_with_its_node_and_field():
    _, problems = decode_pipeline(
        doc(
            [
                prompt("p", decisionCadenceSec=5),
                prompt("q", candidatePolicy={"maxCandidates": 30}),
                stream("s", channel="ohlcv", sourcePolicy={"onStale": "panic"}),
                assets_node("a", explicitlyEnabledSymbols="BTC"),
                assets_node("b", favourite=True),
                {"type": "data_stream", "id": "t", "config": {"channel": "ohlcv"}},
                {"type": "asset_selection", "id": "bad id!"},
            ]
        )
    )
    assert codes(problems) == [
        ("p", "config.decisionCadenceSec", "out_of_range"),
        ("q", "config.candidatePolicy.maxCandidates", "out_of_range"),
        ("s", "config.sourcePolicy.onStale", "invalid_value"),
        ("a", "config.explicitlyEnabledSymbols", "invalid_type"),
        ("b", "config.favourite", "unknown_field"),
        ("t", "config.source", "missing_field"),
        ("bad id!", "nodes[6].id", "invalid_format"),
    ]
    assert problems[0].message == "Expected `int` >= 60"


def test_envelope_and_edge_errors_name_their_place():
    assert codes(decode_pipeline(b'{"nodes": {}}')[1]) == [(None, "nodes", "invalid_type")]
    assert codes(decode_pipeline(b'{"nodes": [], "graph": 1}')[1]) == [
        (None, "graph", "unknown_field")
    ]
    assert codes(decode_pipeline(b'{"nodes": [], "edges": [{"source": "a"}]}')[1]) == [
        (None, "edges[0].target", "missing_field")
    ]
    assert codes(decode_pipeline(b'{"nodes": [')[1]) == [(None, "$", "malformed_json")]


def test_symbols_must_exist_be_listed_and_be_enabled():
    p = decoded(
        doc(
            [
                assets_node(
                    "a",
                    explicitlyEnabledSymbols=["BTC", "btc", "NOPE", "LUNA", "XRP"],
                    explicitlyDisabledSymbols=["ZZZ"],
                ),
                prompt("p"),
            ],
            [("a", "p")],
        )
    )
    found = errors(validate(p, ASSETS))
    assert codes(found) == [
        ("a", "config.explicitlyEnabledSymbols[1]", "unknown_symbol"),
        ("a", "config.explicitlyEnabledSymbols[2]", "unknown_symbol"),
        ("a", "config.explicitlyEnabledSymbols[3]", "symbol_delisted"),
        ("a", "config.explicitlyEnabledSymbols[4]", "symbol_not_enabled"),
        ("a", "config.explicitlyDisabledSymbols[0]", "unknown_symbol"),
    ]
    assert "did you mean 'BTC'" in found[0].message


def test_categories_must_be_the_seed_categories():
    p = decoded(
        doc(
            [
                assets_node(
                    "a", highLevelCategories=["Crypto", "Memes"], subcategories=["Layer 1"]
                ),
                prompt("p"),
            ],
            [("a", "p")],
        )
    )
    assert codes(errors(validate(p, ASSETS))) == [
        ("a", "config.highLevelCategories[1]", "unknown_category"),
        ("a", "config.subcategories[0]", "unknown_category"),
    ]


def test_funding_on_a_spot_pair_is_refused():
    p = decoded(
        doc(
            [
                stream("f", channel="funding_rates", symbol="HYPE/USDC"),
                assets_node("a", explicitlyEnabledSymbols=["BTC"]),
                prompt("p"),
            ],
            [("f", "a"), ("a", "p")],
        )
    )
    (problem,) = validate(p, ASSETS)
    assert codes([problem]) == [("f", "config.channel", "unsupported_channel")]
    assert (
        problem.message
        == "funding_rates is not available for HYPE/USDC (a spot pair without funding data)"
    )


def test_same_asset_funding_over_a_mixed_selection_flags_the_spot_pairs():
    p = decoded(
        doc(
            [
                stream("f", channel="funding_rates"),
                assets_node("a", explicitlyEnabledSymbols=["BTC", "HYPE/USDC"]),
                prompt("p"),
            ],
            [("f", "a"), ("a", "p")],
        )
    )
    (problem,) = validate(p, ASSETS)
    assert (problem.code, problem.severity) == ("unsupported_channel_asset", "warning")
    assert "HYPE/USDC" in problem.message and "BTC" not in problem.message


def test_channels_belong_to_their_source():
    p = decoded(
        doc(
            [
                stream("s", channel="tvl"),
                {
                    "type": "data_stream",
                    "id": "d",
                    "config": {
                        "source": "defillama",
                        "channel": "capital_base",
                        "defillama": {"scope": "chain"},
                    },
                },
                {
                    "type": "data_stream",
                    "id": "m",
                    "config": {
                        "source": "hyperliquid",
                        "channel": "ohlcv",
                        "polymarket": {"eventSlug": "fed"},
                    },
                },
            ]
        )
    )
    assert codes(errors(validate(p, ASSETS))) == [
        ("s", "config.channel", "unknown_channel"),
        ("d", "config.defillama.subject", "target_required"),
        ("m", "config.polymarket", "target_not_allowed"),
    ]


def test_prompt_coverage_modes_need_their_overrides():
    p = decoded(
        doc(
            [
                assets_node("a", explicitlyEnabledSymbols=["BTC"]),
                prompt("only", coverageMode="asset_specific_only"),
                prompt("glob", assetOverrides={"ETH": {"customBehaviorPrompt": "x"}}),
            ],
            [("a", "only"), ("a", "glob")],
        )
    )
    assert codes(validate(p, ASSETS)) == [
        ("only", "config.assetOverrides", "missing_asset_overrides"),
        ("glob", "config.coverageMode", "asset_overrides_ignored"),
        ("glob", "config.assetOverrides.ETH", "override_not_connected"),
    ]


def test_duplicate_node_ids_and_loose_nodes():
    p = decoded(doc([stream("x", channel="ohlcv"), assets_node("x"), prompt("lonely")]))
    found = validate(p, ASSETS)
    assert ("x", "id", "duplicate_node_id") in codes(errors(found))
    assert {q.node_id for q in found if q.code == "unconnected_node"} == {"x", "lonely"}


def test_retrieval_precedence_follows_the_seed():
    s = DataStreamConfig(
        source="hyperliquid",
        channel="ohlcv",
        profile="fast",
        lookback_minutes=30,
        asset_overrides={"ETH": StreamOverride(lookback_minutes=15, include_in_prompt=False)},
    )
    group = AssetSelectionConfig(profile_assignments={"Crypto/Meme": "deep", "SOL": "balanced"})
    # data stream default: the block's own lookback over the fast profile
    assert resolve_retrieval(s, None, "BTC").lookback_minutes == 30
    # asset/group assignment beats the data stream default
    assert resolve_retrieval(s, group, "SOL").profile == "balanced"
    assert (
        resolve_retrieval(s, group, "DOGE").lookback_minutes
        == BUILTIN_PROFILES["deep"].lookback_minutes
    )
    # per-asset configuration beats everything
    eth = resolve_retrieval(s, group, "ETH")
    assert (eth.profile, eth.lookback_minutes, eth.granularity, eth.include_in_prompt) == (
        "fast",
        15,
        "1m",
        False,
    )


def test_static_catalog_answers_the_protocol():
    import anyio

    assert anyio.run(StaticCatalog([perp("BTC")]).assets)["BTC"].supports("funding")
    assert not spot("PURR/USDC").supports("funding")


def test_an_empty_pipeline_is_a_valid_draft():
    p = decoded(b"{}")
    assert p.nodes == [] and validate(p, ASSETS) == []
    assert isinstance(decoded(doc([prompt("p")])).nodes[0], TradingPromptNode)
