import json
from decimal import Decimal

import pytest

from clash.prop.book import open_account
from clash.prop.fills import AssetSpec
from clash.prop.gates import Limits, check_action
from clash.trading.actions import (
    Rejected,
    ValidAction,
    answer_schema,
    hold_answer,
    parse_answer,
    to_prop_action,
)

ENTRY = frozenset({"open_long", "open_short", "hold"})
EXIT = frozenset({"hold", "reduce", "close"})
LONG = {
    "action": "open_long",
    "asset": "BTC",
    "size_usd": 1000,
    "leverage": 3,
    "confidence": 0.7,
    "reason": "breakout above the range",
}


def answer(**fields: object) -> str:
    body = {**LONG, **fields}
    return json.dumps({k: v for k, v in body.items() if v is not _DROP})


_DROP = object()


def rejected(text: str, legal: frozenset[str] = ENTRY, asset: str = "BTC") -> Rejected:
    result = parse_answer(text, asset, legal)
    assert isinstance(result, Rejected), result
    return result


def valid(text: str, legal: frozenset[str] = ENTRY, asset: str = "BTC") -> ValidAction:
    result = parse_answer(text, asset, legal)
    assert isinstance(result, ValidAction), result
    return result


@pytest.mark.parametrize(
    ("text", "code", "says"),
    [
        ("", "empty", "empty"),
        ("  \n ", "empty", "empty"),
        ("I would hold here.", "not_json", "not JSON"),
        ('{"action": "hold",', "not_json", "not JSON"),
        ('{"action":"hold","asset":"BTC","confidence":NaN,"reason":"x"}', "not_finite", "`NaN`"),
        ("Here is my answer: " + hold_answer("BTC", "x"), "text_around_json", "before the JSON"),
        (hold_answer("BTC", "x") + "\nHope this helps", "text_around_json", "after the JSON"),
        ("```json\n" + hold_answer("BTC", "x") + "\n```", "text_around_json", "before and after"),
        ("[1, 2]", "not_an_object", "array"),
        ('"hold"', "not_an_object", "string"),
        (
            '{"action":"hold","action":"close","asset":"BTC","confidence":1,"reason":"x"}',
            "duplicate_field",
            "`action`",
        ),
    ],
)
def test_not_one_json_object(text: str, code: str, says: str) -> None:
    r = rejected(text)
    assert r.code == code and says in r.message


@pytest.mark.parametrize(
    ("fields", "code", "says"),
    [
        ({"stop": 90_000}, "unknown_field", "`stop`"),
        ({"reason": _DROP}, "missing_field", "`reason`"),
        ({"confidence": _DROP}, "missing_field", "`confidence`"),
        ({"asset": _DROP}, "missing_field", "`asset`"),
        ({"confidence": "0.7"}, "wrong_type", "`confidence` must be a JSON number, got string"),
        ({"size_usd": "1000"}, "wrong_type", "`size_usd` must be a JSON number"),
        ({"leverage": True}, "wrong_type", "`leverage` must be a JSON number, got boolean"),
        ({"leverage": 2.5}, "wrong_type", "$.leverage"),
        ({"asset": 7}, "wrong_type", "$.asset"),
        ({"reason": ["a"]}, "wrong_type", "$.reason"),
        ({"action": "buy"}, "unknown_action", "'buy'"),
        ({"asset": "ETH"}, "wrong_asset", "`ETH`"),
        ({"asset": "btc"}, "wrong_asset", "`btc`"),
        ({"confidence": 1.2}, "out_of_range", "[0, 1]"),
        ({"confidence": -0.1}, "out_of_range", "[0, 1]"),
        ({"size_usd": 0}, "out_of_range", "`size_usd` must be a positive number"),
        ({"size_usd": -5}, "out_of_range", "`size_usd` must be a positive number"),
        ({"size_usd": 10.1234567}, "out_of_range", "more than 6 decimals"),
        ({"size_usd": 1e13}, "out_of_range", "at most"),
        ({"size_usd": None, "size_fraction": -0.1}, "out_of_range", "`size_fraction`"),
        ({"leverage": 0}, "out_of_range", "`leverage`"),
        ({"leverage": 101}, "out_of_range", "`leverage`"),
        ({"take_profit": -1}, "out_of_range", "`take_profit`"),
        ({"stop_loss": 0}, "out_of_range", "`stop_loss`"),
        ({"reason": "  "}, "out_of_range", "`reason` must not be empty"),
        ({"reason": "x" * 2001}, "out_of_range", "at most 2000"),
        ({"invalidation": "x" * 501}, "out_of_range", "at most 500"),
        ({"size_usd": _DROP}, "size_missing", "neither was given"),
        ({"size_usd": None}, "size_missing", "neither was given"),
        ({"size_fraction": 0.1}, "size_conflict", "both were given"),
        ({"leverage": _DROP}, "missing_field", "needs `leverage`"),
        ({"leverage": None}, "missing_field", "needs `leverage`"),
    ],
)
def test_entry_field_rejections(fields: dict[str, object], code: str, says: str) -> None:
    r = rejected(answer(**fields))
    assert r.code == code, r
    assert says in r.message, r.message


def test_huge_numbers_are_read_exactly_and_bounded() -> None:
    r = rejected(answer().replace('"confidence": 0.7', '"confidence": 1e400'))
    assert r == Rejected(
        code="number_too_large",
        message="`confidence` is 1.000E+400, larger than any answer takes (1E+15)",
    )


NUMBER_FIELDS = ("size_usd", "size_fraction", "leverage", "take_profit", "stop_loss", "confidence")


def with_number(field: str, literal: str) -> str:
    """An entry answer whose ``field`` is the raw JSON ``literal`` (sized by fraction when asked)."""
    body = {**LONG, "take_profit": 110_000, "stop_loss": 95_000}
    if field == "size_fraction":
        body = {**body, "size_usd": None, "size_fraction": 0.5}
    marker = "__NUMBER__"
    return json.dumps({k: v for k, v in {**body, field: marker}.items() if v is not None}).replace(
        f'"{marker}"', literal
    )


@pytest.mark.parametrize("field", NUMBER_FIELDS)
@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinities_are_not_finite(field: str, literal: str) -> None:
    r = rejected(with_number(field, literal))
    assert r.code == "not_finite" and f"`{literal}`" in r.message


@pytest.mark.parametrize("field", NUMBER_FIELDS)
@pytest.mark.parametrize("literal", ["1e999", "-1e999", "1e999999", "1e16", str(10**400)])
def test_absurd_magnitudes_are_refused_before_any_arithmetic(field: str, literal: str) -> None:
    r = rejected(with_number(field, literal))
    assert r.code == "number_too_large" and f"`{field}`" in r.message


@pytest.mark.parametrize(
    ("field", "literal", "says"),
    [
        ("size_fraction", "1e-999999", "below 1E-12"),
        ("stop_loss", "1e-13", "below 1E-12"),
        ("take_profit", "110000.0000000000000000000000000001", "more than 30 digits"),
        ("size_fraction", "1.01", "`size_fraction` is a fraction of equity, at most 1"),
        ("leverage", "101", "`leverage` must be an integer within [1, 100]"),
        ("take_profit", "1000000001", "`take_profit` must be at most 1000000000"),
        ("stop_loss", "1e12", "`stop_loss` must be at most 1000000000"),
        ("size_usd", "1e13", "`size_usd` must be at most"),
    ],
)
def test_upper_and_lower_bounds(field: str, literal: str, says: str) -> None:
    r = rejected(with_number(field, literal))
    assert r.code == "out_of_range" and says in r.message


@pytest.mark.parametrize(
    ("field", "literal", "gate_code"),
    [
        ("size_fraction", "1", None),
        ("leverage", "100", "leverage_above_cap"),
        ("take_profit", "1e9", None),
        ("stop_loss", "1e-12", None),
        ("size_usd", "1e12", "asset_exposure_cap"),
        ("confidence", "1", None),
    ],
)
def test_the_bounds_themselves_pass_and_the_gates_judge_them_without_an_exception(
    field: str, literal: str, gate_code: str | None
) -> None:
    book = open_account(1_790_431_200_000).book
    assets = {"BTC": AssetSpec(symbol="BTC", sz_decimals=5, max_leverage=40)}
    v = valid(with_number(field, literal))
    outcome = book.submit(
        to_prop_action(v, "a"), assets, {"BTC": Decimal(100_000)}, 1_790_431_200_000, Limits()
    )
    assert (outcome.rejection.code if outcome.rejection else None) == gate_code
    assert len(outcome.fills) == (1 if gate_code is None else 0)


@pytest.mark.parametrize(
    ("stop", "code", "says"),
    [("refusal", "refusal", "refused"), ("max_tokens", "max_tokens", "thinking counts against it")],
)
def test_an_early_stop_has_its_own_code_even_when_the_text_parses(
    stop: str, code: str, says: str
) -> None:
    r = parse_answer(answer(), "BTC", ENTRY, stop_reason=stop)
    assert isinstance(r, Rejected) and r.code == code and says in r.message
    assert isinstance(parse_answer(answer(), "BTC", ENTRY, stop_reason="end_turn"), ValidAction)


def test_an_action_not_legal_now_is_rejected() -> None:
    r = rejected(answer(), legal=EXIT)
    assert r.code == "illegal_action"
    assert r.message == "`open_long` is not legal for BTC now (legal: reduce, close, hold)"
    r = rejected(
        json.dumps({"action": "close", "asset": "BTC", "confidence": 1, "reason": "x"}), legal=ENTRY
    )
    assert r.code == "illegal_action"


@pytest.mark.parametrize(
    ("body", "code", "says"),
    [
        (
            {"action": "close", "size_usd": 100},
            "not_applicable",
            "`close` does not take `size_usd`",
        ),
        ({"action": "hold", "leverage": 2}, "not_applicable", "`hold` does not take `leverage`"),
        (
            {"action": "reduce", "size_fraction": 0.5, "stop_loss": 1},
            "not_applicable",
            "`stop_loss`",
        ),
        ({"action": "reduce", "size_fraction": 0.5, "leverage": 2}, "not_applicable", "`leverage`"),
        ({"action": "reduce"}, "size_missing", "neither"),
        ({"action": "reduce", "size_fraction": 0.5, "size_usd": 10}, "size_conflict", "both"),
        ({"action": "reduce", "size_fraction": 1.5}, "out_of_range", "at most 1"),
    ],
)
def test_exit_and_hold_shapes(body: dict[str, object], code: str, says: str) -> None:
    text = json.dumps({"asset": "BTC", "confidence": 0.5, "reason": "x", **body})
    r = rejected(text, legal=EXIT)
    assert r.code == code and says in r.message, r


def test_valid_entry_is_exact() -> None:
    v = valid(
        "\n  "
        + answer(
            size_usd=1000.123456,
            take_profit=110000.5,
            stop_loss=95000,
            invalidation="daily close back inside the range",
            confidence=0.1,
        )
        + "\n"
    )
    assert v.kind == "open_long" and v.asset == "BTC" and v.leverage == 3
    assert v.size_usd == Decimal("1000.123456") and v.confidence == Decimal("0.1")
    assert v.take_profit == Decimal("110000.5") and v.stop_loss == Decimal(95000)
    action = to_prop_action(v, "run-1:BTC")
    assert action.size_usd == 1_000_123_456 and action.size_fraction is None
    assert action.action_id == "run-1:BTC" and action.symbol == "BTC" and action.kind == "open_long"
    assert action.confidence == Decimal("0.1") and action.reason == LONG["reason"]


def test_valid_fraction_entry_short() -> None:
    v = valid(answer(action="open_short", size_usd=None, size_fraction=0.25, leverage=2))
    action = to_prop_action(v, "a")
    assert (
        action.kind == "open_short"
        and action.size_fraction == Decimal("0.25")
        and action.size_usd is None
    )


@pytest.mark.parametrize(
    "body",
    [
        {"action": "reduce", "size_fraction": 0.5},
        {"action": "reduce", "size_usd": 250.5},
        {"action": "close"},
        {"action": "close", "size_usd": None, "leverage": None, "invalidation": None},
        {"action": "hold"},
    ],
)
def test_valid_exits_and_hold(body: dict[str, object]) -> None:
    v = valid(json.dumps({"asset": "BTC", "confidence": 0.5, "reason": "x", **body}), legal=EXIT)
    action = to_prop_action(v, "a")
    assert action.kind == body["action"] and action.leverage == 1


def test_hold_answer_parses() -> None:
    v = valid(hold_answer("kPEPE", "nothing to do"), legal=frozenset({"hold"}), asset="kPEPE")
    assert v.kind == "hold" and v.reason == "nothing to do" and v.confidence == 1


def test_a_valid_answer_is_well_formed_for_the_prop_gates() -> None:
    book = open_account(1_790_431_200_000).book
    spec = AssetSpec(symbol="BTC", sz_decimals=5, max_leverage=40)
    v = valid(answer(take_profit=110_000, stop_loss=95_000))
    assert (
        check_action(to_prop_action(v, "a"), book, spec, {"BTC": Decimal(100_000)}, Limits())
        is None
    )


def test_schema_lists_only_legal_actions_in_order() -> None:
    schema = answer_schema(EXIT)
    assert schema["properties"]["action"]["enum"] == ["reduce", "close", "hold"]
    assert schema["required"] == ["action", "asset", "confidence", "reason"]
    assert schema["additionalProperties"] is False
    json.dumps(schema)


@pytest.mark.parametrize(
    ("text", "code"), [("{}", "missing_field"), ("[" * 5000 + "]" * 5000, "not_json")]
)
def test_degenerate_json(text: str, code: str) -> None:
    assert rejected(text).code == code


def test_a_nested_object_as_a_number_is_named() -> None:
    r = rejected(answer(size_usd={"usd": 5}))
    assert r == Rejected(code="wrong_type", message="`size_usd` must be a JSON number, got object")
