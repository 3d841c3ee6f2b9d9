"""The clone pipeline graph (seed 003, formats A–C): node and edge Structs, strict decoding, and
save-time validation that names the node, the field and the reason.

A pipeline is executable nodes and edges plus layout metadata:

    {"nodes": [{"type": "data_stream", "id": "eth-candles", "config": {...}}, ...],
     "edges": [{"source": "eth-candles", "target": "btc"}, ...],
     "layout": {"strategyClone": {"position": {"x": 900, "y": 120}, "connectedPromptNodeIds": ["p1"]}}}

Only `data_stream → asset_selection` and `asset_selection → trading_prompt` edges exist. The
Trading Clone Block is not a node: its place and its prompt lines are `layout`, which the
compiler ignores. Graph JSON is camelCase, as in the seed's TypeScript types.

Decoding is staged (envelope, then each node head, then each config with its own type) so one
bad node does not hide the next, and every problem carries the node id and a field path.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Annotated, Any, Literal, TypeAlias

import msgspec
from msgspec import UNSET, Meta, UnsetType

from clash.clones.catalog import CatalogAsset
from clash.market import CATEGORIES, categorize, select

Source = Literal["hyperliquid", "polymarket", "defillama"]
Profile = Literal["fast", "balanced", "deep"]
Granularity = Literal["1m", "5m", "15m", "1h", "4h", "1d"]
CoverageMode = Literal["global", "global_with_asset_overrides", "asset_specific_only"]
ControlMode = Literal["basic", "custom", "power_user"]
Severity = Literal["error", "warning"]
NodeType = Literal["data_stream", "asset_selection", "trading_prompt"]

HYPERLIQUID_CHANNELS: dict[str, str] = {
    "ohlcv": "candles",
    "rsi": "indicators",
    "bollinger_bands": "indicators",
    "moving_averages": "indicators",
    "macd": "indicators",
    "funding_rates": "funding",
    "mid_price": "mids",
    "liquidity": "profiles",
    "volatility": "profiles",
    "positioning": "profiles",
}
"""Hyperliquid graph channel → the asset capability it needs (funding and profiles: perps only)."""
POLYMARKET_CHANNELS: tuple[str, ...] = (
    "market_discovery",
    "immediate_market",
    "later_market",
    "recently_closed",
)
DEFILLAMA_CHANNELS: tuple[str, ...] = ("capital_base", "capital_flows", "economic_throughput")
CHANNELS: dict[str, tuple[str, ...]] = {
    "hyperliquid": tuple(HYPERLIQUID_CHANNELS),
    "polymarket": POLYMARKET_CHANNELS,
    "defillama": DEFILLAMA_CHANNELS,
}

HIGH_LEVEL_CATEGORIES: tuple[str, ...] = tuple(c for c in CATEGORIES if "/" not in c)
SUBCATEGORIES: tuple[str, ...] = tuple(c for c in CATEGORIES if "/" in c)

ALLOWED_EDGES: frozenset[tuple[str, str]] = frozenset(
    {("data_stream", "asset_selection"), ("asset_selection", "trading_prompt")}
)
MAX_NODES = 100
MAX_EDGES = 400
GRANULARITY_MINUTES: dict[str, int] = {"1m": 1, "5m": 5, "15m": 15, "1h": 60, "4h": 240, "1d": 1440}
RETENTION_MINUTES: dict[str, int] = {
    "1m": 1440,
    "5m": 1440,
    "15m": 1440,
    "1h": 10080,
    "4h": 10080,
    "1d": 10080,
}
"""How far back market memory reaches per granularity: 1-minute rows for 24 h, hourly rows for 7 days."""

NodeId = Annotated[
    str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:\-]*$")
]
Symbol = Annotated[str, Meta(min_length=1, max_length=40)]
SymbolList = Annotated[list[Symbol], Meta(max_length=500)]
PromptText = Annotated[str, Meta(max_length=8000)]
Label = Annotated[str, Meta(max_length=80)]
Cadence = Annotated[int, Meta(ge=60, le=86_400)]
Lookback = Annotated[int, Meta(ge=1, le=43_200)]
Datapoints = Annotated[int, Meta(ge=1, le=1000)]
Slug = Annotated[str, Meta(min_length=1, max_length=200)]


class Problem(msgspec.Struct, frozen=True, kw_only=True):
    """One finding: errors refuse a save, warnings are returned beside the saved pipeline."""

    node_id: str | None
    field: str
    code: str
    message: str
    edge_id: str | None = None
    severity: Severity = "error"


def errors(problems: Iterable[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


class _Config(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, rename="camel"
):
    pass


class Position(_Config, frozen=True):
    x: float
    y: float


# ---------------------------------------------------------------- B. data stream


class ProfileDefinition(_Config, frozen=True):
    lookback_minutes: Lookback
    granularity: Granularity
    max_datapoints: Datapoints


class ProfilePatch(_Config, frozen=True):
    """A power user's edit of a built-in profile; unset fields keep the built-in value."""

    lookback_minutes: Lookback | None = None
    granularity: Granularity | None = None
    max_datapoints: Datapoints | None = None


BUILTIN_PROFILES: dict[str, ProfileDefinition] = {
    "fast": ProfileDefinition(lookback_minutes=60, granularity="1m", max_datapoints=60),
    "balanced": ProfileDefinition(lookback_minutes=360, granularity="5m", max_datapoints=72),
    "deep": ProfileDefinition(lookback_minutes=10_080, granularity="1h", max_datapoints=168),
}


class StreamOverride(_Config, frozen=True):
    """Per decision asset: the top of the override precedence."""

    enabled: bool | None = None
    profile: Profile | None = None
    lookback_minutes: Lookback | None = None
    granularity: Granularity | None = None
    include_in_prompt: bool | None = None


class SourcePolicy(_Config, frozen=True):
    """What to do when the block's source is stale."""

    max_staleness_sec: Annotated[int, Meta(ge=1)] | None = None
    on_stale: Literal["skip", "include"] = "skip"


class PolymarketTarget(_Config, frozen=True):
    event_slug: Slug | None = None
    market_slug: Slug | None = None
    query: Slug | None = None


class DefiLlamaTarget(_Config, frozen=True):
    scope: Literal["global", "chain", "protocol", "stablecoin"] = "global"
    subject: Slug | None = None


class DataStreamConfig(_Config, frozen=True):
    """A context block: one source and channel. `symbol` is the context subject (seed's
    contextSymbol); None reads the decision asset itself (same-asset context)."""

    source: Source
    channel: str
    symbol: Symbol | None = None
    profile: Profile = "balanced"
    include_in_prompt: bool = True
    lookback_minutes: Lookback | None = None
    granularity: Granularity | None = None
    profile_definitions: dict[Profile, ProfilePatch] = {}
    asset_overrides: dict[Symbol, StreamOverride] = {}
    source_policy: SourcePolicy | None = None
    polymarket: PolymarketTarget | None = None
    defillama: DefiLlamaTarget | None = None


# ---------------------------------------------------------------- A. asset selection


class AssetSelectionConfig(_Config, frozen=True):
    enabled: bool = True
    high_level_categories: Annotated[list[str], Meta(max_length=20)] = []
    subcategories: Annotated[list[str], Meta(max_length=50)] = []
    explicitly_enabled_symbols: SymbolList = []
    explicitly_disabled_symbols: SymbolList = []
    profile_assignments: dict[str, Profile] = {}
    """Symbol or category id → profile: the "asset/group profile assignment" precedence level."""


# ---------------------------------------------------------------- D. trading prompt


class CandidatePolicy(_Config, frozen=True):
    max_candidates: Annotated[int, Meta(ge=1, le=25)] = 10
    include_open_positions: bool = True
    prefilter: Literal["none", "momentum", "volatility", "volume"] = "none"


class PromptOverride(_Config, frozen=True):
    enabled: bool | None = None
    custom_behavior_prompt: PromptText | None = None
    decision_cadence_sec: Cadence | None = None


class TradingPromptConfig(_Config, frozen=True):
    enabled: bool = True
    custom_behavior_prompt: PromptText = ""
    decision_cadence_sec: Cadence = 300
    candidate_policy: CandidatePolicy = msgspec.field(default_factory=CandidatePolicy)
    coverage_mode: CoverageMode = "global"
    asset_overrides: dict[Symbol, PromptOverride] = {}
    max_assets_per_run: Any | UnsetType = UNSET
    trader_type: Any | UnsetType = UNSET
    analysis_timeframe: Any | UnsetType = UNSET
    market_momentum_sensitivity: Any | UnsetType = UNSET


LEGACY_PROMPT_FIELDS = (
    "max_assets_per_run",
    "trader_type",
    "analysis_timeframe",
    "market_momentum_sensitivity",
)


# ---------------------------------------------------------------- C. nodes, edges, layout


class _Node(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True, tag_field="type"
):
    id: NodeId
    label: Label | None = None
    position: Position | None = None


class DataStreamNode(_Node, tag="data_stream", frozen=True):
    config: DataStreamConfig


class AssetSelectionNode(_Node, tag="asset_selection", frozen=True):
    config: AssetSelectionConfig = msgspec.field(default_factory=AssetSelectionConfig)


class TradingPromptNode(_Node, tag="trading_prompt", frozen=True):
    config: TradingPromptConfig = msgspec.field(default_factory=TradingPromptConfig)


Node: TypeAlias = DataStreamNode | AssetSelectionNode | TradingPromptNode
NODE_TYPES: dict[str, type[Node]] = {
    "data_stream": DataStreamNode,
    "asset_selection": AssetSelectionNode,
    "trading_prompt": TradingPromptNode,
}
CONFIG_TYPES: dict[str, type[_Config]] = {
    "data_stream": DataStreamConfig,
    "asset_selection": AssetSelectionConfig,
    "trading_prompt": TradingPromptConfig,
}


def node_type(node: Node) -> NodeType:
    return type(node).__struct_config__.tag  # type: ignore[return-value]


class Edge(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    source: NodeId
    target: NodeId
    id: Annotated[str, Meta(min_length=1, max_length=140)] | None = None

    @property
    def key(self) -> str:
        return self.id or f"{self.source}->{self.target}"


class StrategyClonePlacement(_Config, frozen=True):
    """The visual Trading Clone Block: where it sits and which prompts draw a line to it."""

    position: Position | None = None
    connected_prompt_node_ids: Annotated[list[str], Meta(max_length=MAX_NODES)] = []


class Layout(_Config, frozen=True):
    strategy_clone: StrategyClonePlacement | None = None
    control_mode: ControlMode | None = None


class Pipeline(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    nodes: list[Node] = []
    edges: list[Edge] = []
    layout: Layout = msgspec.field(default_factory=Layout)

    def node(self, node_id: str) -> Node | None:
        return next((n for n in self.nodes if n.id == node_id), None)

    def sources_of(self, node_id: str) -> list[str]:
        return [e.source for e in self.edges if e.target == node_id]

    def targets_of(self, node_id: str) -> list[str]:
        return [e.target for e in self.edges if e.source == node_id]


EMPTY = Pipeline()

_encoder = msgspec.json.Encoder(order="deterministic")


def encode_graph(p: Pipeline) -> bytes:
    """The executable part (nodes and edges), canonical JSON: what versions hash and diff."""
    return _encoder.encode({"nodes": p.nodes, "edges": p.edges})


def encode_layout(layout: Layout) -> bytes:
    return _encoder.encode(layout)


class _StoredGraph(msgspec.Struct, frozen=True):
    nodes: list[Node]
    edges: list[Edge]


def decode_stored(graph: bytes | str, layout: bytes | str) -> Pipeline:
    """Rows we wrote ourselves; no staged error reporting needed."""
    g = msgspec.json.decode(graph, type=_StoredGraph)
    return Pipeline(nodes=g.nodes, edges=g.edges, layout=msgspec.json.decode(layout, type=Layout))


# ---------------------------------------------------------------- decoding


class _Envelope(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    nodes: list[msgspec.Raw] = []
    edges: list[msgspec.Raw] = []
    layout: msgspec.Raw = msgspec.Raw(b"null")


class _NodeHead(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    type: str
    id: NodeId
    config: msgspec.Raw = msgspec.Raw(b"{}")
    label: Label | None = None
    position: Position | None = None


class _LooseId(msgspec.Struct, frozen=True):
    id: Any = None


_AT = re.compile(r"^(?P<reason>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.S)
_NAMED = re.compile(r"field `(?P<name>[^`]+)`")


def _from_validation(exc: msgspec.ValidationError, node_id: str | None, prefix: str) -> Problem:
    """Turn msgspec's "Expected `int` >= 60 - at `$.decisionCadenceSec`" into a Problem."""
    m = _AT.match(str(exc))
    reason = m["reason"] if m else str(exc)
    path = (m["path"] if m else "") or ""
    named = _NAMED.search(reason)
    if reason.startswith("Object missing required field"):
        code = "missing_field"
    elif reason.startswith("Object contains unknown field"):
        code = "unknown_field"
    elif reason.startswith("Invalid enum value"):
        code = "invalid_value"
    elif "matching regex" in reason:
        code = "invalid_format"
    elif "of length" in reason:
        code = "invalid_length"
    elif re.search(r"[<>]=? ", reason):
        code = "out_of_range"
    else:
        code = "invalid_type"
    if named and code in ("missing_field", "unknown_field"):
        path = f"{path}.{named['name']}"
    field = f"{prefix}{path}" if prefix else path.lstrip(".")
    return Problem(node_id=node_id, field=field or "$", code=code, message=reason)


def decode_pipeline(raw: bytes) -> tuple[Pipeline | None, list[Problem]]:
    """Strictly decode a pipeline document; on any decode error, None and every problem found.

    Legacy trading-prompt fields (maxAssetsPerRun, traderType, analysisTimeframe,
    marketMomentumSensitivity) are accepted and dropped.
    """
    try:
        env = msgspec.json.decode(raw, type=_Envelope, strict=True)
    except msgspec.ValidationError as exc:
        return None, [_from_validation(exc, None, "")]
    except msgspec.DecodeError as exc:
        return None, [Problem(node_id=None, field="$", code="malformed_json", message=str(exc))]
    problems: list[Problem] = []
    if len(env.nodes) > MAX_NODES:
        problems.append(
            Problem(
                node_id=None,
                field="nodes",
                code="too_many_nodes",
                message=f"{len(env.nodes)} nodes; a pipeline holds at most {MAX_NODES}",
            )
        )
    if len(env.edges) > MAX_EDGES:
        problems.append(
            Problem(
                node_id=None,
                field="edges",
                code="too_many_edges",
                message=f"{len(env.edges)} edges; a pipeline holds at most {MAX_EDGES}",
            )
        )
    if problems:
        return None, problems
    nodes = [
        n for i, raw_node in enumerate(env.nodes) if (n := _decode_node(raw_node, i, problems))
    ]
    edges: list[Edge] = []
    for i, raw_edge in enumerate(env.edges):
        try:
            edges.append(msgspec.json.decode(raw_edge, type=Edge, strict=True))
        except msgspec.ValidationError as exc:
            problems.append(_from_validation(exc, None, f"edges[{i}]"))
    layout = Layout()
    if bytes(env.layout) != b"null":
        try:
            layout = msgspec.json.decode(env.layout, type=Layout, strict=True)
        except msgspec.ValidationError as exc:
            problems.append(_from_validation(exc, None, "layout"))
    if problems:
        return None, problems
    return Pipeline(nodes=nodes, edges=edges, layout=layout), []


def _decode_node(raw: msgspec.Raw, index: int, problems: list[Problem]) -> Node | None:
    try:
        head = msgspec.json.decode(raw, type=_NodeHead, strict=True)
    except msgspec.ValidationError as exc:
        try:
            loose = msgspec.json.decode(raw, type=_LooseId).id
        except msgspec.ValidationError:
            loose = None
        node_id = loose if isinstance(loose, str) else None
        problems.append(_from_validation(exc, node_id, f"nodes[{index}]"))
        return None
    if head.type not in NODE_TYPES:
        hint = (
            " The Trading Clone Block is layout metadata (layout.strategyClone), not a graph node."
            if "clone" in head.type
            else ""
        )
        problems.append(
            Problem(
                node_id=head.id,
                field="type",
                code="unknown_node_type",
                message=f"unknown node type {head.type!r}; expected one of "
                f"{', '.join(NODE_TYPES)}.{hint}",
            )
        )
        return None
    try:
        config = msgspec.json.decode(head.config, type=CONFIG_TYPES[head.type], strict=True)
    except msgspec.ValidationError as exc:
        problems.append(_from_validation(exc, head.id, "config"))
        return None
    if isinstance(config, DataStreamConfig):
        return DataStreamNode(id=head.id, label=head.label, position=head.position, config=config)
    if isinstance(config, AssetSelectionConfig):
        return AssetSelectionNode(
            id=head.id, label=head.label, position=head.position, config=config
        )
    assert isinstance(config, TradingPromptConfig)  # CONFIG_TYPES and NODE_TYPES share their keys
    config = msgspec.structs.replace(config, **dict.fromkeys(LEGACY_PROMPT_FIELDS, UNSET))
    return TradingPromptNode(id=head.id, label=head.label, position=head.position, config=config)


# ---------------------------------------------------------------- asset universe


def selection_symbols(
    config: AssetSelectionConfig, assets: Mapping[str, CatalogAsset]
) -> list[str]:
    """Format A's effective trade universe of one asset block: tradable symbols only."""
    universe = [s for s, a in assets.items() if a.tradable]
    categories = [
        c for c in (*config.high_level_categories, *config.subcategories) if c in CATEGORIES
    ]
    hot = [s for s, a in assets.items() if a.trending]
    picked = select(
        universe,
        categories,
        config.explicitly_enabled_symbols,
        config.explicitly_disabled_symbols,
        trending_symbols=hot,
    )
    return [p.symbol for p in picked]


def active_assets(p: Pipeline, assets: Mapping[str, CatalogAsset]) -> list[str]:
    """Symbols a clone may trade: enabled asset blocks that feed an enabled trading prompt."""
    prompts = {n.id for n in p.nodes if isinstance(n, TradingPromptNode) and n.config.enabled}
    out: dict[str, None] = {}
    for n in p.nodes:
        if (
            isinstance(n, AssetSelectionNode)
            and n.config.enabled
            and prompts & set(p.targets_of(n.id))
        ):
            out.update(dict.fromkeys(selection_symbols(n.config, assets)))
    return list(out)


# ---------------------------------------------------------------- override precedence


class Retrieval(msgspec.Struct, frozen=True, kw_only=True):
    """The read settings of one data stream for one decision asset."""

    enabled: bool
    profile: Profile
    lookback_minutes: int
    granularity: Granularity
    max_datapoints: int
    include_in_prompt: bool


def profile_definition(stream: DataStreamConfig, name: Profile) -> ProfileDefinition:
    base = BUILTIN_PROFILES[name]
    patch = stream.profile_definitions.get(name)
    if patch is None:
        return base
    return ProfileDefinition(
        lookback_minutes=patch.lookback_minutes or base.lookback_minutes,
        granularity=patch.granularity or base.granularity,
        max_datapoints=patch.max_datapoints or base.max_datapoints,
    )


def resolve_retrieval(
    stream: DataStreamConfig, selection: AssetSelectionConfig | None, symbol: str
) -> Retrieval:
    """Seed 003's precedence: per-asset configuration > asset/group profile assignment > data
    stream default > built-in profile definition. The block's own lookback/granularity belong to
    the data stream default level, so an assigned profile replaces them."""
    override = stream.asset_overrides.get(symbol, StreamOverride())
    assigned = _assigned_profile(selection, symbol)
    name: Profile = override.profile or assigned or stream.profile
    d = profile_definition(stream, name)
    lookback, granularity = d.lookback_minutes, d.granularity
    if override.profile is None and assigned is None:
        lookback = stream.lookback_minutes or lookback
        granularity = stream.granularity or granularity
    lookback = override.lookback_minutes or lookback
    granularity = override.granularity or granularity
    points = min(d.max_datapoints, max(1, lookback // GRANULARITY_MINUTES[granularity]))
    return Retrieval(
        enabled=override.enabled if override.enabled is not None else True,
        profile=name,
        lookback_minutes=lookback,
        granularity=granularity,
        max_datapoints=points,
        include_in_prompt=override.include_in_prompt
        if override.include_in_prompt is not None
        else stream.include_in_prompt,
    )


def _assigned_profile(selection: AssetSelectionConfig | None, symbol: str) -> Profile | None:
    if selection is None or not selection.profile_assignments:
        return None
    if symbol in selection.profile_assignments:
        return selection.profile_assignments[symbol]
    member = {"All", *categorize(symbol)}
    return next(
        (
            selection.profile_assignments[c]
            for c in CATEGORIES
            if c in member and c in selection.profile_assignments
        ),
        None,
    )


# ---------------------------------------------------------------- validation


def validate(p: Pipeline, assets: Mapping[str, CatalogAsset]) -> list[Problem]:
    """Structure, then each node against the registry. Entitlements are checked separately
    (`clash.clones.entitlements.check_entitlement`) because they depend on the clone's tier."""
    out: list[Problem] = []
    out += _check_structure(p)
    for n in p.nodes:
        if isinstance(n, DataStreamNode):
            out += _check_stream(p, n, assets)
        elif isinstance(n, AssetSelectionNode):
            out += _check_selection(n, assets)
        else:
            out += _check_prompt(p, n, assets)
    return out


def _check_structure(p: Pipeline) -> list[Problem]:
    out: list[Problem] = []
    kinds: dict[str, str] = {}
    for n in p.nodes:
        if n.id in kinds:
            out.append(
                Problem(
                    node_id=n.id,
                    field="id",
                    code="duplicate_node_id",
                    message=f"two nodes have the id {n.id!r}",
                )
            )
        kinds.setdefault(n.id, node_type(n))
    seen_pairs: set[tuple[str, str]] = set()
    seen_ids: set[str] = set()
    for e in p.edges:
        eid = e.key
        if e.id is not None and e.id in seen_ids:
            out.append(
                Problem(
                    node_id=None,
                    edge_id=eid,
                    field="id",
                    code="duplicate_edge_id",
                    message=f"two edges have the id {e.id!r}",
                )
            )
        seen_ids.add(eid)
        missing = [
            (f, nid) for f, nid in (("source", e.source), ("target", e.target)) if nid not in kinds
        ]
        for f, nid in missing:
            out.append(
                Problem(
                    node_id=None,
                    edge_id=eid,
                    field=f,
                    code="edge_unknown_node",
                    message=f"edge {f} {nid!r} is not a node of this pipeline",
                )
            )
        if missing:
            continue
        pair = (kinds[e.source], kinds[e.target])
        if pair not in ALLOWED_EDGES:
            out.append(
                Problem(
                    node_id=e.target,
                    edge_id=eid,
                    field="edges",
                    code="edge_not_allowed",
                    message=f"{pair[0]} → {pair[1]} ({e.source} → {e.target}) is not an allowed "
                    "path; allowed: data_stream → asset_selection, asset_selection → "
                    "trading_prompt",
                )
            )
        elif (e.source, e.target) in seen_pairs:
            out.append(
                Problem(
                    node_id=e.target,
                    edge_id=eid,
                    field="edges",
                    code="duplicate_edge",
                    message=f"{e.source} → {e.target} is connected twice",
                )
            )
        seen_pairs.add((e.source, e.target))
    clone = p.layout.strategy_clone
    for i, nid in enumerate(clone.connected_prompt_node_ids if clone else ()):
        field = f"layout.strategyClone.connectedPromptNodeIds[{i}]"
        if nid not in kinds:
            out.append(
                Problem(
                    node_id=nid,
                    field=field,
                    code="layout_unknown_node",
                    message=f"{nid!r} is not a node of this pipeline",
                )
            )
        elif kinds[nid] != "trading_prompt":
            out.append(
                Problem(
                    node_id=nid,
                    field=field,
                    code="layout_not_a_prompt",
                    message=f"only trading prompts connect to the Trading Clone Block; "
                    f"{nid!r} is a {kinds[nid]}",
                )
            )
    for n in p.nodes:
        kind = node_type(n)
        if kind == "data_stream" and not _linked(p, n.id, "asset_selection", outgoing=True):
            out.append(_unconnected(n.id, "this data stream feeds no asset block"))
        elif kind == "asset_selection" and not _linked(p, n.id, "trading_prompt", outgoing=True):
            out.append(_unconnected(n.id, "this asset block feeds no trading prompt"))
        elif kind == "trading_prompt" and not _linked(p, n.id, "asset_selection", outgoing=False):
            out.append(
                _unconnected(n.id, "no asset block feeds this trading prompt, so it never runs")
            )
    return out


def _linked(p: Pipeline, node_id: str, kind: str, *, outgoing: bool) -> bool:
    others = p.targets_of(node_id) if outgoing else p.sources_of(node_id)
    return any((o := p.node(x)) is not None and node_type(o) == kind for x in others)


def _unconnected(node_id: str, message: str) -> Problem:
    return Problem(
        node_id=node_id, field="edges", code="unconnected_node", message=message, severity="warning"
    )


def _symbol_problem(
    node_id: str,
    field: str,
    symbol: str,
    assets: Mapping[str, CatalogAsset],
    *,
    must_trade: bool = True,
) -> Problem | None:
    info = assets.get(symbol)
    if info is None:
        close = next((s for s in assets if s.lower() == symbol.lower()), None)
        hint = f" (did you mean {close!r}?)" if close else ""
        return Problem(
            node_id=node_id,
            field=field,
            code="unknown_symbol",
            message=f"{symbol!r} is not in the asset registry{hint}",
        )
    if not must_trade:
        return None
    if info.delisted:
        return Problem(
            node_id=node_id, field=field, code="symbol_delisted", message=f"{symbol} is delisted"
        )
    if not info.enabled:
        return Problem(
            node_id=node_id,
            field=field,
            code="symbol_not_enabled",
            message=f"{symbol} is not in the ingestion universe (no market memory, not tradable)",
        )
    return None


def _check_selection(n: AssetSelectionNode, assets: Mapping[str, CatalogAsset]) -> list[Problem]:
    c, out = n.config, []
    for field, values, allowed in (
        ("config.highLevelCategories", c.high_level_categories, HIGH_LEVEL_CATEGORIES),
        ("config.subcategories", c.subcategories, SUBCATEGORIES),
    ):
        for i, v in enumerate(values):
            if v not in allowed:
                out.append(
                    Problem(
                        node_id=n.id,
                        field=f"{field}[{i}]",
                        code="unknown_category",
                        message=f"{v!r} is not one of {', '.join(allowed)}",
                    )
                )
    for i, s in enumerate(c.explicitly_enabled_symbols):
        if (
            bad := _symbol_problem(n.id, f"config.explicitlyEnabledSymbols[{i}]", s, assets)
        ) is not None:
            out.append(bad)
    disabled = set(c.explicitly_disabled_symbols)
    for i, s in enumerate(c.explicitly_disabled_symbols):
        if bad := _symbol_problem(
            n.id, f"config.explicitlyDisabledSymbols[{i}]", s, assets, must_trade=False
        ):
            out.append(bad)
    for i, s in enumerate(c.explicitly_enabled_symbols):
        if s in disabled:
            out.append(
                Problem(
                    node_id=n.id,
                    field=f"config.explicitlyEnabledSymbols[{i}]",
                    code="symbol_enabled_and_disabled",
                    message=f"{s} is both explicitly enabled and explicitly disabled",
                )
            )
    for key in c.profile_assignments:
        if key not in CATEGORIES and key not in assets:
            out.append(
                Problem(
                    node_id=n.id,
                    field=f"config.profileAssignments.{key}",
                    code="unknown_symbol",
                    message=f"{key!r} is neither a symbol in the registry nor a category",
                )
            )
    if not out and not selection_symbols(c, assets):
        out.append(
            Problem(
                node_id=n.id,
                field="config",
                code="empty_selection",
                severity="warning",
                message="this asset block selects no tradable asset",
            )
        )
    return out


def _connected_assets(p: Pipeline, stream_id: str, assets: Mapping[str, CatalogAsset]) -> list[str]:
    out: dict[str, None] = {}
    for target in p.targets_of(stream_id):
        node = p.node(target)
        if isinstance(node, AssetSelectionNode):
            out.update(dict.fromkeys(selection_symbols(node.config, assets)))
    return list(out)


def _capability(c: DataStreamConfig) -> str:
    return HYPERLIQUID_CHANNELS[c.channel] if c.source == "hyperliquid" else c.source


def _check_stream(
    p: Pipeline, n: DataStreamNode, assets: Mapping[str, CatalogAsset]
) -> list[Problem]:
    c, out = n.config, []
    if c.channel not in CHANNELS[c.source]:
        return [
            Problem(
                node_id=n.id,
                field="config.channel",
                code="unknown_channel",
                message=f"{c.source} has no channel {c.channel!r}; expected one of "
                f"{', '.join(CHANNELS[c.source])}",
            )
        ]
    for name in ("polymarket", "defillama"):
        if getattr(c, name) is not None and c.source != name:
            out.append(
                Problem(
                    node_id=n.id,
                    field=f"config.{name}",
                    code="target_not_allowed",
                    message=f"a {c.source} block takes no {name} target",
                )
            )
    need = _capability(c)
    if c.symbol is not None:
        bad = _symbol_problem(n.id, "config.symbol", c.symbol, assets)
        if bad is not None:
            out.append(bad)
        elif not assets[c.symbol].supports(need):
            kind = "spot pair" if assets[c.symbol].is_spot else "asset"
            out.append(
                Problem(
                    node_id=n.id,
                    field="config.channel",
                    code="unsupported_channel",
                    message=f"{c.channel} is not available for {c.symbol} (a {kind} without "
                    f"{need} data)",
                )
            )
    elif c.source == "hyperliquid" or (c.source == "polymarket" and c.polymarket is None):
        skipped = [s for s in _connected_assets(p, n.id, assets) if not assets[s].supports(need)]
        if skipped:
            out.append(
                Problem(
                    node_id=n.id,
                    field="config.channel",
                    code="unsupported_channel_asset",
                    severity="warning",
                    message=f"{c.channel} is not available for {', '.join(skipped)}; "
                    "those assets will not receive this block",
                )
            )
    if c.source == "polymarket" and c.channel != "market_discovery":
        t = c.polymarket
        if (
            c.symbol is None
            and (t is None or not (t.event_slug or t.market_slug))
            and not _connected_assets(p, n.id, assets)
        ):
            out.append(
                Problem(
                    node_id=n.id,
                    field="config.polymarket",
                    code="target_required",
                    message=f"{c.channel} needs polymarket.eventSlug or polymarket.marketSlug "
                    "(or a symbol, or an asset block to link markets to)",
                )
            )
    if (
        c.source == "defillama"
        and c.defillama is not None
        and c.defillama.scope != "global"
        and not c.defillama.subject
    ):
        out.append(
            Problem(
                node_id=n.id,
                field="config.defillama.subject",
                code="target_required",
                message=f"a {c.defillama.scope} scope needs a subject (e.g. a chain name)",
            )
        )
    for symbol in c.asset_overrides:
        if symbol not in assets:
            out.append(
                Problem(
                    node_id=n.id,
                    field=f"config.assetOverrides.{symbol}",
                    code="unknown_symbol",
                    message=f"{symbol!r} is not in the asset registry",
                )
            )
    if c.source == "hyperliquid":
        r = resolve_retrieval(c, None, c.symbol or "")
        if r.lookback_minutes > RETENTION_MINUTES[r.granularity]:
            out.append(
                Problem(
                    node_id=n.id,
                    field="config.lookbackMinutes",
                    code="lookback_beyond_retention",
                    severity="warning",
                    message=f"{r.lookback_minutes} minutes at {r.granularity} reaches past market "
                    f"memory ({RETENTION_MINUTES[r.granularity]} minutes kept)",
                )
            )
    return out


def _check_prompt(
    p: Pipeline, n: TradingPromptNode, assets: Mapping[str, CatalogAsset]
) -> list[Problem]:
    c, out = n.config, []
    if c.coverage_mode == "asset_specific_only" and not c.asset_overrides:
        out.append(
            Problem(
                node_id=n.id,
                field="config.assetOverrides",
                code="missing_asset_overrides",
                message="coverageMode asset_specific_only needs at least one asset override",
            )
        )
    if c.coverage_mode == "global" and c.asset_overrides:
        out.append(
            Problem(
                node_id=n.id,
                field="config.coverageMode",
                code="asset_overrides_ignored",
                severity="warning",
                message="coverageMode global ignores assetOverrides; use global_with_asset_overrides",
            )
        )
    connected: set[str] = set()
    for source in p.sources_of(n.id):
        node = p.node(source)
        if isinstance(node, AssetSelectionNode):
            connected.update(selection_symbols(node.config, assets))
    for symbol in c.asset_overrides:
        field = f"config.assetOverrides.{symbol}"
        if (bad := _symbol_problem(n.id, field, symbol, assets)) is not None:
            out.append(bad)
        elif symbol not in connected:
            out.append(
                Problem(
                    node_id=n.id,
                    field=field,
                    code="override_not_connected",
                    severity="warning",
                    message=f"{symbol} is not selected by any asset block feeding this prompt",
                )
            )
    if (
        c.enabled
        and not c.custom_behavior_prompt.strip()
        and c.coverage_mode != "asset_specific_only"
    ):
        out.append(
            Problem(
                node_id=n.id,
                field="config.customBehaviorPrompt",
                code="empty_prompt",
                severity="warning",
                message="this trading prompt has no behavior text",
            )
        )
    return out


def prompt_texts(p: Pipeline) -> dict[str, str]:
    """Every prompt text of the pipeline by path ("<node>" or "<node>/<symbol>"): what diffs show."""
    out: dict[str, str] = {}
    for n in p.nodes:
        if isinstance(n, TradingPromptNode):
            out[n.id] = n.config.custom_behavior_prompt
            for symbol, o in n.config.asset_overrides.items():
                if o.custom_behavior_prompt is not None:
                    out[f"{n.id}/{symbol}"] = o.custom_behavior_prompt
    return out
