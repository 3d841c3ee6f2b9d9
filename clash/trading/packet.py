"""The effective context packet (seed 003, format E) and the compiled pipeline it embeds, as
msgspec Structs. Field names are snake_case, like every resource around the camelCase graph.

`encode` is the packet's one byte form: deterministic key order, decimals as strings, so the
same inputs give byte-identical packets (replays and artifact hashes rely on it).
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any, Literal

import msgspec

from clash.clones import Problem
from clash.market import (
    LiquidityProfile,
    MacroObservation,
    MarketSummary,
    PositioningProfile,
    VolatilityProfile,
)

PACKET_FORMAT = "clash.context.v1"

Table = Literal[
    "candles_1m",
    "candles_1h",
    "indicators_1m",
    "funding",
    "settled_funding",
    "mids",
    "profiles",
    "polymarket",
    "macro",
]
SkipReason = Literal[
    "disabled_for_asset",
    "unknown_symbol",
    "no_market_memory",
    "unsupported_channel",
    "unknown_channel",
    "subject_not_linked",
]
BlockStatus = Literal["ok", "empty", "stale"]
CandidateReason = Literal["open_position", "universe", "prefilter", "latest_data"]
PromptSource = Literal["global", "asset_override", "global_with_asset_override", "none"]
Prefilter = Literal["none", "momentum", "volatility", "volume"]


class _S(msgspec.Struct, frozen=True, kw_only=True):
    pass


# ================================================================= A. effective universe


class SelectedAsset(_S, frozen=True):
    """One symbol of the effective trade universe, why it is there, and what it supports."""

    symbol: str
    source: str
    """`explicit`, or `category:<id>` (the first selected category that holds it)."""
    selected_by: list[str]
    """Asset blocks that select it, in graph order."""
    kind: Literal["perp", "spot"]
    categories: list[str]
    trending: bool
    tradable: bool
    capabilities: list[str]


# ================================================================= B. read plans


class MemoryRead(_S, frozen=True):
    """One read of market memory: at most `rows` of `table` about one context symbol."""

    table: Table
    rows: int


class PolymarketScope(_S, frozen=True):
    event_slug: str | None = None
    market_slug: str | None = None
    query: str | None = None


class DefiLlamaScope(_S, frozen=True):
    """`asset`: global rows plus rows linked to the context symbol (seed 004's macro rule);
    `global`: global rows only; otherwise one chain, protocol or stablecoin, read through the
    symbol it links to (`link_symbol`)."""

    scope: Literal["asset", "global", "chain", "protocol", "stablecoin"]
    subject: str | None = None
    link_symbol: str | None = None


class ReadPlan(_S, frozen=True):
    """One data stream for one traded asset. `symbol` receives the decision; `context_symbol` is
    the memory subject (they differ for cross-asset context)."""

    stream_node_id: str
    selection_node_id: str
    symbol: str
    context_symbol: str
    cross_asset: bool
    source: str
    channel: str
    profile: str
    lookback_minutes: int
    granularity: str
    max_datapoints: int
    include_in_prompt: bool
    reads: list[MemoryRead]
    polymarket: PolymarketScope | None = None
    defillama: DefiLlamaScope | None = None
    max_staleness_sec: int | None = None
    on_stale: Literal["skip", "include"] = "skip"


class SkippedRead(_S, frozen=True):
    """A stream that does not reach an asset, decided before any retrieval."""

    stream_node_id: str
    symbol: str
    context_symbol: str
    source: str
    channel: str
    reason: SkipReason
    message: str


# ================================================================= C/D. branches


class CandidatePolicyView(_S, frozen=True):
    max_candidates: int
    include_open_positions: bool
    prefilter: Prefilter


class BranchAsset(_S, frozen=True):
    """One asset of a strategy branch: its prompt, cadence and reads."""

    symbol: str
    enabled: bool
    """False when the prompt's asset override disables it, or asset_specific_only has no override."""
    decision_cadence_sec: int
    prompt: str
    prompt_source: PromptSource
    reads: list[ReadPlan]
    skipped: list[SkippedRead]


class Branch(_S, frozen=True):
    """One trading prompt: one strategy, expanded across the assets its asset blocks select."""

    prompt_node_id: str
    label: str | None
    enabled: bool
    coverage_mode: str
    decision_cadence_sec: int
    candidate_policy: CandidatePolicyView
    selection_node_ids: list[str]
    assets: list[BranchAsset]


class CompiledPipeline(_S, frozen=True):
    graph_hash: str
    """sha256 of the canonical executable graph (layout excluded: it never changes behaviour)."""
    universe: list[SelectedAsset]
    """Active assets: enabled asset blocks feeding an enabled prompt (graph.active_assets)."""
    branches: list[Branch]

    def branch(self, prompt_node_id: str) -> Branch | None:
        return next((b for b in self.branches if b.prompt_node_id == prompt_node_id), None)


# ================================================================= candidates


class Candidate(_S, frozen=True):
    symbol: str
    rank: int
    reason: CandidateReason
    score: float | None = None


class CandidateSet(_S, frozen=True):
    """A branch's candidates for one decision round (seed 003 "Candidate Policy")."""

    prompt_node_id: str
    cap: int
    prefilter: Prefilter
    selected: list[Candidate]
    over_cap: list[Candidate]
    """Eligible assets that ranked below the cap, in rank order."""


# ================================================================= E. memory blocks


class Bar(msgspec.Struct, frozen=True, array_like=True):
    t_ms: int
    o: float
    h: float
    l: float  # noqa: E741
    c: float
    v: float


class CandleData(msgspec.Struct, frozen=True, tag="candles"):
    interval: str
    bars: list[Bar]
    """[t_ms, o, h, l, c, v], oldest first; `t_ms` opens the bar (the last one may be partial)."""


class IndicatorData(msgspec.Struct, frozen=True, tag="indicators"):
    fields: list[str]
    rows: list[list[Any]]
    """[t_ms, *fields] per sample (the last 1-minute value in each bucket), oldest first."""


class FundingData(msgspec.Struct, frozen=True, tag="funding"):
    polls: list[list[Any]]
    """[t_ms, hourly rate, premium, mark_px, open_interest, predicted_rate], oldest first."""
    settled: list[list[Any]]
    """[time_ms, rate, premium] of settled hourly funding, oldest first."""


class MidData(msgspec.Struct, frozen=True, tag="mid"):
    px: Decimal
    at_ms: int


class ProfileData(msgspec.Struct, frozen=True, tag="profile"):
    t_ms: int
    liquidity: LiquidityProfile | None = None
    volatility: VolatilityProfile | None = None
    positioning: PositioningProfile | None = None


class PolymarketData(msgspec.Struct, frozen=True, tag="polymarket"):
    t_ms: int
    markets: list[MarketSummary]


class MacroData(msgspec.Struct, frozen=True, tag="macro"):
    rows: list[MacroObservation]


BlockData = (
    CandleData | IndicatorData | FundingData | MidData | ProfileData | PolymarketData | MacroData
)


class ContextBlock(_S, frozen=True):
    """What one read plan found in market memory at as_of."""

    stream_node_id: str
    symbol: str
    context_symbol: str
    source: str
    channel: str
    granularity: str
    include_in_prompt: bool
    status: BlockStatus
    latest_ms: int | None
    """When the newest datum became known (always <= as_of)."""
    points: int
    data: BlockData | None


class PromptSection(_S, frozen=True):
    id: str
    title: str
    text: str
    estimated_tokens: int


class AssetContext(_S, frozen=True):
    """Everything one decision run (one branch, one asset) sees."""

    prompt_node_id: str
    symbol: str
    candidate: Candidate
    decision_cadence_sec: int
    blocks: list[ContextBlock]
    skipped: list[SkippedRead]
    sections: list[PromptSection]
    estimated_prompt_tokens: int


# ================================================================= prop account


class AccountPosition(_S, frozen=True):
    symbol: str
    side: str
    size: Decimal
    entry_px: Decimal
    mark_px: Decimal
    leverage: int
    margin_micro: int
    stop_loss: Decimal | None
    take_profit: Decimal | None
    opened_at_ms: int


class AccountOrder(_S, frozen=True):
    order_no: int
    symbol: str
    side: str
    size: Decimal
    ref_px: Decimal
    status: str
    cause: str
    at_ms: int


class AccountFill(_S, frozen=True):
    order_no: int
    symbol: str
    side: str
    size: Decimal
    px: Decimal
    notional_micro: int
    fee_micro: int
    cause: str
    at_ms: int


class LedgerEntry(_S, frozen=True):
    kind: str
    amount_micro: int
    symbol: str | None
    at_ms: int


class LedgerSummary(_S, frozen=True):
    deposits_micro: int
    realized_pnl_micro: int
    fees_paid_micro: int
    funding_paid_micro: int
    liquidation_micro: int
    balance_micro: int
    recent: list[LedgerEntry]


class AccountCheck(_S, frozen=True):
    """One engine-side limit against the account now; values in millionths (ppm)."""

    name: Literal["status", "drawdown", "daily_loss", "gross_exposure"]
    ok: bool
    value_ppm: int | None
    limit_ppm: int | None
    message: str


class AccountState(_S, frozen=True):
    account_id: str
    kind: str
    status: str
    halt_reason: str | None
    equity_micro: int
    balance_micro: int
    unrealized_micro: int
    peak_equity_micro: int
    drawdown_micro: int
    drawdown_ppm: int
    max_drawdown_ppm: int
    return_ppm: int
    gross_exposure_micro: int
    positions: list[AccountPosition]
    orders: list[AccountOrder]
    fills: list[AccountFill]
    ledger: LedgerSummary
    checks: list[AccountCheck]


# ================================================================= the packet


class CloneRef(_S, frozen=True):
    clone_id: int
    owner_id: str
    name: str
    ref: Literal["draft", "version"]
    version: int | None
    revision: int | None
    model_strength: str
    tier: str


class ArtifactRef(_S, frozen=True):
    kind: Literal["context", "prompt", "response"]
    key: str


class ContextPacket(_S, kw_only=True, frozen=True):
    format: str = PACKET_FORMAT
    as_of_ms: int
    clone: CloneRef
    compiled: CompiledPipeline
    candidates: list[CandidateSet]
    account: AccountState | None
    assets: list[AssetContext]
    estimated_prompt_tokens: int
    artifacts: list[ArtifactRef] = []
    """Artifact-store keys of the large payloads, filled once a decision run archives them."""

    def asset(self, prompt_node_id: str, symbol: str) -> AssetContext | None:
        return next(
            (a for a in self.assets if a.prompt_node_id == prompt_node_id and a.symbol == symbol),
            None,
        )


_encoder = msgspec.json.Encoder(order="deterministic", decimal_format="string")


def encode(value: Any) -> bytes:
    return _encoder.encode(value)


def digest(packet: ContextPacket) -> str:
    return hashlib.sha256(encode(packet)).hexdigest()


# ================================================================= API views


class Compilation(_S, frozen=True):
    clone: CloneRef
    compiled: CompiledPipeline
    problems: list[Problem]
    """The graph against today's registry and the clone's tier (errors refuse runs, not previews)."""


class Preview(_S, frozen=True):
    """The pipeline preview: the packet (its `compiled` holds the read plans) and its identity."""

    problems: list[Problem]
    packet_sha256: str
    packet_bytes: int
    packet: ContextPacket


class LatestData(_S, frozen=True):
    """The Latest Data drawer: what one connected asset receives, in every branch that trades it."""

    clone_id: int
    symbol: str
    as_of_ms: int
    asset: SelectedAsset | None
    """Its universe entry; None when only disabled prompts trade it."""
    contexts: list[AssetContext]
