"""Booting the product's market module with the simulator, and the ingestion routes over it."""

from __future__ import annotations

import anyio
import httpx
import msgspec
import pytest
from starlette.applications import Starlette

from actors import VirtualClock
from clash.config import Secrets, load_config
from clash.http.errors import EXCEPTION_HANDLERS
from clash.http.routes import ingestion
from clash.market.candles import MINUTE_MS
from clash.market.module import MarketModule
from clash.ops.module import OpsModule
from clash.runtime import boot

pytestmark = pytest.mark.anyio


def product_config(tmp_path, kit):
    config = load_config(environ={})
    hl = msgspec.structs.replace(
        config.market.hyperliquid, assets=["BTC", "ETH", "HYPE/USDC"], boot_backfill_minutes=30
    )
    return msgspec.structs.replace(
        config,
        system=msgspec.structs.replace(config.system, data_dir=str(tmp_path / "var")),
        market=msgspec.structs.replace(config.market, hyperliquid=hl),
    )


async def test_boot_with_the_sim_is_ok_within_a_minute_and_serves_health(tmp_path, kit) -> None:
    clock = VirtualClock(kit.T0 + 30)
    async with boot(
        product_config(tmp_path, kit), Secrets(admin_token="t"), clock, [OpsModule, MarketModule]
    ) as rt:
        market: MarketModule = rt.module(MarketModule)
        await clock.advance(0)
        for _ in range(12):  # one virtual minute; the stream needs a moment of real time
            health = await market.health()
            if health.status == "ok":
                break
            await anyio.sleep(0.05)
            await clock.advance(5)
        statuses = {(c.source, c.channel): c.status for s in health.sources for c in s.channels}
        assert health.status == "ok", statuses
        assert {s.source: s.status for s in health.sources} == {
            "hyperliquid": "ok",
            "polymarket": "ok",
            "defillama": "ok",
        }
        candles = next(c for c in health.sources[0].channels if c.channel == "candles_1m")
        assert candles.coverage == 1.0 and candles.assets_expected == 3

        app = Starlette(routes=ingestion.routes, exception_handlers=EXCEPTION_HANDLERS)
        app.state.runtime = rt
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app), base_url="http://clash"
        ) as client:
            body = (await client.get("/api/v1/ingestion/health")).json()
            assert body["status"] == "ok", [
                (c["channel"], c["status"], c["lag_ms"])
                for s in body["sources"]
                for c in s["channels"]
            ]
            assert len(body["sources"]) == 3
            dash = await client.get("/api/v1/ingestion/dashboard", params={"hours": 1})
            series = {(s["source"], s["channel"]): s["points"] for s in dash.json()["series"]}
            assert len(series) == 12 and dash.json()["health"]["status"] == "ok"
            assert (
                await client.get("/api/v1/ingestion/dashboard", params={"hours": 0})
            ).status_code == 422
            page = await client.get("/admin/ingestion")
            assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
            assert "candles_1m" in page.text and "<svg" in page.text and "<script" not in page.text

        await clock.advance(3 * 60)
        now = clock.now_ms()
        btc = await market.candles("BTC", "1m", now)
        assert len(btc) >= 33 and btc[-1].t_ms == now // MINUTE_MS * MINUTE_MS - MINUTE_MS
        assert (await market.indicators("BTC", now))[-1].ema is not None
        assert set(await market.latest_marks(["BTC", "HYPE/USDC"])) == {"BTC", "HYPE/USDC"}
        assert await market.latest_marks(["BTC"], max_age_ms=0) == {}  # nothing that fresh
        boot_ms = (kit.T0 + 30) * 1000  # the boot backfill became known then, not as it closed
        assert await market.latest_marks(["BTC"], boot_ms - 1) == {}
        assert set(await market.latest_marks(["BTC"], boot_ms)) == {"BTC"}
        specs = await market.asset_specs()
        assert specs["ETH"].max_leverage == 25 and sum(a.trending for a in specs.values()) == 10
        assert set(await market.funding_rates(["BTC", "HYPE/USDC"])) == {"BTC"}
        context = await market.polymarket_context("BTC", now)
        assert context.t_ms is not None and context.immediate is not None and context.linked
        macro = await market.macro_context("ETH", now)
        assert {m.scope for m in macro} == {"global", "chain"}
        assert all(m.linked_symbol in (None, "ETH") for m in macro)
        assert len(await market.trending(3)) == 3

        dash = await market.dashboard(1)
        points = next(s.points for s in dash.series if s.channel == "candles_1m")
        assert len(points) >= 3 and points[-1].rows == 3  # three assets close a minute each
        report = await rt.db.check()
        assert report.ok, report.problems
