"""The graph compiler (seed 003 formats A–D → read plans): universe with selection sources,
override precedence, unsupported pairs skipped before retrieval, DefiLlama scopes and Polymarket
targets, coverage modes, determinism."""

import hashlib

import msgspec

from clash.clones.catalog import perp, spot
from clash.clones.graph import active_assets, decode_pipeline, encode_graph
from clash.trading.compiler import compile_pipeline
from clash.trading.packet import ReadPlan, encode

ASSETS = {
    a.symbol: a
    for a in [
        perp("BTC"),
        perp("ETH"),
        perp("SOL"),
        perp("HYPE"),
        perp("DOGE"),
        perp("kPEPE"),
        perp("LDO"),
        spot("HYPE/USDC"),
        spot("PURR/USDC"),
        perp("XRP", enabled=False),
        perp("LUNA", enabled=False, delisted=True),
        perp("AVAX", trending=True),
    ]
}

# docs/clones.md's seed example: a BTC branch that also reads ETH.
SEED = {
    "nodes": [
        {
            "type": "data_stream",
            "id": "eth-candles",
            "config": {
                "source": "hyperliquid",
                "channel": "ohlcv",
                "symbol": "ETH",
                "profile": "deep",
            },
        },
        {
            "type": "data_stream",
            "id": "own-rsi",
            "config": {"source": "hyperliquid", "channel": "rsi"},
        },
        {
            "type": "data_stream",
            "id": "macro",
            "config": {
                "source": "defillama",
                "channel": "capital_flows",
                "defillama": {"scope": "chain", "subject": "Ethereum"},
            },
        },
        {"type": "asset_selection", "id": "btc", "config": {"explicitlyEnabledSymbols": ["BTC"]}},
        {
            "type": "trading_prompt",
            "id": "momentum",
            "config": {
                "customBehaviorPrompt": "Trade the trend.",
                "decisionCadenceSec": 300,
                "coverageMode": "global",
                "candidatePolicy": {"maxCandidates": 10},
            },
        },
    ],
    "edges": [
        {"source": "eth-candles", "target": "btc"},
        {"source": "own-rsi", "target": "btc"},
        {"source": "macro", "target": "btc"},
        {"source": "btc", "target": "momentum"},
    ],
    "layout": {
        "strategyClone": {"position": {"x": 960, "y": 120}, "connectedPromptNodeIds": ["momentum"]},
        "controlMode": "custom",
    },
}


def pipeline(doc):
    p, problems = decode_pipeline(msgspec.json.encode(doc))
    assert p is not None, problems
    return p


def graph(streams, selection, prompt=None, *, prompts=None):
    """One asset block `sel` fed by `streams` ({id: config}), feeding prompt `p`."""
    nodes = [
        {"type": "data_stream", "id": sid, "config": {"source": "hyperliquid", **cfg}}
        for sid, cfg in streams.items()
    ]
    nodes.append({"type": "asset_selection", "id": "sel", "config": selection})
    prompts = prompts or {"p": prompt or {"customBehaviorPrompt": "Go."}}
    nodes += [{"type": "trading_prompt", "id": pid, "config": cfg} for pid, cfg in prompts.items()]
    edges = [{"source": sid, "target": "sel"} for sid in streams] + [
        {"source": "sel", "target": p} for p in prompts
    ]
    return pipeline({"nodes": nodes, "edges": edges})


def reads(compiled, symbol, prompt="p"):
    asset = next(a for a in compiled.branch(prompt).assets if a.symbol == symbol)
    return {r.stream_node_id: r for r in asset.reads}, {s.stream_node_id: s for s in asset.skipped}


def test_seed_example_btc_branch_reads_eth_context():
    p = pipeline(SEED)
    c = compile_pipeline(p, ASSETS)
    assert c.graph_hash == hashlib.sha256(encode_graph(p)).hexdigest()
    assert [(u.symbol, u.source, u.selected_by, u.kind) for u in c.universe] == [
        ("BTC", "explicit", ["btc"], "perp")
    ]
    assert (
        c.universe[0].categories == ["Perps", "Crypto", "Crypto/Layer 1"] and c.universe[0].tradable
    )
    (branch,) = c.branches
    assert (branch.prompt_node_id, branch.enabled, branch.decision_cadence_sec) == (
        "momentum",
        True,
        300,
    )
    assert branch.candidate_policy.max_candidates == 10
    (asset,) = branch.assets
    assert (asset.symbol, asset.prompt, asset.prompt_source, asset.skipped) == (
        "BTC",
        "Trade the trend.",
        "global",
        [],
    )
    eth, rsi, macro = asset.reads
    assert (eth.symbol, eth.context_symbol, eth.cross_asset) == ("BTC", "ETH", True)
    assert (eth.profile, eth.lookback_minutes, eth.granularity, eth.max_datapoints) == (
        "deep",
        10_080,
        "1h",
        168,
    )
    assert [(r.table, r.rows) for r in eth.reads] == [("candles_1h", 168)]
    assert (rsi.symbol, rsi.context_symbol, rsi.cross_asset) == ("BTC", "BTC", False)
    assert (rsi.profile, rsi.lookback_minutes, rsi.granularity, rsi.max_datapoints) == (
        "balanced",
        360,
        "5m",
        72,
    )
    assert [(r.table, r.rows) for r in rsi.reads] == [("indicators_1m", 360)]
    assert (macro.context_symbol, macro.cross_asset) == ("ETH", True)
    assert (macro.defillama.scope, macro.defillama.subject, macro.defillama.link_symbol) == (
        "chain",
        "Ethereum",
        "ETH",
    )


def test_layout_does_not_change_the_compiled_pipeline():
    moved = {
        **SEED,
        "layout": {"strategyClone": {"position": {"x": 1, "y": 2}, "connectedPromptNodeIds": []}},
    }
    assert encode(compile_pipeline(pipeline(SEED), ASSETS)) == encode(
        compile_pipeline(pipeline(moved), ASSETS)
    )


def test_universe_from_categories_enables_and_disables_with_sources():
    p = graph(
        {"c": {"channel": "ohlcv"}},
        {
            "highLevelCategories": ["Spot", "Trending"],
            "subcategories": ["Crypto/Meme"],
            "explicitlyEnabledSymbols": ["ETH", "BTC"],
            "explicitlyDisabledSymbols": ["kPEPE", "PURR/USDC"],
        },
    )
    c = compile_pipeline(p, ASSETS)
    got = [(u.symbol, u.source) for u in c.universe]
    assert got == [
        ("BTC", "explicit"),
        ("ETH", "explicit"),
        ("DOGE", "category:Crypto/Meme"),
        ("HYPE/USDC", "category:Spot"),
        ("AVAX", "category:Trending"),
    ]
    assert [u.symbol for u in c.universe] == active_assets(p, ASSETS)
    hype = next(u for u in c.universe if u.symbol == "HYPE/USDC")
    assert (
        hype.kind == "spot"
        and "funding" not in hype.capabilities
        and hype.categories == ["Spot", "Spot/USDC"]
    )


def test_disabled_prompts_and_asset_blocks_leave_the_universe():
    p = graph(
        {"c": {"channel": "ohlcv"}},
        {"explicitlyEnabledSymbols": ["BTC"]},
        prompts={
            "on": {"customBehaviorPrompt": "x"},
            "off": {"customBehaviorPrompt": "y", "enabled": False},
        },
    )
    c = compile_pipeline(p, ASSETS)
    assert [b.enabled for b in c.branches] == [True, False]
    assert [a.symbol for a in c.branch("off").assets] == ["BTC"]
    assert [u.symbol for u in c.universe] == ["BTC"]
    off = graph(
        {"c": {"channel": "ohlcv"}}, {"explicitlyEnabledSymbols": ["BTC"], "enabled": False}
    )
    c = compile_pipeline(off, ASSETS)
    assert (
        c.universe == [] and c.branch("p").assets == [] and c.branch("p").selection_node_ids == []
    )


def test_override_precedence_per_asset_then_assignment_then_stream_then_builtin():
    p = graph(
        {
            "tuned": {
                "channel": "ohlcv",
                "profile": "fast",
                "lookbackMinutes": 120,
                "granularity": "5m",
                "assetOverrides": {"SOL": {"granularity": "15m"}, "DOGE": {"profile": "balanced"}},
            },
            "plain": {"channel": "macd", "profileDefinitions": {"balanced": {"maxDatapoints": 36}}},
        },
        {
            "explicitlyEnabledSymbols": ["BTC", "ETH", "SOL", "DOGE", "kPEPE"],
            "profileAssignments": {"ETH": "deep", "Crypto/Meme": "fast"},
        },
    )
    c = compile_pipeline(p, ASSETS)

    def tuned(symbol):
        r = reads(c, symbol)[0]["tuned"]
        return (
            r.profile,
            r.lookback_minutes,
            r.granularity,
            r.max_datapoints,
            [(x.table, x.rows) for x in r.reads],
        )

    # data stream default: the block's own lookback and granularity over its profile
    assert tuned("BTC") == ("fast", 120, "5m", 24, [("candles_1m", 120)])
    # asset/group assignment replaces the block's own settings with the assigned profile
    assert tuned("ETH") == ("deep", 10_080, "1h", 168, [("candles_1h", 168)])
    assert tuned("kPEPE") == ("fast", 60, "1m", 60, [("candles_1m", 60)])
    # per-asset override wins over everything (the granularity on top of the stream default)
    assert tuned("SOL") == ("fast", 120, "15m", 8, [("candles_1m", 120)])
    # a per-asset profile beats the category assignment (DOGE is Crypto/Meme)
    assert tuned("DOGE") == ("balanced", 360, "5m", 72, [("candles_1m", 360)])
    # built-in profile, with the power user's edit of it
    plain = reads(c, "BTC")[0]["plain"]
    assert (plain.profile, plain.lookback_minutes, plain.granularity, plain.max_datapoints) == (
        "balanced",
        360,
        "5m",
        36,
    )
    assert [(x.table, x.rows) for x in plain.reads] == [("indicators_1m", 180)]
    assert reads(c, "ETH")[0]["plain"].profile == "deep"  # the assignment applies to every block


def test_unsupported_pairs_are_skipped_before_retrieval():
    p = graph(
        {
            "candles": {"channel": "ohlcv"},
            "funding": {"channel": "funding_rates"},
            "liquidity": {"channel": "liquidity", "assetOverrides": {"BTC": {"enabled": False}}},
            "xrp": {"channel": "mid_price", "symbol": "XRP"},
        },
        {"explicitlyEnabledSymbols": ["BTC", "HYPE/USDC"]},
    )
    c = compile_pipeline(p, ASSETS)
    btc_reads, btc_skipped = reads(c, "BTC")
    assert list(btc_reads) == ["candles", "funding"]
    assert {k: v.reason for k, v in btc_skipped.items()} == {
        "liquidity": "disabled_for_asset",
        "xrp": "no_market_memory",
    }
    spot_reads, spot_skipped = reads(c, "HYPE/USDC")
    assert list(spot_reads) == ["candles"]
    assert {k: v.reason for k, v in spot_skipped.items()} == {
        "funding": "unsupported_channel",
        "liquidity": "unsupported_channel",
        "xrp": "no_market_memory",
    }
    assert spot_skipped["funding"].message == (
        "funding_rates is not available for HYPE/USDC (a spot pair without funding data)"
    )
    assert spot_skipped["funding"].context_symbol == "HYPE/USDC"


def test_read_sizes_follow_granularity_and_retention():
    p = graph(
        {
            "m15": {
                "channel": "ohlcv",
                "granularity": "15m",
                "lookbackMinutes": 2880,
                "profileDefinitions": {"balanced": {"maxDatapoints": 192}},
            },
            "h4": {"channel": "ohlcv", "granularity": "4h", "lookbackMinutes": 10_080},
            "rsi1h": {"channel": "rsi", "profile": "deep"},
            "fund": {"channel": "funding_rates", "profile": "deep"},
            "fund5": {"channel": "funding_rates"},
            "mid": {"channel": "mid_price"},
            "vol": {"channel": "volatility"},
        },
        {"explicitlyEnabledSymbols": ["BTC"]},
    )
    r = reads(compile_pipeline(p, ASSETS), "BTC")[0]
    table = {k: [(x.table, x.rows) for x in v.reads] for k, v in r.items()}
    assert table == {
        "m15": [
            ("candles_1m", 1440)
        ],  # 192 points x 15 minutes, capped at the 24 h of 1-minute rows
        "h4": [("candles_1h", 168)],
        "rsi1h": [("indicators_1m", 1440)],  # indicators are 1-minute rows, kept 24 h
        "fund": [("funding", 1), ("settled_funding", 168)],
        "fund5": [("funding", 360), ("settled_funding", 6)],
        "mid": [("mids", 1)],
        "vol": [("profiles", 1)],
    }
    assert r["m15"].max_datapoints == 192 and r["h4"].max_datapoints == 42


def test_defillama_scopes_and_polymarket_targets_resolve():
    streams = {
        "asset": {"source": "defillama", "channel": "capital_base"},
        "eth": {"source": "defillama", "channel": "capital_base", "symbol": "ETH"},
        "global": {
            "source": "defillama",
            "channel": "capital_base",
            "defillama": {"scope": "global"},
        },
        "chain": {
            "source": "defillama",
            "channel": "capital_flows",
            "defillama": {"scope": "chain", "subject": "ethereum"},
        },
        "lido": {
            "source": "defillama",
            "channel": "economic_throughput",
            "defillama": {"scope": "protocol", "subject": "Lido"},
        },
        "usdt": {
            "source": "defillama",
            "channel": "capital_base",
            "defillama": {"scope": "stablecoin", "subject": "USDT"},
        },
        "base": {
            "source": "defillama",
            "channel": "capital_base",
            "defillama": {"scope": "chain", "subject": "Base"},
        },
        "event": {
            "source": "polymarket",
            "channel": "immediate_market",
            "polymarket": {"eventSlug": "btc-up-or-down", "query": "Bitcoin"},
        },
        "linked": {"source": "polymarket", "channel": "market_discovery"},
    }
    nodes = [{"type": "data_stream", "id": k, "config": v} for k, v in streams.items()]
    nodes += [
        {"type": "asset_selection", "id": "sel", "config": {"explicitlyEnabledSymbols": ["BTC"]}},
        {"type": "trading_prompt", "id": "p", "config": {"customBehaviorPrompt": "x"}},
    ]
    edges = [{"source": k, "target": "sel"} for k in streams] + [{"source": "sel", "target": "p"}]
    r, skipped = reads(compile_pipeline(pipeline({"nodes": nodes, "edges": edges}), ASSETS), "BTC")

    def scope(k):
        d = r[k].defillama
        return d.scope, d.subject, d.link_symbol, r[k].context_symbol

    assert scope("asset") == ("asset", None, "BTC", "BTC")
    assert scope("eth") == ("asset", None, "ETH", "ETH") and r["eth"].cross_asset
    assert scope("global") == ("global", None, None, "BTC")
    assert scope("chain") == ("chain", "ethereum", "ETH", "ETH")
    assert scope("lido") == ("protocol", "Lido", "LDO", "LDO")
    assert scope("usdt") == ("stablecoin", "USDT", "USDT", "USDT")
    assert skipped["base"].reason == "subject_not_linked"
    assert (
        r["event"].polymarket.event_slug == "btc-up-or-down"
        and r["event"].polymarket.query == "Bitcoin"
    )
    assert r["linked"].polymarket is None and r["linked"].context_symbol == "BTC"
    assert all(isinstance(v, ReadPlan) and v.reads for v in r.values())


def test_coverage_modes_resolve_each_assets_prompt_and_cadence():
    overrides = {
        "ETH": {"customBehaviorPrompt": "ETH: fade spikes.", "decisionCadenceSec": 900},
        "SOL": {"enabled": False},
    }
    sel = {"explicitlyEnabledSymbols": ["BTC", "ETH", "SOL"]}

    def assets(mode):
        p = graph(
            {"c": {"channel": "ohlcv"}},
            sel,
            {"customBehaviorPrompt": "Trend.", "coverageMode": mode, "assetOverrides": overrides},
        )
        return {
            a.symbol: (a.enabled, a.decision_cadence_sec, a.prompt, a.prompt_source)
            for a in compile_pipeline(p, ASSETS).branch("p").assets
        }

    assert assets("global") == {
        "BTC": (True, 300, "Trend.", "global"),
        "ETH": (True, 300, "Trend.", "global"),
        "SOL": (True, 300, "Trend.", "global"),
    }
    assert assets("global_with_asset_overrides") == {
        "BTC": (True, 300, "Trend.", "global"),
        "ETH": (True, 900, "Trend.\n\nETH: fade spikes.", "global_with_asset_override"),
        "SOL": (False, 300, "Trend.", "global"),
    }
    assert assets("asset_specific_only") == {
        "BTC": (False, 300, "", "none"),
        "ETH": (True, 900, "ETH: fade spikes.", "asset_override"),
        "SOL": (False, 300, "", "none"),
    }


def test_two_asset_blocks_into_one_prompt_merge_without_duplicate_reads():
    doc = {
        "nodes": [
            {
                "type": "data_stream",
                "id": "c",
                "config": {"source": "hyperliquid", "channel": "ohlcv"},
            },
            {
                "type": "data_stream",
                "id": "f",
                "config": {"source": "hyperliquid", "channel": "funding_rates"},
            },
            {
                "type": "asset_selection",
                "id": "majors",
                "config": {
                    "explicitlyEnabledSymbols": ["BTC", "ETH"],
                    "profileAssignments": {"BTC": "fast"},
                },
            },
            {
                "type": "asset_selection",
                "id": "memes",
                "config": {"subcategories": ["Crypto/Meme"], "explicitlyEnabledSymbols": ["BTC"]},
            },
            {"type": "trading_prompt", "id": "p", "config": {"customBehaviorPrompt": "x"}},
        ],
        "edges": [
            {"source": "c", "target": "majors"},
            {"source": "c", "target": "memes"},
            {"source": "f", "target": "memes"},
            {"source": "majors", "target": "p"},
            {"source": "memes", "target": "p"},
        ],
    }
    c = compile_pipeline(pipeline(doc), ASSETS)
    assert [(u.symbol, u.source, u.selected_by) for u in c.universe] == [
        ("BTC", "explicit", ["majors", "memes"]),
        ("ETH", "explicit", ["majors"]),
        ("DOGE", "category:Crypto/Meme", ["memes"]),
        ("kPEPE", "category:Crypto/Meme", ["memes"]),
    ]
    btc = reads(c, "BTC")[0]
    assert list(btc) == ["c", "f"]
    assert (btc["c"].selection_node_id, btc["c"].profile) == (
        "majors",
        "fast",
    )  # first block that selects it
    assert btc["f"].selection_node_id == "memes"
    assert list(reads(c, "ETH")[0]) == ["c"]


def test_compiling_twice_gives_identical_bytes():
    p = pipeline(SEED)
    assert encode(compile_pipeline(p, ASSETS)) == encode(
        compile_pipeline(pipeline(SEED), dict(ASSETS))
    )
