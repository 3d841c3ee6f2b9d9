"""The product booted for the trading tests: the market module on its simulator (in-process, over
httpx's ASGI transport, no websocket) on a VirtualClock, the clones and prop modules, and trading.

Market memory is real: the Hyperliquid, Polymarket and DefiLlama actors backfill and poll the
simulator as the clock advances.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import msgspec

from actors import VirtualClock
from actors.testkit import EPOCH_2026
from clash.clones.module import ClonesModule
from clash.config import Config, Secrets, SystemConfig
from clash.http.auth import DevHeaderIdentity
from clash.http.errors import EXCEPTION_HANDLERS
from clash.http.routes import clones as clone_routes
from clash.http.routes import trading as trading_routes
from clash.market.config import HyperliquidSettings, MarketConfig, RetrySettings
from clash.market.module import MarketModule
from clash.ops.module import OpsModule
from clash.prop.fills import AssetSpec
from clash.prop.module import PropModule
from clash.prop.prices import ScriptedPrices
from clash.runtime import Runtime, boot, using
from clash.trading.module import TradingModule

ASSETS = ["BTC", "ETH", "SOL", "HYPE/USDC"]
START = EPOCH_2026 + 9 * 3600 + 30
FAST = RetrySettings(attempts=2, backoff_s=0.001, backoff_max_s=0.002, timeout_s=5.0)


IN_PROCESS_MARKET = using(MarketModule, in_process_sim=True)
"""The market module with its simulator served in-process instead of on a loopback port."""


def market_config(assets: list[str] = ASSETS, backfill_minutes: int = 240) -> MarketConfig:
    cfg = MarketConfig(
        hyperliquid=HyperliquidSettings(
            assets=assets,
            websocket=False,
            weight_per_minute=10**9,
            boot_backfill_minutes=backfill_minutes,
            retry=FAST,
        )
    )
    return msgspec.structs.replace(
        cfg,
        sim_history_days=2,
        polymarket=msgspec.structs.replace(cfg.polymarket, retry=FAST),
        defillama=msgspec.structs.replace(
            cfg.defillama, retry=FAST, chains=["Ethereum", "Bitcoin"]
        ),
    )


@dataclass
class World:
    rt: Runtime
    clock: VirtualClock
    clones: ClonesModule
    trading: TradingModule
    prop: PropModule
    prices: ScriptedPrices

    @property
    def db(self) -> Any:
        return self.rt.db

    async def clone(self, graph: dict, owner: str = "ada", name: str = "Momentum") -> int:
        from clash.clones.graph import decode_pipeline

        clone = await self.clones.create_clone(owner, name)
        pipeline, problems = decode_pipeline(msgspec.json.encode(graph))
        assert pipeline is not None, problems
        await self.clones.save_pipeline(owner, clone.id, pipeline)
        return clone.id

    def client(self) -> httpx.AsyncClient:
        from starlette.applications import Starlette

        app = Starlette(
            routes=[*clone_routes.routes, *trading_routes.routes],
            exception_handlers=EXCEPTION_HANDLERS,
        )
        app.state.runtime = self.rt
        app.state.identity = DevHeaderIdentity()
        app.state.admin_token = None
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://clash")


@asynccontextmanager
async def trading_world(
    tmp_path: Path,
    *,
    warm_s: float = 30 * 60,
    market: MarketConfig | None = None,
    start: float = START,
) -> AsyncIterator[World]:
    """Boot, let the market actors backfill, then run the clock `warm_s` so polls accumulate."""
    clock = VirtualClock(start)
    prices = ScriptedPrices(
        [
            AssetSpec(symbol="BTC", sz_decimals=5, max_leverage=40),
            AssetSpec(symbol="ETH", sz_decimals=4, max_leverage=25),
        ],
        {"BTC": "85000", "ETH": "2700"},
    )
    config = Config(
        system=SystemConfig(data_dir=str(tmp_path / "var"), heartbeat_interval_s=0),
        market=market or market_config(),
    )
    modules = [
        OpsModule,
        IN_PROCESS_MARKET,
        ClonesModule,
        using(PropModule, prices=prices),
        TradingModule,
    ]
    async with boot(config, Secrets(), clock, modules) as rt:
        await clock.settle()
        await clock.advance(0)
        if warm_s:
            await clock.advance(warm_s)
        yield World(
            rt,
            clock,
            rt.module(ClonesModule),
            rt.module(TradingModule),
            rt.module(PropModule),
            prices,
        )
        report = await rt.db.check()
        assert report.ok, report.problems


def seed_graph(
    symbols=("BTC",), context="ETH", prompt="Trade the trend.", **prompt_config: Any
) -> dict:
    """Seed 003's cross-asset example: a BTC branch reading ETH candles, its own RSI and funding,
    Ethereum chain flows from DefiLlama, and Polymarket discovery."""
    return {
        "nodes": [
            {
                "type": "data_stream",
                "id": "eth-candles",
                "config": {
                    "source": "hyperliquid",
                    "channel": "ohlcv",
                    "symbol": context,
                    "profile": "deep",
                },
            },
            {
                "type": "data_stream",
                "id": "own-rsi",
                "config": {"source": "hyperliquid", "channel": "rsi"},
            },
            {
                "type": "data_stream",
                "id": "own-funding",
                "config": {"source": "hyperliquid", "channel": "funding_rates", "profile": "fast"},
            },
            {
                "type": "data_stream",
                "id": "macro",
                "config": {
                    "source": "defillama",
                    "channel": "capital_flows",
                    "defillama": {"scope": "chain", "subject": "Ethereum"},
                },
            },
            {
                "type": "data_stream",
                "id": "pm",
                "config": {"source": "polymarket", "channel": "market_discovery"},
            },
            {
                "type": "asset_selection",
                "id": "btc",
                "config": {"explicitlyEnabledSymbols": list(symbols)},
            },
            {
                "type": "trading_prompt",
                "id": "momentum",
                "config": {
                    "customBehaviorPrompt": prompt,
                    "decisionCadenceSec": 300,
                    **prompt_config,
                },
            },
        ],
        "edges": [
            {"source": s, "target": "btc"}
            for s in ("eth-candles", "own-rsi", "own-funding", "macro", "pm")
        ]
        + [{"source": "btc", "target": "momentum"}],
        "layout": {
            "strategyClone": {
                "position": {"x": 960, "y": 120},
                "connectedPromptNodeIds": ["momentum"],
            }
        },
    }
