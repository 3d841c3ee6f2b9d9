"""A run's context (one `AssetContext` of the packet) and its prop book, as prompt v1's input.

Each context block becomes one `prompt.PromptTable`: time series (candles, indicators, funding
polls, settled funding) are series with their interval, rendered oldest → newest; point-in-time
blocks (a mid, a profile, Polymarket markets, macro rows) are tables. Floats are shown to six
significant figures. Pure: the same inputs give the same `PromptInput`.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from clash.prop import AccountBook, Limits
from clash.trading.packet import (
    AssetContext,
    BlockData,
    CandleData,
    ContextBlock,
    FundingData,
    IndicatorData,
    MacroData,
    MidData,
    PolymarketData,
    ProfileData,
)
from clash.trading.prompt import (
    Cell,
    PromptInput,
    PromptRow,
    PromptTable,
    account_summary,
    position_view,
    prompt_limits,
)


def num(x: float | int | None) -> Cell:
    """A float to six significant figures, in plain notation (never an exponent)."""
    if x is None or isinstance(x, int):
        return x
    text = format(x, ".6g")
    if "e" in text or "n" in text:
        return Decimal(text)
    return text


def _title(block: ContextBlock, what: str) -> str:
    title = f"{block.context_symbol} {what}"
    if block.context_symbol != block.symbol:
        title += f" (context for {block.symbol})"
    return title + (" [stale]" if block.status == "stale" else "")


def block_sections(block: ContextBlock) -> list[PromptTable]:
    data: BlockData | None = block.data
    if data is None:
        return []
    if isinstance(data, CandleData):
        return [
            PromptTable(
                title=_title(block, "candles"),
                interval=data.interval,
                columns=("open", "high", "low", "close", "volume"),
                rows=tuple(
                    PromptRow(
                        at_ms=b.t_ms, cells=(num(b.o), num(b.h), num(b.l), num(b.c), num(b.v))
                    )
                    for b in data.bars
                ),
            )
        ]
    if isinstance(data, IndicatorData):
        return [
            PromptTable(
                title=_title(block, block.channel.replace("_", " ")),
                interval=block.granularity,
                columns=tuple(data.fields),
                rows=tuple(
                    PromptRow(at_ms=r[0], cells=tuple(num(v) for v in r[1:])) for r in data.rows
                ),
            )
        ]
    if isinstance(data, FundingData):
        out = []
        if data.polls:
            out.append(
                PromptTable(
                    title=_title(block, "funding (hourly rate)"),
                    interval=block.granularity,
                    columns=("hourly_rate", "premium", "mark", "open_interest", "predicted_rate"),
                    rows=tuple(
                        PromptRow(at_ms=p[0], cells=tuple(num(v) for v in p[1:]))
                        for p in data.polls
                    ),
                )
            )
        if data.settled:
            out.append(
                PromptTable(
                    title=_title(block, "settled funding"),
                    interval="1h",
                    columns=("rate", "premium"),
                    rows=tuple(
                        PromptRow(at_ms=s[0], cells=tuple(num(v) for v in s[1:]))
                        for s in data.settled
                    ),
                )
            )
        return out
    if isinstance(data, MidData):
        return [
            PromptTable(
                title=_title(block, "mid price"),
                columns=("mid", "at_ms"),
                rows=(PromptRow(cells=(data.px, data.at_ms)),),
            )
        ]
    if isinstance(data, ProfileData):
        part = data.liquidity or data.volatility or data.positioning
        if part is None:
            return []
        names = tuple(part.__struct_fields__)
        return [
            PromptTable(
                title=_title(block, block.channel),
                columns=("at_ms", *names),
                rows=(PromptRow(cells=(data.t_ms, *(_cell(getattr(part, n)) for n in names))),),
            )
        ]
    if isinstance(data, PolymarketData):
        return [
            PromptTable(
                title=_title(block, "Polymarket markets"),
                columns=("question", "outcomes", "volume_usd", "end_ms", "closed"),
                note=f"snapshot at {data.t_ms}",
                rows=tuple(
                    PromptRow(
                        cells=(
                            m.question,
                            " / ".join(f"{o} {p}" for o, p in zip(m.outcomes, m.prices)),
                            Decimal(m.volume_usd_micros).scaleb(-6),
                            m.end_ms,
                            m.closed,
                        )
                    )
                    for m in data.markets
                ),
            )
        ]
    if isinstance(data, MacroData):
        return [
            PromptTable(
                title=_title(block, f"DefiLlama {block.channel.replace('_', ' ')}"),
                columns=("scope", "subject", "metric", "usd", "change_pct", "observed_ms"),
                rows=tuple(
                    PromptRow(
                        cells=(
                            r.scope,
                            r.subject,
                            r.metric,
                            Decimal(r.usd_micros).scaleb(-6),
                            num(r.change_pct),
                            r.observed_ms,
                        )
                    )
                    for r in data.rows
                ),
            )
        ]
    return []


def _cell(value: object) -> Cell:
    if value is None or isinstance(value, (str, int, bool, Decimal)):
        return value
    if isinstance(value, float):
        return num(value)
    return str(value)


def sections(ctx: AssetContext) -> tuple[PromptTable, ...]:
    """The blocks the graph includes in the prompt, in graph order."""
    return tuple(s for b in ctx.blocks if b.include_in_prompt for s in block_sections(b))


def prompt_input(
    *,
    clone_name: str,
    ctx: AssetContext,
    strategy_prompt: str,
    legal: frozenset[str],
    now_ms: int,
    mark_px: Decimal | None,
    book: AccountBook,
    marks: Mapping[str, Decimal],
    limits: Limits,
    asset_max_leverage: int,
    invalidations: Mapping[str, str] | None = None,
) -> PromptInput:
    invalidations = invalidations or {}
    positions = tuple(
        position_view(p, marks.get(s), invalidations.get(s))
        for s, p in sorted(book.positions.items())
    )
    return PromptInput(
        clone_name=clone_name,
        strategy_prompt=strategy_prompt,
        asset=ctx.symbol,
        legal=legal,
        now_ms=now_ms,
        mark_px=mark_px,
        account=account_summary(book, marks),
        limits=prompt_limits(limits, asset_max_leverage),
        positions=positions,
        sections=sections(ctx),
    )
