import pytest

from clash.trading.actions import ValidAction, parse_answer
from clash.trading.cache import CachedEngine, ResponseCache
from clash.trading.engines import Engine, EngineError, EngineRequest, HoldEngine, ScriptedEngine
from clash.trading.engines.anthropic import AnthropicEngine

REQ = EngineRequest(system="system text", user="user text!", asset="ETH")


@pytest.mark.anyio
async def test_hold_engine_answers_a_valid_free_hold() -> None:
    answer = await HoldEngine().decide(REQ)
    parsed = parse_answer(answer.text, "ETH", {"hold"})
    assert isinstance(parsed, ValidAction) and parsed.kind == "hold"
    assert (answer.engine, answer.model, answer.cost_micro_usd, answer.input_tokens) == (
        "hold",
        "hold",
        0,
        0,
    )


@pytest.mark.anyio
async def test_scripted_engine_plays_in_order() -> None:
    engine = ScriptedEngine(
        ["first", lambda r: f"for {r.asset}", EngineError("rate_limited", "slow down")]
    )
    assert (await engine.decide(REQ)).text == "first"
    second = await engine.decide(REQ)
    assert second.text == "for ETH" and second.input_tokens == 3 + 3 and second.output_tokens == 2
    with pytest.raises(EngineError) as caught:
        await engine.decide(REQ)
    assert caught.value.code == "rate_limited"
    with pytest.raises(EngineError) as caught:
        await engine.decide(REQ)
    assert caught.value.code == "script_exhausted" and engine.remaining == 0
    engine.add("more")
    assert (await engine.decide(REQ)).text == "more" and len(engine.requests) == 5


def test_every_engine_speaks_the_protocol() -> None:
    anthropic = AnthropicEngine(api_key="k", base_url="http://127.0.0.1:9", now=lambda: 0.0)
    for engine in (
        HoldEngine(),
        ScriptedEngine(),
        anthropic,
        CachedEngine(HoldEngine(), ResponseCache()),
    ):
        assert isinstance(engine, Engine)


def test_request_for_a_rendered_prompt() -> None:
    from clash.trading.engines import request_for
    from clash.trading.prompt import Prompt

    prompt = Prompt(version="v1", system="S", user="U", est_tokens=1)
    r = request_for(prompt, "BTC", model_strength="max", run_id="run-9")
    assert (r.system, r.user, r.asset, r.model_strength, r.prompt_version, r.run_id) == (
        "S",
        "U",
        "BTC",
        "max",
        "v1",
        "run-9",
    )
