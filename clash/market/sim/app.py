"""One ASGI app speaking Hyperliquid (at the root), Polymarket Gamma and DefiLlama on loopback."""

from __future__ import annotations

import time
from collections.abc import Callable

from starlette.applications import Starlette
from starlette.routing import Mount

from clash.market.sim.defillama import routes_for as defillama_routes
from clash.market.sim.hyperliquid import HyperliquidSim
from clash.market.sim.market import SimMarket
from clash.market.sim.polymarket import routes_for as polymarket_routes


def wall_ms() -> int:
    """The live clock, for running the simulator as a stand-in for the real feeds."""
    return time.time_ns() // 1_000_000


def create_sim_app(
    market: SimMarket,
    now_ms: Callable[[], int] = wall_ms,
    *,
    push_interval_s: float = 1.0,
    idle_timeout_s: float = 60.0,
    weight_per_minute: int | None = None,
) -> Starlette:
    """Hyperliquid at `/info` and `/ws`, Gamma under `/polymarket`, DefiLlama under `/defillama`.

    All three draw from `market.seed` and `now_ms()`. The Hyperliquid simulator is kept at
    `app.state.hyperliquid` (tests use it to drop websocket connections).
    """
    hyperliquid = HyperliquidSim(
        market,
        now_ms,
        push_interval_s=push_interval_s,
        idle_timeout_s=idle_timeout_s,
        weight_per_minute=weight_per_minute,
    )
    app = Starlette(
        routes=[
            *hyperliquid.routes(),
            Mount("/polymarket", routes=polymarket_routes(market.seed, now_ms)),
            Mount("/defillama", routes=defillama_routes(market.seed, now_ms)),
        ]
    )
    app.state.hyperliquid = hyperliquid
    return app
