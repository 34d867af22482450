-- +goose Up
-- Templates with their config schemas, versioned app configs, releases and
-- their event log. appid is plain TEXT: apps live in authorizers, and a
-- release's history must outlive an unauthorization.

-- The platform's template library as last synced, plus what staff wrote.
CREATE TABLE templates (
    template_id   INTEGER PRIMARY KEY,               -- WeChat's id
    template_type INTEGER NOT NULL DEFAULT 0 CHECK (template_type IN (0, 1)),
    draft_id      INTEGER NOT NULL DEFAULT 0,
    user_version  TEXT    NOT NULL DEFAULT '',
    user_desc     TEXT    NOT NULL DEFAULT '',
    source_appid  TEXT    NOT NULL DEFAULT '',
    source_name   TEXT    NOT NULL DEFAULT '',
    developer     TEXT    NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL DEFAULT 0,        -- WeChat's create_time
    schema_json   TEXT    NOT NULL DEFAULT '',       -- app/extconfig schema; '' until written
    allowed_keys  TEXT    NOT NULL DEFAULT '[]',     -- JSON array, from the schema's x-minifleet
    pages         TEXT    NOT NULL DEFAULT '[]',     -- JSON array of page paths
    schema_at     INTEGER,
    schema_by     TEXT    NOT NULL DEFAULT '',
    synced_at     INTEGER NOT NULL,
    deleted_at    INTEGER                            -- gone from WeChat; kept for history
);

-- Every save of an app's config is a new row; rows never change.
CREATE TABLE app_configs (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants (id),
    appid       TEXT    NOT NULL,
    version     INTEGER NOT NULL CHECK (version > 0),
    template_id INTEGER NOT NULL,
    json        TEXT    NOT NULL,
    author_id   INTEGER REFERENCES users (id),
    author      TEXT    NOT NULL DEFAULT '',
    note        TEXT    NOT NULL DEFAULT '',
    restored_from INTEGER NOT NULL DEFAULT 0,       -- the version this one copies, 0 if none
    created_at  INTEGER NOT NULL,
    UNIQUE (tenant_id, appid, version)
);
CREATE TRIGGER app_configs_no_update BEFORE UPDATE ON app_configs
BEGIN SELECT RAISE(ABORT, 'config versions are immutable'); END;
CREATE TRIGGER app_configs_no_delete BEFORE DELETE ON app_configs
BEGIN SELECT RAISE(ABORT, 'config versions are immutable'); END;

-- One row per release attempt; state follows app/model's transition table.
-- seq grows with every transition and is the compare-and-set token.
CREATE TABLE releases (
    id             INTEGER PRIMARY KEY,
    tenant_id      INTEGER NOT NULL REFERENCES tenants (id),
    appid          TEXT    NOT NULL,
    template_id    INTEGER NOT NULL,
    config_version INTEGER NOT NULL DEFAULT 0,
    user_version   TEXT    NOT NULL,
    user_desc      TEXT    NOT NULL DEFAULT '',
    ext_json       TEXT    NOT NULL DEFAULT '',
    submit_json    TEXT    NOT NULL DEFAULT '{}',    -- preflight choices (model.SubmitChoices)
    payload_hash   TEXT    NOT NULL,
    state          TEXT    NOT NULL,
    open           INTEGER NOT NULL DEFAULT 1 CHECK (open IN (0, 1)),
    seq            INTEGER NOT NULL DEFAULT 0,
    preparer_id    INTEGER NOT NULL REFERENCES users (id),
    preparer       TEXT    NOT NULL DEFAULT '',
    approver_id    INTEGER REFERENCES users (id),
    approver       TEXT    NOT NULL DEFAULT '',
    approval_hash  TEXT    NOT NULL DEFAULT '',
    approved_at    INTEGER,
    auditid        INTEGER NOT NULL DEFAULT 0,
    reason         TEXT    NOT NULL DEFAULT '',
    screenshots    TEXT    NOT NULL DEFAULT '',     -- '|'-separated media ids
    errcode        INTEGER NOT NULL DEFAULT 0,
    gray_percent   INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    submitted_at   INTEGER,
    decided_at     INTEGER,
    released_at    INTEGER
);
-- WeChat keeps one trial version and one audit per app: one open release per app.
CREATE UNIQUE INDEX releases_one_open ON releases (appid) WHERE open = 1;
CREATE INDEX releases_app ON releases (tenant_id, appid, id);
CREATE INDEX releases_state ON releases (state, updated_at);

-- Append-only: every transition with who or what caused it.
CREATE TABLE release_events (
    id         INTEGER PRIMARY KEY,
    release_id INTEGER NOT NULL REFERENCES releases (id),
    tenant_id  INTEGER NOT NULL REFERENCES tenants (id),
    seq        INTEGER NOT NULL,
    from_state TEXT    NOT NULL DEFAULT '',
    event      TEXT    NOT NULL,
    to_state   TEXT    NOT NULL,
    cause      TEXT    NOT NULL CHECK (cause IN ('user', 'push', 'poll', 'system')),
    actor_id   INTEGER REFERENCES users (id),
    actor      TEXT    NOT NULL DEFAULT '',
    detail     TEXT    NOT NULL DEFAULT '',
    errcode    INTEGER NOT NULL DEFAULT 0,
    at         INTEGER NOT NULL,
    UNIQUE (release_id, seq)
);
CREATE INDEX release_events_tenant ON release_events (tenant_id, id);
CREATE TRIGGER release_events_no_update BEFORE UPDATE ON release_events
BEGIN SELECT RAISE(ABORT, 'release events are immutable'); END;
CREATE TRIGGER release_events_no_delete BEFORE DELETE ON release_events
BEGIN SELECT RAISE(ABORT, 'release events are immutable'); END;

-- +goose Down
DROP TABLE release_events;
DROP TABLE releases;
DROP TABLE app_configs;
DROP TABLE templates;
