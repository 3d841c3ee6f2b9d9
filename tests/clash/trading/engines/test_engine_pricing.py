"""Model routes and prices come from config (`[trading.models]` in config/default.toml)."""

from decimal import Decimal
from pathlib import Path

import pytest

from clash.config import DEFAULT_CONFIG, ROOT, ConfigError, load_config
from clash.trading.engines.pricing import ModelPrice, UnknownModel, cost_micro_usd, default_models

MODELS = """
[trading.models.routes.light]
model = "m1"
max_tokens = 100
[trading.models.prices.m1]
input_per_mtok = "1"
output_per_mtok = "5"
"""


def test_default_routes_and_prices_are_the_config_file() -> None:
    models = load_config(DEFAULT_CONFIG).trading.models
    assert models == default_models()
    routes = {s: (r.model, r.effort, r.max_tokens) for s, r in models.routes.items()}
    assert routes == {
        "light": ("claude-haiku-4-5", None, 2048),
        "standard": ("claude-sonnet-5-5", "low", 16000),
        "max": ("claude-opus-5-5", "medium", 16000),
    }
    prices = {m: (p.input_per_mtok, p.output_per_mtok) for m, p in models.prices.items()}
    assert prices["claude-haiku-4-5"] == (1, 5)
    assert prices["claude-sonnet-5-5"] == (2, 10)
    assert prices["claude-opus-5-5"] == (4, 20)
    assert prices["claude-fable-5-1"] == (10, 50)
    with pytest.raises(UnknownModel, match="no model routed for strength 'ultra'"):
        models.route("ultra")
    with pytest.raises(UnknownModel, match="no price"):
        models.price("gpt-9")


def test_live_config_routes_the_same_models() -> None:
    assert load_config(ROOT / "config" / "live.toml").trading.models == default_models()


def test_a_file_can_route_other_models(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(MODELS)
    models = load_config(path).trading.models
    assert models.route("light").model == "m1" and models.price("m1").output_per_mtok == 5


def test_cost_is_integer_micro_usd() -> None:
    haiku = default_models().price("claude-haiku-4-5")
    assert cost_micro_usd(haiku, 1_000_000, 0) == 1_000_000
    assert cost_micro_usd(haiku, 1234, 567) == 1234 + 567 * 5
    assert cost_micro_usd(haiku, 0, 0) == 0


def test_a_fractional_price_rounds_up() -> None:
    price = ModelPrice(input_per_mtok=Decimal("0.8"), output_per_mtok=Decimal("4"))
    assert cost_micro_usd(price, 3, 0) == 3  # 2.4 micro-USD
    assert cost_micro_usd(price, 5, 1) == 8


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('model = "m1"', 'model = "m2"', "routes to 'm2', which has no price"),
        ('input_per_mtok = "1"', 'input_per_mtok = "-1"', "input_per_mtok must be within"),
        ('input_per_mtok = "1"', 'input_per_mtok = "NaN"', "input_per_mtok must be within"),
        ('output_per_mtok = "5"', 'output_per_mtok = "5"\ncached = "1"', "unknown field `cached`"),
        ("max_tokens = 100", "max_tokens = 0", "max_tokens must be within"),
        ("max_tokens = 100", "max_tokens = 1000000", "max_tokens must be within"),
        ("max_tokens = 100", 'max_tokens = 100\neffort = "extreme"', "effort"),
    ],
)
def test_a_bad_models_section_stops_boot_naming_the_key(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    path = tmp_path / "c.toml"
    path.write_text(MODELS.replace(old, new, 1))
    with pytest.raises(ConfigError, match=message):
        load_config(path)
