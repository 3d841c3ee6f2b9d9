import json
from collections import Counter
from pathlib import Path

import msgspec
import pytest

from clash.market.taxonomy import (
    CATEGORIES,
    DATA_FILE,
    UNMAPPED,
    Selected,
    categorize,
    load_taxonomy,
    select,
    trending,
)

REPO = Path(__file__).resolve().parents[3]
HL_FIXTURES = REPO.parent / "shared" / "fixtures" / "real" / "hyperliquid"


def fixture(name: str):
    assert HL_FIXTURES.is_dir(), f"shared fixtures missing: {HL_FIXTURES}"
    return json.loads((HL_FIXTURES / name).read_text(encoding="utf-8"))


def test_categories_are_exactly_seed_004():
    assert CATEGORIES == (
        "All",
        "Perps",
        "Spot",
        "Spot/USDC",
        "Spot/USDH",
        "Spot/USDT",
        "Crypto",
        "Crypto/AI",
        "Crypto/Defi",
        "Crypto/Gaming",
        "Crypto/Layer 1",
        "Crypto/Layer 2",
        "Crypto/Meme",
        "Tradfi",
        "Tradfi/Stocks",
        "Tradfi/Indices",
        "Tradfi/Commodities",
        "Tradfi/FX",
        "Tradfi/Pre-IPO",
        "Trending",
    )


@pytest.mark.parametrize(
    ("symbol", "expected"),
    [
        ("BTC", ["Perps", "Crypto", "Crypto/Layer 1"]),
        ("ETH", ["Perps", "Crypto", "Crypto/Layer 1"]),
        ("SOL", ["Perps", "Crypto", "Crypto/Layer 1"]),
        ("ARB", ["Perps", "Crypto", "Crypto/Layer 2"]),
        ("OP", ["Perps", "Crypto", "Crypto/Layer 2"]),
        ("DOGE", ["Perps", "Crypto", "Crypto/Meme"]),
        ("kPEPE", ["Perps", "Crypto", "Crypto/Meme"]),
        ("WIF", ["Perps", "Crypto", "Crypto/Meme"]),
        ("FET", ["Perps", "Crypto", "Crypto/AI"]),
        ("TAO", ["Perps", "Crypto", "Crypto/AI"]),
        ("UNI", ["Perps", "Crypto", "Crypto/Defi"]),
        ("AAVE", ["Perps", "Crypto", "Crypto/Defi"]),
        ("APE", ["Perps", "Crypto", "Crypto/Gaming"]),
        ("INJ", ["Perps", "Crypto", "Crypto/Defi", "Crypto/Layer 1"]),
        ("xyz:NVDA", ["Perps", "Tradfi", "Tradfi/Stocks"]),
        ("xyz:XYZ100", ["Perps", "Tradfi", "Tradfi/Indices"]),
        ("xyz:GOLD", ["Perps", "Tradfi", "Tradfi/Commodities"]),
        ("xyz:EUR", ["Perps", "Tradfi", "Tradfi/FX"]),
        ("vntl:OPENAI", ["Perps", "Tradfi", "Tradfi/Pre-IPO"]),
        ("PURR/USDC", ["Spot", "Spot/USDC"]),
        ("UBTC/USDH", ["Spot", "Spot/USDH"]),
        ("HYPE/USDT0", ["Spot", "Spot/USDT"]),
    ],
)
def test_categorize(symbol, expected):
    assert categorize(symbol) == expected


@pytest.mark.parametrize(
    ("symbol", "expected"),
    [
        ("NEWCOIN", ["Perps", "Crypto", UNMAPPED]),  # the main dex lists crypto only
        ("xyz:NEWCO", ["Perps", "Tradfi", UNMAPPED]),  # trade.xyz lists tradfi only
        ("flx:XMR", ["Perps", UNMAPPED]),  # a mixed HIP-3 dex: class unknown
        ("@107", ["Spot", UNMAPPED]),  # not yet resolved to BASE/QUOTE
        ("FOO/EURC", ["Spot", UNMAPPED]),
    ],
)
def test_unknown_symbols_are_marked_unmapped(symbol, expected):
    assert categorize(symbol) == expected


def test_every_fixture_perp_is_mapped():
    names = [a["name"] for a in fixture("meta_2023-07-17.json")["universe"]]
    names += [a["name"] for a in fixture("metaAndAssetCtxs_trimmed_2026-09-27.json")[0]["universe"]]
    unmapped = [n for n in names if UNMAPPED in categorize(n)]
    assert unmapped == []
    assert all(categorize(n)[:2] == ["Perps", "Crypto"] for n in names)


def test_fixture_spot_pairs_group_by_quote_token():
    meta, _ = fixture("spotMetaAndAssetCtxs_2025-11-09.json")
    token = {t["index"]: t["name"] for t in meta["tokens"]}
    pairs = [f"{token[b]}/{token[q]}" for b, q in (u["tokens"] for u in meta["universe"])]
    groups = Counter(categorize(p)[1] for p in pairs)
    assert groups == {"Spot/USDC": 225, "Spot/USDH": 4, "Spot/USDT": 4}


def test_the_data_file_uses_only_seed_names(tmp_path):
    taxonomy = load_taxonomy(DATA_FILE)
    for symbol in taxonomy.mapped_symbols:
        assert set(categorize(symbol, taxonomy)) <= set(CATEGORIES)
    bad = DATA_FILE.read_text().replace('Meme = [\n    "BOME"', 'Memes = [\n    "BOME"')
    (tmp_path / "bad.toml").write_text(bad)
    with pytest.raises(msgspec.ValidationError):
        load_taxonomy(tmp_path / "bad.toml")


def test_the_data_file_keeps_perp_names_in_their_class(tmp_path):
    bad = DATA_FILE.read_text().replace('FX = ["xyz:DXY"', 'FX = ["DXY"')
    (tmp_path / "bad.toml").write_text(bad)
    with pytest.raises(ValueError, match="DXY"):
        load_taxonomy(tmp_path / "bad.toml")


UNIVERSE = [
    "BTC",
    "ETH",
    "FET",
    "DOGE",
    "NEWCOIN",
    "xyz:TSLA",
    "vntl:SPACEX",
    "HYPE/USDC",
    "UBTC/USDH",
]


def symbols(selected):
    return [s.symbol for s in selected]


def test_select_all():
    out = select(UNIVERSE, ["All"])
    assert symbols(out) == UNIVERSE
    assert {s.source for s in out} == {"category:All"}


def test_select_by_market_type_and_subcategory():
    assert symbols(select(UNIVERSE, ["Spot"])) == ["HYPE/USDC", "UBTC/USDH"]
    assert symbols(select(UNIVERSE, ["Spot/USDH"])) == ["UBTC/USDH"]
    assert symbols(select(UNIVERSE, ["Perps"])) == UNIVERSE[:7]
    assert symbols(select(UNIVERSE, ["Tradfi/Pre-IPO", "Crypto/Meme"])) == ["DOGE", "vntl:SPACEX"]


def test_unmapped_symbols_stay_selectable_through_their_parents():
    assert "NEWCOIN" in symbols(select(UNIVERSE, ["Crypto"]))
    assert "NEWCOIN" not in symbols(select(UNIVERSE, ["Crypto/AI"]))


def test_select_enables_and_disables():
    out = select(UNIVERSE, ["Crypto/Layer 1"], enables=["xyz:TSLA", "ETH"], disables=["ETH", "BTC"])
    assert out == [Selected("xyz:TSLA", "explicit")]
    out = select(UNIVERSE, ["Crypto", "Crypto/AI"], enables=["FET"])
    assert out[:3] == [
        Selected("BTC", "category:Crypto"),
        Selected("ETH", "category:Crypto"),
        Selected("FET", "explicit"),
    ]


def test_only_universe_symbols_are_selected():
    assert select(["BTC"], [], enables=["DELISTED"]) == []
    assert select(["BTC", "BTC"], ["All"]) == [Selected("BTC", "category:All")]


def test_select_trending():
    out = select(UNIVERSE, ["Trending"], trending_symbols=["DOGE", "xyz:TSLA", "NOT_LISTED"])
    assert out == [Selected("DOGE", "category:Trending"), Selected("xyz:TSLA", "category:Trending")]


def test_unknown_category_is_an_error():
    with pytest.raises(ValueError, match="Memes"):
        select(UNIVERSE, ["Memes"])


def test_trending_on_the_recorded_contexts():
    meta, ctxs = fixture("metaAndAssetCtxs_trimmed_2026-09-27.json")
    stats = [
        (a["name"], float(c["dayNtlVlm"]), float(c["markPx"]) / float(c["prevDayPx"]) - 1)
        for a, c in zip(meta["universe"], ctxs)
    ]
    # SOL +1.61% on $212M beats BTC +1.26% on $1.03B; HYPE moved 0.15%.
    assert trending(stats, 4) == ["SOL", "BTC", "ETH", "HYPE"]
    assert trending(stats, 2) == ["SOL", "BTC"]


def test_trending_formula_floor_and_ties():
    stats = [
        ("MEGA", 1e9, 0.03),  # 0.03 * 9 = 0.27
        ("MID", 2e7, -0.10),  # 0.10 * 7.3 = 0.73, falls count too
        ("THIN", 5e5, 0.50),  # under the $1M floor
        ("NAN", float("nan"), 0.2),
        ("TIE_A", 1e6, 0.04),  # 0.24, tied with TIE_B: by symbol
        ("TIE_B", 1e6, -0.04),
    ]
    assert trending(stats, 10) == ["MID", "MEGA", "TIE_A", "TIE_B"]
    assert trending(stats, 0) == []
    assert trending(stats, 10, min_volume_usd=1e5)[0] == "THIN"
    with pytest.raises(ValueError):
        trending(stats, -1)
