import anyio
import pytest

from clash.trading.cache import AnswerStore, CachedEngine, ResponseCache, cache_key
from clash.trading.engines.base import EngineAnswer, EngineError, EngineRequest
from clash.trading.engines.scripted import ScriptedEngine


def req(user: str = "u", **kw: object) -> EngineRequest:
    return EngineRequest(system="s", user=user, asset="BTC", **kw)  # type: ignore[arg-type]


def ans(text: str) -> EngineAnswer:
    return EngineAnswer(
        text=text,
        engine="x",
        model="m",
        input_tokens=10,
        output_tokens=2,
        cost_micro_usd=20,
        latency_ms=300,
    )


def test_the_key_covers_each_part_unambiguously() -> None:
    base = cache_key("v1", "m", "s", "u")
    assert base == cache_key("v1", "m", "s", "u") and len(base) == 64
    assert (
        len(
            {
                base,
                cache_key("v2", "m", "s", "u"),
                cache_key("v1", "n", "s", "u"),
                cache_key("v1", "m", "t", "u"),
                cache_key("v1", "m", "s", "v"),
            }
        )
        == 5
    )
    assert cache_key("v1", "m", "ab", "c") != cache_key("v1", "m", "a", "bc")


@pytest.mark.anyio
async def test_lru_evicts_the_least_recently_used() -> None:
    cache = ResponseCache(max_entries=2)
    await cache.put("a", ans("A"))
    await cache.put("b", ans("B"))
    assert await cache.get("a") == ans("A")
    await cache.put("c", ans("C"))
    assert await cache.get("b") is None
    assert await cache.get("a") == ans("A") and await cache.get("c") == ans("C")
    assert len(cache) == 2 and (cache.stats.hits, cache.stats.misses) == (3, 1)


class DictStore:
    def __init__(self) -> None:
        self.rows: dict[str, EngineAnswer] = {}

    async def get(self, key: str) -> EngineAnswer | None:
        return self.rows.get(key)

    async def put(self, key: str, answer: EngineAnswer) -> None:
        self.rows[key] = answer


@pytest.mark.anyio
async def test_the_store_persists_across_caches() -> None:
    store: AnswerStore = DictStore()
    first = CachedEngine(ScriptedEngine(["one"]), ResponseCache(store=store))
    assert (await first.decide(req())).text == "one"
    inner = ScriptedEngine([])
    restarted = CachedEngine(inner, ResponseCache(store=store))
    hit = await restarted.decide(req())
    assert hit.text == "one" and hit.cached and inner.requests == []
    assert restarted.cache.stats.store_hits == 1
    assert (await restarted.decide(req())).cached and restarted.cache.stats.store_hits == 1


@pytest.mark.anyio
async def test_cached_engine_calls_once_per_identical_prompt() -> None:
    inner = ScriptedEngine(["one", "two", "three"])
    engine = CachedEngine(inner, ResponseCache())
    first, again = await engine.decide(req()), await engine.decide(req())
    other = await engine.decide(req("other"))
    versioned = await engine.decide(req(prompt_version="v0"))
    assert [first.text, again.text, other.text, versioned.text] == ["one", "one", "two", "three"]
    assert not first.cached and again.cached and not other.cached
    assert (again.input_tokens, again.output_tokens, again.cost_micro_usd, again.latency_ms) == (
        0,
        0,
        0,
        0,
    )
    assert (
        len(inner.requests) == 3
        and engine.name == "scripted"
        and engine.model_for(req()) == "scripted"
    )


@pytest.mark.anyio
async def test_errors_are_not_cached() -> None:
    inner = ScriptedEngine([EngineError("overloaded", "busy"), "fine"])
    engine = CachedEngine(inner, ResponseCache())
    with pytest.raises(EngineError):
        await engine.decide(req())
    assert (await engine.decide(req())).text == "fine" and len(inner.requests) == 2


class SlowEngine:
    name = "slow"

    def __init__(self) -> None:
        self.calls = 0
        self.release = anyio.Event()

    def model_for(self, request: EngineRequest) -> str:
        return "slow"

    async def decide(self, request: EngineRequest) -> EngineAnswer:
        self.calls += 1
        await self.release.wait()
        return ans(f"answer {self.calls}")


@pytest.mark.anyio
async def test_concurrent_identical_requests_share_one_call() -> None:
    inner = SlowEngine()
    engine = CachedEngine(inner, ResponseCache())
    answers: list[EngineAnswer] = []

    async def ask(user: str) -> None:
        answers.append(await engine.decide(req(user)))

    with anyio.fail_after(5):
        async with anyio.create_task_group() as tg:
            for user in ("same", "same", "same", "different"):
                tg.start_soon(ask, user)
            await anyio.wait_all_tasks_blocked()
            inner.release.set()
    assert inner.calls == 2
    assert sorted(a.cached for a in answers) == [False, False, True, True]
    assert engine._inflight == {}
