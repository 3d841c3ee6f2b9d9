"""Decision engines: one interface (``Engine.decide``), several implementations.

``hold`` (no-op), ``scripted`` (tests), ``anthropic`` (the Messages API). The ``rules`` engine lives
with the context packet. Wrap an engine in ``clash.trading.cache.CachedEngine`` to answer identical
prompts from the response cache.
"""

from clash.trading.engines.base import (
    Engine,
    EngineAnswer,
    EngineError,
    EngineErrorCode,
    EngineRequest,
    ModelStrength,
    request_for,
)
from clash.trading.engines.hold import HoldEngine
from clash.trading.engines.scripted import ScriptedEngine

__all__ = [
    "Engine",
    "EngineAnswer",
    "EngineError",
    "EngineErrorCode",
    "EngineRequest",
    "HoldEngine",
    "ModelStrength",
    "ScriptedEngine",
    "request_for",
]
