"""What a model call costs.

Routes and prices are config (``[trading.models]`` in config/default.toml, decoded into
:class:`clash.trading.config.ModelsConfig`). Prices are USD per million tokens, so a price is also
micro-USD per token: cost is exact integer arithmetic, and a fractional price rounds the call's cost
up (a budget never under-counts). Thinking tokens are billed as output tokens and are part of the
response's ``usage.output_tokens``.
"""

from __future__ import annotations

import math

from clash.trading.config import ModelPrice, ModelRoute, ModelsConfig, UnknownModel, default_models

__all__ = [
    "ModelPrice",
    "ModelRoute",
    "ModelsConfig",
    "UnknownModel",
    "cost_micro_usd",
    "default_models",
]


def cost_micro_usd(price: ModelPrice, input_tokens: int, output_tokens: int) -> int:
    """Integer micro-USD for one call, rounded up."""
    exact = price.input_per_mtok * input_tokens + price.output_per_mtok * output_tokens
    return math.ceil(exact)
