from decimal import Decimal

import pytest

from clash.trading.engines.pricing import (
    ModelPrice,
    UnknownModel,
    cost_micro_usd,
    default_table,
    load_price_table,
)


def test_default_routes_and_prices() -> None:
    table = default_table()
    assert table.model_for("light") == "claude-haiku-4-5"
    assert table.model_for("standard") == "claude-sonnet-5-5"
    assert table.model_for("max") == "claude-opus-5-5"
    assert all(model in table.models for model in table.routes.values())
    with pytest.raises(UnknownModel, match="no model routed for strength 'ultra'"):
        table.model_for("ultra")
    with pytest.raises(UnknownModel, match="no price"):
        table.price("gpt-9")


def test_cost_is_integer_micro_usd() -> None:
    haiku = default_table().price("claude-haiku-4-5")
    assert cost_micro_usd(haiku, 1_000_000, 0) == 1_000_000
    assert cost_micro_usd(haiku, 1234, 567) == 1234 + 567 * 5
    assert cost_micro_usd(haiku, 0, 0) == 0


def test_a_fractional_price_rounds_up() -> None:
    price = ModelPrice(input_per_mtok=Decimal("0.8"), output_per_mtok=Decimal("4"))
    assert cost_micro_usd(price, 3, 0) == 3  # 2.4 micro-USD
    assert cost_micro_usd(price, 5, 1) == 8


def test_a_table_is_checked() -> None:
    with pytest.raises(UnknownModel, match="routes to 'm2', which has no price"):
        load_price_table('[routes]\nlight = "m2"\n[models.m1]\ninput_per_mtok = "1"\noutput_per_mtok = "1"\n')
    with pytest.raises(ValueError, match="negative"):
        load_price_table('[routes]\n[models.m1]\ninput_per_mtok = "-1"\noutput_per_mtok = "1"\n')
    with pytest.raises(Exception, match="unknown field"):
        load_price_table('[routes]\n[models.m1]\ninput_per_mtok = "1"\noutput_per_mtok = "1"\ncached = "1"\n')
