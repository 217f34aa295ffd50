//! The schema, one migration a step, each written for both engines. Applied in order at start
//! (`lab_schema` records how far); a step once released is never edited, only followed.
//!
//! Times are milliseconds since the epoch on the store's clock. JSON is kept as text.

/// One schema step.
pub(crate) struct Migration {
    pub postgres: &'static str,
    pub sqlite: &'static str,
}

/// Every step, oldest first.
pub(crate) const MIGRATIONS: &[Migration] = &[Migration {
    postgres: "
        CREATE TABLE lab_boards (
            name TEXT PRIMARY KEY,
            inventory TEXT NOT NULL,
            failures BIGINT NOT NULL DEFAULT 0,
            last_outcome TEXT,
            last_error TEXT,
            last_used BIGINT,
            quarantine_reason TEXT,
            quarantined_at BIGINT
        );
        CREATE TABLE lab_leases (
            board TEXT PRIMARY KEY REFERENCES lab_boards (name) ON DELETE CASCADE,
            ticket BIGINT NOT NULL UNIQUE,
            holder TEXT NOT NULL,
            acquired_at BIGINT NOT NULL,
            expires_at BIGINT NOT NULL
        );
        CREATE TABLE lab_queue (
            ticket BIGSERIAL PRIMARY KEY,
            board TEXT,
            filters TEXT NOT NULL,
            priority BIGINT NOT NULL,
            holder TEXT NOT NULL,
            ttl_ms BIGINT NOT NULL,
            since BIGINT NOT NULL,
            expires_at BIGINT NOT NULL
        );
        CREATE TABLE lab_history (
            id BIGSERIAL PRIMARY KEY,
            board TEXT NOT NULL,
            holder TEXT NOT NULL,
            acquired_at BIGINT NOT NULL,
            ended_at BIGINT NOT NULL,
            outcome TEXT NOT NULL,
            error TEXT
        );
        CREATE INDEX lab_history_board ON lab_history (board, id)
    ",
    sqlite: "
        CREATE TABLE lab_boards (
            name TEXT PRIMARY KEY,
            inventory TEXT NOT NULL,
            failures INTEGER NOT NULL DEFAULT 0,
            last_outcome TEXT,
            last_error TEXT,
            last_used INTEGER,
            quarantine_reason TEXT,
            quarantined_at INTEGER
        );
        CREATE TABLE lab_leases (
            board TEXT PRIMARY KEY REFERENCES lab_boards (name) ON DELETE CASCADE,
            ticket INTEGER NOT NULL UNIQUE,
            holder TEXT NOT NULL,
            acquired_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL
        );
        CREATE TABLE lab_queue (
            ticket INTEGER PRIMARY KEY AUTOINCREMENT,
            board TEXT,
            filters TEXT NOT NULL,
            priority INTEGER NOT NULL,
            holder TEXT NOT NULL,
            ttl_ms INTEGER NOT NULL,
            since INTEGER NOT NULL,
            expires_at INTEGER NOT NULL
        );
        CREATE TABLE lab_history (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            board TEXT NOT NULL,
            holder TEXT NOT NULL,
            acquired_at INTEGER NOT NULL,
            ended_at INTEGER NOT NULL,
            outcome TEXT NOT NULL,
            error TEXT
        );
        CREATE INDEX lab_history_board ON lab_history (board, id)
    ",
}];
