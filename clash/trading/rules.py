"""The `rules` engine: deterministic technical rules over the run's context packet.

It reads the same `AssetContext` a model's prompt is rendered from (candles, RSI, Bollinger
Bands, MACD, funding of the decision asset itself), scores five signals, and answers the same
strict JSON a model must (so `actions.parse_answer` judges it like any engine). Free, instant and
reproducible: the default without a model key, and what benchmarks use. docs/rules-engine.md.

Signals, each -1, 0 or +1 (positive favours a long):

- trend: the last close against the mean close of the candle window (beyond `trend_pct`);
- momentum: the MACD histogram's sign, when it is not fading toward zero;
- rsi: overbought (> `rsi_high`) is -1, oversold (< `rsi_low`) +1: do not chase a stretched move;
- bands: a close above the upper Bollinger band -1, below the lower +1;
- funding: an hourly rate beyond `funding_extreme` leans against the crowded side.

Flat: `score >= entry_score` opens a long, `<= -entry_score` a short (when legal). In a position:
a score of `exit_score` or more against it closes it. Otherwise hold.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Literal

import msgspec

from clash.trading.config import RulesSettings
from clash.trading.engines.base import EngineAnswer
from clash.trading.packet import AssetContext, CandleData, FundingData, IndicatorData

if TYPE_CHECKING:
    from clash.trading.deciders import DecisionJob

RULES_VERSION = "rules-v1"

SignalName = Literal["trend", "momentum", "rsi", "bands", "funding"]


class Signal(msgspec.Struct, frozen=True, kw_only=True):
    name: SignalName
    vote: int
    value: float | None
    note: str


class Inputs(msgspec.Struct, frozen=True, kw_only=True):
    """The decision asset's own series, read off the packet (None when the packet lacks it)."""

    closes: tuple[float, ...] = ()
    rsi: float | None = None
    bb_upper: float | None = None
    bb_lower: float | None = None
    macd_hist: tuple[float, ...] = ()
    funding_rate: float | None = None


class RulesDecision(msgspec.Struct, frozen=True, kw_only=True):
    action: str
    score: int
    signals: tuple[Signal, ...]
    answer: str
    """The strict JSON answer."""


_encode = msgspec.json.Encoder(decimal_format="number").encode


def inputs_of(ctx: AssetContext) -> Inputs:
    """The first same-asset block of each kind wins (graph order)."""
    closes: tuple[float, ...] = ()
    found: dict[str, float | None] = {}
    hist: tuple[float, ...] = ()
    rate: float | None = None
    for block in ctx.blocks:
        if block.context_symbol != ctx.symbol or block.data is None:
            continue
        data = block.data
        if isinstance(data, CandleData) and not closes:
            closes = tuple(b.c for b in data.bars)
        elif isinstance(data, IndicatorData):
            for i, name in enumerate(data.fields, start=1):
                if name in ("rsi", "bb_upper", "bb_lower") and name not in found:
                    found[name] = _last(r[i] for r in data.rows)
                elif name == "macd_hist" and not hist:
                    hist = tuple(v for r in data.rows if (v := r[i]) is not None)
        elif isinstance(data, FundingData) and rate is None and data.polls:
            rate = data.polls[-1][1]
    return Inputs(
        closes=closes,
        rsi=found.get("rsi"),
        bb_upper=found.get("bb_upper"),
        bb_lower=found.get("bb_lower"),
        macd_hist=hist,
        funding_rate=rate,
    )


def _last(values: object) -> float | None:
    out = None
    for v in values:  # type: ignore[attr-defined]
        if v is not None:
            out = v
    return out


def signals(inp: Inputs, close: float | None, cfg: RulesSettings) -> tuple[Signal, ...]:
    out: list[Signal] = []
    if inp.closes and close is not None:
        mean = sum(inp.closes) / len(inp.closes)
        change = close / mean - 1 if mean > 0 else 0.0
        limit = float(cfg.trend_pct)
        vote = 1 if change > limit else -1 if change < -limit else 0
        out.append(
            Signal(
                name="trend",
                vote=vote,
                value=change,
                note=f"close {close:.6g} is {change:+.2%} from its {len(inp.closes)}-bar mean",
            )
        )
    if inp.macd_hist:
        h1 = inp.macd_hist[-1]
        h0 = inp.macd_hist[-2] if len(inp.macd_hist) > 1 else h1
        vote = 1 if h1 > 0 and h1 >= h0 else -1 if h1 < 0 and h1 <= h0 else 0
        state = "rising" if h1 > h0 else "falling" if h1 < h0 else "flat"
        out.append(
            Signal(name="momentum", vote=vote, value=h1, note=f"MACD histogram {h1:.6g}, {state}")
        )
    if inp.rsi is not None:
        lo, hi = float(cfg.rsi_low), float(cfg.rsi_high)
        vote = -1 if inp.rsi > hi else 1 if inp.rsi < lo else 0
        what = "overbought" if vote < 0 else "oversold" if vote > 0 else "neutral"
        out.append(Signal(name="rsi", vote=vote, value=inp.rsi, note=f"RSI {inp.rsi:.1f} {what}"))
    if close is not None and inp.bb_upper is not None and inp.bb_lower is not None:
        vote = -1 if close > inp.bb_upper else 1 if close < inp.bb_lower else 0
        where = "above the upper" if vote < 0 else "below the lower" if vote > 0 else "inside the"
        out.append(
            Signal(
                name="bands",
                vote=vote,
                value=close,
                note=f"close {where} Bollinger band [{inp.bb_lower:.6g}, {inp.bb_upper:.6g}]",
            )
        )
    if inp.funding_rate is not None:
        limit = float(cfg.funding_extreme)
        rate = inp.funding_rate
        vote = -1 if rate > limit else 1 if rate < -limit else 0
        crowd = "longs crowded" if vote < 0 else "shorts crowded" if vote > 0 else "neutral"
        out.append(
            Signal(name="funding", vote=vote, value=rate, note=f"funding {rate:.6%}/h {crowd}")
        )
    return tuple(out)


def choose(score: int, position_side: str | None, legal: frozenset[str], cfg: RulesSettings) -> str:
    if position_side is not None:
        against = -score if position_side == "long" else score
        return "close" if against >= cfg.exit_score and "close" in legal else "hold"
    if score >= cfg.entry_score and "open_long" in legal:
        return "open_long"
    if score <= -cfg.entry_score and "open_short" in legal:
        return "open_short"
    return "hold"


def _sig(value: Decimal, digits: int = 6) -> Decimal:
    """`value` rounded to `digits` significant figures."""
    if value == 0:
        return value
    return value.quantize(Decimal(1).scaleb(value.adjusted() - digits + 1))


def decide(
    ctx: AssetContext,
    legal: frozenset[str],
    mark_px: Decimal | None,
    position_side: str | None,
    leverage_cap: int,
    cfg: RulesSettings,
) -> RulesDecision:
    inp = inputs_of(ctx)
    close = float(mark_px) if mark_px is not None else (inp.closes[-1] if inp.closes else None)
    found = signals(inp, close, cfg)
    score = sum(s.vote for s in found)
    action = choose(score, position_side, legal, cfg)
    verdict = _verdict(action, score, position_side, cfg)
    reason = (
        "; ".join([*(f"{s.note} ({s.vote:+d})" for s in found), verdict])
        if found
        else f"no signals in the context; {verdict}"
    )
    confidence = min(Decimal(1), Decimal(abs(score)) / Decimal(max(len(found), 1))).quantize(
        Decimal("0.01")
    )
    answer: dict[str, object] = {
        "action": action,
        "asset": ctx.symbol,
        "confidence": confidence,
        "reason": f"{RULES_VERSION}: {reason}"[:2000],
    }
    if action in ("open_long", "open_short") and mark_px is not None:
        sign = Decimal(1) if action == "open_long" else Decimal(-1)
        answer |= {
            "size_fraction": cfg.size_fraction,
            "leverage": max(1, min(cfg.leverage, leverage_cap)),
            "stop_loss": _sig(mark_px * (1 - sign * cfg.stop_loss_pct)),
            "take_profit": _sig(mark_px * (1 + sign * cfg.take_profit_pct)),
            "invalidation": "the trend or MACD momentum turns against the position",
        }
    elif action in ("open_long", "open_short"):
        answer |= {"action": "hold", "reason": f"{RULES_VERSION}: no mark price; hold"}
        action = "hold"
    return RulesDecision(action=action, score=score, signals=found, answer=_encode(answer).decode())


def _verdict(action: str, score: int, position_side: str | None, cfg: RulesSettings) -> str:
    if action in ("open_long", "open_short"):
        return f"score {score:+d} reaches {cfg.entry_score}: {action}"
    if action == "close":
        return f"score {score:+d} is against the {position_side} position by {cfg.exit_score} or more: close"
    if position_side is not None:
        return f"score {score:+d}: keep the {position_side} position"
    return f"score {score:+d} is short of {cfg.entry_score}: hold"


class RulesDecider:
    """The rules engine behind the runner's `Decider` interface (no prompt, no cache, no cost)."""

    name = "rules"
    needs_prompt = False

    def __init__(self, cfg: RulesSettings | None = None) -> None:
        self.cfg = cfg or RulesSettings()

    def model_for(self, model_strength: str) -> str:
        return RULES_VERSION

    def prompt_version(self) -> str:
        return RULES_VERSION

    async def decide(self, job: DecisionJob) -> EngineAnswer:
        d = decide(
            job.context, job.legal, job.mark_px, job.position_side, job.leverage_cap, self.cfg
        )
        return EngineAnswer(text=d.answer, engine=self.name, model=RULES_VERSION)
