-- +goose Up
-- Images merchants upload into config forms (issue #16), stored by the
-- SHA-256 of the re-encoded bytes, per tenant: the same picture uploaded
-- twice is one row, and one tenant's hash never finds another's image.
CREATE TABLE config_images (
    tenant_id  INTEGER NOT NULL REFERENCES tenants(id),
    hash       TEXT    NOT NULL CHECK (length(hash) = 64),
    mime       TEXT    NOT NULL CHECK (mime IN ('image/jpeg', 'image/png')),
    width      INTEGER NOT NULL CHECK (width > 0),
    height     INTEGER NOT NULL CHECK (height > 0),
    size       INTEGER NOT NULL CHECK (size > 0),
    data       BLOB    NOT NULL,
    created_by TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, hash)
) WITHOUT ROWID;

-- WeChat's content checks, one per app and content (an image's hash, or
-- the SHA-256 of a checked text): media_check_async answers by the
-- wxa_media_check push, matched by trace_id; msg_sec_check answers at once.
-- state: pending (asked, no answer yet), pass, review, risky, failed (WeChat
-- refused the request: errcode), unchecked (no openid WeChat accepts).
CREATE TABLE content_checks (
    id            INTEGER PRIMARY KEY,
    tenant_id     INTEGER NOT NULL REFERENCES tenants(id),
    appid         TEXT    NOT NULL,
    kind          TEXT    NOT NULL CHECK (kind IN ('image', 'text')),
    subject       TEXT    NOT NULL CHECK (length(subject) = 64),
    state         TEXT    NOT NULL CHECK (state IN ('pending', 'pass', 'review', 'risky', 'failed', 'unchecked')),
    trace_id      TEXT    NOT NULL DEFAULT '',
    label         INTEGER NOT NULL DEFAULT 0,
    errcode       INTEGER NOT NULL DEFAULT 0,
    attempts      INTEGER NOT NULL DEFAULT 0,
    requested_at  INTEGER NOT NULL DEFAULT 0,
    decided_at    INTEGER NOT NULL DEFAULT 0,
    next_retry_at INTEGER NOT NULL DEFAULT 0,
    UNIQUE (appid, kind, subject)
);
CREATE INDEX content_checks_trace ON content_checks (trace_id) WHERE trace_id != '';

-- The openid content checks are sent with: WeChat's v2 checks require the
-- openid of a user who opened the Mini Program within the last two hours.
CREATE TABLE app_check_openids (
    appid     TEXT    PRIMARY KEY,
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    openid    TEXT    NOT NULL CHECK (length(openid) BETWEEN 1 AND 128),
    set_by    TEXT    NOT NULL DEFAULT '',
    set_at    INTEGER NOT NULL
);

-- +goose Down
DROP TABLE app_check_openids;
DROP TABLE content_checks;
DROP TABLE config_images;
