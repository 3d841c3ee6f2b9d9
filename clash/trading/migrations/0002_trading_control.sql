-- Trading control by a clone's owner (the Trading Clone Block): the model strength an activation
-- runs at, and an audit row for every change of trading on/off or of that strength.

-- NULL: the published version's model strength; else the owner's choice for this account,
-- checked against the clone's tier when set and again at every tick.
ALTER TABLE trading_activations ADD COLUMN model_strength TEXT
    CHECK (model_strength IS NULL OR model_strength IN ('light', 'standard', 'max'));

-- Who changed what, when: one row per effective change (a repeated request that changes nothing
-- writes none). `version` is the published version running when the change was made.
CREATE TABLE trading_control_log (
    id             INTEGER PRIMARY KEY,
    clone_id       INTEGER NOT NULL,
    account_id     TEXT    NOT NULL,
    changed_by     TEXT    NOT NULL,
    op             TEXT    NOT NULL CHECK (op IN ('on', 'off', 'model_strength')),
    model_strength TEXT,
    version        INTEGER,
    at_ms          INTEGER NOT NULL
);
CREATE INDEX trading_control_log_by_clone ON trading_control_log (clone_id, id);
