"""The decision runtime with the `anthropic` engine, configured by an API key, against the fake
Messages API on loopback: a 429 retried inside a run, a malformed answer rejected, costs recorded,
and the cost controls (only hold, response cache) that spare calls."""

from __future__ import annotations

import logging

import msgspec
import pytest

from clash.config import Secrets
from clash.trading.actions import hold_answer, parse_answer
from clash.trading.config import AnthropicSettings
from clash.trading.engines.fake_messages_api import (
    FakeMessagesApi,
    ReceivedRequest,
    Reply,
    rate_limited,
    refusal,
    serving,
)
from clash.trading.engines.pricing import ModelRoute, ModelsConfig, cost_micro_usd, default_models
from clash.trading.prompt import asset_of

from tests.helpers.decision_world import ADMIN_TOKEN, ASSETS, decision_world, trading_config

pytestmark = pytest.mark.anyio

MALFORMED = (
    'Here is my decision: {"action": "hold", "asset": "BTC", "confidence": 0.5, "reason": "wait"}'
)


def buy_when_flat(req: ReceivedRequest) -> str:
    """Open a small long when entries are legal, else hold."""
    asset = asset_of(req.user) or "?"
    legal = req.system.split("# Legal actions for", 1)[1].split("\n")[1]
    if "open_long" in legal:
        return (
            '{"action": "open_long", "asset": "' + asset + '", "confidence": 0.7, '
            '"reason": "trend up", "size_usd": 500, "leverage": 2, '
            '"invalidation": "a close below the range"}'
        )
    return hold_answer(asset, "keep it")


def settings(url: str):
    return trading_config(
        engine="auto",
        anthropic=AnthropicSettings(
            base_url=url, backoff_base_s=0.001, backoff_max_s=0.002, timeout_s=5.0
        ),
    )


async def test_anthropic_engine_through_the_fake_messages_api(tmp_path) -> None:
    api = FakeMessagesApi(buy_when_flat)
    async with serving(api.app) as url:
        api.script(rate_limited(retry_after=0), Reply(text=MALFORMED))
        secrets = Secrets(admin_token=ADMIN_TOKEN, anthropic_api_key="sk-test")
        async with decision_world(tmp_path, trading=settings(url), secrets=secrets) as w:
            assert w.trading.decider.name == "anthropic" and api.model_listings == 1
            cid = await w.publish()
            account = await w.activate(cid)
            await w.clock.advance(600)

            decisions = await w.decisions(cid)
            assert len(decisions) == 6 and len(api.requests) == 7
            assert {d.run.engine for d in decisions} == {"anthropic"}
            assert {d.run.model for d in decisions} == {"claude-haiku-4-5"}

            (retried,) = [d for d in decisions if d.run.attempts == 2]
            assert retried.run.status != "failed" and retried.run.error_code in (
                None,
                "text_around_json",
            )

            (bad,) = [
                d for d in decisions if d.action and d.action.reason_code == "text_around_json"
            ]
            expected = parse_answer(MALFORMED, bad.run.symbol, bad.run.legal)
            assert (bad.run.status, bad.action.status, bad.action.stage, bad.action.reason) == (
                "rejected",
                "rejected",
                "answer",
                expected.message,
            )
            assert bad.action.order_no is None

            first, second = decisions[:3], decisions[3:]
            assert {d.run.symbol: d.run.status for d in first} == {
                s: "rejected" if s == bad.run.symbol else "filled" for s in ASSETS
            }
            assert {d.run.symbol: d.run.status for d in second} == {
                s: "filled" if s == bad.run.symbol else "held" for s in ASSETS
            }
            assert all(
                d.run.legal == ["reduce", "close", "hold"] and d.action.kind == "hold"
                for d in second
                if d.run.status == "held"
            )
            filled = [d for d in decisions if d.run.status == "filled"]
            assert len(await w.prop.orders(account, 100)) == len(filled) == 3
            held_prompts = [r.user for r in api.requests[-3:] if asset_of(r.user) != bad.run.symbol]
            assert len(held_prompts) == 2 and all(
                "a close below the range" in u for u in held_prompts
            )
            price = default_models().price("claude-haiku-4-5")
            for d in decisions:
                assert d.run.input_tokens > 0 and d.run.output_tokens > 0 and not d.run.cached
                assert d.run.cost_micro_usd == cost_micro_usd(
                    price, d.run.input_tokens, d.run.output_tokens
                )

            calls = len(api.requests)
            await w.prop.pause(account, "ops")
            await w.clock.advance(300)
            assert len(api.requests) == calls
            assert [d.run.status for d in (await w.decisions(cid))[-3:]] == ["hold_only"] * 3

            first = await w.trading.dry_run(cid, user="ada")
            calls = len(api.requests)
            again = await w.trading.dry_run(cid, user="ada")
            assert len(api.requests) == calls
            assert [d.run.cached for d in first.decisions] == [False] * 3
            assert [
                (d.run.cached, d.run.cost_micro_usd, d.run.attempts) for d in again.decisions
            ] == [(True, 0, 0)] * 3
            assert [d.action.kind for d in again.decisions] == [
                d.action.kind for d in first.decisions
            ]


async def test_a_refusal_is_a_rejected_decision_with_its_own_code(tmp_path) -> None:
    api = FakeMessagesApi()
    async with serving(api.app) as url:
        api.script(refusal())
        secrets = Secrets(admin_token=ADMIN_TOKEN, anthropic_api_key="sk-test")
        async with decision_world(tmp_path, trading=settings(url), secrets=secrets) as w:
            cid = await w.publish()
            await w.activate(cid)
            await w.clock.advance(300)
            decisions = await w.decisions(cid)
    [refused] = [d for d in decisions if d.action and d.action.reason_code == "refusal"]
    assert (refused.run.status, refused.action.status, refused.action.stage) == (
        "rejected",
        "rejected",
        "answer",
    )
    assert refused.run.cost_micro_usd > 0 and len(decisions) == 3


async def test_boot_warns_about_a_routed_model_the_provider_does_not_list(tmp_path, caplog) -> None:
    base = default_models()
    models = ModelsConfig(
        routes={
            **base.routes,
            "standard": ModelRoute(model="claude-sonnet-9", max_tokens=8000, effort="low"),
        },
        prices={**base.prices, "claude-sonnet-9": base.price("claude-sonnet-5-5")},
    )
    api = FakeMessagesApi()
    async with serving(api.app) as url:
        trading = msgspec.structs.replace(settings(url), models=models)
        secrets = Secrets(admin_token=ADMIN_TOKEN, anthropic_api_key="sk-test")
        with caplog.at_level(logging.WARNING, logger="clash.trading.engines.anthropic"):
            async with decision_world(tmp_path, trading=trading, secrets=secrets, warm_s=0):
                pass
    assert api.model_listings == 1
    assert (
        "strength standard routes to claude-sonnet-9, which the provider's model list does not include"
        in (caplog.text)
    )
