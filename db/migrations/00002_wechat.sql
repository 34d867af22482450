-- +goose Up
-- WeChat protocol layer: pushes, component credentials, authorizer tokens,
-- durable jobs and leases. Times are unix seconds (UTC). Every secret column
-- holds a store.Box ciphertext whose associated data names its row, so a
-- sealed value copied to another row does not open.

-- Every accepted push, recorded before we answer WeChat. dedupe_key is a hash
-- of the push's natural key (which can contain a ticket or an auth code).
-- xml is the decrypted push with secret values masked; xml_sealed is the
-- whole decrypted push, sealed ("push:<dedupe_key>").
CREATE TABLE wechat_pushes (
    id           INTEGER PRIMARY KEY,
    route        TEXT    NOT NULL CHECK (route IN ('component', 'app')),
    kind         TEXT    NOT NULL,
    appid        TEXT    NOT NULL DEFAULT '', -- the authorizer concerned, '' for tickets
    dedupe_key   TEXT    NOT NULL UNIQUE,
    create_time  INTEGER NOT NULL DEFAULT 0,  -- WeChat's CreateTime
    received_at  INTEGER NOT NULL,
    xml          TEXT    NOT NULL,
    xml_sealed   TEXT    NOT NULL,
    -- applied: its state change is done; queued: a job follows it up;
    -- recorded: kept, nothing to apply (yet); stale: older than what we hold.
    outcome      TEXT    NOT NULL DEFAULT 'recorded' CHECK (outcome IN ('applied', 'queued', 'recorded', 'stale')),
    duplicates   INTEGER NOT NULL DEFAULT 0,  -- retries of the same push seen after the first
    last_seen_at INTEGER NOT NULL
);
CREATE INDEX wechat_pushes_kind ON wechat_pushes (kind, id);
CREATE INDEX wechat_pushes_appid ON wechat_pushes (appid, id);
CREATE INDEX wechat_pushes_outcome ON wechat_pushes (outcome, id);

-- The component's credentials, one row per component appid (changing the
-- configured appid must not reuse another component's ticket).
CREATE TABLE wechat_component (
    appid               TEXT PRIMARY KEY,
    ticket              TEXT    NOT NULL DEFAULT '', -- sealed "component:<appid>:ticket"
    ticket_create_time  INTEGER NOT NULL DEFAULT 0,  -- CreateTime of the push that carried it
    ticket_received_at  INTEGER NOT NULL DEFAULT 0,
    ticket_requested_at INTEGER NOT NULL DEFAULT 0,  -- last api_start_push_ticket, for rate limiting
    access_token        TEXT    NOT NULL DEFAULT '', -- sealed "component:<appid>:token"
    access_expires_at   INTEGER NOT NULL DEFAULT 0,
    next_refresh_at     INTEGER NOT NULL DEFAULT 0,
    failures            INTEGER NOT NULL DEFAULT 0,
    last_error          TEXT    NOT NULL DEFAULT '',
    updated_at          INTEGER NOT NULL
);

-- Things staff should know about (stale ticket, refresh tokens lost).
CREATE TABLE wechat_warnings (
    id     INTEGER PRIMARY KEY,
    at     INTEGER NOT NULL,
    kind   TEXT    NOT NULL,
    appid  TEXT    NOT NULL DEFAULT '',
    detail TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX wechat_warnings_at ON wechat_warnings (at);

-- Mini Programs (and accounts) authorized to the platform. Rows are never
-- deleted: unauthorization clears the tokens and keeps the history.
CREATE TABLE authorizers (
    appid             TEXT PRIMARY KEY,
    tenant_id         INTEGER REFERENCES tenants (id),
    -- pending: a push announced it, the code is not exchanged yet.
    status            TEXT    NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'authorized', 'unauthorized')),
    nickname          TEXT    NOT NULL DEFAULT '',
    user_name         TEXT    NOT NULL DEFAULT '', -- original id gh_…, the ToUserName of its pushes
    func_info         TEXT    NOT NULL DEFAULT '[]', -- granted permission set ids, JSON
    access_token      TEXT    NOT NULL DEFAULT '', -- sealed "authorizer:<appid>:access"
    access_expires_at INTEGER NOT NULL DEFAULT 0,
    refresh_token     TEXT    NOT NULL DEFAULT '', -- sealed "authorizer:<appid>:refresh"
    token_state       TEXT    NOT NULL DEFAULT 'fresh' CHECK (token_state IN ('fresh', 'refreshing', 'failing', 'needs_reauth')),
    next_refresh_at   INTEGER NOT NULL DEFAULT 0,
    failures          INTEGER NOT NULL DEFAULT 0,
    last_error        TEXT    NOT NULL DEFAULT '',
    auth_event_at     INTEGER NOT NULL DEFAULT 0, -- CreateTime of the newest authorization push applied
    authorized_at     INTEGER,
    unauthorized_at   INTEGER,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);
CREATE INDEX authorizers_refresh ON authorizers (status, next_refresh_at);
CREATE INDEX authorizers_tenant ON authorizers (tenant_id);
CREATE INDEX authorizers_token_state ON authorizers (token_state);

-- Durable background jobs. A running job whose lease ended (its process
-- died) is claimed again.
CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY,
    kind         TEXT    NOT NULL,
    dedupe_key   TEXT UNIQUE, -- NULL: no deduplication
    payload      TEXT    NOT NULL DEFAULT '{}',
    state        TEXT    NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'done', 'failed')),
    run_at       INTEGER NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL DEFAULT 8,
    last_error   TEXT    NOT NULL DEFAULT '',
    lease_holder TEXT    NOT NULL DEFAULT '',
    lease_until  INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX jobs_due ON jobs (state, run_at);

-- Named leases: background work and token refreshes run where the lease is.
CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
);

-- +goose Down
DROP TABLE leases;
DROP TABLE jobs;
DROP TABLE authorizers;
DROP TABLE wechat_warnings;
DROP TABLE wechat_component;
DROP TABLE wechat_pushes;
