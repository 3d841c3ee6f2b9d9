import hashlib
import re
from decimal import Decimal

import msgspec
import pytest

from clash.prop.book import open_account
from clash.prop.fills import AssetSpec
from clash.prop.gates import DEFAULT_LIMITS, Action, Limits
from clash.prop.money import usd
from clash.trading.prompt import (
    PROMPT_VERSION,
    AccountSummary,
    PositionView,
    PromptInput,
    PromptRow,
    PromptTable,
    account_summary,
    asset_of,
    estimate_tokens,
    position_view,
    prompt_limits,
    render_prompt,
)

T0 = 1_790_431_200_000
MIN = 60_000
D = Decimal

ACCOUNT = AccountSummary(
    status="active",
    equity_usd=D("10125.5"),
    balance_usd=D("9990.1"),
    unrealized_pnl_usd=D("135.4"),
    realized_pnl_usd=D("-9.9"),
    fees_paid_usd=D("4.5"),
    peak_equity_usd=D("10200"),
    drawdown=D("0.007304"),
    day_pnl_usd=D("125.5"),
    gross_exposure_usd=D("10413.5"),
)
ETH_POS = PositionView(
    symbol="ETH",
    side="short",
    size=D("1.5"),
    entry_px=D("4100"),
    mark_px=D("4010"),
    leverage=3,
    notional_usd=D("6015"),
    unrealized_pnl_usd=D("135"),
    margin_usd=D("2050"),
    opened_at_ms=T0 - 90 * MIN,
    take_profit=D("3800"),
    stop_loss=D("4250"),
    invalidation="4h close above 4200",
)
SOL_POS = PositionView(
    symbol="SOL",
    side="long",
    size=D("20"),
    entry_px=D("219.9"),
    mark_px=D("219.92"),
    leverage=2,
    notional_usd=D("4398.4"),
    unrealized_pnl_usd=D("0.4"),
    margin_usd=D("2199"),
    opened_at_ms=T0 - 30 * MIN,
)
CANDLES = PromptTable(
    title="BTC candles",
    interval="1m",
    columns=("open", "high", "low", "close", "volume"),
    rows=tuple(
        PromptRow(
            at_ms=T0 + i * MIN,
            cells=(D(100_000 + i), D(100_010 + i), D(99_990 + i), D(100_005 + i), D("1.25")),
        )
        for i in range(3)
    ),
)
RSI = PromptTable(
    title="BTC RSI 14",
    interval="1h",
    columns=("rsi",),
    rows=(
        PromptRow(at_ms=T0, cells=(D("55.2"),)),
        PromptRow(at_ms=T0 - 3_600_000, cells=(D("48.1"),)),
    ),
)
MARKETS = PromptTable(
    title="Polymarket: related",
    columns=("question", "yes"),
    rows=(
        PromptRow(cells=("Will BTC close 2026 above 120k, or not?", D("0.41"))),
        PromptRow(cells=("Fed cut in December", D("0.62"))),
    ),
    note="Probabilities from the latest poll.",
)


def make_input(**changes: object) -> PromptInput:
    base = PromptInput(
        clone_name="Momentum Max",
        strategy_prompt="Trade breakouts.\nCut losers fast.",
        asset="BTC",
        legal=frozenset({"open_long", "open_short", "hold"}),
        now_ms=T0 + 3 * MIN,
        mark_px=D("100007.5"),
        account=ACCOUNT,
        limits=prompt_limits(DEFAULT_LIMITS, 40),
        positions=(ETH_POS, SOL_POS),
        sections=(CANDLES, RSI, MARKETS),
    )
    return msgspec.structs.replace(base, **changes)


def test_same_input_same_bytes() -> None:
    a, b = render_prompt(make_input()), render_prompt(make_input())
    assert a == b and a.version == PROMPT_VERSION == "v2"
    shuffled = make_input(
        legal=frozenset({"hold", "open_short", "open_long"}),
        positions=(SOL_POS, ETH_POS),
        sections=(msgspec.structs.replace(CANDLES, rows=CANDLES.rows[::-1]), RSI, MARKETS),
        strategy_prompt="Trade breakouts.  \r\nCut losers fast.\r\n",
    )
    assert render_prompt(shuffled) == a


def test_template_is_pinned() -> None:
    """Changing the wording changes this digest: bump PROMPT_VERSION (it keys the cache and the runs)."""
    p = render_prompt(make_input())
    digest = hashlib.sha256(f"{p.system}\x00{p.user}".encode()).hexdigest()
    assert digest == PINNED, f"prompt {PROMPT_VERSION} changed; new digest {digest}"


PINNED = "f8fe5381640312c8a081a2f14a2545fe56e4372212fe49733482c2be1b20bbb8"


def test_system_part_holds_role_strategy_rules_legal_and_schema() -> None:
    system = render_prompt(make_input()).system
    assert system.startswith("Prompt v2.\n")
    assert '"Momentum Max"' in system and "Trade breakouts.\nCut losers fast." in system
    assert "leverage at most 10x on BTC" in system and "at least 10 USD" in system
    assert "# Legal actions for BTC now\nopen_long, open_short, hold\n" in system
    assert '"enum":["open_long","open_short","hold"]' in system
    exits = render_prompt(make_input(legal=frozenset({"hold", "close", "reduce"}))).system
    assert "# Legal actions for BTC now\nreduce, close, hold\n" in exits
    for heading in ("# Strategy", "# Rules", "# Legal actions", "# Answer JSON Schema"):
        assert system.index(heading) < system.index("# Answer JSON Schema") + 1


def test_user_part_account_positions_and_exit_plans() -> None:
    user = render_prompt(make_input()).user
    assert user.startswith(
        "Decision time: 2026-09-26T14:03:00Z\nAsset: BTC\nMark price: 100007.5\n"
    )
    assert asset_of(user) == "BTC"
    assert "equity_usd: 10125.5\n" in user and "drawdown: 0.007304\n" in user
    lines = user.splitlines()
    header = lines.index("# Open positions (2)")
    assert lines[header + 1].startswith("symbol,side,size,entry_px,mark_px,leverage,")
    assert lines[header + 1].endswith(",opened_at,take_profit,stop_loss,invalidation")
    assert lines[header + 2].startswith("ETH,short,1.5,4100,4010,3,")
    assert lines[header + 2].endswith(",2026-09-26T12:30:00Z,3800,4250,4h close above 4200")
    assert lines[header + 3].startswith("SOL,long,20,") and lines[header + 3].endswith("Z,,,")
    no_positions = render_prompt(make_input(positions=())).user
    assert "# Open positions (0)\nnone\n" in no_positions


def test_sections_keep_their_order_and_series_run_oldest_to_newest() -> None:
    user = render_prompt(make_input()).user
    titles = re.findall(r"^## (.+)$", user, re.MULTILINE)
    assert titles == [
        "BTC candles (interval 1m; 3 rows, oldest → newest)",
        "BTC RSI 14 (interval 1h; 2 rows, oldest → newest)",
        "Polymarket: related (no interval; 2 rows, table)",
    ]
    candles = user.split("## BTC candles")[1].split("\n\n")[0].splitlines()
    assert candles[1] == "time,open,high,low,close,volume"
    assert [row.split(",")[0] for row in candles[2:]] == [
        "2026-09-26T14:00:00Z",
        "2026-09-26T14:01:00Z",
        "2026-09-26T14:02:00Z",
    ]
    assert candles[2] == "2026-09-26T14:00:00Z,100000,100010,99990,100005,1.25"
    rsi = user.split("## BTC RSI 14")[1].split("\n\n")[0].splitlines()
    assert rsi[2:] == ["2026-09-26T13:00:00Z,48.1", "2026-09-26T14:00:00Z,55.2"]
    table = user.split("## Polymarket: related")[1].splitlines()
    assert table[1:5] == [
        "Probabilities from the latest poll.",
        "question,yes",
        '"Will BTC close 2026 above 120k, or not?",0.41',
        "Fed cut in December,0.62",
    ]
    reordered = render_prompt(make_input(sections=(MARKETS, CANDLES))).user
    assert reordered.index("## Polymarket") < reordered.index("## BTC candles")


def test_empty_section_and_bad_sections() -> None:
    empty = PromptTable(title="ETH funding", interval="1h", columns=("rate",))
    assert (
        "## ETH funding (interval 1h; 0 rows, table)\nno data"
        in render_prompt(make_input(sections=(empty,))).user
    )
    mixed = PromptTable(
        title="x", columns=("a",), rows=(PromptRow(at_ms=T0, cells=(1,)), PromptRow(cells=(2,)))
    )
    with pytest.raises(ValueError, match="mixes timed and untimed"):
        render_prompt(make_input(sections=(mixed,)))
    short = PromptTable(title="y", columns=("a", "b"), rows=(PromptRow(cells=(1,)),))
    with pytest.raises(ValueError, match="1 cells for 2 columns"):
        render_prompt(make_input(sections=(short,)))


def test_numbers_render_plain() -> None:
    section = PromptTable(
        title="n",
        columns=("a", "b", "c", "d", "e"),
        rows=(PromptRow(cells=(D("1.500E+3"), D("0.000010"), None, True, -3)),),
    )
    assert "\n1500,0.00001,,true,-3\n" in render_prompt(make_input(sections=(section,))).user


def test_estimated_tokens_are_chars_over_four() -> None:
    p = render_prompt(make_input())
    assert p.est_tokens == estimate_tokens(p.system) + estimate_tokens(p.user) > 0


def test_account_and_positions_from_a_prop_book() -> None:
    btc = AssetSpec(symbol="BTC", sz_decimals=5, max_leverage=40)
    opened = open_account(T0).book.submit(
        Action(
            action_id="a",
            kind="open_long",
            symbol="BTC",
            size_usd=usd(5_000),
            leverage=5,
            stop_loss=D(95_000),
            take_profit=D(110_000),
        ),
        {"BTC": btc},
        {"BTC": D(100_000)},
        T0,
        Limits(),
    )
    book = opened.book
    marks = {"BTC": D(101_000)}
    summary = account_summary(book, marks)
    assert summary.status == "active"
    assert summary.equity_usd == D(book.equity_micro(marks)) / 1_000_000
    assert summary.gross_exposure_usd == book.positions["BTC"].size * D(101_000)
    assert summary.drawdown == 0
    view = position_view(book.positions["BTC"], D(101_000), invalidation="loses 98k")
    assert view.side == "long" and view.mark_px == D(101_000) and view.leverage == 5
    assert (
        view.stop_loss == D(95_000)
        and view.take_profit == D(110_000)
        and view.invalidation == "loses 98k"
    )
    assert view.unrealized_pnl_usd > 0
    assert prompt_limits(Limits(), 3).leverage_cap == 3
