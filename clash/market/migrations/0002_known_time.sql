-- Known time: every row market memory serves as-of reads from carries `received_ms`, the instant
-- it became known to us (the writing actor's clock). An as-of read sees a row only if
-- received_ms <= as_of. Rows that can be corrected in place (candles and indicators, keyed by
-- their own time) keep the version they replace in a `_revisions` table, so a read for a past
-- as_of still finds what was known then. See docs/trading-context.md, "Known time".
--
-- Existing rows: candles_1m keeps its received_ms and candles_1h its updated_ms (renamed), both
-- the time of their last write; an indicator row takes its candle's received_ms (else the candle's
-- close); polled rows take their own fetch time (t_ms, observed_ms), which is when they were
-- written; a settled funding row takes its settlement time (its fetch time was not recorded).

ALTER TABLE candles_1h RENAME COLUMN updated_ms TO received_ms;

CREATE TABLE indicators_1m_next (
    symbol      TEXT    NOT NULL,
    t_ms        INTEGER NOT NULL,
    rsi         REAL,
    sma         REAL,
    ema         REAL,
    bb_upper    REAL,
    bb_lower    REAL,
    macd        REAL,
    macd_signal REAL,
    macd_hist   REAL,
    received_ms INTEGER NOT NULL,
    PRIMARY KEY (symbol, t_ms)
) WITHOUT ROWID;
INSERT INTO indicators_1m_next
    SELECT i.symbol, i.t_ms, i.rsi, i.sma, i.ema, i.bb_upper, i.bb_lower, i.macd, i.macd_signal,
           i.macd_hist, coalesce(c.received_ms, i.t_ms + 60000)
    FROM indicators_1m AS i LEFT JOIN candles_1m AS c ON c.symbol = i.symbol AND c.t_ms = i.t_ms;
DROP TABLE indicators_1m;
ALTER TABLE indicators_1m_next RENAME TO indicators_1m;
CREATE INDEX indicators_1m_by_time ON indicators_1m (t_ms);

CREATE TABLE hl_funding_next (
    symbol            TEXT    NOT NULL,
    t_ms              INTEGER NOT NULL,
    rate              REAL    NOT NULL,
    premium           REAL,
    oracle_px         REAL    NOT NULL,
    mark_px           REAL    NOT NULL,
    open_interest     REAL    NOT NULL,
    predicted_rate    REAL,
    predicted_next_ms INTEGER,
    predicted_ms      INTEGER,
    received_ms       INTEGER NOT NULL,
    PRIMARY KEY (symbol, t_ms)
) WITHOUT ROWID;
INSERT INTO hl_funding_next
    SELECT symbol, t_ms, rate, premium, oracle_px, mark_px, open_interest, predicted_rate,
           predicted_next_ms, predicted_ms, t_ms
    FROM hl_funding;
DROP TABLE hl_funding;
ALTER TABLE hl_funding_next RENAME TO hl_funding;
CREATE INDEX hl_funding_by_time ON hl_funding (t_ms);

CREATE TABLE hl_funding_history_next (
    symbol      TEXT    NOT NULL,
    time_ms     INTEGER NOT NULL,
    rate        REAL    NOT NULL,
    premium     REAL    NOT NULL,
    received_ms INTEGER NOT NULL,
    PRIMARY KEY (symbol, time_ms)
) WITHOUT ROWID;
INSERT INTO hl_funding_history_next
    SELECT symbol, time_ms, rate, premium, time_ms FROM hl_funding_history;
DROP TABLE hl_funding_history;
ALTER TABLE hl_funding_history_next RENAME TO hl_funding_history;
CREATE INDEX hl_funding_history_by_time ON hl_funding_history (time_ms);

CREATE TABLE hl_profiles_next (
    symbol            TEXT    NOT NULL,
    t_ms              INTEGER NOT NULL,
    day_ntl_vlm       REAL    NOT NULL,
    open_interest     REAL    NOT NULL,
    oi_ntl            REAL    NOT NULL,
    impact_bid        REAL,
    impact_ask        REAL,
    impact_spread_bps REAL,
    rv_1h             REAL,
    rv_24h            REAL,
    range_1h_pct      REAL,
    range_24h_pct     REAL,
    change_24h_pct    REAL,
    oi_change_1h_pct  REAL,
    oi_change_24h_pct REAL,
    funding_rate      REAL    NOT NULL,
    funding_apr       REAL    NOT NULL,
    premium           REAL,
    predicted_rate    REAL,
    pressure          TEXT    NOT NULL CHECK (pressure IN ('longs_pay', 'shorts_pay', 'neutral')),
    received_ms       INTEGER NOT NULL,
    PRIMARY KEY (symbol, t_ms)
) WITHOUT ROWID;
INSERT INTO hl_profiles_next
    SELECT symbol, t_ms, day_ntl_vlm, open_interest, oi_ntl, impact_bid, impact_ask,
           impact_spread_bps, rv_1h, rv_24h, range_1h_pct, range_24h_pct, change_24h_pct,
           oi_change_1h_pct, oi_change_24h_pct, funding_rate, funding_apr, premium, predicted_rate,
           pressure, t_ms
    FROM hl_profiles;
DROP TABLE hl_profiles;
ALTER TABLE hl_profiles_next RENAME TO hl_profiles;
CREATE INDEX hl_profiles_by_time ON hl_profiles (t_ms);

CREATE TABLE polymarket_summaries_next (
    t_ms                 INTEGER NOT NULL,
    kind                 TEXT    NOT NULL
                         CHECK (kind IN ('immediate', 'later', 'recently_closed', 'asset')),
    symbol               TEXT    NOT NULL,
    rank                 INTEGER NOT NULL,
    market_id            TEXT    NOT NULL,
    slug                 TEXT    NOT NULL,
    question             TEXT    NOT NULL,
    outcomes             TEXT    NOT NULL,
    prices               TEXT    NOT NULL,
    volume_usd_micros    INTEGER NOT NULL,
    liquidity_usd_micros INTEGER NOT NULL,
    end_ms               INTEGER,
    closed               INTEGER NOT NULL,
    resolved_outcome     TEXT,
    event_slug           TEXT,
    received_ms          INTEGER NOT NULL,
    PRIMARY KEY (t_ms, kind, symbol, market_id)
) WITHOUT ROWID;
INSERT INTO polymarket_summaries_next
    SELECT t_ms, kind, symbol, rank, market_id, slug, question, outcomes, prices,
           volume_usd_micros, liquidity_usd_micros, end_ms, closed, resolved_outcome, event_slug,
           t_ms
    FROM polymarket_summaries;
DROP TABLE polymarket_summaries;
ALTER TABLE polymarket_summaries_next RENAME TO polymarket_summaries;

CREATE TABLE macro_metrics_next (
    observed_ms   INTEGER NOT NULL,
    family        TEXT    NOT NULL,
    scope         TEXT    NOT NULL,
    subject       TEXT    NOT NULL,
    metric        TEXT    NOT NULL,
    usd_micros    INTEGER NOT NULL,
    change_pct    REAL,
    as_of_ms      INTEGER NOT NULL,
    linked_symbol TEXT,
    received_ms   INTEGER NOT NULL,
    PRIMARY KEY (scope, subject, metric, observed_ms)
) WITHOUT ROWID;
INSERT INTO macro_metrics_next
    SELECT observed_ms, family, scope, subject, metric, usd_micros, change_pct, as_of_ms,
           linked_symbol, observed_ms
    FROM macro_metrics;
DROP TABLE macro_metrics;
ALTER TABLE macro_metrics_next RENAME TO macro_metrics;
CREATE INDEX macro_metrics_by_time ON macro_metrics (observed_ms);
CREATE INDEX macro_metrics_by_symbol ON macro_metrics (linked_symbol, observed_ms);

-- Superseded versions. A version is visible at as_of when received_ms <= as_of < superseded_ms
-- (the received_ms of the version that replaced it) and its bar is over. A version replaced
-- before its bar was over, or replaced by a write stamped no later, was never visible to an
-- as-of read, so it is not kept.
CREATE TABLE candles_1m_revisions (
    symbol        TEXT    NOT NULL,
    t_ms          INTEGER NOT NULL,
    o             REAL    NOT NULL,
    h             REAL    NOT NULL,
    l             REAL    NOT NULL,
    c             REAL    NOT NULL,
    v             REAL    NOT NULL,
    n             INTEGER NOT NULL,
    received_ms   INTEGER NOT NULL,
    superseded_ms INTEGER NOT NULL,
    PRIMARY KEY (symbol, t_ms, received_ms)
) WITHOUT ROWID;
CREATE INDEX candles_1m_revisions_by_time ON candles_1m_revisions (t_ms);

CREATE TRIGGER candles_1m_keep_revision AFTER UPDATE ON candles_1m
WHEN NEW.received_ms > OLD.received_ms AND NEW.received_ms > OLD.t_ms + 60000
BEGIN
    INSERT OR REPLACE INTO candles_1m_revisions
        VALUES (OLD.symbol, OLD.t_ms, OLD.o, OLD.h, OLD.l, OLD.c, OLD.v, OLD.n, OLD.received_ms,
                NEW.received_ms);
END;

CREATE TABLE candles_1h_revisions (
    symbol        TEXT    NOT NULL,
    t_ms          INTEGER NOT NULL,
    o             REAL    NOT NULL,
    h             REAL    NOT NULL,
    l             REAL    NOT NULL,
    c             REAL    NOT NULL,
    v             REAL    NOT NULL,
    n             INTEGER NOT NULL,
    minutes       INTEGER NOT NULL,
    complete      INTEGER NOT NULL,
    origin        TEXT    NOT NULL CHECK (origin IN ('rollup', 'source')),
    received_ms   INTEGER NOT NULL,
    superseded_ms INTEGER NOT NULL,
    PRIMARY KEY (symbol, t_ms, received_ms)
) WITHOUT ROWID;
CREATE INDEX candles_1h_revisions_by_time ON candles_1h_revisions (t_ms);

CREATE TRIGGER candles_1h_keep_revision AFTER UPDATE ON candles_1h
WHEN NEW.received_ms > OLD.received_ms AND NEW.received_ms > OLD.t_ms + 3600000
BEGIN
    INSERT OR REPLACE INTO candles_1h_revisions
        VALUES (OLD.symbol, OLD.t_ms, OLD.o, OLD.h, OLD.l, OLD.c, OLD.v, OLD.n, OLD.minutes,
                OLD.complete, OLD.origin, OLD.received_ms, NEW.received_ms);
END;

CREATE TABLE indicators_1m_revisions (
    symbol        TEXT    NOT NULL,
    t_ms          INTEGER NOT NULL,
    rsi           REAL,
    sma           REAL,
    ema           REAL,
    bb_upper      REAL,
    bb_lower      REAL,
    macd          REAL,
    macd_signal   REAL,
    macd_hist     REAL,
    received_ms   INTEGER NOT NULL,
    superseded_ms INTEGER NOT NULL,
    PRIMARY KEY (symbol, t_ms, received_ms)
) WITHOUT ROWID;
CREATE INDEX indicators_1m_revisions_by_time ON indicators_1m_revisions (t_ms);

CREATE TRIGGER indicators_1m_keep_revision AFTER UPDATE ON indicators_1m
WHEN NEW.received_ms > OLD.received_ms AND NEW.received_ms > OLD.t_ms + 60000
BEGIN
    INSERT OR REPLACE INTO indicators_1m_revisions
        VALUES (OLD.symbol, OLD.t_ms, OLD.rsi, OLD.sma, OLD.ema, OLD.bb_upper, OLD.bb_lower,
                OLD.macd, OLD.macd_signal, OLD.macd_hist, OLD.received_ms, NEW.received_ms);
END;
