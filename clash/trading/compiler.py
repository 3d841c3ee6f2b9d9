"""The graph compiler: a pipeline and a registry snapshot in, the effective universe and per-asset
read plans out. Pure: no clock, no I/O, so the same graph over the same registry always compiles
to the same plans.

Unsupported (asset, channel) pairs, such as funding for a spot pair, are skipped here, before
any retrieval, with the reason kept beside the plans.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from clash.clones import (
    CHANNELS,
    GRANULARITY_MINUTES,
    HYPERLIQUID_CHANNELS,
    AssetSelectionNode,
    CatalogAsset,
    DataStreamConfig,
    DataStreamNode,
    Pipeline,
    TradingPromptConfig,
    TradingPromptNode,
    encode_graph,
    resolve_retrieval,
)
from clash.market import CATEGORIES, CHAIN_SYMBOLS, PROTOCOL_SYMBOLS, categorize, select
from clash.trading.packet import (
    Branch,
    BranchAsset,
    CandidatePolicyView,
    CompiledPipeline,
    DefiLlamaScope,
    MemoryRead,
    PolymarketScope,
    PromptSource,
    ReadPlan,
    SelectedAsset,
    SkippedRead,
    SkipReason,
)

MINUTE_ROWS_KEPT = 1440
"""1-minute candles and indicators are kept 24 hours (seed 003's hot retention)."""
HOUR_ROWS_KEPT = 168
FUNDING_POLLS_KEPT = 7 * 1440


def compile_pipeline(pipeline: Pipeline, assets: Mapping[str, CatalogAsset]) -> CompiledPipeline:
    """Compile the executable graph. Layout is ignored: it has no effect on trading."""
    selected = {
        n.id: _selection(n, assets)
        for n in pipeline.nodes
        if isinstance(n, AssetSelectionNode) and n.config.enabled
    }
    branches = [
        _branch(pipeline, n, selected, assets)
        for n in pipeline.nodes
        if isinstance(n, TradingPromptNode)
    ]
    live = {b.prompt_node_id for b in branches if b.enabled}
    sources: dict[str, str] = {}
    selected_by: dict[str, list[str]] = {}
    for sid, picked in selected.items():  # graph order, as graph.active_assets
        if live & set(pipeline.targets_of(sid)):
            for symbol, source in picked.items():
                sources.setdefault(symbol, source)
                selected_by.setdefault(symbol, []).append(sid)
    universe = [_describe(assets[s], sources[s], selected_by[s]) for s in sources]
    return CompiledPipeline(
        graph_hash=hashlib.sha256(encode_graph(pipeline)).hexdigest(),
        universe=universe,
        branches=branches,
    )


# ---------------------------------------------------------------- A. universe


def _selection(node: AssetSelectionNode, assets: Mapping[str, CatalogAsset]) -> dict[str, str]:
    """symbol → selection source, in registry order (as graph.selection_symbols picks them)."""
    c = node.config
    tradable = [s for s, a in assets.items() if a.tradable]
    categories = [x for x in (*c.high_level_categories, *c.subcategories) if x in CATEGORIES]
    hot = [s for s, a in assets.items() if a.trending]
    picked = select(
        tradable,
        categories,
        c.explicitly_enabled_symbols,
        c.explicitly_disabled_symbols,
        trending_symbols=hot,
    )
    return {p.symbol: p.source for p in picked}


def _describe(info: CatalogAsset, source: str, selected_by: list[str]) -> SelectedAsset:
    return SelectedAsset(
        symbol=info.symbol,
        source=source,
        selected_by=selected_by,
        kind="spot" if info.is_spot else "perp",
        categories=categorize(info.symbol),
        trending=info.trending,
        tradable=info.tradable,
        capabilities=sorted(info.channels),
    )


# ---------------------------------------------------------------- D. branches


def _branch(
    p: Pipeline,
    prompt: TradingPromptNode,
    selected: Mapping[str, dict[str, str]],
    assets: Mapping[str, CatalogAsset],
) -> Branch:
    feeding = set(p.sources_of(prompt.id))
    selection_nodes = [
        n
        for n in p.nodes
        if isinstance(n, AssetSelectionNode) and n.id in feeding and n.id in selected
    ]
    streams = {n.id: n for n in p.nodes if isinstance(n, DataStreamNode)}
    by_symbol: dict[str, list[AssetSelectionNode]] = {}
    for node in selection_nodes:
        for symbol in selected[node.id]:
            by_symbol.setdefault(symbol, []).append(node)
    c = prompt.config
    out: list[BranchAsset] = []
    for symbol, nodes in by_symbol.items():
        reads: list[ReadPlan] = []
        skipped: list[SkippedRead] = []
        seen: set[str] = set()
        for node in nodes:
            for stream in (streams[s] for s in _ordered_sources(p, node.id, streams)):
                if stream.id in seen:
                    continue
                seen.add(stream.id)
                plan = plan_read(stream, node, symbol, assets)
                if isinstance(plan, ReadPlan):
                    reads.append(plan)
                else:
                    skipped.append(plan)
        out.append(_branch_asset(c, symbol, reads, skipped))
    policy = c.candidate_policy
    return Branch(
        prompt_node_id=prompt.id,
        label=prompt.label,
        enabled=c.enabled,
        coverage_mode=c.coverage_mode,
        decision_cadence_sec=c.decision_cadence_sec,
        candidate_policy=CandidatePolicyView(
            max_candidates=policy.max_candidates,
            include_open_positions=policy.include_open_positions,
            prefilter=policy.prefilter,
        ),
        selection_node_ids=[n.id for n in selection_nodes],
        assets=out,
    )


def _ordered_sources(p: Pipeline, node_id: str, streams: Mapping[str, DataStreamNode]) -> list[str]:
    """Streams feeding an asset block, in graph node order (edge order is not meaningful)."""
    feeding = set(p.sources_of(node_id))
    return [sid for sid in streams if sid in feeding]


def _branch_asset(
    c: TradingPromptConfig, symbol: str, reads: list[ReadPlan], skipped: list[SkippedRead]
) -> BranchAsset:
    """Coverage modes: `global` ignores asset overrides; `global_with_asset_overrides` appends an
    asset's text to the global prompt; `asset_specific_only` runs only assets with an override."""
    override = c.asset_overrides.get(symbol) if c.coverage_mode != "global" else None
    enabled = True
    cadence = c.decision_cadence_sec
    source: PromptSource = "global"
    prompt = c.custom_behavior_prompt
    if override is not None:
        enabled = override.enabled is not False
        cadence = override.decision_cadence_sec or cadence
        text = override.custom_behavior_prompt
        if c.coverage_mode == "asset_specific_only":
            prompt, source = text or "", "asset_override" if text else "none"
        elif text:
            prompt = f"{c.custom_behavior_prompt}\n\n{text}" if c.custom_behavior_prompt else text
            source = "global_with_asset_override"
    elif c.coverage_mode == "asset_specific_only":
        enabled, prompt, source = False, "", "none"
    return BranchAsset(
        symbol=symbol,
        enabled=enabled,
        decision_cadence_sec=cadence,
        prompt=prompt,
        prompt_source=source,
        reads=reads,
        skipped=skipped,
    )


# ---------------------------------------------------------------- B. read plans


def plan_read(
    stream: DataStreamNode,
    selection: AssetSelectionNode,
    symbol: str,
    assets: Mapping[str, CatalogAsset],
) -> ReadPlan | SkippedRead:
    """One stream for one traded asset, after seed 003's override precedence
    (`clash.clones.graph.resolve_retrieval`), or why it is skipped."""
    c = stream.config
    context = c.symbol or symbol

    def skip(reason: SkipReason, message: str) -> SkippedRead:
        return SkippedRead(
            stream_node_id=stream.id,
            symbol=symbol,
            context_symbol=context,
            source=c.source,
            channel=c.channel,
            reason=reason,
            message=message,
        )

    if c.channel not in CHANNELS[c.source]:
        return skip("unknown_channel", f"{c.source} has no channel {c.channel!r}")
    r = resolve_retrieval(c, selection.config, symbol)
    if not r.enabled:
        return skip(
            "disabled_for_asset", f"{stream.id} is disabled for {symbol} by its asset override"
        )
    polymarket = defillama = None
    if c.source == "hyperliquid":
        info = assets.get(context)
        need = HYPERLIQUID_CHANNELS[c.channel]
        if info is None:
            return skip("unknown_symbol", f"{context} is not in the asset registry")
        if not info.tradable:
            return skip("no_market_memory", f"{context} is not ingested (disabled or delisted)")
        if not info.supports(need):
            kind = "spot pair" if info.is_spot else "asset"
            return skip(
                "unsupported_channel",
                f"{c.channel} is not available for {context} (a {kind} without {need} data)",
            )
        reads = _hyperliquid_reads(c.channel, r.granularity, r.max_datapoints)
    elif c.source == "polymarket":
        t = c.polymarket
        if t is not None:
            polymarket = PolymarketScope(
                event_slug=t.event_slug, market_slug=t.market_slug, query=t.query
            )
        reads = [MemoryRead(table="polymarket", rows=1)]
    else:
        defillama = _defillama_scope(c, context)
        if defillama.link_symbol is None and defillama.scope != "global":
            return skip(
                "subject_not_linked",
                f"DefiLlama {defillama.scope} {defillama.subject!r} links to no "
                "symbol, and market memory reads macro rows by linked symbol",
            )
        context = defillama.link_symbol or context
        reads = [MemoryRead(table="macro", rows=1)]
    policy = c.source_policy
    return ReadPlan(
        stream_node_id=stream.id,
        selection_node_id=selection.id,
        symbol=symbol,
        context_symbol=context,
        cross_asset=context != symbol,
        source=c.source,
        channel=c.channel,
        profile=r.profile,
        lookback_minutes=r.lookback_minutes,
        granularity=r.granularity,
        max_datapoints=r.max_datapoints,
        include_in_prompt=r.include_in_prompt,
        reads=reads,
        polymarket=polymarket,
        defillama=defillama,
        max_staleness_sec=policy.max_staleness_sec if policy else None,
        on_stale=policy.on_stale if policy else "skip",
    )


def _hyperliquid_reads(channel: str, granularity: str, points: int) -> list[MemoryRead]:
    """Rows to read for `points` samples at `granularity`, from the table that holds them."""
    minutes = GRANULARITY_MINUTES[granularity]
    need = HYPERLIQUID_CHANNELS[channel]
    if need == "candles":
        if minutes < 60:
            return [MemoryRead(table="candles_1m", rows=min(points * minutes, MINUTE_ROWS_KEPT))]
        return [MemoryRead(table="candles_1h", rows=min(points * minutes // 60, HOUR_ROWS_KEPT))]
    if need == "indicators":
        return [MemoryRead(table="indicators_1m", rows=min(points * minutes, MINUTE_ROWS_KEPT))]
    if need == "funding":
        polls = min(points * minutes, FUNDING_POLLS_KEPT) if minutes < 60 else 1
        return [
            MemoryRead(table="funding", rows=polls),
            MemoryRead(
                table="settled_funding", rows=max(1, min(points * minutes // 60, HOUR_ROWS_KEPT))
            ),
        ]
    if need == "mids":
        return [MemoryRead(table="mids", rows=1)]
    return [MemoryRead(table="profiles", rows=1)]


def _defillama_scope(c: DataStreamConfig, context: str) -> DefiLlamaScope:
    t = c.defillama
    if t is None:
        return DefiLlamaScope(scope="asset", link_symbol=context)
    if t.scope == "global":
        return DefiLlamaScope(scope="global")
    subject = t.subject or ""
    table = {"chain": CHAIN_SYMBOLS, "protocol": PROTOCOL_SYMBOLS}.get(t.scope)
    if table is None:
        link = subject or None
    else:
        link = next(
            (sym for name, sym in table.items() if name.casefold() == subject.casefold()), None
        )
    return DefiLlamaScope(scope=t.scope, subject=subject, link_symbol=link)
