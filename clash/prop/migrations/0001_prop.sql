-- Prop accounts: one row per account, written by the account's actor only. Amounts are integer
-- micro-USD; prices and sizes are exact decimal strings.

CREATE TABLE prop_accounts (
    account_id             TEXT    PRIMARY KEY,
    clone_id               TEXT    NOT NULL,
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
CREATE INDEX prop_accounts_by_clone ON prop_accounts (clone_id, created_at_ms);
CREATE INDEX prop_accounts_open ON prop_accounts (account_id) WHERE finalized_at_ms IS NULL;

CREATE TABLE prop_positions (
    account_id    TEXT    NOT NULL REFERENCES prop_accounts (account_id),
    symbol        TEXT    NOT NULL,
    side          TEXT    NOT NULL CHECK (side IN ('long', 'short')),
    size          TEXT    NOT NULL,
    entry_px      TEXT    NOT NULL,
    leverage      INTEGER NOT NULL CHECK (leverage >= 1),
    margin_micro  INTEGER NOT NULL,
    mark_px       TEXT    NOT NULL,
    stop_loss     TEXT,
    take_profit   TEXT,
    opened_at_ms  INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    PRIMARY KEY (account_id, symbol)
) WITHOUT ROWID;

-- Every submitted action, once: the primary key is the idempotency key. A rejected action is a row
-- with its reason code and message and nothing else.
CREATE TABLE prop_actions (
    account_id  TEXT    NOT NULL REFERENCES prop_accounts (account_id),
    action_id   TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    symbol      TEXT    NOT NULL,
    outcome     TEXT    NOT NULL CHECK (outcome IN ('filled', 'rejected', 'held')),
    reason_code TEXT,
    message     TEXT,
    action      TEXT    NOT NULL,
    result      TEXT    NOT NULL,
    at_ms       INTEGER NOT NULL,
    PRIMARY KEY (account_id, action_id)
) WITHOUT ROWID;

-- One market order per fill; order_no counts an account's orders from 1.
CREATE TABLE prop_orders (
    account_id  TEXT    NOT NULL REFERENCES prop_accounts (account_id),
    order_no    INTEGER NOT NULL,
    action_id   TEXT,
    cause       TEXT    NOT NULL,
    symbol      TEXT    NOT NULL,
    side        TEXT    NOT NULL CHECK (side IN ('buy', 'sell')),
    size        TEXT    NOT NULL,
    ref_px      TEXT    NOT NULL,
    leverage    INTEGER,
    stop_loss   TEXT,
    take_profit TEXT,
    status      TEXT    NOT NULL DEFAULT 'filled',
    at_ms       INTEGER NOT NULL,
    PRIMARY KEY (account_id, order_no)
) WITHOUT ROWID;
CREATE INDEX prop_orders_by_action ON prop_orders (account_id, action_id) WHERE action_id IS NOT NULL;

CREATE TABLE prop_fills (
    account_id     TEXT    NOT NULL,
    order_no       INTEGER NOT NULL,
    action_id      TEXT,
    cause          TEXT    NOT NULL,
    symbol         TEXT    NOT NULL,
    side           TEXT    NOT NULL CHECK (side IN ('buy', 'sell')),
    size           TEXT    NOT NULL,
    px             TEXT    NOT NULL,
    ref_px         TEXT    NOT NULL,
    notional_micro INTEGER NOT NULL,
    fee_micro      INTEGER NOT NULL,
    at_ms          INTEGER NOT NULL,
    PRIMARY KEY (account_id, order_no),
    FOREIGN KEY (account_id, order_no) REFERENCES prop_orders (account_id, order_no)
) WITHOUT ROWID;

-- Every change of cash. An account's balance is the sum of its rows.
CREATE TABLE prop_ledger (
    entry_id     INTEGER PRIMARY KEY,
    account_id   TEXT    NOT NULL REFERENCES prop_accounts (account_id),
    kind         TEXT    NOT NULL CHECK (kind IN ('deposit', 'fee', 'realized_pnl', 'funding', 'liquidation')),
    amount_micro INTEGER NOT NULL,
    symbol       TEXT,
    ref          TEXT,
    at_ms        INTEGER NOT NULL
);
CREATE INDEX prop_ledger_by_account ON prop_ledger (account_id, entry_id);

CREATE TABLE prop_equity_snapshots (
    snapshot_id            INTEGER PRIMARY KEY,
    account_id             TEXT    NOT NULL REFERENCES prop_accounts (account_id),
    at_ms                  INTEGER NOT NULL,
    status                 TEXT    NOT NULL,
    equity_micro           INTEGER NOT NULL,
    balance_micro          INTEGER NOT NULL,
    unrealized_micro       INTEGER NOT NULL,
    peak_equity_micro      INTEGER NOT NULL,
    drawdown_micro         INTEGER NOT NULL,
    day_start_equity_micro INTEGER NOT NULL,
    fees_paid_micro        INTEGER NOT NULL,
    funding_paid_micro     INTEGER NOT NULL,
    gross_exposure_micro   INTEGER NOT NULL
);
CREATE INDEX prop_equity_snapshots_by_account ON prop_equity_snapshots (account_id, at_ms);

CREATE TABLE prop_status_changes (
    change_id  INTEGER PRIMARY KEY,
    account_id TEXT    NOT NULL REFERENCES prop_accounts (account_id),
    before     TEXT    NOT NULL,
    after      TEXT    NOT NULL,
    reason     TEXT    NOT NULL,
    at_ms      INTEGER NOT NULL
);
CREATE INDEX prop_status_changes_by_account ON prop_status_changes (account_id, change_id);

CREATE TABLE prop_admin_actions (
    admin_action_id INTEGER PRIMARY KEY,
    account_id      TEXT    NOT NULL REFERENCES prop_accounts (account_id),
    admin           TEXT    NOT NULL,
    op              TEXT    NOT NULL CHECK (op IN ('pause', 'resume', 'flatten', 'kill')),
    status_before   TEXT    NOT NULL,
    status_after    TEXT    NOT NULL,
    fills           INTEGER NOT NULL,
    at_ms           INTEGER NOT NULL
);
CREATE INDEX prop_admin_actions_by_account ON prop_admin_actions (account_id, admin_action_id);

-- The frozen result of a finalized account (an AccountSnapshot as JSON).
CREATE TABLE prop_results (
    account_id TEXT    PRIMARY KEY REFERENCES prop_accounts (account_id),
    snapshot   TEXT    NOT NULL,
    at_ms      INTEGER NOT NULL
) WITHOUT ROWID;
