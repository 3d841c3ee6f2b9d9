"""The product booted with the prop module on scripted prices, for the prop tests;
run as a script it is the crash test's writer: ``python -m tests.helpers.prop_writer DATA_DIR``.

The writer submits actions to one account through its actor forever, alternately opening and
closing a BTC long, and prints each action id once `submit` has returned (the action is committed).
It continues from what the database holds, so it can be killed and restarted on the same file.
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import anyio

from actors import Clock, System, VirtualClock
from actors.testkit import EPOCH_2026
from clash.config import Config, Secrets, SystemConfig
from clash.ops.module import OpsModule
from clash.prop.config import PropConfig
from clash.prop.fills import AssetSpec
from clash.prop.gates import Action
from clash.prop.module import PropModule
from clash.prop.prices import ScriptedPrices
from clash.runtime import Runtime, boot, using
from clash.store import Database

BTC = AssetSpec(symbol="BTC", sz_decimals=5, max_leverage=40)
ETH = AssetSpec(symbol="ETH", sz_decimals=4, max_leverage=25)
CRASH_ACCOUNT = "pa_crash"


def scripted() -> ScriptedPrices:
    return ScriptedPrices([BTC, ETH], {"BTC": "100000", "ETH": "2500"})


@dataclass
class PropEnv:
    module: PropModule
    system: System
    clock: Clock
    db: Database
    prices: ScriptedPrices
    runtime: Runtime


@asynccontextmanager
async def prop_runtime(
    data_dir: Path,
    prices: ScriptedPrices | None = None,
    *,
    clock: Clock | None = None,
    config: PropConfig | None = None,
    check: bool = True,
) -> AsyncIterator[PropEnv]:
    """Boot the product with the prop module on `prices`; on a clean exit assert `db.check()` passes."""
    clock = clock or VirtualClock(EPOCH_2026)
    prices = prices or scripted()
    settings = Config(
        system=SystemConfig(data_dir=str(data_dir), heartbeat_interval_s=0),
        prop=config or PropConfig(),
    )
    async with boot(
        settings, Secrets(), clock, [OpsModule, using(PropModule, prices=prices)]
    ) as rt:
        if isinstance(clock, VirtualClock):
            await clock.settle()
        yield PropEnv(rt.module(PropModule), rt.system, clock, rt.db, prices, rt)
        if check:
            report = await rt.db.check()
            assert report.ok, report.problems


def crash_action(n: int) -> Action:
    if n % 2:
        return Action(action_id=f"act-{n}", kind="close", symbol="BTC")
    return Action(
        action_id=f"act-{n}", kind="open_long", symbol="BTC", size_usd=1_000_000_000, leverage=2
    )


async def main(path: str) -> None:
    from actors import LiveClock

    async with prop_runtime(Path(path), clock=LiveClock(), check=False) as env:
        if CRASH_ACCOUNT not in env.module.manager.open_accounts:
            await env.module.open_account(1, "sandbox", universe=["BTC"], account_id=CRASH_ACCOUNT)
        async with env.db.read() as r:
            n = await r.fetchval(
                "SELECT count(*) FROM prop_actions WHERE account_id = ?", (CRASH_ACCOUNT,)
            )
        while True:
            env.prices.set(BTC=100_000 + (n % 7) * 10)
            result = await env.module.submit(CRASH_ACCOUNT, crash_action(n))
            assert result.outcome == "filled" and not result.replayed, result
            print(result.action_id, flush=True)
            n += 1


if __name__ == "__main__":
    anyio.run(main, sys.argv[1])
