"""The effective context resolver: compiled read plans + market memory at `as_of` → packet.

Retrieval is deterministic and bounded by `as_of_ms`: every read goes through the market
module's as-of read functions, which never return a row known after that instant, and nothing
here reads a clock. Reads are planned first and issued once per (table, context symbol) with the
largest row count any plan needs, so ten assets sharing ETH context read ETH once.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from functools import lru_cache
from itertools import groupby
from operator import attrgetter
from typing import Any, Protocol

from clash.market import (
    HOUR_MS,
    MINUTE_MS,
    AssetProfile,
    Candle,
    FundingRow,
    IndicatorRow,
    Interval,
    MacroObservation,
    MarketSummary,
    PolymarketContext,
    SettledFunding,
)
from clash.prop import AccountSnapshot, FillRow, LedgerRow, OrderRow
from clash.trading.candidates import SCORE_HOURS, choose, score
from clash.trading.packet import (
    AccountCheck,
    AccountFill,
    AccountOrder,
    AccountPosition,
    AccountState,
    AssetContext,
    Bar,
    BlockData,
    BlockStatus,
    Branch,
    BranchAsset,
    Candidate,
    CandidateSet,
    CandleData,
    CloneRef,
    CompiledPipeline,
    ContextBlock,
    ContextPacket,
    FundingData,
    IndicatorData,
    LedgerEntry,
    LedgerSummary,
    MacroData,
    MidData,
    PolymarketData,
    PolymarketScope,
    ProfileData,
    PromptSection,
    ReadPlan,
)
from clash.trading.tokens import estimate_tokens

GRANULARITY_MS: dict[str, int] = {
    "1m": MINUTE_MS,
    "5m": 5 * MINUTE_MS,
    "15m": 15 * MINUTE_MS,
    "1h": HOUR_MS,
    "4h": 4 * HOUR_MS,
    "1d": 24 * HOUR_MS,
}
INDICATOR_FIELDS: dict[str, tuple[str, ...]] = {
    "rsi": ("rsi",),
    "bollinger_bands": ("sma", "bb_upper", "bb_lower"),
    "moving_averages": ("sma", "ema"),
    "macd": ("macd", "macd_signal", "macd_hist"),
}


class MarketMemory(Protocol):
    """The market module's as-of reads the resolver needs (clash.market.memory's signatures)."""

    async def candles(
        self, symbol: str, interval: Interval, as_of_ms: int, limit: int
    ) -> list[Candle]: ...
    async def indicators(self, symbol: str, as_of_ms: int, limit: int) -> list[IndicatorRow]: ...
    async def funding(self, symbol: str, as_of_ms: int, limit: int) -> list[FundingRow]: ...
    async def settled_funding(
        self, symbol: str, as_of_ms: int, limit: int
    ) -> list[SettledFunding]: ...
    async def profile(self, symbol: str, as_of_ms: int) -> AssetProfile | None: ...
    async def polymarket_context(self, symbol: str | None, as_of_ms: int) -> PolymarketContext: ...
    async def macro_context(self, symbol: str | None, as_of_ms: int) -> list[MacroObservation]: ...
    async def latest_prices(
        self, symbols: Iterable[str], as_of_ms: int
    ) -> dict[str, tuple[Decimal, int]]: ...


Target = tuple[Branch, BranchAsset, Candidate]
Key = tuple[str, str]


# ================================================================= entry points


async def resolve_packet(
    mem: MarketMemory,
    clone: CloneRef,
    compiled: CompiledPipeline,
    as_of_ms: int,
    account: AccountState | None = None,
) -> ContextPacket:
    """The packet for one decision round: each enabled branch's candidates, each resolved."""
    positions = [p.symbol for p in account.positions] if account else []
    sets: list[CandidateSet] = []
    targets: list[Target] = []
    for branch in compiled.branches:
        if not branch.enabled:
            continue
        scores = await prefilter_scores(mem, branch, as_of_ms)
        chosen = choose(branch, positions, scores)
        sets.append(chosen)
        by_symbol = {a.symbol: a for a in branch.assets}
        targets += [(branch, by_symbol[c.symbol], c) for c in chosen.selected]
    assets = await resolve_assets(mem, clone, targets, as_of_ms, account)
    return ContextPacket(
        as_of_ms=as_of_ms,
        clone=clone,
        compiled=compiled,
        candidates=sets,
        account=account,
        assets=assets,
        estimated_prompt_tokens=sum(a.estimated_prompt_tokens for a in assets),
    )


async def resolve_latest(
    mem: MarketMemory, clone: CloneRef, compiled: CompiledPipeline, symbol: str, as_of_ms: int
) -> list[AssetContext]:
    """What `symbol` receives in every branch that trades it, candidate cap aside (the drawer)."""
    targets = [
        (b, a, Candidate(symbol=symbol, rank=0, reason="latest_data"))
        for b in compiled.branches
        for a in b.assets
        if a.symbol == symbol
    ]
    return await resolve_assets(mem, clone, targets, as_of_ms, None)


async def prefilter_scores(
    mem: MarketMemory, branch: Branch, as_of_ms: int
) -> dict[str, float | None] | None:
    """The branch prefilter's score of each enabled asset, from its last complete hourly candles."""
    prefilter = branch.candidate_policy.prefilter
    if prefilter == "none":
        return None
    return {
        a.symbol: score(prefilter, await mem.candles(a.symbol, "1h", as_of_ms, SCORE_HOURS))
        for a in branch.assets
        if a.enabled
    }


async def resolve_assets(
    mem: MarketMemory,
    clone: CloneRef,
    targets: Sequence[Target],
    as_of_ms: int,
    account: AccountState | None,
) -> list[AssetContext]:
    fetched = await fetch(mem, [p for _, a, _ in targets for p in a.reads], as_of_ms)
    out = []
    for branch, asset, candidate in targets:
        blocks = [build_block(p, fetched, as_of_ms) for p in asset.reads]
        sections = prompt_sections(clone, branch, asset, blocks, as_of_ms, account)
        out.append(
            AssetContext(
                prompt_node_id=branch.prompt_node_id,
                symbol=asset.symbol,
                candidate=candidate,
                decision_cadence_sec=asset.decision_cadence_sec,
                blocks=blocks,
                skipped=asset.skipped,
                sections=sections,
                estimated_prompt_tokens=sum(s.estimated_tokens for s in sections),
            )
        )
    return out


# ================================================================= retrieval


def _key(plan: ReadPlan, table: str) -> Key:
    if table == "macro" and plan.defillama is not None:
        return table, plan.defillama.link_symbol or ""
    return table, plan.context_symbol


async def fetch(mem: MarketMemory, plans: Iterable[ReadPlan], as_of_ms: int) -> dict[Key, Any]:
    """Each (table, context symbol) once, with the most rows any plan asks of it; the mids of
    every symbol in one read. Sequential: concurrent reads measured slower (row decoding holds
    the GIL either way)."""
    need: dict[Key, int] = {}
    for plan in plans:
        for r in plan.reads:
            key = _key(plan, r.table)
            need[key] = max(need.get(key, 0), r.rows)
    out: dict[Key, Any] = {}
    mids = sorted(symbol for table, symbol in need if table == "mids")
    if mids:
        prices = await mem.latest_prices(mids, as_of_ms)
        out.update({("mids", s): prices.get(s) for s in mids})
    for (table, symbol), rows in sorted(need.items()):
        if table != "mids":
            out[table, symbol] = await _read(mem, table, symbol, rows, as_of_ms)
    return out


async def _read(mem: MarketMemory, table: str, symbol: str, rows: int, as_of_ms: int) -> Any:
    if table == "candles_1m" or table == "candles_1h":
        return await mem.candles(symbol, "1m" if table == "candles_1m" else "1h", as_of_ms, rows)
    if table == "indicators_1m":
        return await mem.indicators(symbol, as_of_ms, rows)
    if table == "funding":
        return await mem.funding(symbol, as_of_ms, rows)
    if table == "settled_funding":
        return await mem.settled_funding(symbol, as_of_ms, rows)
    if table == "profiles":
        return await mem.profile(symbol, as_of_ms)
    if table == "polymarket":
        return await mem.polymarket_context(symbol or None, as_of_ms)
    return await mem.macro_context(symbol or None, as_of_ms)


# ================================================================= shaping (pure)


def build_block(plan: ReadPlan, fetched: Mapping[Key, Any], as_of_ms: int) -> ContextBlock:
    """Window, bucket and cap what was read for one plan; mark it empty or stale."""
    since = as_of_ms - plan.lookback_minutes * MINUTE_MS
    table = plan.reads[0].table
    got = fetched.get(_key(plan, table))
    data: BlockData | None
    latest: int | None
    if table in ("candles_1m", "candles_1h"):
        data, latest = _candles(
            got or [], HOUR_MS if table == "candles_1h" else MINUTE_MS, plan, since
        )
    elif table == "indicators_1m":
        data, latest = _indicators(got or [], plan, since)
    elif table == "funding":
        data, latest = _funding(
            got or [], fetched.get(_key(plan, "settled_funding")) or [], plan, since
        )
    elif table == "mids":
        data, latest = (None, None) if got is None else (MidData(px=got[0], at_ms=got[1]), got[1])
    elif table == "profiles":
        data, latest = _profile(got, plan.channel)
    elif table == "polymarket":
        data, latest = _polymarket(got, plan)
    else:
        data, latest = _macro(got or [], plan)
    points = _points(data)
    status: BlockStatus = "empty" if data is None or points == 0 else "ok"
    if (
        status == "ok"
        and plan.max_staleness_sec is not None
        and latest is not None
        and as_of_ms - latest > plan.max_staleness_sec * 1000
    ):
        status = "stale"
        if plan.on_stale == "skip":
            data = None
    return ContextBlock(
        stream_node_id=plan.stream_node_id,
        symbol=plan.symbol,
        context_symbol=plan.context_symbol,
        source=plan.source,
        channel=plan.channel,
        granularity=plan.granularity,
        include_in_prompt=plan.include_in_prompt,
        status=status,
        latest_ms=latest,
        points=points,
        data=data,
    )


def _points(data: BlockData | None) -> int:
    if data is None:
        return 0
    if isinstance(data, CandleData):
        return len(data.bars)
    if isinstance(data, IndicatorData):
        return len(data.rows)
    if isinstance(data, FundingData):
        return len(data.polls) + len(data.settled)
    if isinstance(data, PolymarketData):
        return len(data.markets)
    if isinstance(data, MacroData):
        return len(data.rows)
    return 1


def _candles(
    rows: Sequence[Candle], interval_ms: int, plan: ReadPlan, since: int
) -> tuple[CandleData | None, int | None]:
    size = GRANULARITY_MS[plan.granularity]
    window = rows[bisect_right(rows, since - interval_ms, key=_t_ms) :]
    if not window:
        return None, None
    cap = plan.max_datapoints
    if size == interval_ms:
        bars = [Bar(c.t_ms, c.o, c.h, c.l, c.c, c.v) for c in window[-cap:]]
    else:
        bars = []
        for bucket, group in groupby(window, key=lambda c: c.t_ms // size):
            g = list(group)
            bars.append(
                Bar(
                    bucket * size,
                    g[0].o,
                    max(c.h for c in g),
                    min(c.l for c in g),
                    g[-1].c,
                    sum(c.v for c in g),
                )
            )
        bars = bars[-cap:]
    return CandleData(interval=plan.granularity, bars=bars), window[-1].t_ms + interval_ms


def _t_ms(row: Any) -> int:
    return row.t_ms


def _bucketed(items: Sequence[Any], size: int, cap: int) -> list[Any]:
    """The last item (by `t_ms`) of each `size` bucket, the newest `cap` buckets, oldest first."""
    return list({item.t_ms // size: item for item in items}.values())[-cap:]


def _indicators(
    rows: Sequence[IndicatorRow], plan: ReadPlan, since: int
) -> tuple[IndicatorData | None, int | None]:
    """Rows before the indicator is defined (all None, only ever at the start of a history) carry
    nothing and are dropped."""
    fields = INDICATOR_FIELDS[plan.channel]
    i, n = bisect_right(rows, since - MINUTE_MS, key=_t_ms), len(rows)
    while i < n and all(getattr(rows[i], f) is None for f in fields):
        i += 1
    if i == n:
        return None, None
    picked = _bucketed(rows[i:], GRANULARITY_MS[plan.granularity], plan.max_datapoints)
    getter = attrgetter("t_ms", *fields)
    return IndicatorData(fields=list(fields), rows=[list(getter(r)) for r in picked]), rows[
        -1
    ].t_ms + MINUTE_MS


def _funding(
    polls: Sequence[FundingRow], settled: Sequence[SettledFunding], plan: ReadPlan, since: int
) -> tuple[FundingData | None, int | None]:
    sampled = _bucketed(
        polls[bisect_right(polls, since, key=_t_ms) :],
        GRANULARITY_MS[plan.granularity],
        plan.max_datapoints,
    )
    paid = [s for s in settled if s.time_ms > since][-plan.max_datapoints :]
    if not sampled and not paid:
        return None, None
    latest = max([p.t_ms for p in sampled[-1:]] + [s.time_ms for s in paid[-1:]])
    return FundingData(
        polls=[
            [p.t_ms, p.rate, p.premium, p.mark_px, p.open_interest, p.predicted_rate]
            for p in sampled
        ],
        settled=[[s.time_ms, s.rate, s.premium] for s in paid],
    ), latest


def _profile(p: AssetProfile | None, channel: str) -> tuple[ProfileData | None, int | None]:
    if p is None:
        return None, None
    part = {channel: getattr(p, channel)}
    return ProfileData(t_ms=p.t_ms, **part), p.t_ms


def _matches(m: MarketSummary, t: PolymarketScope) -> bool:
    return (
        (t.event_slug is None or m.event_slug == t.event_slug)
        and (t.market_slug is None or m.slug == t.market_slug)
        and (t.query is None or t.query.casefold() in m.question.casefold())
    )


def _polymarket(
    ctx: PolymarketContext | None, plan: ReadPlan
) -> tuple[PolymarketData | None, int | None]:
    """market_discovery: the markets linked to the context symbol (with a target: every market of
    the snapshot that matches it); the other channels: their own slot of the snapshot."""
    if ctx is None or ctx.t_ms is None:
        return None, None
    target = plan.polymarket
    if plan.channel == "immediate_market":
        markets = [ctx.immediate] if ctx.immediate else []
    elif plan.channel == "later_market":
        markets = [ctx.later] if ctx.later else []
    elif plan.channel == "recently_closed":
        markets = list(ctx.recently_closed)
    elif target is not None:
        every = [
            *([ctx.immediate] if ctx.immediate else []),
            *([ctx.later] if ctx.later else []),
            *ctx.recently_closed,
            *ctx.linked,
        ]
        markets = list({m.market_id: m for m in every}.values())
    else:
        markets = list(ctx.linked)
    if target is not None:
        markets = [m for m in markets if _matches(m, target)]
    return PolymarketData(t_ms=ctx.t_ms, markets=markets[: plan.max_datapoints]), ctx.t_ms


def _macro(rows: Sequence[MacroObservation], plan: ReadPlan) -> tuple[MacroData | None, int | None]:
    scope = plan.defillama
    picked = [r for r in rows if r.family == plan.channel]
    if scope is not None and scope.scope == "global":
        picked = [r for r in picked if r.scope == "global"]
    elif scope is not None and scope.scope != "asset":
        subject = (scope.subject or "").casefold()
        picked = [r for r in picked if r.scope == scope.scope and r.subject.casefold() == subject]
    if not picked:
        return None, None
    return MacroData(rows=picked), max(r.observed_ms for r in picked)


# ================================================================= prop account (pure)


def _ppm(part: int, whole: int) -> int | None:
    return None if whole <= 0 else part * 1_000_000 // whole


def account_checks(s: AccountSnapshot) -> list[AccountCheck]:
    """The engine-side limits as the prompt should see them (the gates still decide)."""
    lim = s.limits
    drawdown = _ppm(s.drawdown_micro, s.peak_equity_micro)
    daily = _ppm(max(0, s.day_start_equity_micro - s.equity_micro), s.day_start_equity_micro)
    gross = _ppm(s.gross_exposure_micro, s.equity_micro)
    dd_limit, daily_limit = (
        int(lim.max_drawdown_halt * 1_000_000),
        int(lim.daily_loss_halt * 1_000_000),
    )
    gross_limit = int(lim.max_gross_exposure * 1_000_000)

    def pct(v: int | None) -> str:
        return "n/a" if v is None else f"{v / 1e4:.2f}%"

    return [
        AccountCheck(
            name="status",
            ok=s.status == "active",
            value_ppm=None,
            limit_ppm=None,
            message=s.status + (f" ({s.halt_reason})" if s.halt_reason else ""),
        ),
        AccountCheck(
            name="drawdown",
            ok=drawdown is not None and drawdown < dd_limit,
            value_ppm=drawdown,
            limit_ppm=dd_limit,
            message=f"{pct(drawdown)} of peak; halts at {pct(dd_limit)}",
        ),
        AccountCheck(
            name="daily_loss",
            ok=daily is not None and daily < daily_limit,
            value_ppm=daily,
            limit_ppm=daily_limit,
            message=f"{pct(daily)} today; halts at {pct(daily_limit)}",
        ),
        AccountCheck(
            name="gross_exposure",
            ok=gross is not None and gross <= gross_limit,
            value_ppm=gross,
            limit_ppm=gross_limit,
            message=f"{pct(gross)} of equity; capped at {pct(gross_limit)}",
        ),
    ]


def account_state(
    s: AccountSnapshot,
    orders: Sequence[OrderRow],
    fills: Sequence[FillRow],
    ledger: Sequence[LedgerRow],
    as_of_ms: int,
) -> AccountState:
    """The account for the packet; history rows stamped after `as_of_ms` are left out."""
    return AccountState(
        account_id=s.account_id,
        kind=s.kind,
        status=s.status,
        halt_reason=s.halt_reason,
        equity_micro=s.equity_micro,
        balance_micro=s.balance_micro,
        unrealized_micro=s.unrealized_micro,
        peak_equity_micro=s.peak_equity_micro,
        drawdown_micro=s.drawdown_micro,
        drawdown_ppm=_ppm(s.drawdown_micro, s.peak_equity_micro) or 0,
        max_drawdown_ppm=s.max_drawdown_ppm,
        return_ppm=s.return_ppm,
        gross_exposure_micro=s.gross_exposure_micro,
        positions=[
            AccountPosition(
                symbol=p.symbol,
                side=p.side,
                size=p.size,
                entry_px=p.entry_px,
                mark_px=p.mark_px,
                leverage=p.leverage,
                margin_micro=p.margin_micro,
                stop_loss=p.stop_loss,
                take_profit=p.take_profit,
                opened_at_ms=p.opened_at_ms,
            )
            for p in sorted(s.positions, key=lambda p: p.symbol)
        ],
        orders=[
            AccountOrder(
                order_no=o.order_no,
                symbol=o.symbol,
                side=o.side,
                size=o.size,
                ref_px=o.ref_px,
                status=o.status,
                cause=o.cause,
                at_ms=o.at_ms,
            )
            for o in orders
            if o.at_ms <= as_of_ms
        ],
        fills=[
            AccountFill(
                order_no=f.order_no,
                symbol=f.symbol,
                side=f.side,
                size=f.size,
                px=f.px,
                notional_micro=f.notional_micro,
                fee_micro=f.fee_micro,
                cause=f.cause,
                at_ms=f.at_ms,
            )
            for f in fills
            if f.at_ms <= as_of_ms
        ],
        ledger=LedgerSummary(
            deposits_micro=s.deposits_micro,
            realized_pnl_micro=s.realized_pnl_micro,
            fees_paid_micro=s.fees_paid_micro,
            funding_paid_micro=s.funding_paid_micro,
            liquidation_micro=s.liquidation_micro,
            balance_micro=s.balance_micro,
            recent=[
                LedgerEntry(
                    kind=e.kind, amount_micro=e.amount_micro, symbol=e.symbol, at_ms=e.at_ms
                )
                for e in ledger
                if e.at_ms <= as_of_ms
            ],
        ),
        checks=account_checks(s),
    )


# ================================================================= prompt sections (pure)


def _when(t_ms: int) -> str:
    return datetime.fromtimestamp(t_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M")


@lru_cache(maxsize=8192)
def _hm(t_ms: int) -> str:
    """`MM-DD HH:MM` UTC; cached, since every asset of a round shares the same bucket times."""
    return datetime.fromtimestamp(t_ms / 1000, UTC).strftime("%m-%d %H:%M")


@lru_cache(maxsize=16)
def _row_format(n: int) -> str:
    return "%s" + ",%.6g" * n


def _csv(t_ms: int, values: Sequence[Any]) -> str:
    """One series row: time, then numbers to 6 significant digits (None as an empty cell)."""
    if None in values:
        return ",".join([_hm(t_ms), *map(_n, values)])
    return _row_format(len(values)) % (_hm(t_ms), *values)


def _n(x: Any) -> str:
    if x is None:
        return ""
    if isinstance(x, float):
        return format(x, ".6g")
    return str(x)


def _usd(micros: int) -> str:
    return f"{micros / 1e6:,.2f}"


def _section(sid: str, title: str, text: str) -> PromptSection:
    return PromptSection(
        id=sid, title=title, text=text, estimated_tokens=estimate_tokens(f"{title}\n{text}")
    )


def prompt_sections(
    clone: CloneRef,
    branch: Branch,
    asset: BranchAsset,
    blocks: Sequence[ContextBlock],
    as_of_ms: int,
    account: AccountState | None,
) -> list[PromptSection]:
    """The prompt material of one decision run, in order: task, strategy, account, context."""
    out = [
        _section(
            "task",
            "Task",
            f"Clone {clone.name} (#{clone.clone_id}), strategy {branch.prompt_node_id}: "
            f"decide one action for {asset.symbol} at {_when(as_of_ms)} UTC.",
        )
    ]
    if asset.prompt:
        out.append(_section("strategy", "Strategy", asset.prompt))
    if account is not None:
        out.append(_section("account", "Prop account", _account_text(account, asset.symbol)))
    for b in blocks:
        if b.include_in_prompt and b.data is not None:
            out.append(
                _section(f"context:{b.stream_node_id}", _block_title(b), _block_text(b.data))
            )
    return out


def _block_title(b: ContextBlock) -> str:
    title = f"{b.context_symbol} {b.channel} ({b.source}, {b.granularity}, {b.points} points)"
    if b.context_symbol != b.symbol:
        title += f", context for {b.symbol}"
    return title + (", stale" if b.status == "stale" else "")


def _block_text(d: BlockData) -> str:
    if isinstance(d, CandleData):
        return "t,o,h,l,c,v\n" + "\n".join(_csv(b.t_ms, (b.o, b.h, b.l, b.c, b.v)) for b in d.bars)
    if isinstance(d, IndicatorData):
        return ",".join(["t", *d.fields]) + "\n" + "\n".join(_csv(r[0], r[1:]) for r in d.rows)
    if isinstance(d, FundingData):
        lines = []
        if d.polls:
            lines += [
                "t,hourly_rate,premium,mark,open_interest,predicted",
                *(_csv(p[0], p[1:]) for p in d.polls),
            ]
        if d.settled:
            lines += ["settled t,rate,premium", *(_csv(x[0], x[1:]) for x in d.settled)]
        return "\n".join(lines)
    if isinstance(d, MidData):
        return f"mid {d.px} at {_hm(d.at_ms)}"
    if isinstance(d, ProfileData):
        part = d.liquidity or d.volatility or d.positioning
        fields = part.__struct_fields__ if part is not None else ()
        return f"at {_hm(d.t_ms)}: " + ", ".join(f"{f} {_n(getattr(part, f))}" for f in fields)
    if isinstance(d, PolymarketData):
        return "\n".join(
            f"- {m.question} ["
            + ", ".join(f"{o} {p}" for o, p in zip(m.outcomes, m.prices))
            + f"] volume ${_usd(m.volume_usd_micros)}"
            + (f", ends {_when(m.end_ms)}" if m.end_ms else "")
            + (", closed" if m.closed else "")
            for m in d.markets
        )
    return "\n".join(
        f"- {r.scope}/{r.subject} {r.metric}: ${_usd(r.usd_micros)}"
        + (f" ({r.change_pct:+.2f}%)" if r.change_pct is not None else "")
        for r in d.rows
    )


def _account_text(a: AccountState, symbol: str) -> str:
    lines = [
        f"status {a.status}"
        + (f" ({a.halt_reason})" if a.halt_reason else "")
        + f", equity ${_usd(a.equity_micro)}, balance ${_usd(a.balance_micro)}, unrealized ${_usd(a.unrealized_micro)}",
        f"drawdown {a.drawdown_ppm / 1e4:.2f}% (max {a.max_drawdown_ppm / 1e4:.2f}%), return {a.return_ppm / 1e4:.2f}%,"
        f" gross exposure ${_usd(a.gross_exposure_micro)}",
    ]
    for p in a.positions:
        mark = " <- this asset" if p.symbol == symbol else ""
        lines.append(
            f"position {p.symbol} {p.side} {p.size} @ {p.entry_px} (mark {p.mark_px}, {p.leverage}x"
            + (f", stop {p.stop_loss}" if p.stop_loss is not None else "")
            + (f", take profit {p.take_profit}" if p.take_profit is not None else "")
            + f"){mark}"
        )
    if not a.positions:
        lines.append("no open positions")
    lines += [f"check {c.name}: {'ok' if c.ok else 'FAIL'} - {c.message}" for c in a.checks]
    fills = [f for f in a.fills if f.symbol == symbol][:5]
    lines += [
        f"fill {_hm(f.at_ms)} {f.side} {f.size} {f.symbol} @ {f.px} ({f.cause})" for f in fills
    ]
    return "\n".join(lines)
