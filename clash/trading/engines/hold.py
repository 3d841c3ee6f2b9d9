"""The no-op engine: always a valid hold for the asked asset, free and instant."""

from __future__ import annotations

from clash.trading.actions import hold_answer
from clash.trading.engines.base import EngineAnswer, EngineRequest


class HoldEngine:
    name = "hold"

    def __init__(self, reason: str = "hold engine: no model configured") -> None:
        self.reason = reason

    def model_for(self, request: EngineRequest) -> str:
        return "hold"

    async def decide(self, request: EngineRequest) -> EngineAnswer:
        return EngineAnswer(
            text=hold_answer(request.asset, self.reason), engine=self.name, model="hold"
        )
