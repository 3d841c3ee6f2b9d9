"""One trading scenario, run as a script (`python -m tests.helpers.same_fills_scenario`): prints one SHA-256 over its decisions, fills and ledger.

`test_same_fills_in_any_process` runs it in several processes with different `PYTHONHASHSEED`s.
Three assets, one clone whose engine enters every asset on the same tick (so the tick's runs race
for one account) and closes them on the next, for six virtual hours on a VirtualClock.
"""

from __future__ import annotations

import collections
import hashlib
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import anyio
import msgspec

from clash.market.config import MarketConfig
from clash.trading.actions import hold_answer
from clash.trading.deciders import DecisionJob
from clash.trading.engines.base import EngineAnswer

from tests.helpers.decision_world import (
    ASSETS,
    decision_world,
    market_config,
    trading_config,
)

HOURS = 6
CADENCE_S = 900


_number_json = msgspec.json.Encoder(decimal_format="number").encode


class InAndOut:
    """Opens a long on every flat asset with a third of equity, closes every open one."""

    name = "scripted"
    needs_prompt = False

    def model_for(self, model_strength: str) -> str:
        return "in-and-out"

    def prompt_version(self) -> str:
        return "none"

    async def decide(self, job: DecisionJob) -> EngineAnswer:
        if job.position_side is not None and "close" in job.legal:
            text = msgspec.json.encode(
                {
                    "action": "close",
                    "asset": job.context.symbol,
                    "confidence": 0.5,
                    "reason": "scripted: out",
                }
            ).decode()
        elif "open_long" in job.legal and job.mark_px is not None:
            answer = {
                "action": "open_long",
                "asset": job.context.symbol,
                "confidence": 0.5,
                "size_fraction": Decimal("0.33"),
                "leverage": 2,
                "reason": "scripted: in",
                "stop_loss": job.mark_px / 2,
                "take_profit": job.mark_px * 2,
            }
            text = _number_json(answer).decode()
        else:
            text = hold_answer(job.context.symbol, "scripted: nothing legal")
        return EngineAnswer(text=text, engine=self.name, model="in-and-out")


def light_market() -> MarketConfig:
    """Hyperliquid only, polled slowly (marks stay fresher than `mark_max_age_s`): the scenario's
    engine reads no context, and six virtual hours must run in seconds."""
    cfg = market_config([*ASSETS, "HYPE/USDC"], backfill_minutes=30)
    hl = msgspec.structs.replace(
        cfg.hyperliquid,
        contexts_interval_s=900.0,
        candle_sweep_interval_s=900.0,
        predicted_interval_s=3600.0,
        profile_interval_s=3600.0,
        mids_flush_interval_s=60.0,
    )
    health = msgspec.structs.replace(cfg.health, snapshot_interval_s=900.0)
    return msgspec.structs.replace(
        cfg,
        hyperliquid=hl,
        health=health,
        polymarket=msgspec.structs.replace(cfg.polymarket, enabled=False),
        defillama=msgspec.structs.replace(cfg.defillama, enabled=False),
    )


async def scenario(tmp: Path) -> dict[str, Any]:
    async with decision_world(
        tmp, decider=InAndOut(), trading=trading_config(), warm_s=120, market=light_market()
    ) as w:
        cid = await w.publish(assets=ASSETS, cadence=CADENCE_S)
        account = await w.prop.open_account(
            cid, "sandbox", universe=list(ASSETS), owner_user_id="ada", account_id="pa_same_fills"
        )
        await w.trading.activate(cid, account)
        await w.clock.advance(HOURS * 3600)
        runs = await w.runs(cid)
        decisions = await w.decisions(cid)
        fills = list(reversed(await w.prop.fills(account, 10_000)))
        ledger = list(reversed(await w.prop.ledger(account, 10_000)))
    # latencies are wall-clock measurements, not inputs or outcomes
    rows = [msgspec.structs.replace(r, latency_ms=0, engine_latency_ms=0) for r in runs]
    return {
        "runs": rows,
        "actions": [d.action for d in decisions],
        "fills": fills,
        "ledger": ledger,
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        out = anyio.run(scenario, Path(tmp))
    data = msgspec.json.encode(out, order="deterministic")
    same_tick = collections.Counter(f.at_ms for f in out["fills"])
    print(
        msgspec.json.encode(
            {
                "sha256": hashlib.sha256(data).hexdigest(),
                "runs": len(out["runs"]),
                "fills": len(out["fills"]),
                "ledger": len(out["ledger"]),
                "most_fills_in_one_tick": max(same_tick.values(), default=0),
            }
        ).decode()
    )


if __name__ == "__main__":
    main()
