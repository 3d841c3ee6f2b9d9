"""The model's answer: its schema, strict decoding, and the step to a prop action.

An answer is exactly one JSON object (surrounding whitespace allowed, nothing else: no prose, no code
fences). Anything that is not a well-formed, in-range, legal answer for the asked asset becomes a
:class:`Rejected` with a machine code and the exact reason, and no trade. Numbers are read exactly
(``Decimal``) and must be JSON numbers, not strings; ``NaN`` / ``Infinity`` are ``not_finite``, a
magnitude past :data:`MAX_NUMBER` (``1e999``) is ``number_too_large``, and every field has an upper
bound, so no answer reaches the account with a number its arithmetic cannot hold. An answer the
model stopped early (``refusal``, ``max_tokens``) is rejected with that code, its text unread.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterable
from decimal import Decimal
from typing import Any, Literal

import msgspec

from clash.prop import Action, ActionKind, usd
from clash.trading.legal import ACTION_ORDER, ordered

RejectCode = Literal[
    "empty",
    "not_json",
    "text_around_json",
    "not_an_object",
    "duplicate_field",
    "unknown_field",
    "missing_field",
    "wrong_type",
    "unknown_action",
    "wrong_asset",
    "illegal_action",
    "out_of_range",
    "size_missing",
    "size_conflict",
    "not_applicable",
    "not_finite",
    "number_too_large",
    "refusal",
    "max_tokens",
]

ENTRIES: frozenset[str] = frozenset({"open_long", "open_short"})
MAX_LEVERAGE = 100
"""Schema bound only; the prop gates hold the real cap (min of asset max and account cap)."""
MAX_SIZE_USD = Decimal(10) ** 12
"""Schema bound only (a sanity ceiling); exposure caps are the gates' job."""
MAX_PRICE = Decimal(10) ** 9
"""Schema bound on a stop-loss / take-profit price (BTC trades near 1e5)."""
MAX_NUMBER = Decimal(10) ** 15
"""No number in an answer may be larger in magnitude (it is refused before any field check)."""
MIN_NUMBER = Decimal(10) ** -12
"""... nor a non-zero number smaller (sizes and prices below it are not tradable)."""
MAX_DIGITS = 30
MAX_REASON_CHARS = 2000
MAX_INVALIDATION_CHARS = 500
_MAX_OBJECT_STARTS = 64
_NUMBERS = msgspec.json.Encoder(decimal_format="number")
_NUMBER_FIELDS = ("size_usd", "size_fraction", "leverage", "take_profit", "stop_loss", "confidence")


class Answer(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The wire shape of an answer; only the decoder uses it (see :class:`ValidAction`)."""

    action: ActionKind
    asset: str
    confidence: Decimal
    reason: str
    size_usd: Decimal | None = None
    size_fraction: Decimal | None = None
    leverage: int | None = None
    take_profit: Decimal | None = None
    stop_loss: Decimal | None = None
    invalidation: str | None = None


class ValidAction(msgspec.Struct, frozen=True, kw_only=True):
    """An answer that passed every check here; the prop gates still judge it against the book."""

    kind: ActionKind
    asset: str
    confidence: Decimal
    reason: str
    size_usd: Decimal | None = None
    size_fraction: Decimal | None = None
    leverage: int | None = None
    """Set for entries only."""
    take_profit: Decimal | None = None
    stop_loss: Decimal | None = None
    invalidation: str | None = None


class Rejected(msgspec.Struct, frozen=True, kw_only=True):
    code: RejectCode
    message: str


def parse_answer(
    text: str, asset: str, legal: Iterable[str], *, stop_reason: str | None = None
) -> ValidAction | Rejected:
    """Decode ``text`` strictly as the answer for ``asset`` given the ``legal`` actions.

    ``stop_reason`` is the model's: a ``refusal`` or ``max_tokens`` stop is rejected with that code
    whatever the text (a cut answer may still decode, a refusal carries no decision).
    """
    if stop_reason == "refusal":
        return _reject(
            "refusal", "the model refused to answer (stop_reason `refusal`); no decision"
        )
    if stop_reason == "max_tokens":
        return _reject(
            "max_tokens",
            "the answer was cut at max_tokens (thinking counts against it); raise the route's "
            "max_tokens or lower its effort",
        )
    raw = _one_object(text)
    if isinstance(raw, Rejected):
        return raw
    if rejected := _numbers_are_numbers(raw):
        return rejected
    try:
        answer = msgspec.convert(raw, Answer, strict=True)
    except msgspec.ValidationError as exc:
        return _from_validation(str(exc))
    return _check(answer, asset, frozenset(legal))


def to_prop_action(valid: ValidAction, action_id: str) -> Action:
    """The prop gates' action; USD sizes become micro-USD exactly (at most 6 decimals, checked)."""
    return Action(
        action_id=action_id,
        kind=valid.kind,
        symbol=valid.asset,
        size_usd=usd(valid.size_usd) if valid.size_usd is not None else None,
        size_fraction=valid.size_fraction,
        leverage=valid.leverage if valid.leverage is not None else 1,
        stop_loss=valid.stop_loss,
        take_profit=valid.take_profit,
        confidence=valid.confidence,
        reason=valid.reason,
    )


def hold_answer(asset: str, reason: str, confidence: Decimal = Decimal(1)) -> str:
    """A valid hold answer as the model would write it (used by the hold engine and tests)."""
    body = {"action": "hold", "asset": asset, "confidence": confidence, "reason": reason}
    return _NUMBERS.encode(body).decode()


def answer_schema(legal: Iterable[str]) -> dict[str, Any]:
    """The JSON Schema of an answer with ``action`` restricted to ``legal`` (canonical order).

    JSON Schema cannot say everything checked here (one size for an entry or a reduce, fields that
    do not apply left out); the descriptions and the prompt's rules say it in words.
    """
    number = ["number", "null"]
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["action", "asset", "confidence", "reason"],
        "properties": {
            "action": {"enum": ordered(legal) or list(ACTION_ORDER)},
            "asset": {"type": "string", "description": "the asset this decision is for, exactly"},
            "size_usd": {
                "type": number,
                "exclusiveMinimum": 0,
                "maximum": int(MAX_SIZE_USD),
                "description": "notional in USD (at most 6 decimals); entries and reduce; "
                "give this or size_fraction, not both",
            },
            "size_fraction": {
                "type": number,
                "exclusiveMinimum": 0,
                "maximum": 1,
                "description": "entries: notional as a fraction of equity; "
                "reduce: fraction of the position to close",
            },
            "leverage": {
                "type": ["integer", "null"],
                "minimum": 1,
                "maximum": MAX_LEVERAGE,
                "description": "entries only (required there); sets the margin, not the size",
            },
            "take_profit": {
                "type": number,
                "exclusiveMinimum": 0,
                "maximum": int(MAX_PRICE),
                "description": "entries only: price that closes the position in profit",
            },
            "stop_loss": {
                "type": number,
                "exclusiveMinimum": 0,
                "maximum": int(MAX_PRICE),
                "description": "entries only: price that closes the position at a loss",
            },
            "invalidation": {
                "type": ["string", "null"],
                "maxLength": MAX_INVALIDATION_CHARS,
                "description": "entries only: the condition that would prove the idea wrong",
            },
            "confidence": {"type": "number", "minimum": 0, "maximum": 1},
            "reason": {"type": "string", "minLength": 1, "maxLength": MAX_REASON_CHARS},
        },
    }


def _reject(code: RejectCode, message: str) -> Rejected:
    return Rejected(code=code, message=message)


class _NotFinite(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(f"{name} is not valid JSON")
        self.name = name


def _no_constant(name: str) -> None:
    raise _NotFinite(name)


def _pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise _Duplicate(key)
        seen[key] = value
    return seen


class _Duplicate(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _loads(text: str) -> Any:
    return json.loads(
        text, parse_float=Decimal, parse_constant=_no_constant, object_pairs_hook=_pairs
    )


def _one_object(text: str) -> dict[str, Any] | Rejected:
    stripped = text.strip()
    if not stripped:
        return _reject("empty", "the answer is empty")
    try:
        value = _loads(stripped)
    except _Duplicate as dup:
        return _reject("duplicate_field", f"field `{dup.key}` appears more than once")
    except _NotFinite as bad:
        return _reject("not_finite", f"`{bad.name}` is not a number; numbers must be finite")
    except (ValueError, RecursionError) as exc:
        if embedded := _embedded_object(stripped):
            return _reject(
                "text_around_json",
                f"the answer has text {embedded} the JSON object; answer with the object only",
            )
        return _reject("not_json", f"the answer is not JSON: {exc}")
    if not isinstance(value, dict):
        return _reject("not_an_object", f"the answer is a JSON {_json_type(value)}, not an object")
    return value


def _embedded_object(text: str) -> str | None:
    """Where extra text sits when ``text`` holds a decodable JSON object among other text."""
    decoder = json.JSONDecoder(parse_float=Decimal, parse_constant=_no_constant)
    for match in itertools.islice(re.finditer(r"\{", text), _MAX_OBJECT_STARTS):
        start = match.start()
        try:
            value, end = decoder.raw_decode(text, start)
        except (ValueError, RecursionError):
            continue
        if isinstance(value, dict):
            before, after = bool(text[:start].strip()), bool(text[end:].strip())
            return "before and after" if before and after else "before" if before else "after"
    return None


def _json_type(value: Any) -> str:
    match value:
        case dict():
            return "object"
        case list():
            return "array"
        case str():
            return "string"
        case bool():
            return "boolean"
        case None:
            return "null"
    return "number"


def _numbers_are_numbers(raw: dict[str, Any]) -> Rejected | None:
    for name in _NUMBER_FIELDS:
        value = raw.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
            return _reject("wrong_type", f"`{name}` must be a JSON number, got {_json_type(value)}")
        if rejected := _sane_magnitude(name, Decimal(value)):
            return rejected
    return None


def _sane_magnitude(name: str, value: Decimal) -> Rejected | None:
    """Refuse a number no field could mean before any arithmetic touches it (``1e999``)."""
    if not value.is_finite():
        return _reject("not_finite", f"`{name}` must be finite, got {value}")
    magnitude = abs(value)
    if magnitude > MAX_NUMBER:
        return _reject(
            "number_too_large",
            f"`{name}` is {value:.3E}, larger than any answer takes ({MAX_NUMBER:.0E})",
        )
    if magnitude and magnitude < MIN_NUMBER:
        return _reject("out_of_range", f"`{name}` is {value:.3E}, below {MIN_NUMBER:.0E}")
    if len(value.as_tuple().digits) > MAX_DIGITS:
        return _reject("out_of_range", f"`{name}` has more than {MAX_DIGITS} digits")
    return None


_VALIDATION: tuple[tuple[re.Pattern[str], RejectCode], ...] = (
    (re.compile(r"Object missing required field `(\w+)`"), "missing_field"),
    (re.compile(r"Object contains unknown field `(\w+)`"), "unknown_field"),
    (re.compile(r"Invalid enum value .* - at `\$\.action`"), "unknown_action"),
)


def _from_validation(message: str) -> Rejected:
    for pattern, code in _VALIDATION:
        if pattern.search(message):
            return _reject(code, message)
    return _reject("wrong_type", message)


def _check(a: Answer, asset: str, legal: frozenset[str]) -> ValidAction | Rejected:
    if a.asset != asset:
        return _reject(
            "wrong_asset", f"the answer is for `{a.asset}`, this decision is for `{asset}`"
        )
    if a.action not in legal:
        allowed = ", ".join(ordered(legal)) or "none"
        return _reject(
            "illegal_action", f"`{a.action}` is not legal for {asset} now (legal: {allowed})"
        )
    if rejected := _ranges(a):
        return rejected
    if rejected := _shape(a):
        return rejected
    return ValidAction(
        kind=a.action,
        asset=a.asset,
        confidence=a.confidence,
        reason=a.reason,
        size_usd=a.size_usd,
        size_fraction=a.size_fraction,
        leverage=a.leverage,
        take_profit=a.take_profit,
        stop_loss=a.stop_loss,
        invalidation=a.invalidation,
    )


def _ranges(a: Answer) -> Rejected | None:
    def out(message: str) -> Rejected:
        return _reject("out_of_range", message)

    if not a.confidence.is_finite() or not Decimal(0) <= a.confidence <= Decimal(1):
        return out(f"`confidence` must be within [0, 1], got {a.confidence}")
    if not a.reason.strip():
        return out("`reason` must not be empty")
    if len(a.reason) > MAX_REASON_CHARS:
        return out(f"`reason` is {len(a.reason)} characters, at most {MAX_REASON_CHARS}")
    if a.invalidation is not None and len(a.invalidation) > MAX_INVALIDATION_CHARS:
        return out(
            f"`invalidation` is {len(a.invalidation)} characters, at most {MAX_INVALIDATION_CHARS}"
        )
    for name in ("size_usd", "size_fraction", "take_profit", "stop_loss"):
        value: Decimal | None = getattr(a, name)
        if value is not None and (not value.is_finite() or value <= 0):
            return out(f"`{name}` must be a positive number, got {value}")
    if a.size_usd is not None:
        if a.size_usd > MAX_SIZE_USD:
            return out(f"`size_usd` must be at most {MAX_SIZE_USD}, got {a.size_usd}")
        try:
            usd(a.size_usd)
        except ValueError:
            return out(f"`size_usd` has more than 6 decimals: {a.size_usd}")
    if a.size_fraction is not None and a.size_fraction > 1:
        whole = "the position" if a.action == "reduce" else "equity"
        return out(f"`size_fraction` is a fraction of {whole}, at most 1, got {a.size_fraction}")
    for name in ("take_profit", "stop_loss"):
        price: Decimal | None = getattr(a, name)
        if price is not None and price > MAX_PRICE:
            return out(f"`{name}` must be at most {MAX_PRICE}, got {price}")
    if a.leverage is not None and not 1 <= a.leverage <= MAX_LEVERAGE:
        return out(f"`leverage` must be an integer within [1, {MAX_LEVERAGE}], got {a.leverage}")
    return None


def _shape(a: Answer) -> Rejected | None:
    """Which fields an action takes: entries a size and a leverage, reduce a size, the rest none."""
    sized = a.action in ENTRIES or a.action == "reduce"
    given = [n for n in ("size_usd", "size_fraction") if getattr(a, n) is not None]
    if sized and not given:
        return _reject(
            "size_missing",
            f"`{a.action}` needs one of `size_usd` or `size_fraction`, neither was given",
        )
    if sized and len(given) == 2:
        return _reject(
            "size_conflict",
            f"`{a.action}` takes one of `size_usd` or `size_fraction`, both were given",
        )
    if a.action in ENTRIES and a.leverage is None:
        return _reject("missing_field", f"`{a.action}` needs `leverage`")
    takes = _FIELDS_TAKEN[a.action]
    for name in (
        "size_usd",
        "size_fraction",
        "leverage",
        "take_profit",
        "stop_loss",
        "invalidation",
    ):
        if name not in takes and getattr(a, name) is not None:
            return _reject(
                "not_applicable", f"`{a.action}` does not take `{name}`; leave it out or null"
            )
    return None


_ENTRY_FIELDS = frozenset(
    {"size_usd", "size_fraction", "leverage", "take_profit", "stop_loss", "invalidation"}
)
_FIELDS_TAKEN: dict[str, frozenset[str]] = {
    "open_long": _ENTRY_FIELDS,
    "open_short": _ENTRY_FIELDS,
    "reduce": frozenset({"size_usd", "size_fraction"}),
    "close": frozenset(),
    "hold": frozenset(),
}
