-- +goose Up
-- What the release pipeline needs beyond 00005: each tenant's contact for
-- the privacy guideline, platform settings (server domains), markers that
-- say a WeChat call may have been sent, and what a release collected on the
-- way (experience QR, privacy scan, preflight report).

-- The tenant's contact, written into the privacy guideline (setprivacysetting
-- owner_setting: at least one contact and a notice method).
CREATE TABLE tenant_contacts (
    tenant_id     INTEGER PRIMARY KEY REFERENCES tenants (id),
    name          TEXT    NOT NULL DEFAULT '',
    email         TEXT    NOT NULL DEFAULT '',
    phone         TEXT    NOT NULL DEFAULT '',
    notice_method TEXT    NOT NULL DEFAULT '',
    updated_at    INTEGER NOT NULL,
    updated_by    TEXT    NOT NULL DEFAULT ''
);

-- Platform-wide settings by key; value is JSON.
CREATE TABLE platform_settings (
    key        TEXT    PRIMARY KEY,
    value      TEXT    NOT NULL,
    updated_at INTEGER NOT NULL,
    updated_by TEXT    NOT NULL DEFAULT ''
);

-- A row is written before a non-repeatable WeChat call (commit, submit_audit,
-- release, revertcoderelease) of a release at seq; finished_at is set once the
-- answer is known. A row without finished_at after a crash means the call may
-- have reached WeChat: reconcile before sending again.
CREATE TABLE release_calls (
    release_id  INTEGER NOT NULL REFERENCES releases (id),
    call        TEXT    NOT NULL,
    seq         INTEGER NOT NULL,
    detail      TEXT    NOT NULL DEFAULT '',  -- e.g. the rollback target app_version
    started_at  INTEGER NOT NULL,
    finished_at INTEGER,
    outcome     TEXT    NOT NULL DEFAULT '',  -- 'ok' or 'errcode:N'
    PRIMARY KEY (release_id, call, seq)
);

-- What a release collected: the experience QR, the privacy scan, preflight.
CREATE TABLE release_artifacts (
    release_id    INTEGER PRIMARY KEY REFERENCES releases (id),
    tenant_id     INTEGER NOT NULL REFERENCES tenants (id),
    qr_image      BLOB,
    qr_type       TEXT    NOT NULL DEFAULT '',
    qr_at         INTEGER,
    without_auth  TEXT    NOT NULL DEFAULT '[]', -- JSON array of API names
    without_conf  TEXT    NOT NULL DEFAULT '[]',
    privacy_keys  TEXT    NOT NULL DEFAULT '[]', -- getprivacysetting privacy_list
    scanned_at    INTEGER,
    preflight     TEXT    NOT NULL DEFAULT '[]', -- JSON array of checks
    preflight_at  INTEGER
);

CREATE INDEX release_events_event ON release_events (event, at);

-- +goose Down
DROP INDEX release_events_event;
DROP TABLE release_artifacts;
DROP TABLE release_calls;
DROP TABLE platform_settings;
DROP TABLE tenant_contacts;
