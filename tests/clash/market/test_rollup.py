import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clash.market.candles import DAY_MS, HOUR_MS, MINUTE_MS, Candle
from clash.market.rollup import (
    HourCandle,
    hour_bucket,
    past_retention,
    retention_cutoff,
    rollup_hours,
)

T0 = 1_790_517_600_000  # an hour boundary (2026-09-27 14:00 UTC, the ETH fixture's last candle)


def minute(i, o=10.0, h=11.0, low=9.0, c=10.5, v=2.0, n=3):
    return Candle(t_ms=T0 + i * MINUTE_MS, o=o, h=h, l=low, c=c, v=v, n=n)


def test_a_full_hour():
    rows = [minute(i, o=100 + i, h=101 + i, low=99 - i, c=100.5 + i, v=1.5, n=2) for i in range(60)]
    (hour,) = rollup_hours(rows, now_ms=T0 + HOUR_MS)
    assert hour == HourCandle(
        t_ms=T0, o=100, h=160, l=40, c=159.5, v=90.0, n=120, minutes=60, complete=True
    )


def test_all_sixty_minutes_make_an_hour_complete_even_before_it_ends():
    (hour,) = rollup_hours([minute(i) for i in range(60)], now_ms=T0 + 30 * MINUTE_MS)
    assert hour.complete and hour.minutes == 60


def test_the_current_hour_is_partial():
    (hour,) = rollup_hours([minute(i) for i in range(25)], now_ms=T0 + 25 * MINUTE_MS)
    assert not hour.complete
    assert hour.minutes == 25
    assert hour.t_ms == T0


def test_a_past_hour_with_gaps_is_complete():
    (hour,) = rollup_hours([minute(i) for i in (0, 1, 30, 59)], now_ms=T0 + HOUR_MS)
    assert hour.complete and hour.minutes == 4


def test_hour_edges():
    rows = [minute(59), minute(60)]
    first, second = rollup_hours(rows, now_ms=T0 + HOUR_MS + MINUTE_MS)
    assert (first.t_ms, second.t_ms) == (T0, T0 + HOUR_MS)
    assert first.complete and not second.complete
    assert hour_bucket(T0 + HOUR_MS - 1) == T0 // HOUR_MS
    assert hour_bucket(T0 + HOUR_MS) == T0 // HOUR_MS + 1


def test_input_order_does_not_matter():
    rows = [minute(i, o=i, c=i + 0.5) for i in range(10)]
    assert rollup_hours(rows[::-1], T0) == rollup_hours(rows, T0)
    (hour,) = rollup_hours(rows[::-1], T0)
    assert (hour.o, hour.c) == (0, 9.5)


def test_empty():
    assert rollup_hours([], T0) == []


def test_duplicates_and_misaligned_minutes_are_refused():
    with pytest.raises(ValueError, match="duplicate"):
        rollup_hours([minute(3), minute(3)], T0)
    with pytest.raises(ValueError, match="minute boundary"):
        rollup_hours([Candle(T0 + 1, 1, 1, 1, 1, 1, 1)], T0)


@settings(max_examples=100, deadline=None)
@given(
    st.sets(st.integers(0, 5 * 60 - 1), max_size=150),
    st.integers(0, 6 * HOUR_MS),
    st.randoms(use_true_random=False),
)
def test_rollup_invariants(indices, now_offset, rnd):
    rows = []
    for i in sorted(indices):
        o, c = rnd.uniform(1, 2), rnd.uniform(1, 2)
        h, low = max(o, c) + rnd.random(), min(o, c) - rnd.random() / 2
        rows.append(minute(i, o=o, h=h, low=low, c=c, v=rnd.random(), n=rnd.randrange(100)))
    now = T0 + now_offset
    hours = rollup_hours(rows, now)
    assert [h.t_ms for h in hours] == sorted({T0 + (i // 60) * HOUR_MS for i in indices})
    assert sum(h.minutes for h in hours) == len(rows)
    assert sum(h.n for h in hours) == sum(r.n for r in rows)
    for hour in hours:
        inside = [r for r in rows if hour.t_ms <= r.t_ms < hour.t_ms + HOUR_MS]
        assert (hour.o, hour.c) == (inside[0].o, inside[-1].c)
        assert hour.h == max(r.h for r in inside) and hour.l == min(r.l for r in inside)
        assert hour.v == pytest.approx(sum(r.v for r in inside))
        assert hour.complete == (len(inside) == 60 or now >= hour.t_ms + HOUR_MS)


def test_minute_retention_edge():
    now = T0 + 3 * DAY_MS + 17_123
    cutoff = retention_cutoff("1m", now)
    ends_at_edge = now - DAY_MS - MINUTE_MS  # ends exactly at now - 24 h: fully outside
    assert ends_at_edge < cutoff <= ends_at_edge + 1
    rows = [Candle(t, 1, 1, 1, 1, 1, 1) for t in (ends_at_edge, ends_at_edge + 1, now - MINUTE_MS)]
    assert past_retention(rows, "1m", now) == rows[:1]


def test_hour_retention_is_seven_days():
    now = T0 + 30 * DAY_MS
    old = Candle(now - 7 * DAY_MS - HOUR_MS, 1, 1, 1, 1, 1, 1)  # ended exactly 7 days ago
    straddling = Candle(now - 7 * DAY_MS - HOUR_MS + MINUTE_MS, 1, 1, 1, 1, 1, 1)
    fresh = Candle(now - HOUR_MS, 1, 1, 1, 1, 1, 1)
    assert past_retention([fresh, straddling, old], "1h", now) == [old]
    a_day_old_minute = Candle(now - DAY_MS - MINUTE_MS, 1, 1, 1, 1, 1, 1)
    assert past_retention([a_day_old_minute], "1m", now) == [a_day_old_minute]
    assert past_retention([a_day_old_minute], "1h", now) == []
