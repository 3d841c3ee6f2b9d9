"""Basic mode: a whole pipeline from a few choices (assets or a category, a profile, a prompt).

Basic is a view over the graph, not a second source of truth. `build` writes ordinary nodes and
edges; `read` recovers the choices from a graph, and only when rebuilding from them gives the
same graph back, so a graph edited in Custom or Power User mode reads as "not Basic" instead of
being silently simplified.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import Meta

from clash.clones.graph import (
    AssetSelectionConfig,
    AssetSelectionNode,
    DataStreamConfig,
    DataStreamNode,
    Edge,
    Layout,
    Pipeline,
    Position,
    Profile,
    PromptText,
    Source,
    StrategyClonePlacement,
    Symbol,
    TradingPromptConfig,
    TradingPromptNode,
    encode_graph,
)

PROFILE_CHANNELS: dict[str, tuple[tuple[Source, str], ...]] = {
    "fast": (("hyperliquid", "ohlcv"), ("hyperliquid", "rsi"), ("hyperliquid", "funding_rates")),
    "balanced": (
        ("hyperliquid", "ohlcv"),
        ("hyperliquid", "rsi"),
        ("hyperliquid", "macd"),
        ("hyperliquid", "bollinger_bands"),
        ("hyperliquid", "funding_rates"),
    ),
    "deep": (
        ("hyperliquid", "ohlcv"),
        ("hyperliquid", "rsi"),
        ("hyperliquid", "macd"),
        ("hyperliquid", "bollinger_bands"),
        ("hyperliquid", "moving_averages"),
        ("hyperliquid", "funding_rates"),
        ("hyperliquid", "volatility"),
        ("hyperliquid", "liquidity"),
        ("hyperliquid", "positioning"),
        ("polymarket", "market_discovery"),
        ("defillama", "capital_flows"),
    ),
}
"""Which same-asset context blocks each profile reads."""
PROFILE_CADENCE_SEC: dict[str, int] = {"fast": 60, "balanced": 300, "deep": 900}

ASSETS_ID = "basic-assets"
PROMPT_ID = "basic-prompt"
_COLUMN_X = (0.0, 360.0, 720.0, 1080.0)
_ROW_Y = 110.0


class BasicChoices(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Assets and/or a category; at least one."""

    assets: Annotated[list[Symbol], Meta(max_length=25)] = []
    category: str | None = None
    profile: Profile = "balanced"
    prompt: PromptText


class NotBasic(ValueError):
    pass


def stream_id(source: str, channel: str) -> str:
    return f"basic-{source}-{channel}".replace("_", "-")


def build(choices: BasicChoices) -> Pipeline:
    """The Basic graph. Same-asset streams (no symbol): every selected asset reads its own data."""
    if not choices.assets and not choices.category:
        raise NotBasic("choose assets or a category")
    category = choices.category
    selection = AssetSelectionConfig(
        high_level_categories=[category] if category and "/" not in category else [],
        subcategories=[category] if category and "/" in category else [],
        explicitly_enabled_symbols=list(dict.fromkeys(choices.assets)),
    )
    channels = PROFILE_CHANNELS[choices.profile]
    streams = [
        DataStreamNode(
            id=stream_id(source, channel),
            position=Position(x=_COLUMN_X[0], y=i * _ROW_Y),
            config=DataStreamConfig(source=source, channel=channel, profile=choices.profile),
        )
        for i, (source, channel) in enumerate(channels)
    ]
    middle = (len(channels) - 1) * _ROW_Y / 2
    assets = AssetSelectionNode(
        id=ASSETS_ID, position=Position(x=_COLUMN_X[1], y=middle), config=selection
    )
    prompt = TradingPromptNode(
        id=PROMPT_ID,
        position=Position(x=_COLUMN_X[2], y=middle),
        config=TradingPromptConfig(
            custom_behavior_prompt=choices.prompt,
            decision_cadence_sec=PROFILE_CADENCE_SEC[choices.profile],
        ),
    )
    edges = [Edge(source=s.id, target=ASSETS_ID) for s in streams] + [
        Edge(source=ASSETS_ID, target=PROMPT_ID)
    ]
    layout = Layout(
        strategy_clone=StrategyClonePlacement(
            position=Position(x=_COLUMN_X[3], y=middle), connected_prompt_node_ids=[PROMPT_ID]
        ),
        control_mode="basic",
    )
    return Pipeline(nodes=[*streams, assets, prompt], edges=edges, layout=layout)


def read(p: Pipeline) -> BasicChoices | None:
    """The Basic choices this graph was built from, or None if it is not (or no longer) Basic."""
    assets = p.node(ASSETS_ID)
    prompt = p.node(PROMPT_ID)
    if not isinstance(assets, AssetSelectionNode) or not isinstance(prompt, TradingPromptNode):
        return None
    sel = assets.config
    categories = [*sel.high_level_categories, *sel.subcategories]
    streams = [n for n in p.nodes if isinstance(n, DataStreamNode)]
    if len(categories) > 1 or not streams:
        return None
    try:
        choices = BasicChoices(
            assets=list(sel.explicitly_enabled_symbols),
            category=categories[0] if categories else None,
            profile=streams[0].config.profile,
            prompt=prompt.config.custom_behavior_prompt,
        )
        rebuilt = build(choices)
    except NotBasic:
        return None
    return choices if _same_graph(rebuilt, p) else None


def _same_graph(a: Pipeline, b: Pipeline) -> bool:
    """Equal nodes and edges, ignoring node positions and the layout (canvas state)."""

    def strip(p: Pipeline) -> Pipeline:
        nodes = [msgspec.structs.replace(n, position=None) for n in p.nodes]
        edges = [
            Edge(source=s, target=t) for s, t in sorted({(e.source, e.target) for e in p.edges})
        ]
        return Pipeline(nodes=sorted(nodes, key=lambda n: n.id), edges=edges)

    return encode_graph(strip(a)) == encode_graph(strip(b))
