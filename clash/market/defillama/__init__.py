"""DefiLlama source: wire types, client, and pure macro metrics (capital base, flows, throughput)."""

from .client import LLAMA_API, LLAMA_STABLECOINS, DefiLlamaClient
from .metrics import (
    MacroMetric,
    chain_symbol_table,
    chain_tvls,
    global_tvl,
    linked_symbol,
    protocol_flows,
    protocol_throughput,
    protocol_tvls,
    rows_for_asset,
    stablecoin_chart_flows,
    stablecoin_flows,
    stablecoin_supplies,
    throughput,
    tvl_flows,
)
from .wire import DecodeError, SourceError

__all__ = [
    "LLAMA_API",
    "LLAMA_STABLECOINS",
    "DefiLlamaClient",
    "MacroMetric",
    "chain_symbol_table",
    "chain_tvls",
    "global_tvl",
    "linked_symbol",
    "protocol_flows",
    "protocol_throughput",
    "protocol_tvls",
    "rows_for_asset",
    "stablecoin_chart_flows",
    "stablecoin_flows",
    "stablecoin_supplies",
    "throughput",
    "tvl_flows",
    "DecodeError",
    "SourceError",
]
