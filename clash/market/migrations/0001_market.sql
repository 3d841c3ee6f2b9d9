-- Market memory: global, not per clone. Only clash/market/memory.py reads or writes these tables.
-- Times are integer epoch milliseconds (UTC). Prices and volumes are REAL (Hyperliquid prices have at
-- most 5 significant figures; a float's shortest repr gives them back exactly).

-- The asset registry: perps and spot pairs, with channel capability and the latest 24h stats.
CREATE TABLE hyperliquid_assets (
    symbol          TEXT    PRIMARY KEY,      -- "BTC", spot "HYPE/USDC"
    coin            TEXT    NOT NULL UNIQUE,  -- the wire name: "BTC", "PURR/USDC", "@107"
    kind            TEXT    NOT NULL CHECK (kind IN ('perp', 'spot')),
    asset_index     INTEGER NOT NULL,
    base            TEXT,
    quote           TEXT,
    sz_decimals     INTEGER NOT NULL,
    max_leverage    INTEGER NOT NULL,
    only_isolated   INTEGER NOT NULL DEFAULT 0,
    delisted        INTEGER NOT NULL DEFAULT 0,
    enabled         INTEGER NOT NULL DEFAULT 0,
    channels        TEXT    NOT NULL,         -- JSON list of channel names this asset supports
    categories      TEXT    NOT NULL,         -- JSON list from the taxonomy ("Unmapped" if none)
    day_ntl_vlm     REAL,
    prev_day_px     REAL,
    mark_px         REAL,
    stats_ms        INTEGER,
    first_seen_ms   INTEGER NOT NULL,
    updated_ms      INTEGER NOT NULL
);

CREATE TABLE candles_1m (
    symbol      TEXT    NOT NULL,
    t_ms        INTEGER NOT NULL,             -- open time; the candle is known at t_ms + 60 000
    o           REAL    NOT NULL,
    h           REAL    NOT NULL,
    l           REAL    NOT NULL,
    c           REAL    NOT NULL,
    v           REAL    NOT NULL,
    n           INTEGER NOT NULL,
    received_ms INTEGER NOT NULL,
    PRIMARY KEY (symbol, t_ms)
) WITHOUT ROWID;
CREATE INDEX candles_1m_by_time ON candles_1m (t_ms);

CREATE TABLE candles_1h (
    symbol     TEXT    NOT NULL,
    t_ms       INTEGER NOT NULL,
    o          REAL    NOT NULL,
    h          REAL    NOT NULL,
    l          REAL    NOT NULL,
    c          REAL    NOT NULL,
    v          REAL    NOT NULL,
    n          INTEGER NOT NULL,
    minutes    INTEGER NOT NULL,              -- 1-minute candles rolled in (0 for a source candle)
    complete   INTEGER NOT NULL,
    origin     TEXT    NOT NULL CHECK (origin IN ('rollup', 'source')),
    updated_ms INTEGER NOT NULL,
    PRIMARY KEY (symbol, t_ms)
) WITHOUT ROWID;
CREATE INDEX candles_1h_by_time ON candles_1h (t_ms);

-- Indicators of each closed 1-minute candle (same key), and the running state that resumes them.
CREATE TABLE indicators_1m (
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
    PRIMARY KEY (symbol, t_ms)
) WITHOUT ROWID;
CREATE INDEX indicators_1m_by_time ON indicators_1m (t_ms);

CREATE TABLE indicator_state (
    symbol     TEXT    PRIMARY KEY,
    last_t_ms  INTEGER NOT NULL,
    state      TEXT    NOT NULL,              -- msgspec JSON of clash.market.indicators.IndicatorState
    updated_ms INTEGER NOT NULL
);

CREATE TABLE hl_mids (
    symbol TEXT    PRIMARY KEY,
    px     REAL    NOT NULL,
    at_ms  INTEGER NOT NULL
);

-- Perp funding as polled from metaAndAssetCtxs (+ the latest predictedFundings), perps only.
CREATE TABLE hl_funding (
    symbol            TEXT    NOT NULL,
    t_ms              INTEGER NOT NULL,
    rate              REAL    NOT NULL,       -- hourly rate
    premium           REAL,
    oracle_px         REAL    NOT NULL,
    mark_px           REAL    NOT NULL,
    open_interest     REAL    NOT NULL,
    predicted_rate    REAL,
    predicted_next_ms INTEGER,
    predicted_ms      INTEGER,                -- when the prediction was fetched
    PRIMARY KEY (symbol, t_ms)
) WITHOUT ROWID;
CREATE INDEX hl_funding_by_time ON hl_funding (t_ms);

CREATE TABLE hl_funding_history (
    symbol  TEXT    NOT NULL,
    time_ms INTEGER NOT NULL,
    rate    REAL    NOT NULL,
    premium REAL    NOT NULL,
    PRIMARY KEY (symbol, time_ms)
) WITHOUT ROWID;
CREATE INDEX hl_funding_history_by_time ON hl_funding_history (time_ms);

-- Compact liquidity / volatility / positioning profiles, one row per perp per profile interval.
CREATE TABLE hl_profiles (
    symbol            TEXT    NOT NULL,
    t_ms              INTEGER NOT NULL,
    day_ntl_vlm       REAL    NOT NULL,
    open_interest     REAL    NOT NULL,
    oi_ntl            REAL    NOT NULL,
    impact_bid        REAL,
    impact_ask        REAL,
    impact_spread_bps REAL,
    rv_1h             REAL,                   -- realised volatility, annualised, from 1m log returns
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
    PRIMARY KEY (symbol, t_ms)
) WITHOUT ROWID;
CREATE INDEX hl_profiles_by_time ON hl_profiles (t_ms);

-- Polymarket context: one snapshot of compact rows per poll.
CREATE TABLE polymarket_summaries (
    t_ms                 INTEGER NOT NULL,    -- fetch time
    kind                 TEXT    NOT NULL CHECK (kind IN ('immediate', 'later', 'recently_closed', 'asset')),
    symbol               TEXT    NOT NULL,    -- '' for the global kinds
    rank                 INTEGER NOT NULL,
    market_id            TEXT    NOT NULL,
    slug                 TEXT    NOT NULL,
    question             TEXT    NOT NULL,
    outcomes             TEXT    NOT NULL,    -- JSON list of strings
    prices               TEXT    NOT NULL,    -- JSON list of decimal strings
    volume_usd_micros    INTEGER NOT NULL,
    liquidity_usd_micros INTEGER NOT NULL,
    end_ms               INTEGER,
    closed               INTEGER NOT NULL,
    resolved_outcome     TEXT,
    event_slug           TEXT,
    PRIMARY KEY (t_ms, kind, symbol, market_id)
) WITHOUT ROWID;

CREATE TABLE macro_metrics (
    observed_ms   INTEGER NOT NULL,           -- fetch time: when we knew the value
    family        TEXT    NOT NULL,
    scope         TEXT    NOT NULL,
    subject       TEXT    NOT NULL,
    metric        TEXT    NOT NULL,
    usd_micros    INTEGER NOT NULL,
    change_pct    REAL,
    as_of_ms      INTEGER NOT NULL,           -- the data's own date
    linked_symbol TEXT,
    PRIMARY KEY (scope, subject, metric, observed_ms)
) WITHOUT ROWID;
CREATE INDEX macro_metrics_by_time ON macro_metrics (observed_ms);
CREATE INDEX macro_metrics_by_symbol ON macro_metrics (linked_symbol, observed_ms);

-- Source health: counters per (source, channel), per-asset freshness, and periodic snapshots.
CREATE TABLE ingestion_health (
    source               TEXT    NOT NULL,
    channel              TEXT    NOT NULL,
    last_attempt_ms      INTEGER,
    last_success_ms      INTEGER,
    last_data_ms         INTEGER,
    last_error           TEXT,
    last_error_ms        INTEGER,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    rows_total           INTEGER NOT NULL DEFAULT 0,
    errors_total         INTEGER NOT NULL DEFAULT 0,
    decode_errors_total  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (source, channel)
) WITHOUT ROWID;

CREATE TABLE ingestion_freshness (
    source       TEXT    NOT NULL,
    channel      TEXT    NOT NULL,
    symbol       TEXT    NOT NULL,
    last_data_ms INTEGER NOT NULL,
    PRIMARY KEY (source, channel, symbol)
) WITHOUT ROWID;

CREATE TABLE ingestion_snapshots (
    source              TEXT    NOT NULL,
    channel             TEXT    NOT NULL,
    t_ms                INTEGER NOT NULL,
    status              TEXT    NOT NULL,
    rows_total          INTEGER NOT NULL,
    errors_total        INTEGER NOT NULL,
    decode_errors_total INTEGER NOT NULL,
    lag_ms              INTEGER,
    coverage            REAL,
    PRIMARY KEY (source, channel, t_ms)
) WITHOUT ROWID;
CREATE INDEX ingestion_snapshots_by_time ON ingestion_snapshots (t_ms);
