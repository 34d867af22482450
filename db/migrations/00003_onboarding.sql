-- +goose Up
-- Merchant onboarding: authorization attempts, conflicts, the app details
-- fetched with api_get_authorizer_info, and reconcile runs.

-- One "Authorize a Mini Program" click: a single-use pre_auth_code bound to
-- the tenant and the user who asked. The code itself is only stored sealed
-- (to show the link again to its creator); lookups go by its SHA-256.
CREATE TABLE auth_attempts (
    id               INTEGER PRIMARY KEY,
    tenant_id        INTEGER NOT NULL REFERENCES tenants (id),
    user_id          INTEGER NOT NULL REFERENCES users (id),
    code_hash        TEXT    NOT NULL UNIQUE,           -- sha256 hex of the pre_auth_code
    code_sealed      TEXT    NOT NULL,                  -- sealed "attempt:<code_hash>"
    biz_appid        TEXT    NOT NULL DEFAULT '',       -- re-authorization of one named app
    created_at       INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    -- pending: link shown; exchanging: code being exchanged; retrying: the
    -- exchange failed and is retried; bound: the app is this tenant's;
    -- refused: bound to another tenant or not a Mini Program; failed: gave up;
    -- cancelled: the merchant cancelled.
    state            TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'exchanging', 'retrying', 'bound', 'refused', 'failed', 'cancelled')),
    appid            TEXT    NOT NULL DEFAULT '',
    error            TEXT    NOT NULL DEFAULT '',       -- translation key of what went wrong
    auth_code_hash   TEXT    NOT NULL DEFAULT '',       -- sha256 hex of the auth code that completed it
    auth_code_sealed TEXT    NOT NULL DEFAULT '',       -- sealed "attempt:<id>:auth_code", only while retried
    tries            INTEGER NOT NULL DEFAULT 0,
    next_try_at      INTEGER NOT NULL DEFAULT 0,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX auth_attempts_tenant ON auth_attempts (tenant_id, id);
CREATE INDEX auth_attempts_retry ON auth_attempts (state, next_try_at);

-- An app authorized by a tenant while bound to another: never moved
-- silently; staff resolve it.
CREATE TABLE app_conflicts (
    id                 INTEGER PRIMARY KEY,
    appid              TEXT    NOT NULL,
    owner_tenant_id    INTEGER NOT NULL REFERENCES tenants (id),
    claimant_tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    attempt_id         INTEGER REFERENCES auth_attempts (id),
    created_at         INTEGER NOT NULL,
    resolved_at        INTEGER,
    resolved_by        INTEGER REFERENCES users (id),
    resolution         TEXT    NOT NULL DEFAULT '' CHECK (resolution IN ('', 'kept', 'moved'))
);
CREATE INDEX app_conflicts_open ON app_conflicts (resolved_at, id);

-- What api_get_authorizer_info says about each app.
ALTER TABLE authorizers ADD COLUMN head_img TEXT NOT NULL DEFAULT '';
ALTER TABLE authorizers ADD COLUMN principal_name TEXT NOT NULL DEFAULT '';
ALTER TABLE authorizers ADD COLUMN account_kind TEXT NOT NULL DEFAULT '' CHECK (account_kind IN ('', 'miniprogram', 'official_account'));
ALTER TABLE authorizers ADD COLUMN service_type INTEGER NOT NULL DEFAULT 0;
ALTER TABLE authorizers ADD COLUMN verify_type INTEGER NOT NULL DEFAULT -1;
ALTER TABLE authorizers ADD COLUMN account_status INTEGER NOT NULL DEFAULT 0; -- 1 normal, 14 deregistered, 16 banned, 18 warned, 19 frozen
ALTER TABLE authorizers ADD COLUMN categories TEXT NOT NULL DEFAULT '[]'; -- [{"first":…,"second":…}]
ALTER TABLE authorizers ADD COLUMN domains TEXT NOT NULL DEFAULT '{}';    -- server domains by kind
ALTER TABLE authorizers ADD COLUMN info_at INTEGER NOT NULL DEFAULT 0;    -- when the above was fetched
ALTER TABLE authorizers ADD COLUMN bound_at INTEGER;                      -- when tenant_id was set
-- Why the app cannot be managed until re-authorized: '' (fine),
-- 'missing_code_perm' (no permission set 18), 'not_miniprogram'.
ALTER TABLE authorizers ADD COLUMN reauth_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE authorizers ADD COLUMN reconciled_at INTEGER NOT NULL DEFAULT 0; -- last seen in api_get_authorizer_list
-- The permission sets last written to the activity log, so each change is
-- logged once as a difference whichever path (push, redirect) saw it first.
ALTER TABLE authorizers ADD COLUMN logged_sets TEXT NOT NULL DEFAULT '[]';
CREATE INDEX authorizers_updated ON authorizers (updated_at, appid);

-- Reconcile runs (nightly and "reconcile now").
CREATE TABLE reconcile_runs (
    id           INTEGER PRIMARY KEY,
    started_at   INTEGER NOT NULL,
    finished_at  INTEGER,
    trigger      TEXT    NOT NULL DEFAULT 'nightly', -- nightly | manual
    listed       INTEGER NOT NULL DEFAULT 0,         -- authorizers WeChat listed
    backfilled   INTEGER NOT NULL DEFAULT 0,         -- refresh tokens recovered
    unauthorized INTEGER NOT NULL DEFAULT 0,         -- silent unauthorizations found
    unbound      INTEGER NOT NULL DEFAULT 0,         -- authorized to us, bound to no tenant
    error        TEXT    NOT NULL DEFAULT ''
);

-- +goose Down
DROP TABLE reconcile_runs;
DROP INDEX authorizers_updated;
ALTER TABLE authorizers DROP COLUMN logged_sets;
ALTER TABLE authorizers DROP COLUMN reconciled_at;
ALTER TABLE authorizers DROP COLUMN reauth_reason;
ALTER TABLE authorizers DROP COLUMN bound_at;
ALTER TABLE authorizers DROP COLUMN info_at;
ALTER TABLE authorizers DROP COLUMN domains;
ALTER TABLE authorizers DROP COLUMN categories;
ALTER TABLE authorizers DROP COLUMN account_status;
ALTER TABLE authorizers DROP COLUMN verify_type;
ALTER TABLE authorizers DROP COLUMN service_type;
ALTER TABLE authorizers DROP COLUMN account_kind;
ALTER TABLE authorizers DROP COLUMN principal_name;
ALTER TABLE authorizers DROP COLUMN head_img;
DROP TABLE app_conflicts;
DROP TABLE auth_attempts;
