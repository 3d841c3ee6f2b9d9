"""Candidate policy (seed 003): which assets of a branch get a decision run this round.

Open positions first (so a held asset is never crowded out), then the enabled universe, ordered
by a deterministic prefilter score when the branch sets one; capped at the branch's
`maxCandidates` (10 by default, 25 at most). Pure: the scores come in as numbers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from itertools import pairwise

from clash.market import Candle
from clash.trading.packet import Branch, Candidate, CandidateReason, CandidateSet, Prefilter

DEFAULT_CAP = 10
MAX_CAP = 25
SCORE_HOURS = 24
"""Prefilters score the last 24 complete hourly candles (perps and spot pairs alike)."""


def eligible(branch: Branch) -> list[str]:
    """The branch's enabled assets, in universe order."""
    return [a.symbol for a in branch.assets if a.enabled]


def choose(
    branch: Branch,
    positions: Sequence[str] = (),
    scores: Mapping[str, float | None] | None = None,
) -> CandidateSet:
    """Rank and cap the branch's candidates.

    `positions` are symbols with an open position on the account; only those in the branch's
    enabled universe count (another branch's position is not this strategy's to manage).
    `scores` rank the rest when the prefilter is not `none`: higher first, unscored last, ties
    in universe order.
    """
    policy = branch.candidate_policy
    cap = max(1, min(policy.max_candidates, MAX_CAP))
    universe = eligible(branch)
    held = set(positions) if policy.include_open_positions else set()
    first: list[tuple[str, CandidateReason, float | None]] = [
        (s, "open_position", None) for s in universe if s in held
    ]
    rest = [s for s in universe if s not in held]
    if policy.prefilter == "none" or scores is None:
        ranked: list[tuple[str, CandidateReason, float | None]] = [
            (s, "universe", None) for s in rest
        ]
    else:
        order = {s: i for i, s in enumerate(rest)}
        ranked = sorted(
            ((s, "prefilter", scores.get(s)) for s in rest),
            key=lambda c: (c[2] is None, -(c[2] or 0.0), order[c[0]]),
        )
    out = [
        Candidate(symbol=s, rank=i + 1, reason=reason, score=v)
        for i, (s, reason, v) in enumerate(first + ranked)
    ]
    return CandidateSet(
        prompt_node_id=branch.prompt_node_id,
        cap=cap,
        prefilter=policy.prefilter,
        selected=out[:cap],
        over_cap=out[cap:],
    )


def score(prefilter: Prefilter, hours: Sequence[Candle]) -> float | None:
    """A prefilter's score from complete hourly candles, oldest first; None without enough data.

    momentum: |last close / first open - 1|; volatility: population std of hourly log returns;
    volume: notional traded (sum of volume x close).
    """
    if not hours or prefilter == "none":
        return None
    if prefilter == "momentum":
        return abs(hours[-1].c / hours[0].o - 1) if hours[0].o > 0 else None
    if prefilter == "volume":
        return sum(h.v * h.c for h in hours)
    closes = [h.c for h in hours if h.c > 0]
    if len(closes) < 3:
        return None
    rets = [math.log(b / a) for a, b in pairwise(closes)]
    mean = sum(rets) / len(rets)
    return math.sqrt(sum((r - mean) ** 2 for r in rets) / len(rets))
