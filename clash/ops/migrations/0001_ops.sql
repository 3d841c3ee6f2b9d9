CREATE TABLE dead_letters (
    id INTEGER PRIMARY KEY,
    actor TEXT NOT NULL,
    message_type TEXT NOT NULL,
    message_json TEXT NOT NULL,
    error TEXT NOT NULL,
    at_ms INTEGER NOT NULL
);

CREATE TABLE worker_heartbeats (
    name TEXT PRIMARY KEY,
    supervisor TEXT NOT NULL,
    state TEXT NOT NULL,
    restarts INTEGER NOT NULL,
    processed INTEGER NOT NULL,
    mailbox_depth INTEGER NOT NULL,
    last_heartbeat_ms INTEGER,
    recorded_at_ms INTEGER NOT NULL
);

CREATE TABLE admin_messages (
    id INTEGER PRIMARY KEY,
    admin TEXT NOT NULL,
    actor TEXT NOT NULL,
    message_json TEXT NOT NULL,
    outcome TEXT NOT NULL,
    at_ms INTEGER NOT NULL
);
