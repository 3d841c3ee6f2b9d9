import math
from itertools import pairwise

import msgspec
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clash.market.indicators import (
    FIELDS,
    FIRST_BAR,
    IndicatorBank,
    IndicatorState,
    compute_full,
)

# Wilder's RSI(14) worked example as published by StockCharts ChartSchool, "Relative Strength
# Index (RSI)", in its spreadsheet cs-rsi.xls: 33 closes (the article's table shows them rounded
# to 2 decimals; the spreadsheet keeps 4) and the RSI column from the 15th close on.
STOCKCHARTS_CLOSES = [
    44.3389,
    44.0902,
    44.1497,
    43.6124,
    44.3278,
    44.8264,
    45.0955,
    45.4245,
    45.8433,
    46.0826,
    45.8931,
    46.0328,
    45.6140,
    46.2820,
    46.2820,
    46.0028,
    46.0328,
    46.4116,
    46.2222,
    45.6439,
    46.2122,
    46.2521,
    45.7137,
    46.4515,
    45.7835,
    45.3548,
    44.0288,
    44.1783,
    44.2181,
    44.5672,
    43.4205,
    42.6628,
    43.1314,
]
STOCKCHARTS_RSI = [
    70.53,
    66.32,
    66.55,
    69.41,
    66.36,
    57.97,
    62.93,
    63.26,
    56.06,
    62.38,
    54.71,
    50.42,
    39.99,
    41.46,
    41.87,
    45.46,
    37.30,
    33.08,
    37.77,
]


# --- an independent reference, written the textbook way ---------------------------------------


def ref_sma(xs, n):
    return [None if t < n - 1 else sum(xs[t - n + 1 : t + 1]) / n for t in range(len(xs))]


def ref_pstdev(xs, n):
    out = []
    for t in range(len(xs)):
        if t < n - 1:
            out.append(None)
            continue
        w = xs[t - n + 1 : t + 1]
        m = sum(w) / n
        out.append(math.sqrt(sum((v - m) ** 2 for v in w) / n))
    return out


def ref_ema(xs, n):
    alpha = 2 / (n + 1)
    out = [None] * len(xs)
    if len(xs) >= n:
        out[n - 1] = sum(xs[:n]) / n
        for t in range(n, len(xs)):
            out[t] = alpha * xs[t] + (1 - alpha) * out[t - 1]
    return out


def ref_macd(xs):
    fast, slow = ref_ema(xs, 12), ref_ema(xs, 26)
    line = [None if s is None else f - s for f, s in zip(fast, slow)]
    start = 25
    signal = [None] * len(xs)
    if len(xs) > start:
        signal[start:] = ref_ema(line[start:], 9)
    hist = [None if s is None else m - s for m, s in zip(line, signal)]
    return line, signal, hist


def ref_rsi(xs, n=14):
    out = [None] * len(xs)
    if len(xs) <= n:
        return out
    changes = [b - a for a, b in pairwise(xs)]
    gains = [max(c, 0.0) for c in changes]
    losses = [max(-c, 0.0) for c in changes]
    g, lo = sum(gains[:n]) / n, sum(losses[:n]) / n
    for t in range(n, len(xs)):
        if t > n:
            g = (g * (n - 1) + gains[t - 1]) / n
            lo = (lo * (n - 1) + losses[t - 1]) / n
        if lo == 0:
            out[t] = 50.0 if g == 0 else 100.0
        else:
            out[t] = 100 - 100 / (1 + g / lo)
    return out


def reference(xs):
    sma, sd = ref_sma(xs, 20), ref_pstdev(xs, 20)
    macd, signal, hist = ref_macd(xs)
    return {
        "rsi": ref_rsi(xs),
        "sma": sma,
        "ema": ref_ema(xs, 20),
        "bb_upper": [None if m is None else m + 2 * s for m, s in zip(sma, sd)],
        "bb_lower": [None if m is None else m - 2 * s for m, s in zip(sma, sd)],
        "macd": macd,
        "macd_signal": signal,
        "macd_hist": hist,
    }


def arr(values):
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def assert_agree(field, got, want, price_scale):
    """1e-9 relative, with an absolute floor of 1e-9 of the value's scale (MACD crosses zero)."""
    scale = 100.0 if field == "rsi" else price_scale
    np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-9 * scale, err_msg=field)


returns = st.lists(st.one_of(st.just(0.0), st.floats(-0.08, 0.08, allow_nan=False)), max_size=160)
start_price = st.floats(1e-4, 1e5)


def walk(p0, rs):
    return list(p0 * np.cumprod(1.0 + np.asarray(rs, dtype=float)))


# --- published values and hand checks ---------------------------------------------------------


def test_rsi_matches_the_stockcharts_table():
    rsi = compute_full(STOCKCHARTS_CLOSES).rsi
    assert np.isnan(rsi[:14]).all()
    assert [round(v, 2) for v in rsi[14:]] == STOCKCHARTS_RSI


def test_rsi_first_value_by_hand():
    changes = np.diff(STOCKCHARTS_CLOSES[:15])
    gain, loss = changes[changes > 0].sum() / 14, -changes[changes < 0].sum() / 14
    expected = 100 * gain / (gain + loss)
    assert compute_full(STOCKCHARTS_CLOSES).rsi[14] == pytest.approx(expected, rel=1e-12)


def test_bollinger_on_1_to_20_uses_population_std():
    out = compute_full(np.arange(1.0, 21.0))
    sigma = math.sqrt((20**2 - 1) / 12)  # population std of 1..20
    assert out.sma[19] == 10.5
    assert out.bb_upper[19] == pytest.approx(10.5 + 2 * sigma, rel=1e-15)
    assert out.bb_lower[19] == pytest.approx(10.5 - 2 * sigma, rel=1e-15)


def test_ema_is_seeded_with_the_sma():
    out = compute_full(np.arange(1.0, 22.0))
    assert out.ema[19] == 10.5
    assert out.ema[20] == pytest.approx(10.5 + 2 / 21 * (21 - 10.5), rel=1e-15)


def test_macd_of_a_ramp_is_the_lag_difference():
    # An SMA-seeded EMA(n) of a unit ramp lags it by exactly (n - 1) / 2 from its first value.
    out = compute_full(100.0 + np.arange(80.0))
    np.testing.assert_allclose(out.macd[25:], 12.5 - 5.5, rtol=1e-12)
    np.testing.assert_allclose(out.macd_signal[33:], 7.0, rtol=1e-12)
    np.testing.assert_allclose(out.macd_hist[33:], 0.0, atol=1e-11)


def test_each_indicator_starts_at_its_first_bar():
    out = compute_full(walk(50.0, np.random.default_rng(3).normal(0, 0.01, 59)))
    for field in FIELDS:
        values = getattr(out, field)
        first = FIRST_BAR[field]
        assert np.isnan(values[:first]).all(), field
        assert np.isfinite(values[first:]).all(), field


@pytest.mark.parametrize("n", [0, 1, 10, 14, 19])
def test_fewer_bars_than_the_periods(n):
    out = compute_full(np.linspace(10.0, 11.0, n))
    for field in FIELDS:
        values = getattr(out, field)
        assert values.shape == (n,)
        assert np.isnan(values[: min(n, FIRST_BAR[field])]).all()
    if n >= 15:
        assert np.isfinite(out.rsi[14:]).all()


def test_flat_prices():
    closes = [3.3] * 60  # 3.3 is not a binary fraction: sums of it round
    for point in [compute_full(closes).point(59), run_state(closes)[-1], run_bank(closes)[-1]]:
        assert point.rsi == 50.0
        assert point.sma == point.ema == point.bb_upper == point.bb_lower == 3.3
        assert point.macd == point.macd_signal == point.macd_hist == 0.0


def test_only_gains_and_only_losses():
    up = compute_full(np.arange(1.0, 40.0)).rsi
    down = compute_full(np.arange(40.0, 1.0, -1.0)).rsi
    assert (up[14:] == 100.0).all()
    assert (down[14:] == 0.0).all()


def test_tiny_prices_are_not_treated_as_flat():
    closes = 1e-6 * (1.0 + 0.001 * np.sin(np.arange(40.0)))  # moves of ~1e-9, below TA-Lib's zero
    rsi = compute_full(closes).rsi[14:]
    assert (rsi != 50.0).all()
    np.testing.assert_allclose(rsi, arr(ref_rsi(list(closes))[14:]), rtol=1e-9)


def test_bad_input_is_rejected():
    with pytest.raises(ValueError):
        compute_full([1.0, float("nan"), 2.0])
    with pytest.raises(ValueError):
        compute_full(5.0)
    with pytest.raises(ValueError):
        IndicatorState().update(float("inf"))
    bank = IndicatorBank(2)
    with pytest.raises(ValueError):
        bank.update_many([1.0, float("inf")])
    with pytest.raises(ValueError):
        bank.update_many([1.0, 2.0, 3.0])


# --- the three paths agree --------------------------------------------------------------------


def run_state(closes):
    state = IndicatorState()
    return [state.update(c) for c in closes]


def run_bank(closes):
    bank = IndicatorBank(1)
    return [bank.update_many([c]).point(0) for c in closes]


@settings(max_examples=150, deadline=None)
@given(start_price, returns)
def test_full_matches_the_reference(p0, rs):
    closes = walk(p0, rs)
    got, want = compute_full(closes), reference(closes)
    for field in FIELDS:
        assert_agree(field, getattr(got, field), arr(want[field]), p0)


@settings(max_examples=150, deadline=None)
@given(start_price, returns)
def test_incremental_matches_full_at_every_step(p0, rs):
    closes = walk(p0, rs)
    full = compute_full(closes)
    points = run_state(closes)
    for field in FIELDS:
        stepwise = arr([getattr(p, field) for p in points])
        assert_agree(field, stepwise, getattr(full, field), max(closes, default=1.0))


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_update_many_equals_per_asset_states_exactly(data):
    n_assets = data.draw(st.integers(1, 6))
    minutes = data.draw(st.integers(0, 70))
    seed = data.draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    closes = 10 ** rng.uniform(-4, 5, n_assets)[:, None] * np.cumprod(
        1 + rng.normal(0, 0.01, (n_assets, minutes)) * (rng.random((n_assets, minutes)) < 0.8),
        axis=1,
    )
    closes[rng.random(closes.shape) < 0.1] = np.nan  # missing candles
    bank = IndicatorBank(n_assets)
    states = [IndicatorState() for _ in range(n_assets)]
    for t in range(minutes):
        out = bank.update_many(closes[:, t])
        for a, state in enumerate(states):
            if np.isnan(closes[a, t]):
                assert all(np.isnan(getattr(out, f)[a]) for f in FIELDS)
            else:
                assert out.point(a) == state.update(closes[a, t])
    assert bank.states() == states


def test_a_missing_minute_is_skipped_not_interpolated():
    rng = np.random.default_rng(7)
    closes = 100 * np.cumprod(1 + rng.normal(0, 0.01, 80))
    with_gap = closes.copy()
    with_gap[40] = np.nan
    bank = IndicatorBank(1)
    last = [bank.update_many([c]).point(0) for c in with_gap][-1]
    present = np.delete(closes, 40)
    assert last == run_state(present)[-1]
    full = compute_full(present)
    for field in FIELDS:
        assert getattr(last, field) == pytest.approx(getattr(full, field)[-1], rel=1e-9, abs=1e-9)


def test_state_survives_persistence_midway():
    rng = np.random.default_rng(11)
    closes = list(1000 * np.cumprod(1 + rng.normal(0, 0.005, 90)))
    whole = run_state(closes)
    state = IndicatorState()
    for c in closes[:37]:
        state.update(c)
    restored = msgspec.json.decode(msgspec.json.encode(state), type=IndicatorState)
    assert [restored.update(c) for c in closes[37:]] == whole[37:]


def test_bank_round_trips_through_states():
    rng = np.random.default_rng(5)
    states = [IndicatorState() for _ in range(4)]
    for a, state in enumerate(states):
        for c in 50 * np.cumprod(1 + rng.normal(0, 0.01, 10 * a + 3)):
            state.update(c)
    bank = IndicatorBank.from_states(states)
    assert bank.states() == states
    nxt = rng.uniform(40, 60, 4)
    out = bank.update_many(nxt)
    assert [out.point(a) for a in range(4)] == [s.update(c) for s, c in zip(states, nxt)]


def test_state_with_an_inconsistent_window_is_refused():
    bad = b'{"count": 5, "window": [1.0, 2.0]}'
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(bad, type=IndicatorState)


def test_full_accepts_many_series_at_once():
    rng = np.random.default_rng(9)
    levels = 10 ** rng.uniform(-3, 4, (7, 1))
    closes = levels * np.cumprod(1 + rng.normal(0, 0.01, (7, 120)), axis=1)
    batch = compute_full(closes)
    for a in range(7):
        single = compute_full(closes[a])
        for field in FIELDS:
            np.testing.assert_array_equal(getattr(batch, field)[a], getattr(single, field))
