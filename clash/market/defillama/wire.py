"""DefiLlama free-API wire types.

Authority: the recorded `/v2/chains` payload (`shared/fixtures/real/defillama/chains_2022-09.json`)
and DefiLlama's own OpenAPI spec (`shared/fixtures/specs/defillama-openapi-free.json`) for the
endpoints with no recording. Where FORMATS.md documents fields the spec omits (e.g.
`circulatingPrevDay`, `totalCirculatingUSD`, `total48hto24h`), they are optional here.

Timestamps are unix **seconds**; USD values are JSON numbers (floats), turned into integer
micro-dollars only in `metrics`. Unknown keys are ignored; declared types are strict.
"""

from __future__ import annotations

from typing import TypeVar

import msgspec

from clash.market.errors import DecodeError, SourceError

__all__ = [
    "SourceError",
    "DecodeError",
    "Chain",
    "TvlPoint",
    "Protocol",
    "ChainCirculating",
    "PeggedAsset",
    "StablecoinsResponse",
    "StablecoinChartPoint",
    "StablecoinChain",
    "DimensionProtocol",
    "DimensionOverview",
    "decode",
    "date_s",
]

T = TypeVar("T")

# A stablecoin amount keyed by peg currency: {"peggedUSD": 1.2e11, "peggedEUR": ...}.
Pegged = dict[str, float]


class Chain(msgspec.Struct, frozen=True):
    """`GET /v2/chains` item. `chainId` is a string for some chains (Evmos "9001")."""

    name: str
    tvl: float
    gecko_id: str | None = None
    token_symbol: str | None = msgspec.field(default=None, name="tokenSymbol")
    cmc_id: str | None = msgspec.field(default=None, name="cmcId")
    chain_id: int | str | None = msgspec.field(default=None, name="chainId")


class TvlPoint(msgspec.Struct, frozen=True):
    """`GET /v2/historicalChainTvl[/{chain}]` item: a daily point."""

    date: int
    tvl: float


class Protocol(msgspec.Struct, frozen=True):
    """`GET /protocols` item (subset we read)."""

    id: str
    name: str
    symbol: str | None = None
    slug: str | None = None
    category: str | None = None
    chains: list[str] = []
    tvl: float | None = None
    chain_tvls: dict[str, float] = msgspec.field(default_factory=dict, name="chainTvls")
    change_1h: float | None = None
    change_1d: float | None = None
    change_7d: float | None = None
    mcap: float | None = None
    gecko_id: str | None = None
    parent_protocol: str | None = msgspec.field(default=None, name="parentProtocol")


class ChainCirculating(msgspec.Struct, frozen=True):
    current: Pegged = {}
    circulating_prev_day: Pegged = msgspec.field(default_factory=dict, name="circulatingPrevDay")
    circulating_prev_week: Pegged = msgspec.field(default_factory=dict, name="circulatingPrevWeek")
    circulating_prev_month: Pegged = msgspec.field(
        default_factory=dict, name="circulatingPrevMonth"
    )


class PeggedAsset(msgspec.Struct, frozen=True):
    """`GET stablecoins.llama.fi/stablecoins` → `peggedAssets[]` item."""

    id: str
    name: str
    symbol: str
    peg_type: str = msgspec.field(name="pegType")
    circulating: Pegged = {}
    peg_mechanism: str | None = msgspec.field(default=None, name="pegMechanism")
    gecko_id: str | None = None
    circulating_prev_day: Pegged = msgspec.field(default_factory=dict, name="circulatingPrevDay")
    circulating_prev_week: Pegged = msgspec.field(default_factory=dict, name="circulatingPrevWeek")
    circulating_prev_month: Pegged = msgspec.field(
        default_factory=dict, name="circulatingPrevMonth"
    )
    chain_circulating: dict[str, ChainCirculating] = msgspec.field(
        default_factory=dict, name="chainCirculating"
    )
    chains: list[str] = []
    price: float | None = None


class StablecoinsResponse(msgspec.Struct, frozen=True):
    pegged_assets: list[PeggedAsset] = msgspec.field(name="peggedAssets")


class StablecoinChartPoint(msgspec.Struct, frozen=True):
    """`GET /stablecoincharts/{all|chain}` item. Clients report `date` as a string of
    seconds (unverified), the spec says number: both are accepted, see `date_s`."""

    date: int | str
    total_circulating: Pegged = msgspec.field(default_factory=dict, name="totalCirculating")
    total_circulating_usd: Pegged = msgspec.field(default_factory=dict, name="totalCirculatingUSD")


class StablecoinChain(msgspec.Struct, frozen=True):
    """`GET /stablecoinchains` item. The spec names the amount `totalCirculating`, recorded
    clients `totalCirculatingUSD`; both are optional."""

    name: str
    gecko_id: str | None = None
    token_symbol: str | None = msgspec.field(default=None, name="tokenSymbol")
    total_circulating: Pegged = msgspec.field(default_factory=dict, name="totalCirculating")
    total_circulating_usd: Pegged = msgspec.field(default_factory=dict, name="totalCirculatingUSD")


class DimensionProtocol(msgspec.Struct, frozen=True):
    """A `protocols[]` row of the dexs / fees / open-interest overviews."""

    name: str
    display_name: str | None = msgspec.field(default=None, name="displayName")
    defillama_id: str | None = msgspec.field(default=None, name="defillamaId")
    module: str | None = None
    category: str | None = None
    protocol_type: str | None = msgspec.field(default=None, name="protocolType")
    chains: list[str] = []
    total24h: float | None = None
    total48hto24h: float | None = None
    total7d: float | None = None
    total30d: float | None = None
    total_all_time: float | None = msgspec.field(default=None, name="totalAllTime")
    revenue24h: float | None = None
    change_1d: float | None = None
    change_7d: float | None = None
    change_1m: float | None = None


class DimensionOverview(msgspec.Struct, frozen=True):
    """`GET /overview/{dexs|fees|open-interest}[/{chain}]` envelope. Excluded charts are `[]`."""

    protocols: list[DimensionProtocol] = []
    total_data_chart: list[tuple[int, float]] = msgspec.field(
        default_factory=list, name="totalDataChart"
    )
    total_data_chart_breakdown: list[tuple[int, dict[str, float]]] = msgspec.field(
        default_factory=list, name="totalDataChartBreakdown"
    )
    all_chains: list[str] = msgspec.field(default_factory=list, name="allChains")
    chain: str | None = None
    total24h: float | None = None
    total48hto24h: float | None = None
    total7d: float | None = None
    total30d: float | None = None
    total1y: float | None = None
    total_all_time: float | None = msgspec.field(default=None, name="totalAllTime")
    change_1d: float | None = None
    change_7d: float | None = None
    change_1m: float | None = None


def decode(raw: bytes | str, type_: type[T], what: str) -> T:
    try:
        return msgspec.json.decode(raw, type=type_)
    except msgspec.DecodeError as e:
        raise DecodeError(f"defillama {what}: {e}") from e


def date_s(point: StablecoinChartPoint) -> int:
    if isinstance(point.date, int):
        return point.date
    try:
        return int(point.date)
    except ValueError as e:
        raise DecodeError(f"defillama stablecoincharts: bad date {point.date!r}") from e
