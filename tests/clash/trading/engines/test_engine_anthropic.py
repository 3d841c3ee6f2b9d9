"""The Anthropic engine through the real SDK against the fake Messages API on loopback."""

import logging
import random
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from decimal import Decimal

import anthropic
import anyio
import msgspec
import pytest

from clash.trading.actions import Rejected, ValidAction, hold_answer, parse_answer
from clash.trading.cache import CachedEngine, ResponseCache
from clash.trading.engines.anthropic import AnthropicEngine
from clash.trading.engines.base import EngineError, EngineRequest
from clash.trading.engines.fake_messages_api import (
    CURRENT_MODELS,
    FakeMessagesApi,
    FakeModel,
    Raw,
    Reply,
    Stall,
    overloaded,
    rate_limited,
    refusal,
    server_error,
    serving,
)
from clash.trading.engines.pricing import ModelPrice, ModelRoute, ModelsConfig, default_models

REQUEST = EngineRequest(
    system="Prompt v1.\nrules", user="Decision time: x\nAsset: BTC\n", asset="BTC"
)


class Sleeps:
    """Records backoff delays and sleeps only briefly, so retries stay fast."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await anyio.sleep(0.001)


class StepClock:
    """A monotonic clock that moves ``step`` seconds each time it is read."""

    def __init__(self, step: float) -> None:
        self.t, self.step = 100.0, step

    def __call__(self) -> float:
        self.t += self.step
        return self.t


@asynccontextmanager
async def engine(
    api: FakeMessagesApi, *, now: Callable[[], float] = time.monotonic, **kw: object
) -> AsyncIterator[AnthropicEngine]:
    kw = {"timeout": 2.0, "attempts": 4, "backoff_base": 0.01, "rng": random.Random(7), **kw}
    async with serving(api.app) as url:
        async with AnthropicEngine(api_key="sk-test", base_url=url, now=now, **kw) as eng:  # type: ignore[arg-type]
            with anyio.fail_after(20):
                yield eng


@pytest.mark.anyio
async def test_answer_tokens_cost_and_the_request_sent() -> None:
    api = FakeMessagesApi()
    api.script(Reply(text=hold_answer("BTC", "flat"), input_tokens=1200, output_tokens=80))
    async with engine(api, now=StepClock(0.75)) as eng:
        answer = await eng.decide(REQUEST)
    assert answer.text == hold_answer("BTC", "flat") and answer.engine == "anthropic"
    assert answer.model == "claude-haiku-4-5" and answer.stop_reason == "end_turn"
    assert (answer.input_tokens, answer.output_tokens) == (1200, 80)
    assert answer.cost_micro_usd == 1200 * 1 + 80 * 5
    assert answer.latency_ms == 750 and answer.attempts == 1 and not answer.cached
    [sent] = api.requests
    assert sent.model == "claude-haiku-4-5" and sent.max_tokens == 2048
    assert not {"thinking", "output_config", "temperature", "top_p", "top_k"} & sent.body.keys()
    assert sent.system == REQUEST.system and sent.user == REQUEST.user
    assert sent.body["messages"] == [{"role": "user", "content": REQUEST.user}]
    assert sent.headers["anthropic-version"] and sent.headers["content-type"] == "application/json"
    assert sent.headers["authorization"] == "Bearer sk-test"
    assert sent.headers["x-stainless-retry-count"] == "0"


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("strength", "model", "cost"),
    [
        ("standard", "claude-sonnet-5-5", 1000 * 2 + 100 * 10),
        ("max", "claude-opus-5-5", 1000 * 4 + 100 * 20),
    ],
)
async def test_model_routed_by_strength(strength: str, model: str, cost: int) -> None:
    api = FakeMessagesApi()
    api.script(Reply(text="{}", input_tokens=1000, output_tokens=100))
    async with engine(api) as eng:
        request = EngineRequest(system="s", user="u", asset="BTC", model_strength=strength)  # type: ignore[arg-type]
        answer = await eng.decide(request)
    assert answer.model == model == api.requests[0].model and answer.cost_micro_usd == cost
    sent = api.requests[0].body
    effort = {"standard": "low", "max": "medium"}[strength]
    assert sent["thinking"] == {"type": "adaptive"} and sent["output_config"] == {"effort": effort}
    assert sent["max_tokens"] == 16000 and not {"temperature", "top_p", "top_k"} & sent.keys()


@pytest.mark.anyio
async def test_429_is_retried_after_retry_after() -> None:
    api, sleeps = FakeMessagesApi(), Sleeps()
    api.script(rate_limited(retry_after=3), Reply(text="ok"))
    async with engine(api, sleep=sleeps, backoff_base=0.01) as eng:
        answer = await eng.decide(REQUEST)
    assert answer.text == "ok" and answer.attempts == 2 and len(api.requests) == 2
    assert sleeps.delays == [3.0]


@pytest.mark.anyio
async def test_529_overloaded_is_retried_with_jittered_backoff() -> None:
    api, sleeps = FakeMessagesApi(), Sleeps()
    api.script(overloaded(), overloaded(), Reply(text="ok"))
    async with engine(api, sleep=sleeps, backoff_base=1.0, backoff_max=10) as eng:
        answer = await eng.decide(REQUEST)
    assert answer.text == "ok" and answer.attempts == 3
    assert len(sleeps.delays) == 2 and 0 <= sleeps.delays[0] <= 1.0 and 0 <= sleeps.delays[1] <= 2.0


@pytest.mark.anyio
async def test_500_gives_up_after_the_attempt_limit() -> None:
    api = FakeMessagesApi()
    api.script(*[server_error()] * 5)
    async with engine(api, attempts=3) as eng:
        with pytest.raises(EngineError) as caught:
            await eng.decide(REQUEST)
    err = caught.value
    assert err.code == "server_error" and err.status == 500 and err.attempts == 3
    assert str(err) == (
        "server_error: claude-haiku-4-5: HTTP 500 api_error: Internal server error "
        "(gave up after 3 attempts)"
    )
    assert len(api.requests) == 3 and api.pending == 2


@pytest.mark.anyio
async def test_a_timeout_is_retried() -> None:
    api = FakeMessagesApi()
    api.script(Stall(seconds=5), Reply(text="second try"))
    async with engine(api, timeout=0.2) as eng:
        answer = await eng.decide(REQUEST)
    assert answer.text == "second try" and answer.attempts == 2 and len(api.requests) == 2


@pytest.mark.anyio
async def test_timeouts_give_up_after_the_attempt_limit() -> None:
    api = FakeMessagesApi()
    api.script(Stall(seconds=5), Stall(seconds=5), Reply(text="never reached"))
    async with engine(api, timeout=0.2, attempts=2) as eng:
        with pytest.raises(EngineError) as caught:
            await eng.decide(REQUEST)
    err = caught.value
    assert (
        err.code == "timeout"
        and err.attempts == 2
        and err.status is None
        and len(api.requests) == 2
    )
    assert (
        str(err) == "timeout: claude-haiku-4-5: no response within 0.2s (gave up after 2 attempts)"
    )


@pytest.mark.anyio
async def test_a_client_error_is_not_retried() -> None:
    api = FakeMessagesApi()
    api.script(
        Raw(
            status=400,
            body=b'{"type":"error","error":{"type":"invalid_request_error",'
            b'"message":"max_tokens: field required"}}',
        )
    )
    async with engine(api) as eng:
        with pytest.raises(EngineError) as caught:
            await eng.decide(REQUEST)
    assert (
        caught.value.code == "bad_request" and caught.value.attempts == 1 and len(api.requests) == 1
    )
    assert "max_tokens: field required" in str(caught.value)


@pytest.mark.anyio
async def test_a_retry_after_too_long_to_wait_stops_at_once() -> None:
    api = FakeMessagesApi()
    api.script(rate_limited(retry_after=120))
    async with engine(api, retry_after_max=30) as eng:
        with pytest.raises(EngineError) as caught:
            await eng.decide(REQUEST)
    assert caught.value.code == "rate_limited" and len(api.requests) == 1
    assert "retry-after 120s is longer than 30s" in str(caught.value)


@pytest.mark.anyio
async def test_a_body_that_is_not_json_is_a_bad_response() -> None:
    api = FakeMessagesApi()
    api.script(Raw(body=b"<html>bad gateway</html>"))
    async with engine(api) as eng:
        with pytest.raises(EngineError) as caught:
            await eng.decide(REQUEST)
    assert caught.value.code == "bad_response" and len(api.requests) == 1


@pytest.mark.anyio
async def test_connection_refused_is_retried_then_reported() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    eng = AnthropicEngine(
        api_key="k",
        base_url=f"http://127.0.0.1:{port}",
        now=time.monotonic,
        attempts=2,
        backoff_base=0.01,
        timeout=2,
    )
    async with eng:
        with anyio.fail_after(20), pytest.raises(EngineError) as caught:
            await eng.decide(REQUEST)
    assert caught.value.code == "connection" and caught.value.attempts == 2


@pytest.mark.anyio
async def test_unknown_model_fails_before_any_call() -> None:
    api = FakeMessagesApi()
    async with engine(api) as eng:
        with pytest.raises(EngineError) as caught:
            await eng.decide(EngineRequest(system="s", user="u", asset="BTC", model="gpt-9"))
    assert caught.value.code == "unknown_model" and api.requests == []


@pytest.mark.anyio
async def test_malformed_content_is_rejected_by_the_parser_with_its_tokens_recorded() -> None:
    api = FakeMessagesApi()
    api.script(
        Reply(
            text="Sure! Here is my decision:\n" + hold_answer("BTC", "x"),
            input_tokens=900,
            output_tokens=40,
        )
    )
    async with engine(api) as eng:
        answer = await eng.decide(REQUEST)
    assert answer.cost_micro_usd == 900 + 40 * 5
    result = parse_answer(answer.text, "BTC", {"hold"})
    assert result == Rejected(
        code="text_around_json",
        message="the answer has text before the JSON object; answer with the object only",
    )


@pytest.mark.anyio
async def test_the_cache_spares_the_second_call() -> None:
    api = FakeMessagesApi()
    async with engine(api) as eng:
        cached = CachedEngine(eng, ResponseCache())
        first = await cached.decide(REQUEST)
        second = await cached.decide(REQUEST)
        other = await cached.decide(
            EngineRequest(system=REQUEST.system, user=REQUEST.user + "x", asset="BTC")
        )
        by_model = await cached.decide(
            EngineRequest(
                system=REQUEST.system, user=REQUEST.user, asset="BTC", model_strength="standard"
            )
        )
    assert len(api.requests) == 3
    assert not first.cached and first.cost_micro_usd > 0 and first.input_tokens > 0
    assert second.cached and second.text == first.text
    assert (
        second.cost_micro_usd,
        second.input_tokens,
        second.output_tokens,
        second.latency_ms,
    ) == (0, 0, 0, 0)
    assert not other.cached and not by_model.cached and by_model.model == "claude-sonnet-5-5"


@pytest.mark.anyio
async def test_default_responder_answers_a_valid_hold_for_the_prompt_asset() -> None:
    api = FakeMessagesApi(latency_s=0.05)
    async with engine(api) as eng:
        answer = await eng.decide(EngineRequest(system="s", user="Asset: ETH\n", asset="ETH"))
    result = parse_answer(answer.text, "ETH", {"hold"})
    assert not isinstance(result, Rejected) and result.kind == "hold"
    assert answer.latency_ms >= 50


@pytest.mark.anyio
async def test_prompt_to_paper_fill() -> None:
    """Steps 5-9 of the runtime path: prompt, engine, strict parse, prop gates and fill."""
    from decimal import Decimal

    from clash.prop.book import open_account
    from clash.prop.fills import AssetSpec
    from clash.prop.gates import Limits
    from clash.trading.actions import ValidAction, to_prop_action
    from clash.trading.engines.base import request_for
    from clash.trading.legal import legal_for, only_hold
    from clash.trading.prompt import PromptInput, account_summary, prompt_limits, render_prompt

    t0, marks, limits = 1_790_431_200_000, {"BTC": Decimal(100_000)}, Limits()
    assets = {"BTC": AssetSpec(symbol="BTC", sz_decimals=5, max_leverage=40)}
    book = open_account(t0).book
    legal = legal_for(book, "BTC", marks, limits)
    assert not only_hold(legal)
    prompt = render_prompt(
        PromptInput(
            clone_name="c",
            strategy_prompt="go long",
            asset="BTC",
            legal=legal,
            now_ms=t0,
            mark_px=marks["BTC"],
            account=account_summary(book, marks),
            limits=prompt_limits(limits, 40),
        )
    )

    api = FakeMessagesApi()
    api.script(
        Reply(
            text='{"action":"open_long","asset":"BTC","size_fraction":0.5,"leverage":2,'
            '"stop_loss":95000,"take_profit":110000,"invalidation":"below 97k",'
            '"confidence":0.8,"reason":"trend up"}'
        )
    )
    async with engine(api) as eng:
        answer = await eng.decide(request_for(prompt, "BTC", run_id="run-1"))
    assert api.requests[0].system == prompt.system and api.requests[0].user == prompt.user

    valid = parse_answer(answer.text, "BTC", legal)
    assert isinstance(valid, ValidAction) and valid.invalidation == "below 97k"
    outcome = book.submit(to_prop_action(valid, "run-1:BTC"), assets, marks, t0, limits)
    assert outcome.rejection is None and len(outcome.fills) == 1
    position = outcome.book.positions["BTC"]
    assert position.side == "long" and position.leverage == 2 and position.stop_loss == 95_000
    assert legal_for(outcome.book, "BTC", marks, limits) == {"hold", "reduce", "close"}


@pytest.mark.anyio
async def test_unknown_strength_is_an_engine_error_even_behind_the_cache() -> None:
    eng = AnthropicEngine(api_key="k", base_url="http://127.0.0.1:9", now=time.monotonic)
    async with eng:
        with pytest.raises(EngineError) as caught:
            await CachedEngine(eng, ResponseCache()).decide(
                EngineRequest(system="s", user="u", asset="BTC", model_strength="ultra")
            )  # type: ignore[arg-type]
    assert caught.value.code == "unknown_model"


SONNET = EngineRequest(
    system="s",
    user="Asset: BTC\n",
    asset="BTC",
    model_strength="standard",
    run_id="run-7",
    clone_id=42,
)


@pytest.mark.anyio
async def test_the_answer_is_the_text_after_the_thinking_block() -> None:
    api = FakeMessagesApi()
    api.script(Reply(text=hold_answer("BTC", "calm"), thinking_tokens=900, input_tokens=1000))
    async with engine(api) as eng:
        answer = await eng.decide(SONNET)
    assert answer.text == hold_answer("BTC", "calm") and answer.stop_reason == "end_turn"
    assert answer.output_tokens > 900  # thinking is billed as output
    assert answer.cost_micro_usd == 1000 * 2 + answer.output_tokens * 10
    assert isinstance(parse_answer(answer.text, "BTC", {"hold"}), ValidAction)


@pytest.mark.anyio
async def test_every_route_passes_the_checks_of_current_models() -> None:
    """No sampling parameter, no manual thinking budget, effort only where the model has it."""
    api = FakeMessagesApi()
    async with engine(api) as eng:
        for strength in ("light", "standard", "max"):
            answer = await eng.decide(
                EngineRequest(system="s", user="Asset: ETH\n", asset="ETH", model_strength=strength)
            )  # type: ignore[arg-type]
            assert isinstance(parse_answer(answer.text, "ETH", {"hold"}), ValidAction)
    assert [r.model for r in api.requests] == [
        "claude-haiku-4-5",
        "claude-sonnet-5-5",
        "claude-opus-5-5",
    ]


@pytest.mark.anyio
async def test_a_refusal_is_an_answer_rejected_as_refusal_and_not_cached() -> None:
    api = FakeMessagesApi()
    api.script(refusal(), refusal())
    async with engine(api) as eng:
        cached = CachedEngine(eng, ResponseCache())
        answer = await cached.decide(SONNET)
        again = await cached.decide(SONNET)
    assert answer.stop_reason == "refusal" and answer.text == "" and answer.cost_micro_usd > 0
    assert not again.cached and len(api.requests) == 2
    result = parse_answer(answer.text, "BTC", {"hold"}, stop_reason=answer.stop_reason)
    assert isinstance(result, Rejected) and result.code == "refusal"


@pytest.mark.anyio
async def test_thinking_counts_against_max_tokens_and_a_cut_answer_is_rejected_as_max_tokens() -> (
    None
):
    api = FakeMessagesApi()
    api.script(Reply(text=hold_answer("BTC", "x"), thinking_tokens=15_995))
    async with engine(api) as eng:
        answer = await eng.decide(SONNET)
    assert answer.stop_reason == "max_tokens" and answer.output_tokens == 16_000
    assert answer.text != hold_answer("BTC", "x")
    result = parse_answer(answer.text, "BTC", {"hold"}, stop_reason=answer.stop_reason)
    assert isinstance(result, Rejected) and result.code == "max_tokens"


@pytest.mark.anyio
async def test_the_route_leaves_room_for_thinking() -> None:
    """A route sized for the answer alone (the old 1024) would cut a normal thinking answer."""
    api = FakeMessagesApi()
    api.script(
        Reply(text=hold_answer("BTC", "x"), thinking_tokens=3000),
        Reply(text=hold_answer("BTC", "x"), thinking_tokens=3000),
    )
    async with engine(api) as eng:
        sized = await eng.decide(SONNET)
        small = await eng.decide(msgspec.structs.replace(SONNET, max_tokens=1024))
    assert sized.stop_reason == "end_turn" and sized.text == hold_answer("BTC", "x")
    assert small.stop_reason == "max_tokens" and small.text == ""


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("extra", "says"),
    [
        ({"temperature": 0.2}, "temperature"),
        ({"top_p": 0.9}, "top_p"),
        ({"top_k": 5}, "top_k"),
        (
            {"thinking": {"type": "enabled", "budget_tokens": 2000}},
            '"thinking.type.enabled" is not supported',
        ),
    ],
)
async def test_the_fake_answers_400_to_sampling_parameters_and_manual_budgets(
    extra: dict, says: str
) -> None:
    """The installed SDK has no sampling parameters any more; ``extra_body`` sends them as older code would."""
    api = FakeMessagesApi()
    async with serving(api.app) as url:
        async with anthropic.AsyncAnthropic(api_key="k", base_url=url, max_retries=0) as client:
            with pytest.raises(anthropic.BadRequestError) as caught:
                await client.messages.create(
                    model="claude-sonnet-5-5",
                    max_tokens=1000,
                    messages=[{"role": "user", "content": "hi"}],
                    extra_body=extra,
                )
    assert (
        caught.value.status_code == 400
        and caught.value.body["error"]["type"] == "invalid_request_error"
    )
    assert says in caught.value.message and api.requests == []


@pytest.mark.anyio
async def test_an_effort_on_a_model_without_effort_is_a_bad_request() -> None:
    api = FakeMessagesApi()
    base = default_models()
    models = ModelsConfig(
        routes={
            **base.routes,
            "light": ModelRoute(model="claude-haiku-4-5", max_tokens=2048, effort="low"),
        },
        prices=base.prices,
    )
    async with engine(api, models=models) as eng:
        with pytest.raises(EngineError) as caught:
            await eng.decide(REQUEST)
    assert (
        caught.value.code == "bad_request"
        and caught.value.status == 400
        and caught.value.attempts == 1
    )


@pytest.mark.anyio
async def test_check_models_lists_once_and_warns_about_a_routed_id_the_provider_lacks(
    caplog,
) -> None:
    api = FakeMessagesApi()
    base = default_models()
    models = ModelsConfig(
        routes={
            **base.routes,
            "max": ModelRoute(model="claude-opus-9", max_tokens=16000, effort="high"),
        },
        prices={
            **base.prices,
            "claude-opus-9": ModelPrice(input_per_mtok=Decimal(5), output_per_mtok=Decimal(25)),
        },
    )
    async with engine(api) as eng:
        assert await eng.check_models() == frozenset()
    async with engine(api, models=models) as eng:
        with caplog.at_level(logging.WARNING, logger="clash.trading.engines.anthropic"):
            assert await eng.check_models() == {"claude-opus-9"}
    assert api.model_listings == 2 and api.requests == []
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "claude-opus-9" in warning.getMessage() and warning.model == "claude-opus-9"  # type: ignore[attr-defined]
    assert warning.strength == "max"  # type: ignore[attr-defined]


@pytest.mark.anyio
async def test_check_models_warns_about_a_routed_model_being_retired(caplog) -> None:
    models = tuple(
        msgspec.structs.replace(m, lifecycle="deprecated") if m.id == "claude-opus-5-5" else m
        for m in CURRENT_MODELS
    )
    api = FakeMessagesApi(models=models)
    async with engine(api) as eng:
        with caplog.at_level(logging.WARNING, logger="clash.trading.engines.anthropic"):
            assert await eng.check_models() == frozenset()
    assert (
        "strength max routes to claude-opus-5-5, which the provider lists as deprecated"
        in caplog.text
    )


@pytest.mark.anyio
async def test_check_models_reads_every_page_of_the_listing() -> None:
    many = (
        tuple(
            FakeModel(
                id=f"claude-extra-{i}", display_name=f"Extra {i}", created_at="2026-01-01T00:00:00Z"
            )
            for i in range(1100)
        )
        + CURRENT_MODELS
    )
    api = FakeMessagesApi(models=many)
    async with engine(api) as eng:
        assert await eng.check_models() == frozenset()
    assert api.model_listings == 2


@pytest.mark.anyio
async def test_a_failed_listing_is_logged_and_boot_goes_on(caplog) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with AnthropicEngine(
        api_key="k", base_url=f"http://127.0.0.1:{port}", now=time.monotonic
    ) as eng:
        with caplog.at_level(logging.WARNING, logger="clash.trading.engines.anthropic"):
            assert await eng.check_models() is None
    assert "could not list the provider's models" in caplog.text


@pytest.mark.anyio
async def test_a_failed_call_is_logged_with_its_run_and_clone(caplog) -> None:
    api = FakeMessagesApi()
    api.script(server_error(), server_error())
    async with engine(api, attempts=2) as eng:
        with caplog.at_level(logging.WARNING, logger="clash.trading.engines.anthropic"):
            with pytest.raises(EngineError):
                await eng.decide(SONNET)
    [record] = [r for r in caplog.records if r.getMessage().startswith("model call failed")]
    assert (record.run_id, record.clone_id, record.code, record.attempts) == (  # type: ignore[attr-defined]
        "run-7",
        42,
        "server_error",
        2,
    )
