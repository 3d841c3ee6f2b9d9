"""Prompt v2: one versioned template, rendered deterministically from a typed input.

The system part holds what the model must obey (role, the owner's strategy, rules, the legal actions
for this asset now, the answer's JSON Schema); the user part holds the facts (decision time, account,
positions with their exit plans, the context sections, each series oldest → newest with its interval
stated). The same :class:`PromptInput` always renders to the same bytes: no clock, no dict-order or
locale dependence. Any change to the wording is a new ``PROMPT_VERSION`` (it is part of the response
cache key and of every decision row).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal

import msgspec

from clash.prop import AccountBook, Limits, Position, from_micro, plain, unrealized_pnl_micro
from clash.trading.actions import answer_schema
from clash.trading.legal import ordered
from clash.trading.tokens import estimate_tokens

PROMPT_VERSION = "v2"

Cell = str | int | Decimal | bool | None


class PromptRow(msgspec.Struct, frozen=True, kw_only=True):
    at_ms: int | None = None
    """Set on every row of a series (rendered as the first column, UTC); None in a plain table."""
    cells: tuple[Cell, ...]


class PromptTable(msgspec.Struct, frozen=True, kw_only=True):
    """One block of context: a series (every row timed) or a table (no row timed).

    A series is rendered oldest → newest whatever the input order (ties keep input order); a table
    keeps its input order. Sections keep the order they are given in.
    """

    title: str
    interval: str | None = None
    """The series' granularity as shown to the model, e.g. ``"1m"``, ``"1h"``."""
    columns: tuple[str, ...]
    rows: tuple[PromptRow, ...] = ()
    note: str = ""


class AccountSummary(msgspec.Struct, frozen=True, kw_only=True):
    status: str
    equity_usd: Decimal
    balance_usd: Decimal
    unrealized_pnl_usd: Decimal
    realized_pnl_usd: Decimal
    fees_paid_usd: Decimal
    peak_equity_usd: Decimal
    drawdown: Decimal
    """Fraction below the peak equity, 0 at a new high."""
    day_pnl_usd: Decimal
    gross_exposure_usd: Decimal


class PositionView(msgspec.Struct, frozen=True, kw_only=True):
    symbol: str
    side: str
    size: Decimal
    entry_px: Decimal
    mark_px: Decimal
    leverage: int
    notional_usd: Decimal
    unrealized_pnl_usd: Decimal
    margin_usd: Decimal
    opened_at_ms: int
    take_profit: Decimal | None = None
    stop_loss: Decimal | None = None
    invalidation: str | None = None


class PromptLimits(msgspec.Struct, frozen=True, kw_only=True):
    leverage_cap: int
    """For this asset: min(asset max leverage, account cap)."""
    min_notional_usd: Decimal
    max_asset_exposure: Decimal
    max_gross_exposure: Decimal


class PromptInput(msgspec.Struct, frozen=True, kw_only=True):
    clone_name: str
    strategy_prompt: str
    asset: str
    legal: frozenset[str]
    now_ms: int
    mark_px: Decimal | None
    account: AccountSummary
    limits: PromptLimits
    positions: tuple[PositionView, ...] = ()
    sections: tuple[PromptTable, ...] = ()


class Prompt(msgspec.Struct, frozen=True, kw_only=True):
    version: str
    system: str
    user: str
    est_tokens: int


def render_prompt(inp: PromptInput) -> Prompt:
    system = _system(inp)
    user = _user(inp)
    return Prompt(
        version=PROMPT_VERSION,
        system=system,
        user=user,
        est_tokens=estimate_tokens(system) + estimate_tokens(user),
    )


def asset_of(user: str) -> str | None:
    """The asset named in a rendered user part (the fake API's default responder reads it)."""
    match = _ASSET_LINE.search(user)
    return match.group(1) if match else None


_ASSET_LINE = re.compile(r"^Asset: (\S+)$", re.MULTILINE)


def _system(inp: PromptInput) -> str:
    asset, lim = inp.asset, inp.limits
    legal = ", ".join(ordered(inp.legal))
    schema = json.dumps(answer_schema(inp.legal), sort_keys=True, separators=(",", ":"))
    return "\n".join(
        [
            f"Prompt {PROMPT_VERSION}.",
            f'You are the decision engine of the trading clone "{_line(inp.clone_name)}". It trades '
            "a paper prop account in perpetual futures at Hyperliquid prices. Each call decides one "
            f"action for one asset: {asset}.",
            "",
            "# Strategy (written by the clone's owner; the rules below take precedence)",
            _text(inp.strategy_prompt) or "(none)",
            "",
            "# Rules",
            "1. Answer with exactly one JSON object that matches the schema below. Nothing before "
            "or after it: no prose, no code fences.",
            f'2. "asset" is "{asset}". "action" is one of the legal actions listed below.',
            '3. open_long / open_short: give exactly one of "size_usd" (notional in USD) or '
            '"size_fraction" (notional as a fraction of equity, at most 1), and "leverage". '
            '"take_profit", '
            '"stop_loss" (prices) and "invalidation" (the condition that proves the idea wrong) '
            "are your exit plan.",
            '4. reduce: exactly one of "size_usd" or "size_fraction" (of the position, at most 1). '
            "close and hold take no size, leverage or exit plan; leave those fields out.",
            '5. "confidence" is within [0, 1]; "reason" is one or two plain sentences.',
            "6. Numbers are JSON numbers, never strings. Prices are in USD.",
            f"7. Account limits: leverage at most {lim.leverage_cap}x on {asset}; order notional at "
            f"least {_num(lim.min_notional_usd)} USD; notional on one asset at most "
            f"{_num(lim.max_asset_exposure)}x equity; gross notional at most "
            f"{_num(lim.max_gross_exposure)}x equity. A long's stop_loss is below the price and its "
            "take_profit above (the reverse for a short). An action that breaks a limit is "
            "rejected and nothing trades.",
            "",
            f"# Legal actions for {asset} now",
            legal,
            "",
            "# Answer JSON Schema",
            schema,
        ]
    )


def _user(inp: PromptInput) -> str:
    lines = [
        f"Decision time: {_time(inp.now_ms)}",
        f"Asset: {inp.asset}",
        f"Mark price: {_num(inp.mark_px) if inp.mark_px is not None else 'unknown'}",
        "",
        "# Account",
    ]
    lines += [f"{name}: {_cell(value)}" for name, value in _fields(inp.account)]
    lines += ["", f"# Open positions ({len(inp.positions)})"]
    if inp.positions:
        columns = [n.removesuffix("_ms") for n, _ in _fields(inp.positions[0])]
        lines.append(_csv(columns))
        for p in sorted(inp.positions, key=lambda p: p.symbol):
            lines.append(
                _csv(
                    _cell(_time(v) if n == "opened_at_ms" and isinstance(v, int) else v)
                    for n, v in _fields(p)
                )
            )
    else:
        lines.append("none")
    lines += ["", f"# Context for {inp.asset} ({len(inp.sections)} sections)"]
    for section in inp.sections:
        lines += ["", *_section(section)]
    return "\n".join(lines) + "\n"


def _section(s: PromptTable) -> list[str]:
    timed = [r.at_ms is not None for r in s.rows]
    if any(timed) and not all(timed):
        raise ValueError(f"section {s.title!r} mixes timed and untimed rows")
    for row in s.rows:
        if len(row.cells) != len(s.columns):
            raise ValueError(
                f"section {s.title!r}: a row has {len(row.cells)} cells for {len(s.columns)} columns"
            )
    series = bool(s.rows) and all(timed)
    interval = f"interval {_line(s.interval)}" if s.interval else "no interval"
    order = "oldest → newest" if series else "table"
    count = f"{len(s.rows)} row{'' if len(s.rows) == 1 else 's'}"
    head = [f"## {_line(s.title)} ({interval}; {count}, {order})"]
    if s.note:
        head.append(_text(s.note))
    if not s.rows:
        return [*head, "no data"]
    columns = (("time",) if series else ()) + s.columns
    rows = sorted(s.rows, key=lambda r: r.at_ms or 0) if series else list(s.rows)
    body = [
        _csv([*([_time(r.at_ms)] if r.at_ms is not None else []), *map(_cell, r.cells)])
        for r in rows
    ]
    return [*head, _csv(columns), *body]


def _fields(struct: msgspec.Struct) -> list[tuple[str, object]]:
    return [(f, getattr(struct, f)) for f in struct.__struct_fields__]


def _csv(cells: Iterable[str]) -> str:
    return ",".join(json.dumps(c) if _NEEDS_QUOTES.search(c) else c for c in cells)


_NEEDS_QUOTES = re.compile(r'[,"\n\r]|^\s|\s$')


def _cell(value: object) -> str:
    match value:
        case None:
            return ""
        case bool():
            return "true" if value else "false"
        case Decimal():
            return _num(value)
        case int() | str():
            return str(value)
    raise TypeError(f"a prompt cell cannot be {type(value).__name__}")


def _num(value: Decimal) -> str:
    """Plain notation without trailing zeros, never an exponent: ``1.500E+3`` -> ``1500``."""
    return format(plain(value), "f") if value.is_finite() else str(value)


def _time(ms: int) -> str:
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + (f".{ms % 1000:03d}Z" if ms % 1000 else "Z")


def _line(text: str) -> str:
    return " ".join(text.split())


def _text(text: str) -> str:
    """Newlines normalised and trailing spaces dropped, so the same words give the same bytes."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip("\n")


def account_summary(
    book: AccountBook, marks: Mapping[str, Decimal] | None = None
) -> AccountSummary:
    """The account block from a prop book at ``marks`` (a position without a mark uses its own)."""
    marks = marks or {}
    equity = book.equity_micro(marks)
    peak = max(book.peak_equity_micro, equity)
    gross = sum((p.size * marks.get(s, p.mark_px) for s, p in book.positions.items()), Decimal(0))
    return AccountSummary(
        status=book.status,
        equity_usd=from_micro(equity),
        balance_usd=from_micro(book.balance_micro),
        unrealized_pnl_usd=from_micro(book.unrealized_pnl_micro(marks)),
        realized_pnl_usd=from_micro(book.realized_pnl_micro),
        fees_paid_usd=from_micro(book.fees_paid_micro),
        peak_equity_usd=from_micro(peak),
        drawdown=_ratio(peak - equity, peak),
        day_pnl_usd=from_micro(equity - book.day_start_equity_micro),
        gross_exposure_usd=gross,
    )


def position_view(
    position: Position, mark_px: Decimal | None = None, invalidation: str | None = None
) -> PositionView:
    """A position for the prompt; ``invalidation`` comes from the decision that opened it."""
    mark = mark_px if mark_px is not None else position.mark_px
    return PositionView(
        symbol=position.symbol,
        side=position.side,
        size=position.size,
        entry_px=position.entry_px,
        mark_px=mark,
        leverage=position.leverage,
        notional_usd=position.size * mark,
        unrealized_pnl_usd=from_micro(unrealized_pnl_micro(position, mark)),
        margin_usd=from_micro(position.margin_micro),
        opened_at_ms=position.opened_at_ms,
        take_profit=position.take_profit,
        stop_loss=position.stop_loss,
        invalidation=invalidation,
    )


def prompt_limits(limits: Limits, asset_max_leverage: int) -> PromptLimits:
    return PromptLimits(
        leverage_cap=min(asset_max_leverage, limits.max_leverage),
        min_notional_usd=from_micro(limits.min_notional_micro),
        max_asset_exposure=limits.max_asset_exposure,
        max_gross_exposure=limits.max_gross_exposure,
    )


def _ratio(part: int, whole: int) -> Decimal:
    if whole <= 0:
        return Decimal(0)
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.000001"))
