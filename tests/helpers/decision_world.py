"""The product booted for the decision-runtime tests: market memory ingested from the simulator on
a VirtualClock (in-process), clones, prop accounts pricing from the market module, and trading
with a chosen engine. Helpers publish a Basic clone and activate it on a sandbox account."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import msgspec

from actors import VirtualClock
from clash.clones.basic import BasicChoices, build
from clash.clones.graph import TradingPromptNode
from clash.clones.module import ClonesModule
from clash.config import Config, Secrets, SystemConfig
from clash.http.app import create_app
from clash.market.config import MarketConfig
from clash.ops.module import OpsModule
from clash.prop.module import PropModule
from clash.runtime import Runtime, boot, using
from clash.trading import records
from clash.trading.config import TradingConfig
from clash.trading.deciders import Decider, DecisionJob
from clash.trading.module import TradingModule

from tests.helpers.trading_world import IN_PROCESS_MARKET, START, market_config

ASSETS = ("BTC", "ETH", "SOL")
ADMIN_TOKEN = "test-admin-token"
PROMPT = "Follow the trend; do not chase stretched moves."


def trading_config(**overrides: Any) -> TradingConfig:
    base = dict(engine="rules", demo_clone=False, retry_backoff_s=20.0)
    return TradingConfig(**(base | overrides))


@dataclass
class World:
    rt: Runtime
    clock: VirtualClock
    trading: TradingModule

    @property
    def clones(self) -> Any:
        return self.rt.module(ClonesModule)

    @property
    def prop(self) -> Any:
        return self.rt.module(PropModule)

    async def publish(
        self,
        owner: str = "ada",
        name: str = "Trend",
        assets: Sequence[str] = ASSETS,
        profile: str = "balanced",
        cadence: int | None = None,
        tier: str | None = None,
        prompt: str = PROMPT,
        graph: Any = None,
    ) -> int:
        clone = await self.clones.create_clone(owner, name)
        if tier is not None:
            await self.clones.grant_tier(clone.id, tier, source="admin", granted_by="test")
        pipeline = graph or build(BasicChoices(assets=list(assets), profile=profile, prompt=prompt))
        if cadence is not None:
            pipeline = with_cadence(pipeline, cadence)
        await self.clones.save_pipeline(owner, clone.id, pipeline)
        await self.clones.publish(owner, clone.id)
        return clone.id

    async def activate(
        self, clone_id: int, owner: str = "ada", universe: Sequence[str] = ASSETS
    ) -> str:
        account = await self.prop.open_account(
            clone_id, "sandbox", universe=list(universe), owner_user_id=owner
        )
        await self.trading.activate(clone_id, account)
        return account

    async def runs(self, clone_id: int, dry_run: bool | None = None) -> list[records.RunRow]:
        async with self.rt.db.read() as r:
            return await records.runs_of_clone(r, clone_id, dry_run=dry_run)

    async def decisions(self, clone_id: int) -> list[records.Decision]:
        return list(reversed(await self.trading.history(clone_id, limit=10_000)))

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=create_app(self.rt)), base_url="http://clash"
        )


def with_cadence(pipeline: Any, cadence: int) -> Any:
    nodes = [
        msgspec.structs.replace(
            n, config=msgspec.structs.replace(n.config, decision_cadence_sec=cadence)
        )
        if isinstance(n, TradingPromptNode)
        else n
        for n in pipeline.nodes
    ]
    return msgspec.structs.replace(pipeline, nodes=nodes)


@asynccontextmanager
async def decision_world(
    tmp_path: Path,
    *,
    trading: TradingConfig | None = None,
    decider: Decider | None = None,
    secrets: Secrets | None = None,
    warm_s: float = 120.0,
    store: Any = None,
    start: float = START,
    market: MarketConfig | None = None,
) -> AsyncIterator[World]:
    clock = VirtualClock(start)
    config = Config(
        system=SystemConfig(data_dir=str(tmp_path / "var"), heartbeat_interval_s=0),
        market=market or market_config([*ASSETS, "HYPE/USDC"]),
        trading=trading or trading_config(),
    )
    trading = using(TradingModule, decider=decider, artifact_store=store)
    modules = [OpsModule, IN_PROCESS_MARKET, ClonesModule, PropModule, trading]
    async with boot(config, secrets or Secrets(admin_token=ADMIN_TOKEN), clock, modules) as rt:
        await clock.settle()
        await clock.advance(0)
        if warm_s:
            await clock.advance(warm_s)
        yield World(rt, clock, rt.module(TradingModule))
        report = await rt.db.check()
        assert report.ok, report.problems


class Intercept:
    """A decider that answers from `inner` except where `override(job)` returns a text."""

    def __init__(self, inner: Decider, override: Callable[[DecisionJob], str | None]) -> None:
        self.inner = inner
        self.override = override
        self.name = inner.name
        self.needs_prompt = inner.needs_prompt
        self.calls: list[DecisionJob] = []

    def model_for(self, model_strength: str) -> str:
        return self.inner.model_for(model_strength)

    def prompt_version(self) -> str:
        return self.inner.prompt_version()

    async def decide(self, job: DecisionJob) -> Any:
        from clash.trading.engines.base import EngineAnswer

        self.calls.append(job)
        text = self.override(job)
        if text is None:
            return await self.inner.decide(job)
        return EngineAnswer(
            text=text, engine=self.inner.name, model=self.inner.model_for(job.model_strength)
        )
