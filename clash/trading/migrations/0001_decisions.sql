-- Decision runs and their actions: the summaries, kept for good. Large payloads (context, prompt,
-- response, reasoning) live in the artifact store; decision_artifacts keeps their keys.

-- One row per decision run (one clone, one trading prompt branch, one asset, one due time),
-- written once when the run ends. `run_id` is deterministic for live runs (the prop action id).
CREATE TABLE decision_runs (
    seq               INTEGER PRIMARY KEY,
    run_id            TEXT    NOT NULL UNIQUE,
    clone_id          INTEGER NOT NULL,
    version           INTEGER,
    account_id        TEXT,
    dry_run           INTEGER NOT NULL DEFAULT 0 CHECK (dry_run IN (0, 1)),
    prompt_node_id    TEXT    NOT NULL,
    symbol            TEXT    NOT NULL,
    due_ms            INTEGER NOT NULL,
    started_ms        INTEGER NOT NULL,
    finished_ms       INTEGER NOT NULL,
    status            TEXT    NOT NULL CHECK (status IN ('filled', 'held', 'rejected', 'hold_only', 'failed',
                                                         'entitlement_denied', 'skipped')),
    engine            TEXT    NOT NULL,
    model             TEXT,
    prompt_version    TEXT,
    cached            INTEGER NOT NULL DEFAULT 0,
    attempts          INTEGER NOT NULL DEFAULT 0,
    latency_ms        INTEGER NOT NULL DEFAULT 0,
    engine_latency_ms INTEGER NOT NULL DEFAULT 0,
    input_tokens      INTEGER NOT NULL DEFAULT 0,
    output_tokens     INTEGER NOT NULL DEFAULT 0,
    cost_micro_usd    INTEGER NOT NULL DEFAULT 0,
    est_prompt_tokens INTEGER,
    legal             TEXT    NOT NULL DEFAULT '[]',
    candidate_rank    INTEGER,
    candidate_reason  TEXT,
    context_sha256    TEXT,
    context_summary   TEXT,
    error_code        TEXT,
    error             TEXT,
    CHECK (account_id IS NOT NULL OR dry_run = 1)
);
CREATE INDEX decision_runs_by_clone ON decision_runs (clone_id, seq);
CREATE INDEX decision_runs_by_clone_symbol ON decision_runs (clone_id, symbol, seq);
CREATE INDEX decision_runs_by_clone_status ON decision_runs (clone_id, status, seq);
CREATE INDEX decision_runs_by_due ON decision_runs (due_ms);

-- The action a run proposed, and what became of it: validated (parsed, legal) or rejected (by the
-- answer checks or the prop gates), then executed (a prop fill) or held. One per run at most.
CREATE TABLE decision_actions (
    run_id              TEXT    PRIMARY KEY REFERENCES decision_runs (run_id),
    clone_id            INTEGER NOT NULL,
    account_id          TEXT,
    dry_run             INTEGER NOT NULL DEFAULT 0,
    symbol              TEXT    NOT NULL,
    action_id           TEXT    NOT NULL,
    status              TEXT    NOT NULL CHECK (status IN ('validated', 'rejected', 'executed', 'held')),
    kind                TEXT,
    stage               TEXT    CHECK (stage IN ('answer', 'gates')),
    reason_code         TEXT,
    reason              TEXT,
    confidence          TEXT,
    size_usd            TEXT,
    size_fraction       TEXT,
    leverage            INTEGER,
    take_profit         TEXT,
    stop_loss           TEXT,
    invalidation        TEXT,
    rationale           TEXT,
    order_no            INTEGER,
    fill_side           TEXT,
    fill_size           TEXT,
    fill_px             TEXT,
    fill_notional_micro INTEGER,
    fill_fee_micro      INTEGER,
    proposed_ms         INTEGER NOT NULL,
    decided_ms          INTEGER NOT NULL,
    executed_ms         INTEGER,
    CHECK (status != 'executed' OR (executed_ms IS NOT NULL AND fill_px IS NOT NULL)),
    CHECK (status != 'rejected' OR reason_code IS NOT NULL)
) WITHOUT ROWID;
CREATE INDEX decision_actions_entries ON decision_actions (account_id, symbol, executed_ms)
    WHERE status = 'executed' AND kind IN ('open_long', 'open_short');

-- Artifact-store keys: one object per run (its context, prompt, response and reasoning), with each
-- part's size and digest. A row outlives its object: retention deletes the object, sets deleted_ms.
CREATE TABLE decision_artifacts (
    key          TEXT    PRIMARY KEY,
    run_id       TEXT    NOT NULL UNIQUE,
    parts        TEXT    NOT NULL,
    stored_bytes INTEGER NOT NULL,
    created_ms   INTEGER NOT NULL,
    expires_ms   INTEGER NOT NULL,
    deleted_ms   INTEGER
) WITHOUT ROWID;
CREATE INDEX decision_artifacts_expiring ON decision_artifacts (expires_ms) WHERE deleted_ms IS NULL;

-- Which (clone, prop account) pairs the scheduler runs; re-activated at every start.
CREATE TABLE trading_activations (
    clone_id         INTEGER NOT NULL,
    account_id       TEXT    NOT NULL UNIQUE,
    active           INTEGER NOT NULL CHECK (active IN (0, 1)),
    demo             INTEGER NOT NULL DEFAULT 0,
    activated_ms     INTEGER NOT NULL,
    deactivated_ms   INTEGER,
    PRIMARY KEY (clone_id, account_id)
) WITHOUT ROWID;

-- Admin pauses: a clone, or a source family (an engine such as `anthropic`, or a data source such
-- as `polymarket`). A paused run is recorded as `skipped`.
CREATE TABLE trading_pauses (
    scope     TEXT    NOT NULL CHECK (scope IN ('clone', 'source')),
    name      TEXT    NOT NULL,
    paused_by TEXT    NOT NULL,
    reason    TEXT    NOT NULL DEFAULT '',
    paused_ms INTEGER NOT NULL,
    PRIMARY KEY (scope, name)
) WITHOUT ROWID;

CREATE TABLE trading_admin_log (
    id     INTEGER PRIMARY KEY,
    admin  TEXT    NOT NULL,
    op     TEXT    NOT NULL CHECK (op IN ('pause', 'resume')),
    scope  TEXT    NOT NULL,
    name   TEXT    NOT NULL,
    reason TEXT    NOT NULL DEFAULT '',
    at_ms  INTEGER NOT NULL
);

-- The response cache's store: an identical prompt (template version, model, system, user) is
-- answered from here across restarts.
CREATE TABLE engine_cache (
    key        TEXT    PRIMARY KEY,
    answer     BLOB    NOT NULL,
    created_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX engine_cache_by_age ON engine_cache (created_ms);
