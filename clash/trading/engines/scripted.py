"""An engine that plays a list of answers in order, for tests and replays of recorded runs."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable

from clash.trading.engines.base import EngineAnswer, EngineError, EngineRequest
from clash.trading.tokens import estimate_tokens

Step = str | Callable[[EngineRequest], str] | EngineError
"""Answer text, a function of the request giving it, or an error to raise."""


class ScriptedEngine:
    """Each ``decide`` takes the next step; an empty script raises ``script_exhausted``.

    Token counts are the prompt estimate (chars / 4); cost is 0. Requests are kept in
    ``requests`` so tests can assert what was asked.
    """

    name = "scripted"

    def __init__(self, steps: Iterable[Step] = (), model: str = "scripted") -> None:
        self._steps: deque[Step] = deque(steps)
        self.model = model
        self.requests: list[EngineRequest] = []

    def add(self, *steps: Step) -> None:
        self._steps.extend(steps)

    @property
    def remaining(self) -> int:
        return len(self._steps)

    def model_for(self, request: EngineRequest) -> str:
        return self.model

    async def decide(self, request: EngineRequest) -> EngineAnswer:
        self.requests.append(request)
        if not self._steps:
            raise EngineError("script_exhausted", f"no scripted answer left for {request.asset}")
        step = self._steps.popleft()
        if isinstance(step, EngineError):
            raise step
        text = step(request) if callable(step) else step
        return EngineAnswer(
            text=text,
            engine=self.name,
            model=self.model,
            input_tokens=estimate_tokens(request.system) + estimate_tokens(request.user),
            output_tokens=estimate_tokens(text),
        )
