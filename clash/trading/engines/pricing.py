"""Model routing and prices: which model a clone's model strength gets, and what a call costs.

The table is config (TOML, below); :func:`load_price_table` reads the same shape from a config file.
Prices are USD per million tokens, so a price is also micro-USD per token: cost is exact integer
arithmetic, and a fractional price rounds the call's cost up (a budget never under-counts).
"""

from __future__ import annotations

import math
from decimal import Decimal
from functools import cache

import msgspec

DEFAULT_TABLE = """
# Current models as of 2026-11 (platform.claude.com/docs/en/models). claude-sonnet-4-5 retires on
# 2026-11-30 and claude-opus-4-1 is legacy: both stay priced so recorded runs and explicit model
# overrides still cost correctly, but no strength routes to them.
[routes]
light = "claude-haiku-4-5"
standard = "claude-sonnet-5-5"
max = "claude-opus-5-5"

[models.claude-haiku-4-5]
input_per_mtok = "1"
output_per_mtok = "5"

[models.claude-sonnet-5-5]
input_per_mtok = "2"
output_per_mtok = "10"

[models.claude-opus-5-5]
input_per_mtok = "4"
output_per_mtok = "20"

[models.claude-sonnet-4-5]
input_per_mtok = "3"
output_per_mtok = "15"

[models.claude-opus-4-1]
input_per_mtok = "15"
output_per_mtok = "75"
"""


class ModelPrice(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    input_per_mtok: Decimal
    output_per_mtok: Decimal


class PriceTable(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    routes: dict[str, str]
    """Model strength (``light``, ``standard``, ``max``) -> model id."""
    models: dict[str, ModelPrice]

    def model_for(self, strength: str) -> str:
        try:
            return self.routes[strength]
        except KeyError:
            known = ", ".join(sorted(self.routes))
            raise UnknownModel(f"no model routed for strength {strength!r} (known: {known})") from None

    def price(self, model: str) -> ModelPrice:
        try:
            return self.models[model]
        except KeyError:
            raise UnknownModel(f"no price for model {model!r}") from None


class UnknownModel(ValueError):
    pass


def load_price_table(text: str | bytes) -> PriceTable:
    """Decode and check a table: every routed model needs a price, prices are non-negative."""
    table = msgspec.toml.decode(text, type=PriceTable, strict=True)
    for strength, model in table.routes.items():
        if model not in table.models:
            raise UnknownModel(f"strength {strength!r} routes to {model!r}, which has no price")
    for model, p in table.models.items():
        if min(p.input_per_mtok, p.output_per_mtok) < 0:
            raise ValueError(f"model {model!r} has a negative price")
    return table


@cache
def default_table() -> PriceTable:
    return load_price_table(DEFAULT_TABLE)


def cost_micro_usd(price: ModelPrice, input_tokens: int, output_tokens: int) -> int:
    """Integer micro-USD for one call, rounded up."""
    exact = price.input_per_mtok * input_tokens + price.output_per_mtok * output_tokens
    return math.ceil(exact)
