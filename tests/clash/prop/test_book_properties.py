"""AccountBook: worked scenarios, then properties over random actions and price paths."""

from collections import defaultdict
from decimal import Decimal

import msgspec
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from clash.prop.book import DAY_MS, HOUR_MS, AccountBook, Action, Outcome, open_account
from clash.prop.fills import AssetSpec, maintenance_margin_micro
from clash.prop.gates import Limits
from clash.prop.money import exact, round_price, round_size, usd, wide

D = Decimal
LIMITS = Limits()
WIDE = Limits(max_leverage=40, max_asset_exposure=D(12), max_gross_exposure=D(20))
ASSETS = {
    "BTC": AssetSpec(symbol="BTC", sz_decimals=5, max_leverage=40),
    "ETH": AssetSpec(symbol="ETH", sz_decimals=4, max_leverage=25),
    "kPEPE": AssetSpec(symbol="kPEPE", sz_decimals=0, max_leverage=10),
}
START = {"BTC": D(100_000), "ETH": D(2_500), "kPEPE": D("0.012345")}


def fresh() -> AccountBook:
    return open_account(0, LIMITS).book


def act(kind="open_long", symbol="BTC", action_id="a", **kw) -> Action:
    return Action(action_id=action_id, kind=kind, symbol=symbol, **kw)


def accepted(outcome: Outcome) -> AccountBook:
    assert outcome.rejection is None, outcome.rejection
    return outcome.book


# Worked scenarios


def test_open_account_is_one_deposit_row():
    outcome = open_account(5 * DAY_MS + 7, LIMITS)
    book = outcome.book
    assert [(e.kind, e.amount_micro) for e in outcome.ledger] == [("deposit", usd(10_000))]
    assert book.balance_micro == book.deposits_micro == book.peak_equity_micro == usd(10_000)
    assert (book.day, book.status, book.positions) == (5, "active", {})


def test_a_round_trip_books_fees_and_pnl():
    book = accepted(fresh().submit(act(size_usd=usd(5_000), leverage=5), ASSETS, START, 1, LIMITS))
    outcome = book.submit(
        act("close", action_id="b"), ASSETS, {**START, "BTC": D(110_000)}, 2, LIMITS
    )
    book = accepted(outcome)
    # bought 0.05 at 100050 (fee 2.251125), sold at 109945 (fee 2.4737625 -> 2.473763)
    assert [(e.kind, e.amount_micro) for e in outcome.ledger] == [
        ("fee", -2_473_763),
        ("realized_pnl", 494_750_000),
    ]
    assert book.positions == {}
    assert book.fees_paid_micro == 4_724_888
    assert book.balance_micro == usd(10_000) - 4_724_888 + 494_750_000


def test_reduce_add_and_flip_through_submit():
    book = accepted(fresh().submit(act(size_usd=usd(2_000), leverage=2), ASSETS, START, 1, LIMITS))
    assert book.positions["BTC"].size == D("0.02")
    reduced = book.submit(act("reduce", size_fraction=D("0.25")), ASSETS, START, 2, LIMITS)
    assert accepted(reduced).positions["BTC"].size == D("0.015")
    added = book.submit(act(size_usd=usd(1_000), leverage=4), ASSETS, START, 3, LIMITS)
    assert (accepted(added).positions["BTC"].size, added.book.positions["BTC"].leverage) == (
        D("0.03"),
        4,
    )
    flipped = book.submit(act("open_short", size_usd=usd(500)), ASSETS, START, 4, LIMITS)
    assert flipped.order.size == D("0.025")  # closes 0.02, then opens 0.005 short
    position = accepted(flipped).positions["BTC"]
    assert (position.side, position.size, position.entry_px) == ("short", D("0.005"), D(99_950))


def test_hold_changes_nothing():
    book = fresh()
    outcome = book.submit(act("hold"), ASSETS, START, 1, LIMITS)
    assert outcome.book is book and outcome.rejection is None and outcome.ledger == []


def test_a_stop_loss_closes_at_market_on_the_mark():
    book = accepted(
        fresh().submit(act(size_usd=usd(1_000), stop_loss=D(99_000)), ASSETS, START, 1, LIMITS)
    )
    unchanged = book.mark(ASSETS, {"BTC": D(99_001)}, 2, LIMITS)
    assert unchanged.fills == [] and "BTC" in unchanged.book.positions
    hit = book.mark(ASSETS, {"BTC": D(98_990)}, 3, LIMITS)
    assert [f.cause for f in hit.fills] == ["stop_loss"]
    assert hit.fills[0].px == D(98_940)  # 98990 * 0.9995 = 98940.505, floored to 5 sig figs
    assert hit.book.positions == {} and hit.book.status == "active"


def test_a_take_profit_closes_a_short():
    book = accepted(
        fresh().submit(
            act("open_short", size_usd=usd(1_000), take_profit=D(95_000)), ASSETS, START, 1, LIMITS
        )
    )
    hit = book.mark(ASSETS, {"BTC": D(94_000)}, 2, LIMITS)
    assert [f.cause for f in hit.fills] == ["take_profit"]
    assert hit.book.positions == {}


def test_a_liquidation_closes_at_the_mark_and_the_account_keeps_what_remains():
    book = accepted(fresh().submit(act(size_usd=usd(95_000), leverage=40), ASSETS, START, 1, WIDE))
    # 0.95 BTC bought at 100050, fee 42.771375: balance 9957.228625
    calm = book.mark(ASSETS, {"BTC": D(99_990)}, 2, WIDE)
    assert (calm.book.status, calm.fills) == ("active", [])
    outcome = book.mark(ASSETS, {"BTC": D("90500.5")}, 3, WIDE)
    # equity 885.203625 < maintenance 0.95 * 90500.5 / 80 = 1074.69... but above 2/3 of it
    assert [(f.cause, f.ref_px, f.px, f.fee_micro) for f in outcome.fills] == [
        ("liquidation", D("90500.5"), D(90_500), 38_688_750)  # the tick rounds the sell down
    ]
    assert [(e.kind, e.amount_micro, e.ref) for e in outcome.ledger] == [
        ("fee", -38_688_750, "liquidation"),
        ("realized_pnl", -9_072_500_000, "liquidation"),
    ]
    liquidated = outcome.book
    assert (liquidated.status, liquidated.positions) == ("liquidated", {})
    assert liquidated.balance_micro == 846_039_875 == 9_957_228_625 - 9_072_500_000 - 38_688_750
    assert liquidated.liquidation_micro == 0
    assert [(c.before, c.after, c.reason) for c in outcome.status_changes] == [
        ("active", "liquidated", "liquidation")
    ]
    assert liquidated.submit(act(size_usd=usd(100)), ASSETS, START, 4, WIDE).rejection.code == (
        "account_liquidated"
    )


def test_a_backstop_liquidation_takes_all_remaining_collateral():
    book = accepted(fresh().submit(act(size_usd=usd(95_000), leverage=40), ASSETS, START, 1, WIDE))
    outcome = book.mark(ASSETS, {"BTC": D(90_000)}, 3, WIDE)
    liquidated = outcome.book
    # equity 409.728625 < 2/3 of maintenance 0.95 * 90000 / 80 = 1068.75
    assert [(e.kind, e.amount_micro) for e in outcome.ledger] == [
        ("realized_pnl", -9_547_500_000),
        ("backstop_liquidation", -409_728_625),
    ]
    assert [(f.cause, f.px, f.fee_micro) for f in outcome.fills] == [
        ("backstop_liquidation", D(90_000), 0)
    ]
    assert (liquidated.status, liquidated.balance_micro, liquidated.positions) == (
        "liquidated",
        0,
        {},
    )
    assert liquidated.liquidation_micro == -409_728_625
    assert [(c.before, c.after, c.reason) for c in outcome.status_changes] == [
        ("active", "liquidated", "backstop_liquidation")
    ]


def test_a_backstop_liquidation_writes_off_a_deficit():
    book = accepted(fresh().submit(act(size_usd=usd(95_000), leverage=40), ASSETS, START, 1, WIDE))
    outcome = book.mark(ASSETS, {"BTC": D(85_000)}, 3, WIDE)
    # the close leaves 9957.228625 - 0.95 * 15050 = -4340.271375: the row brings it back to 0
    assert outcome.ledger[-1].kind == "backstop_liquidation"
    assert outcome.ledger[-1].amount_micro == 4_340_271_375
    assert outcome.book.balance_micro == 0


def test_daily_loss_halt_flattens_and_lifts_on_the_next_utc_day():
    book = accepted(
        fresh().submit(act(size_usd=usd(20_000), leverage=10), ASSETS, START, 1, LIMITS)
    )
    book = accepted(
        book.submit(act("open_short", "ETH", size_usd=usd(5_000)), ASSETS, START, 1, LIMITS)
    )
    outcome = book.mark(ASSETS, {"BTC": D(97_500), "ETH": D(2_520)}, 2, LIMITS)
    halted = outcome.book
    assert (halted.status, halted.halt_reason, halted.positions) == ("halted", "daily_loss", {})
    assert sorted(f.cause for f in outcome.fills) == ["daily_loss", "daily_loss"]
    blocked = halted.submit(act(size_usd=usd(100)), ASSETS, START, 3, LIMITS)
    assert blocked.rejection.code == "account_halted"
    next_day = halted.mark(ASSETS, START, DAY_MS + 5, LIMITS)
    assert (next_day.book.status, next_day.book.halt_reason) == ("active", None)
    assert next_day.book.day == 1
    assert next_day.book.day_start_equity_micro == halted.balance_micro
    assert [c.reason for c in next_day.status_changes] == ["new_day"]


def test_max_drawdown_halt_is_measured_from_the_peak_and_permanent():
    limits = Limits(daily_loss_halt=D(1))
    book = accepted(fresh().submit(act(size_usd=usd(29_000), leverage=5), ASSETS, START, 1, limits))
    book = book.mark(ASSETS, {"BTC": D(110_000)}, 2, limits).book
    peak = book.peak_equity_micro
    assert peak > usd(12_800)
    still = book.mark(ASSETS, {"BTC": D(102_000)}, 3, limits).book
    assert still.status == "active" and still.peak_equity_micro == peak
    outcome = book.mark(ASSETS, {"BTC": D(100_500)}, 4, limits)
    assert (outcome.book.status, outcome.book.halt_reason, outcome.book.positions) == (
        "halted",
        "max_drawdown",
        {},
    )
    assert [f.cause for f in outcome.fills] == ["max_drawdown"]
    assert outcome.book.mark(ASSETS, START, 3 * DAY_MS, limits).book.status == "halted"


def test_funding_is_hourly_and_idempotent_within_the_hour():
    book = accepted(fresh().submit(act(size_usd=usd(10_000), leverage=2), ASSETS, START, 1, LIMITS))
    same_hour = book.apply_funding({"BTC": D("0.0001")}, {"BTC": D(100_000)}, HOUR_MS - 1)
    assert same_hour.book is book and same_hour.ledger == []
    paid = book.apply_funding({"BTC": D("0.0001")}, {"BTC": D(100_000)}, HOUR_MS)
    assert [(e.kind, e.amount_micro) for e in paid.ledger] == [("funding", -1_000_000)]  # 0.1 BTC
    assert paid.book.funding_paid_micro == 1_000_000
    again = paid.book.apply_funding({"BTC": D("0.0001")}, {"BTC": D(100_000)}, HOUR_MS + 60_000)
    assert again.ledger == []
    later = paid.book.apply_funding({"BTC": D("-0.0001")}, {}, 2 * HOUR_MS)
    assert [e.amount_micro for e in later.ledger] == [1_000_000]  # at the last mark, 100000


def test_pause_resume_kill():
    book = accepted(fresh().submit(act(size_usd=usd(1_000)), ASSETS, START, 1, LIMITS))
    paused = book.pause(2).book
    assert paused.status == "paused" and "BTC" in paused.positions
    assert paused.submit(act("close"), ASSETS, START, 3, LIMITS).rejection.code == "account_paused"
    assert paused.pause(3).book is paused
    resumed = paused.resume(4).book
    assert resumed.status == "active"
    killed = resumed.kill(ASSETS, START, 5, LIMITS)
    assert (killed.book.status, killed.book.halt_reason, killed.book.positions) == (
        "halted",
        "killed",
        {},
    )
    assert [f.cause for f in killed.fills] == ["kill"]
    assert killed.book.resume(6).book.status == "halted"


def test_flatten_closes_everything_and_keeps_the_status():
    book = accepted(fresh().submit(act(size_usd=usd(1_000)), ASSETS, START, 1, LIMITS))
    book = accepted(
        book.submit(act("open_short", "ETH", size_usd=usd(1_000)), ASSETS, START, 1, LIMITS)
    )
    outcome = book.flatten(ASSETS, START, 2, LIMITS)
    assert outcome.book.positions == {} and outcome.book.status == "active"
    assert [(f.symbol, f.side, f.cause) for f in outcome.fills] == [
        ("BTC", "sell", "admin"),
        ("ETH", "buy", "admin"),
    ]


def test_an_outcome_round_trips_through_json():
    outcome = fresh().submit(
        act(size_usd=usd(1_000), stop_loss=D(90_000)), ASSETS, START, 1, LIMITS
    )
    assert msgspec.json.decode(msgspec.json.encode(outcome), type=Outcome) == outcome


# Properties

KINDS = ["open_long", "open_long", "open_short", "open_short", "close", "reduce", "hold"]
SYMBOLS = sorted(ASSETS)
RISKY = Limits(
    max_leverage=40,
    max_asset_exposure=D(12),
    max_gross_exposure=D(20),
    daily_loss_halt=D(1),
    max_drawdown_halt=D(1),
)
sizes = st.one_of(
    st.integers(0, 40_000).map(lambda dollars: ("usd", usd(dollars))),
    st.sampled_from([5, 10, 100, 1_000, 5_000]).map(lambda dollars: ("usd", usd(dollars))),
    st.decimals(D("0.01"), D("1.5"), places=2).map(lambda f: ("fraction", f)),
    st.sampled_from([D(4), D(8), D(11)]).map(lambda f: ("fraction", f)),
)
# distance of a trigger from the price on its own side; a negative one is on the wrong side
distances = st.none() | st.sampled_from([D("0.005"), D("0.02"), D("0.05"), D("0.15"), D("-0.01")])
submit_steps = st.tuples(
    st.just("submit"),
    st.sampled_from(KINDS),
    st.sampled_from(SYMBOLS),
    sizes,
    st.sampled_from([1, 2, 3, 5, 10, 20, 40, 50]),
    distances,
    distances,
    st.decimals(D(0), D(1), places=1),
)
calm = st.decimals(D("0.98"), D("1.02"), places=4)
wild = st.decimals(D("0.7"), D("1.3"), places=3)
shock = st.sampled_from([D("0.5"), D("0.75"), D("1.35"), D("2")])
factors = st.sampled_from([calm, calm, calm, wild, shock]).flatmap(lambda chosen: chosen)
mark_steps = st.tuples(
    st.just("mark"), st.dictionaries(st.sampled_from(SYMBOLS), factors, min_size=1)
)
funding_steps = st.tuples(
    st.just("funding"),
    st.dictionaries(st.sampled_from(SYMBOLS), st.decimals(D("-0.001"), D("0.001"), places=6)),
)
admin_steps = st.sampled_from([("flatten",), ("pause",), ("resume",)])
steps = st.sampled_from(
    [submit_steps] * 4 + [mark_steps] * 3 + [funding_steps, admin_steps]
).flatmap(lambda chosen: chosen)
timed_steps = st.lists(st.tuples(st.integers(0, 7 * HOUR_MS), steps), min_size=10, max_size=40)
endings = st.sampled_from([(), (), (), ((0, ("kill",)),)])


def _price(symbol: str, current: Decimal, factor: Decimal) -> Decimal:
    start = START[symbol]
    with exact():
        moved = current * factor
    moved = min(max(moved, start / 5), start * 5)
    return round_price(moved, ASSETS[symbol].sz_decimals)


def _action(n: int, step: tuple, marks: dict[str, Decimal]) -> Action:
    _, kind, symbol, (unit, amount), leverage, stop, take, confidence = step
    sign = -1 if kind == "open_short" else 1

    def trigger(distance: Decimal | None, side: int) -> Decimal | None:
        if distance is None:
            return None
        return round_price(marks[symbol] * (1 + side * distance), ASSETS[symbol].sz_decimals)

    return Action(
        action_id=f"a{n}",
        kind=kind,
        symbol=symbol,
        size_usd=amount if unit == "usd" else None,
        size_fraction=amount if unit == "fraction" else None,
        leverage=leverage,
        stop_loss=trigger(stop, -sign),
        take_profit=trigger(take, sign),
        confidence=confidence,
    )


class Replay:
    """Drives a book through steps and checks the ledger properties after every one."""

    def __init__(self, limits: Limits) -> None:
        opened = open_account(0, limits)
        self.limits, self.book, self.rows = limits, opened.book, list(opened.ledger)
        self.now, self.marks = 0, dict(START)
        self.net_size: dict[str, Decimal] = defaultdict(Decimal)
        self.trade_cash: dict[str, Decimal] = defaultdict(Decimal)
        self.realized: dict[str, int] = defaultdict(int)
        self.realized_rows: dict[str, int] = defaultdict(int)

    def run(self, script) -> None:
        for n, (dt, step) in enumerate(script):
            self.now += dt
            self.step(n, step)

    def step(self, n: int, step: tuple) -> None:
        before, before_marks = self.book, dict(self.marks)
        book, marks, now, limits = self.book, self.marks, self.now, self.limits
        match step[0]:
            case "submit":
                outcome = book.submit(_action(n, step, marks), ASSETS, marks, now, limits)
            case "mark":
                marks.update({s: _price(s, marks[s], f) for s, f in step[1].items()})
                outcome = book.mark(ASSETS, marks, now, limits)
            case "funding":
                outcome = book.apply_funding(step[1], marks, now)
            case "flatten":
                outcome = book.flatten(ASSETS, marks, now, limits)
            case "pause":
                outcome = book.pause(now)
            case "resume":
                outcome = book.resume(now)
            case "kill":
                outcome = book.kill(ASSETS, marks, now, limits)
        self.book = book = outcome.book
        self.rows += outcome.ledger
        self._label(outcome)

        # (1) the balance is the opening deposit plus every later ledger row
        assert book.balance_micro == sum(r.amount_micro for r in self.rows)
        assert book.balance_micro == (
            book.deposits_micro
            + book.realized_pnl_micro
            - book.fees_paid_micro
            - book.funding_paid_micro
            + book.liquidation_micro
        )

        # (2) equity moves by realised PnL + unrealised change - fees - funding (+ liquidation)
        kinds: dict[str, int] = defaultdict(int)
        for entry in outcome.ledger:
            kinds[entry.kind] += entry.amount_micro
        unrealized_change = book.unrealized_pnl_micro(marks) - before.unrealized_pnl_micro(
            before_marks
        )
        assert book.equity_micro(marks) - before.equity_micro(before_marks) == (
            kinds["realized_pnl"]
            + unrealized_change
            + kinds["fee"]
            + kinds["funding"]
            + kinds["backstop_liquidation"]
        )

        # (3) a rejected action changes nothing
        if outcome.rejection is not None:
            assert outcome.book is before
            assert (outcome.ledger, outcome.fills, outcome.status_changes) == ([], [], [])

        # (4) nothing stays open after a flatten, a kill, a halt or a liquidation
        if step[0] in ("flatten", "kill") or book.status in ("halted", "liquidated"):
            assert book.positions == {}
        # (5) a backstop liquidation ends at zero; a market one keeps a non-negative remainder
        for change in outcome.status_changes:
            if change.reason == "backstop_liquidation":
                assert book.balance_micro == 0
            elif change.reason == "liquidation":
                assert book.balance_micro >= 0 and book.liquidation_micro == 0
                assert {e.kind for e in outcome.ledger} <= {"fee", "realized_pnl"}

        self._check_fills(outcome)

    def _check_fills(self, outcome: Outcome) -> None:
        """Fills are on Hyperliquid's grid, positions are the net of their fills, and a flat
        symbol's realised PnL is its trading cash flow, floored once per row."""
        for fill in outcome.fills:
            spec = ASSETS[fill.symbol]
            assert fill.size > 0 and round_size(fill.size, spec.sz_decimals) == fill.size
            assert round_price(fill.px, spec.sz_decimals) == fill.px
            signed = fill.size if fill.side == "buy" else -fill.size
            self.net_size[fill.symbol] += signed
            with exact():
                self.trade_cash[fill.symbol] -= signed * fill.px
        for entry in outcome.ledger:
            if entry.kind == "realized_pnl" and entry.symbol:
                self.realized[entry.symbol] += entry.amount_micro
                self.realized_rows[entry.symbol] += 1
        for symbol in ASSETS:
            position = self.book.positions.get(symbol)
            if position is None:
                assert self.net_size[symbol] == 0
                exact_pnl = self.trade_cash[symbol] * 1_000_000
                floor_slack = self.realized_rows[symbol] + 1
                assert exact_pnl - floor_slack <= self.realized[symbol] <= exact_pnl
            else:
                sign = 1 if position.side == "long" else -1
                assert self.net_size[symbol] == sign * position.size

    @staticmethod
    def _label(outcome: Outcome) -> None:
        for fill in outcome.fills:
            event(f"fill: {fill.cause}")
        for change in outcome.status_changes:
            event(f"status: {change.after} ({change.reason})")
        if outcome.rejection is not None:
            event(f"rejected: {outcome.rejection.code}")


PROPERTY = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(
    limits=st.sampled_from([LIMITS, WIDE, RISKY, Limits(min_confidence=D("0.5"))]),
    script=timed_steps,
    ending=endings,
)
def test_no_sequence_of_actions_and_prices_breaks_the_ledger(limits: Limits, script, ending):
    Replay(limits).run(script + list(ending))


leveraged_opens = st.tuples(
    st.just("submit"),
    st.sampled_from(["open_long", "open_short"]),
    st.sampled_from(SYMBOLS),
    st.sampled_from([D(3), D(6), D(9)]).map(lambda f: ("fraction", f)),
    st.sampled_from([10, 20]),
    st.none(),
    st.none(),
    st.just(D(1)),
)
# small moves too, so a book can stop between the maintenance margin and 2/3 of it
creep = st.decimals(D("0.996"), D("1.004"), places=4)
path_factors = st.sampled_from([creep, creep, calm, shock]).flatmap(lambda chosen: chosen)
path_marks = st.tuples(
    st.just("mark"), st.dictionaries(st.sampled_from(SYMBOLS), path_factors, min_size=1)
)
price_paths = st.lists(
    st.tuples(st.integers(0, 2 * HOUR_MS), st.one_of(path_marks, path_marks, funding_steps)),
    min_size=1,
    max_size=30,
)


@PROPERTY
@given(
    opens=st.lists(st.tuples(st.just(0), leveraged_opens), min_size=1, max_size=3), path=price_paths
)
def test_leveraged_books_survive_or_liquidate_cleanly(opens, path):
    replay = Replay(RISKY)
    replay.run(opens + path)
    if replay.book.status == "liquidated":
        backstop = [r for r in replay.rows if r.kind == "backstop_liquidation"]
        if backstop:
            assert replay.book.liquidation_micro == -sum(
                r.amount_micro for r in replay.rows if r.kind != "backstop_liquidation"
            )
        else:
            assert replay.book.liquidation_micro == 0
            assert replay.book.balance_micro == sum(r.amount_micro for r in replay.rows) >= 0


@PROPERTY
@given(
    kind=st.sampled_from(["open_long", "open_short"]),
    symbol=st.sampled_from(SYMBOLS),
    fraction=st.decimals(D(1), D(11), places=1),
    leverage=st.sampled_from([5, 10, 20, 40]),
    ratio=st.decimals(D("0.3"), D("1.3"), places=3),
)
def test_one_mark_liquidates_by_hyperliquids_rule(kind, symbol, fraction, leverage, ratio):
    """Below the maintenance margin the mark closes at market and the account keeps the rest;
    below 2/3 of it the backstop takes everything left."""
    opened = fresh().submit(
        act(kind, symbol, size_fraction=fraction, leverage=leverage), ASSETS, START, 1, RISKY
    )
    assume(opened.rejection is None and opened.fills)
    book = opened.book
    p = book.positions[symbol]
    # the mark at which equity is `ratio` times the maintenance margin (before tick rounding)
    d, balance = (1 if p.side == "long" else -1), Decimal(book.balance_micro).scaleb(-6)
    with wide():
        mark = (d * p.size * p.entry_px - balance) / (
            d * p.size - ratio * p.size / (2 * ASSETS[symbol].max_leverage)
        )
    assume(mark > 0)
    marks = {**START, symbol: round_price(mark, ASSETS[symbol].sz_decimals)}
    equity = book.equity_micro(marks)
    required = maintenance_margin_micro(book.positions[symbol], marks[symbol], ASSETS[symbol])
    outcome = book.mark(ASSETS, marks, 2, RISKY)
    reasons = [c.reason for c in outcome.status_changes]
    event(f"mark: {reasons}")
    if equity >= required:
        assert (reasons, outcome.fills, outcome.book.status) == ([], [], "active")
        return
    (fill,) = outcome.fills
    assert outcome.book.status == "liquidated" and outcome.book.positions == {}
    if 3 * equity < 2 * required:
        assert reasons == ["backstop_liquidation"]
        assert (fill.cause, fill.px, fill.fee_micro) == ("backstop_liquidation", marks[symbol], 0)
        assert outcome.book.balance_micro == 0
        assert outcome.ledger[-1].kind == "backstop_liquidation"
    else:
        assert reasons == ["liquidation"]
        assert fill.cause == "liquidation" and fill.ref_px == marks[symbol]
        against = fill.px <= fill.ref_px if fill.side == "sell" else fill.px >= fill.ref_px
        assert against and round_price(fill.px, ASSETS[symbol].sz_decimals) == fill.px
        assert {e.kind for e in outcome.ledger} <= {"fee", "realized_pnl"}
        kept = outcome.book.balance_micro
        assert 0 <= kept == book.balance_micro + sum(e.amount_micro for e in outcome.ledger)
        assert kept <= equity  # only the fee and the tick came off
