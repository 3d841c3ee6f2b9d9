"""Every recorded Hyperliquid payload decodes strictly with the wire types."""

import re
from pathlib import Path

import msgspec
import pytest

from clash.market.hyperliquid import wire
from clash.market.hyperliquid.wire import DecodeError

REST_FIXTURES = {
    "allMids_2023-07-17.json": wire.AllMids,
    "meta_2023-07-17.json": wire.Meta,
    "metaAndAssetCtxs_trimmed_2026-09-27.json": wire.MetaAndAssetCtxs,
    "spotMeta_trimmed_2026-09-27.json": wire.SpotMeta,
    "spotMetaAndAssetCtxs_2025-11-09.json": wire.SpotMetaAndAssetCtxs,
    "candleSnapshot_ETH_1h_2026-09-27.json": wire.CandleSnapshot,
    "candleSnapshot_kPEPE_1h_2023-07-17.json": wire.CandleSnapshot,
    "candleSnapshot_spot_at107_1d_2025-01.json": wire.CandleSnapshot,
    "predictedFundings_trimmed_2026-09-27.json": wire.PredictedFundings,
    "fundingHistory_BTC_start1681923833000_end1684811870000_2023-07-17.json": wire.FundingHistory,
    "fundingHistory_BTC_start1681923833000_noEnd_2023-07-17.json": wire.FundingHistory,
}
WS_SERVER_FIXTURES = {
    "allMids.subscriptionResponse.json": wire.SubscriptionResponse,
    "allMids_jkorf_trimmed.push.json": wire.AllMidsPush,
    "allMids_nautilus_trimmed_2026-05.push.json": wire.AllMidsPush,
    "candle_HYPE_1d.subscriptionResponse.json": wire.SubscriptionResponse,
    "candle_HYPE_1d_2025-12-04.push.json": wire.CandlePush,
}
WS_CLIENT_FIXTURES = {
    "allMids.client_subscribe.json": wire.AllMidsSubscription,
    "candle_HYPE_1d.client_subscribe.json": wire.CandleSubscription,
}


@pytest.fixture
def hl(fixtures_dir: Path) -> Path:
    return fixtures_dir / "real" / "hyperliquid"


def test_every_fixture_is_covered(hl: Path) -> None:
    assert {p.name for p in hl.glob("*.json")} == set(REST_FIXTURES)
    assert {p.name for p in (hl / "ws").glob("*.json")} == set(WS_SERVER_FIXTURES) | set(
        WS_CLIENT_FIXTURES
    )


@pytest.mark.parametrize("name", sorted(REST_FIXTURES))
def test_rest_fixture_decodes(hl: Path, name: str) -> None:
    value = wire.decode((hl / name).read_bytes(), REST_FIXTURES[name])
    assert value


@pytest.mark.parametrize("name", sorted(WS_SERVER_FIXTURES))
def test_ws_server_fixture_decodes(hl: Path, name: str) -> None:
    msg = wire.decode((hl / "ws" / name).read_bytes(), wire.AnyServerMessage)
    assert type(msg) is WS_SERVER_FIXTURES[name]


@pytest.mark.parametrize("name", sorted(WS_CLIENT_FIXTURES))
def test_ws_client_fixture_decodes_and_reencodes(hl: Path, name: str) -> None:
    raw = (hl / "ws" / name).read_bytes()
    msg = wire.decode(raw, wire.AnyClientMessage)
    assert isinstance(msg, wire.Subscribe)
    assert type(msg.subscription) is WS_CLIENT_FIXTURES[name]
    assert msgspec.json.decode(wire.encode(msg)) == msgspec.json.decode(raw)


def test_candle_keys_in_any_order_and_domain_values(hl: Path) -> None:
    old = wire.decode(
        (hl / "candleSnapshot_kPEPE_1h_2023-07-17.json").read_bytes(), wire.CandleSnapshot
    )
    new = wire.decode(
        (hl / "candleSnapshot_ETH_1h_2026-09-27.json").read_bytes(), wire.CandleSnapshot
    )
    assert old and new and len(old) == 24 and len(new) == 25
    bar = wire.to_bar(new[0])
    assert bar == wire.HlCandle(
        "ETH", "1h", 1790431200000, 1790434799999, 2686.1, 2689.6, 2685.0, 2688.6, 2490.1516, 2438
    )
    assert all(c.close_ms == c.open_ms + 3_599_999 for c in old + new)
    assert [c.open_ms for c in new] == sorted(c.open_ms for c in new)


def test_ws_candle_push_single_object_or_list(hl: Path) -> None:
    push = wire.decode(
        (hl / "ws" / "candle_HYPE_1d_2025-12-04.push.json").read_bytes(), wire.AnyServerMessage
    )
    assert isinstance(push, wire.CandlePush) and isinstance(push.data, wire.Candle)
    assert wire.to_bar(push.data).volume == pytest.approx(3495670.84)
    as_list = wire.decode(
        b'{"channel":"candle","data":[' + wire.encode(push.data) + b"]}", wire.AnyServerMessage
    )
    assert isinstance(as_list, wire.CandlePush) and as_list.data == [push.data]


def test_meta_and_ctxs_pair_by_position(hl: Path) -> None:
    value = wire.decode(
        (hl / "metaAndAssetCtxs_trimmed_2026-09-27.json").read_bytes(), wire.MetaAndAssetCtxs
    )
    ctxs = wire.to_asset_ctxs(value)
    assert [c.coin for c in ctxs] == ["BTC", "ETH", "SOL", "HYPE"]
    assert ctxs[0].funding == 0.0000125 and ctxs[0].mark_px == 84981.0
    assert (ctxs[0].impact_bid, ctxs[0].impact_ask) == (84980.0, 84981.0)
    assert value[0].marginTables[0][1].marginTiers[0].maxLeverage == 50


def test_spot_ctxs_match_on_coin_not_position(hl: Path) -> None:
    meta, ctxs = wire.decode(
        (hl / "spotMetaAndAssetCtxs_2025-11-09.json").read_bytes(), wire.SpotMetaAndAssetCtxs
    )
    assert (len(meta.universe), len(meta.tokens), len(ctxs)) == (233, 398, 249)
    assert any(c.midPx is None for c in ctxs)
    assert meta.universe[0].name == "PURR/USDC" and meta.universe[0].isCanonical


def test_predicted_fundings_null_venue(hl: Path) -> None:
    value = wire.decode(
        (hl / "predictedFundings_trimmed_2026-09-27.json").read_bytes(), wire.PredictedFundings
    )
    rates = wire.to_predicted_rates(value)
    assert ("HYPE", "BinPerp") not in {(r.coin, r.venue) for r in rates}
    assert len(rates) == 10
    hl_btc = next(r for r in rates if (r.coin, r.venue) == ("BTC", "HlPerp"))
    assert hl_btc.interval_hours == 1 and hl_btc.rate == 0.0000125


def test_funding_history_domain(hl: Path) -> None:
    rows = wire.decode(
        (hl / "fundingHistory_BTC_start1681923833000_noEnd_2023-07-17.json").read_bytes(),
        wire.FundingHistory,
    )
    assert len(rows) == 1038
    rates = wire.to_funding_rates(rows)
    assert rates[0].time_ms == 1683849600048 and rates[0].rate == -0.00061334


def test_2023_meta_shape_has_only_the_old_fields(hl: Path) -> None:
    meta = wire.decode((hl / "meta_2023-07-17.json").read_bytes(), wire.Meta)
    assert meta.marginTables == [] and meta.collateralToken is None
    assert meta.universe[0] == wire.PerpAsset("BTC", 5, 50)


@pytest.mark.parametrize(
    ("payload", "type_"),
    [
        (
            b'[{"t":1,"T":2,"s":"BTC","i":"1m","o":"1","c":"1","h":"1","l":"1","v":"1"}]',
            wire.CandleSnapshot,
        ),  # n missing
        (
            b'[{"t":1,"T":2,"s":"BTC","i":"1m","o":"1","c":"1","h":"1","l":"1","v":"1","n":"5"}]',
            wire.CandleSnapshot,
        ),  # n as a string: strict
        (
            b'[{"t":1,"T":2,"s":"BTC","i":"1m","o":1.0,"c":"1","h":"1","l":"1","v":"1","n":5}]',
            wire.CandleSnapshot,
        ),  # a price as a number
        (b'{"universe":[{"name":"BTC","szDecimals":5}]}', wire.Meta),  # maxLeverage missing
        (b'[{"coin":"BTC","fundingRate":"0.1","premium":"0.1"', wire.FundingHistory),  # truncated
        (b'{"channel":"candle","data":"x"}', wire.AnyServerMessage),
        (b'{"channel":"nope","data":{}}', wire.AnyServerMessage),
    ],
)
def test_required_fields_and_strict_types(payload: bytes, type_: object) -> None:
    with pytest.raises(DecodeError):
        wire.decode(payload, type_)


def test_unknown_extra_fields_are_ignored() -> None:
    meta = wire.decode(
        b'{"universe":[{"name":"X","szDecimals":1,"maxLeverage":3,"new":1}],"z":0}', wire.Meta
    )
    assert meta.universe[0].name == "X"


def test_bad_decimal_string_is_a_decode_error() -> None:
    with pytest.raises(DecodeError):
        wire.to_mids({"BTC": "eighty"})


# ---------------------------------------------------------------- vcrpy cassettes
# No YAML library is installed, so read the two flow-scalar forms vcrpy writes (single- and
# double-quoted, folded over lines) with the YAML rules for those forms only. The parser is
# checked against the bodies the fixtures README says were extracted from these cassettes.

_ESCAPES = {
    "0": "\0",
    "a": "\a",
    "b": "\b",
    "t": "\t",
    "\t": "\t",
    "n": "\n",
    "v": "\v",
    "f": "\f",
    "r": "\r",
    "e": "\x1b",
    " ": " ",
    '"': '"',
    "/": "/",
    "\\": "\\",
    "N": "\x85",
    "_": "\xa0",
    "L": "\u2028",
    "P": "\u2029",
}
_HEX = {"x": 2, "u": 4, "U": 8}


def _flow_scalar(text: str, i: int, quote: str) -> str:
    out: list[str] = []
    while True:
        ch = text[i]
        if ch == quote:
            if quote == "'" and text[i + 1 : i + 2] == "'":
                out.append("'")
                i += 2
                continue
            return "".join(out)
        if ch == "\\" and quote == '"':
            nxt = text[i + 1]
            if nxt == "\n":
                i += 2
                while text[i] in " \t":
                    i += 1
            elif nxt in _HEX:
                width = _HEX[nxt]
                out.append(chr(int(text[i + 2 : i + 2 + width], 16)))
                i += 2 + width
            else:
                out.append(_ESCAPES[nxt])
                i += 2
            continue
        if ch == "\n":
            while out and out[-1] in " \t":
                out.pop()
            i += 1
            breaks = 0
            while True:
                while text[i] in " \t":
                    i += 1
                if text[i] != "\n":
                    break
                breaks += 1
                i += 1
            out.append("\n" * breaks if breaks else " ")
            continue
        out.append(ch)
        i += 1


def _interactions(path: Path) -> list[tuple[str, str, int]]:
    """(request body, response body, status) per interaction."""
    text = path.read_text(encoding="utf-8")
    requests = [
        _flow_scalar(text, m.end(), m.group(1))
        for m in re.finditer(r"^    body: (['\"])", text, re.M)
    ]
    responses = [
        _flow_scalar(text, m.end(), m.group(1))
        for m in re.finditer(r"^      string: (['\"])", text, re.M)
    ]
    statuses = [int(s) for s in re.findall(r"^      code: (\d+)", text, re.M)]
    assert len(requests) == len(responses) == len(statuses) > 0
    return list(zip(requests, responses, statuses))


CASSETTE_BODIES = {
    "test_get_all_mids.yaml": ["allMids_2023-07-17.json"],
    "test_get_info.yaml": ["meta_2023-07-17.json"],
    "test_get_candles_snapshot.yaml": [
        "meta_2023-07-17.json",
        "candleSnapshot_kPEPE_1h_2023-07-17.json",
    ],
    "test_get_funding_history_1684811870000.yaml": [
        "meta_2023-07-17.json",
        "fundingHistory_BTC_start1681923833000_end1684811870000_2023-07-17.json",
    ],
    "test_get_funding_history_None.yaml": [
        "meta_2023-07-17.json",
        "fundingHistory_BTC_start1681923833000_noEnd_2023-07-17.json",
    ],
    "test_spot_asset_ctx.yaml": ["spotMetaAndAssetCtxs_2025-11-09.json"],
}


def test_every_cassette_is_covered(hl: Path) -> None:
    assert {p.name for p in (hl / "cassettes").glob("*.yaml")} == set(CASSETTE_BODIES)


@pytest.mark.parametrize("name", sorted(CASSETTE_BODIES))
def test_cassette_interactions_decode(hl: Path, name: str) -> None:
    interactions = _interactions(hl / "cassettes" / name)
    extracted = [(hl / f).read_text(encoding="utf-8") for f in CASSETTE_BODIES[name]]
    assert [body for _, body, _ in interactions] == extracted
    for request_body, response_body, status in interactions:
        assert status == 200
        request = wire.decode(request_body, wire.AnyInfoRequest)
        wire.decode(response_body, wire.RESPONSE_TYPES[type(request)])
