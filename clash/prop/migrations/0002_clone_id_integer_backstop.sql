-- 1. prop_accounts.clone_id becomes INTEGER (clone ids are integers everywhere, 0001 stored them as
--    text). The frozen results (prop_results.snapshot, an AccountSnapshot as JSON) get an integer
--    clone_id too, and the row fields the snapshot now carries (day, funding_hour, orders_count).
-- 2. Liquidations follow Hyperliquid: a liquidation closes at market and the account keeps the
--    rest, only a backstop liquidation takes all remaining collateral. Every liquidation written
--    before this migration took everything, so its rows are renamed to backstop_liquidation
--    (ledger kind and ref, fill and order cause, status-change reason).
--
-- SQLite cannot change a column's type in place: the table is copied aside, dropped and created
-- again. Its children (positions, actions, orders, ledger, ...) reference it, so the foreign-key
-- checks are deferred to the commit, by which time every account row is back.

PRAGMA defer_foreign_keys = ON;

CREATE TABLE prop_accounts_0001 AS SELECT * FROM prop_accounts;
DROP TABLE prop_accounts;

CREATE TABLE prop_accounts (
    account_id             TEXT    PRIMARY KEY,
    clone_id               INTEGER NOT NULL CHECK (typeof(clone_id) = 'integer'),
    owner_user_id          TEXT,
    kind                   TEXT    NOT NULL CHECK (kind IN ('sandbox', 'audition', 'race', 'backtest')),
    universe               TEXT    NOT NULL,
    limits                 TEXT    NOT NULL,
    status                 TEXT    NOT NULL CHECK (status IN ('active', 'paused', 'halted', 'liquidated')),
    halt_reason            TEXT,
    balance_micro          INTEGER NOT NULL,
    peak_equity_micro      INTEGER NOT NULL,
    day_start_equity_micro INTEGER NOT NULL,
    day                    INTEGER NOT NULL,
    funding_hour           INTEGER NOT NULL,
    deposits_micro         INTEGER NOT NULL,
    realized_pnl_micro     INTEGER NOT NULL,
    fees_paid_micro        INTEGER NOT NULL,
    funding_paid_micro     INTEGER NOT NULL,
    liquidation_micro      INTEGER NOT NULL,
    max_drawdown_ppm       INTEGER NOT NULL DEFAULT 0,
    orders_count           INTEGER NOT NULL DEFAULT 0,
    actions_filled         INTEGER NOT NULL DEFAULT 0,
    actions_rejected       INTEGER NOT NULL DEFAULT 0,
    actions_held           INTEGER NOT NULL DEFAULT 0,
    created_at_ms          INTEGER NOT NULL,
    updated_at_ms          INTEGER NOT NULL,
    finalized_at_ms        INTEGER
);

-- A clone id that is not a number (only tests and benches wrote those) becomes 0.
INSERT INTO prop_accounts
SELECT account_id, CAST(clone_id AS INTEGER), owner_user_id, kind, universe, limits, status,
       halt_reason, balance_micro, peak_equity_micro, day_start_equity_micro, day, funding_hour,
       deposits_micro, realized_pnl_micro, fees_paid_micro, funding_paid_micro, liquidation_micro,
       max_drawdown_ppm, orders_count, actions_filled, actions_rejected, actions_held,
       created_at_ms, updated_at_ms, finalized_at_ms
FROM prop_accounts_0001;
DROP TABLE prop_accounts_0001;

CREATE INDEX prop_accounts_by_clone ON prop_accounts (clone_id, created_at_ms);
CREATE INDEX prop_accounts_open ON prop_accounts (account_id) WHERE finalized_at_ms IS NULL;

UPDATE prop_results SET snapshot = (
    SELECT json_set(
        prop_results.snapshot,
        '$.clone_id', a.clone_id,
        '$.day', a.day,
        '$.funding_hour', a.funding_hour,
        '$.orders_count', a.orders_count
    )
    FROM prop_accounts a
    WHERE a.account_id = prop_results.account_id
);

-- The ledger's kind check names the new kind: the table is rebuilt (nothing references it).
CREATE TABLE prop_ledger_0002 (
    entry_id     INTEGER PRIMARY KEY,
    account_id   TEXT    NOT NULL REFERENCES prop_accounts (account_id),
    kind         TEXT    NOT NULL CHECK (kind IN ('deposit', 'fee', 'realized_pnl', 'funding', 'backstop_liquidation')),
    amount_micro INTEGER NOT NULL,
    symbol       TEXT,
    ref          TEXT,
    at_ms        INTEGER NOT NULL
);
INSERT INTO prop_ledger_0002 (entry_id, account_id, kind, amount_micro, symbol, ref, at_ms)
SELECT entry_id, account_id,
       CASE kind WHEN 'liquidation' THEN 'backstop_liquidation' ELSE kind END,
       amount_micro, symbol,
       CASE ref WHEN 'liquidation' THEN 'backstop_liquidation' ELSE ref END,
       at_ms
FROM prop_ledger;
DROP TABLE prop_ledger;
ALTER TABLE prop_ledger_0002 RENAME TO prop_ledger;
CREATE INDEX prop_ledger_by_account ON prop_ledger (account_id, entry_id);

UPDATE prop_orders SET cause = 'backstop_liquidation' WHERE cause = 'liquidation';
UPDATE prop_fills SET cause = 'backstop_liquidation' WHERE cause = 'liquidation';
UPDATE prop_status_changes SET reason = 'backstop_liquidation' WHERE reason = 'liquidation';
