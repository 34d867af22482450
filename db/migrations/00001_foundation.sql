-- +goose Up
-- Times are unix seconds (UTC). Tenant-owned rows carry tenant_id.

CREATE TABLE tenants (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    status     TEXT    NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX tenants_status_id ON tenants (status, id);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    email         TEXT    NOT NULL COLLATE NOCASE UNIQUE,
    name          TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    locale        TEXT    NOT NULL DEFAULT '',
    time_zone     TEXT    NOT NULL DEFAULT '',
    -- staff_role is the platform role ('' for merchants): admin, operator, approver, support.
    staff_role    TEXT    NOT NULL DEFAULT '' CHECK (staff_role IN ('', 'admin', 'operator', 'approver', 'support')),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

CREATE TABLE memberships (
    tenant_id  INTEGER NOT NULL REFERENCES tenants (id),
    user_id    INTEGER NOT NULL REFERENCES users (id),
    role       TEXT    NOT NULL CHECK (role IN ('owner', 'developer', 'approver', 'viewer')),
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, user_id)
);
CREATE INDEX memberships_user ON memberships (user_id);

-- One-time invite links: only the SHA-256 of the token is stored.
CREATE TABLE invites (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants (id),
    token_hash  TEXT    NOT NULL UNIQUE,
    role        TEXT    NOT NULL CHECK (role IN ('owner', 'developer', 'approver', 'viewer')),
    note        TEXT    NOT NULL DEFAULT '',
    created_by  INTEGER NOT NULL REFERENCES users (id),
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    accepted_by INTEGER REFERENCES users (id),
    accepted_at INTEGER,
    revoked_at  INTEGER
);
CREATE INDEX invites_tenant ON invites (tenant_id, id);

-- Append-only audit trail; the triggers make rows immutable.
CREATE TABLE activity (
    id          INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    tenant_id   INTEGER REFERENCES tenants (id),
    actor_id    INTEGER REFERENCES users (id),
    actor       TEXT    NOT NULL DEFAULT '',
    action      TEXT    NOT NULL,
    object      TEXT    NOT NULL DEFAULT '',
    detail      TEXT    NOT NULL DEFAULT '',
    ip          TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX activity_tenant ON activity (tenant_id, id);
CREATE INDEX activity_action ON activity (action, id);
CREATE TRIGGER activity_no_update BEFORE UPDATE ON activity
BEGIN SELECT RAISE(ABORT, 'activity rows are immutable'); END;
CREATE TRIGGER activity_no_delete BEFORE DELETE ON activity
BEGIN SELECT RAISE(ABORT, 'activity rows are immutable'); END;

-- Failed logins, for throttling per account and per IP.
CREATE TABLE login_failures (
    id   INTEGER PRIMARY KEY,
    key  TEXT    NOT NULL,
    at   INTEGER NOT NULL
);
CREATE INDEX login_failures_key ON login_failures (key, at);

-- scs sqlite3store's table.
CREATE TABLE sessions (
    token  TEXT PRIMARY KEY,
    data   BLOB NOT NULL,
    expiry REAL NOT NULL
);
CREATE INDEX sessions_expiry_idx ON sessions (expiry);

-- +goose Down
DROP TABLE sessions;
DROP TABLE login_failures;
DROP TABLE activity;
DROP TABLE invites;
DROP TABLE memberships;
DROP TABLE users;
DROP TABLE tenants;
