-- +goose Up
-- Issue #15: API keys. A tenant key (tenant_id set) acts in its tenant; a
-- platform key (tenant_id NULL) acts in the platform domain, on every tenant
-- or on the tenants listed in `tenants` (comma-separated ids). Only the
-- SHA-256 of the secret is stored (the secret holds 32 random bytes, so a
-- plain hash suffices); the secret is shown once. `prefix` is the part shown
-- in lists to recognize a key. last_used_at is written in batches.
CREATE TABLE api_keys (
    id           INTEGER PRIMARY KEY,
    tenant_id    INTEGER REFERENCES tenants(id),
    tenants      TEXT    NOT NULL DEFAULT '',
    name         TEXT    NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
    prefix       TEXT    NOT NULL,
    secret_hash  BLOB    NOT NULL UNIQUE CHECK (length(secret_hash) = 32),
    scopes       TEXT    NOT NULL,
    expires_at   INTEGER NOT NULL DEFAULT 0,
    created_by   INTEGER NOT NULL REFERENCES users(id),
    creator      TEXT    NOT NULL,
    created_at   INTEGER NOT NULL,
    revoked_at   INTEGER NOT NULL DEFAULT 0,
    revoked_by   TEXT    NOT NULL DEFAULT '',
    last_used_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id, id);

-- +goose Down
DROP TABLE api_keys;
