//! The SQLite schema, versioned with `PRAGMA user_version`: each migration runs once, in order.

/// Migrations, index + 1 = the version they bring the file to.
pub(crate) const MIGRATIONS: [&str; 8] = [
    r#"
CREATE TABLE bot_state (
    bot_id TEXT PRIMARY KEY,
    snapshot TEXT,
    snapshot_at INTEGER,
    api_up INTEGER NOT NULL,
    consecutive_failures INTEGER NOT NULL,
    last_error TEXT,
    last_error_kind TEXT,
    polled_at INTEGER NOT NULL
);
CREATE TABLE alert_instances (
    rule TEXT NOT NULL,
    bot_id TEXT NOT NULL,
    platform TEXT NOT NULL,
    phase TEXT NOT NULL,
    active_since INTEGER NOT NULL,
    fired_at INTEGER,
    last_notified_at INTEGER,
    clearing_since INTEGER,
    announced TEXT,
    PRIMARY KEY (rule, bot_id, platform)
);
CREATE TABLE snapshots (
    bot_id TEXT NOT NULL,
    taken_at INTEGER NOT NULL,
    snapshot TEXT NOT NULL
);
CREATE INDEX snapshots_by_bot ON snapshots (bot_id, taken_at);
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at INTEGER NOT NULL,
    event TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    next_attempt_at INTEGER NOT NULL
);
"#,
    r#"
CREATE TABLE cards (
    rule TEXT NOT NULL,
    bot_id TEXT NOT NULL,
    platform TEXT NOT NULL,
    fired_at INTEGER NOT NULL,
    destination TEXT NOT NULL,
    message_id TEXT NOT NULL,
    PRIMARY KEY (rule, bot_id, platform, fired_at, destination)
);
"#,
    r#"
ALTER TABLE outbox ADD COLUMN alert_key TEXT NOT NULL DEFAULT '';
CREATE INDEX outbox_by_alert ON outbox (alert_key, id);
"#,
    // The delivery steps already accepted, as bits of `DeliveryStep`.
    r#"
ALTER TABLE outbox ADD COLUMN steps_done INTEGER NOT NULL DEFAULT 0;
"#,
    // Compact history: samples (key frames and deltas) and five-minute rollups, per bot number.
    // The JSON `snapshots` of earlier versions are moved over by `import_snapshots`.
    r#"
CREATE TABLE history_bots (id INTEGER PRIMARY KEY, bot_id TEXT NOT NULL UNIQUE);
CREATE TABLE history_samples (
    bot INTEGER NOT NULL,
    at INTEGER NOT NULL,
    key INTEGER NOT NULL,
    frame BLOB NOT NULL,
    PRIMARY KEY (bot, at)
) WITHOUT ROWID;
CREATE TABLE history_rollups (
    bot INTEGER NOT NULL,
    bucket INTEGER NOT NULL,
    summary BLOB NOT NULL,
    PRIMARY KEY (bot, bucket)
) WITHOUT ROWID;
"#,
    // Outbox claims (a lease per row), and parked rows flagged instead of due at the end of
    // time (`i64::MAX`, which versions before this one wrote).
    r#"
ALTER TABLE outbox ADD COLUMN claimed_until INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN parked INTEGER NOT NULL DEFAULT 0;
UPDATE outbox SET parked = 1 WHERE next_attempt_at = 9223372036854775807;
"#,
    // Alert ids, for buttons and commands to find an alert by; the rows of earlier versions
    // get theirs from `fill_alert_ids` (they are derived in Rust, not in SQL).
    r#"
ALTER TABLE alert_instances ADD COLUMN alert_id INTEGER;
CREATE INDEX alert_instances_by_id ON alert_instances (alert_id);
"#,
    // Acknowledgements (one per firing, gone with its instance) and the audit trail of what
    // people did to alerts.
    r#"
CREATE TABLE acknowledgements (
    alert_id INTEGER PRIMARY KEY,
    by_id TEXT NOT NULL,
    by_name TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE TABLE audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    actor_id TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    action TEXT NOT NULL,
    alert_id INTEGER NOT NULL,
    subject TEXT NOT NULL
);
"#,
];
