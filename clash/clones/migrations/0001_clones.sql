-- Clones: private strategy (drafts, immutable versions), entitlements, public profile, reports,
-- moderation. Only clash/clones/service.py and clash/clones/moderation.py read or write these.
-- Times are integer epoch milliseconds (UTC). Graph and layout columns hold canonical JSON.

CREATE TABLE clones (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    owner_id             TEXT    NOT NULL,
    name                 TEXT    NOT NULL,                 -- the owner's private label
    status               TEXT    NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived')),
    strategy_public      INTEGER NOT NULL DEFAULT 0,       -- others may read and fork published versions
    forked_from_clone_id INTEGER REFERENCES clones (id),
    forked_from_version  INTEGER,
    latest_version       INTEGER NOT NULL DEFAULT 0,       -- 0: nothing published yet
    created_at_ms        INTEGER NOT NULL,
    updated_at_ms        INTEGER NOT NULL,
    archived_at_ms       INTEGER
);
CREATE INDEX clones_by_owner ON clones (owner_id, id);
CREATE INDEX clones_by_source ON clones (forked_from_clone_id);

-- One editable draft per clone; `revision` counts saves (the pipeline ETag).
CREATE TABLE clone_drafts (
    clone_id       INTEGER PRIMARY KEY REFERENCES clones (id),
    revision       INTEGER NOT NULL,
    base_clone_id  INTEGER REFERENCES clones (id),        -- the version this draft was edited from
    base_version   INTEGER,
    graph          TEXT    NOT NULL,
    layout         TEXT    NOT NULL,
    model_strength TEXT    NOT NULL,
    saved_by       TEXT    NOT NULL,
    saved_at_ms    INTEGER NOT NULL
);

-- The provenance log: numbered, immutable, hash-chained to the parent version (which may belong
-- to the clone a fork came from). hash = sha256(parent_hash + "\n" + canonical content).
CREATE TABLE clone_versions (
    clone_id        INTEGER NOT NULL REFERENCES clones (id),
    version         INTEGER NOT NULL CHECK (version >= 1),
    graph           TEXT    NOT NULL,
    layout          TEXT    NOT NULL,
    model_strength  TEXT    NOT NULL,
    parent_clone_id INTEGER,
    parent_version  INTEGER,
    parent_hash     TEXT    NOT NULL,                      -- '' for a first version from scratch
    hash            TEXT    NOT NULL,
    note            TEXT    NOT NULL DEFAULT '',
    published_by    TEXT    NOT NULL,
    published_at_ms INTEGER NOT NULL,
    PRIMARY KEY (clone_id, version)
);

CREATE TRIGGER clone_versions_immutable BEFORE UPDATE ON clone_versions
BEGIN
    SELECT RAISE(ABORT, 'clone versions are immutable');
END;

CREATE TRIGGER clone_versions_permanent BEFORE DELETE ON clone_versions
BEGIN
    SELECT RAISE(ABORT, 'clone versions are immutable');
END;

-- Tier grants, append-only; the newest row per clone is the clone's tier.
CREATE TABLE clone_entitlement_grants (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    clone_id      INTEGER NOT NULL REFERENCES clones (id),
    tier          TEXT    NOT NULL CHECK (tier IN ('starter', 'builder', 'pro')),
    source        TEXT    NOT NULL,                        -- 'default', 'admin', 'economy:<purchase>', ...
    reason        TEXT    NOT NULL DEFAULT '',
    granted_by    TEXT    NOT NULL,
    granted_at_ms INTEGER NOT NULL
);
CREATE INDEX clone_entitlement_grants_by_clone ON clone_entitlement_grants (clone_id, id);

-- Public identity, apart from the private strategy. Submitting publishes; reports and admins
-- retire (report-based moderation, not pre-approval).
CREATE TABLE clone_profiles (
    clone_id        INTEGER PRIMARY KEY REFERENCES clones (id),
    display_name    TEXT    NOT NULL,
    avatar_url      TEXT,
    bio             TEXT    NOT NULL DEFAULT '',
    status          TEXT    NOT NULL CHECK (status IN ('published', 'retired')),
    submitted_at_ms INTEGER NOT NULL,
    updated_at_ms   INTEGER NOT NULL,
    retired_at_ms   INTEGER,
    retired_by      TEXT,
    retired_reason  TEXT
);
CREATE INDEX clone_profiles_by_status ON clone_profiles (status, clone_id);

CREATE TABLE profile_reports (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    clone_id         INTEGER NOT NULL REFERENCES clone_profiles (clone_id),
    reporter_id      TEXT    NOT NULL,
    reason           TEXT    NOT NULL CHECK (reason IN ('spam', 'impersonation', 'offensive', 'scam', 'other')),
    note             TEXT    NOT NULL DEFAULT '',
    profile_snapshot TEXT    NOT NULL,                     -- the profile as the reporter saw it
    status           TEXT    NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'upheld', 'dismissed')),
    created_at_ms    INTEGER NOT NULL,
    resolved_at_ms   INTEGER,
    resolved_by      TEXT
);
CREATE UNIQUE INDEX profile_reports_one_open ON profile_reports (clone_id, reporter_id) WHERE status = 'open';
CREATE INDEX profile_reports_by_status ON profile_reports (status, clone_id);

CREATE TABLE moderation_actions (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    clone_id         INTEGER NOT NULL REFERENCES clone_profiles (clone_id),
    action           TEXT    NOT NULL CHECK (action IN ('retire', 'reinstate')),
    admin            TEXT    NOT NULL,
    reason           TEXT    NOT NULL,
    reports_resolved INTEGER NOT NULL,
    at_ms            INTEGER NOT NULL
);
CREATE INDEX moderation_actions_by_clone ON moderation_actions (clone_id, id);

CREATE TRIGGER moderation_actions_append_only BEFORE UPDATE ON moderation_actions
BEGIN
    SELECT RAISE(ABORT, 'moderation actions are append-only');
END;
