-- +goose Up
-- Files for WeChat's reviewers: screenshots and screen recordings
-- (submit_audit preview_info) and images explaining a resubmission
-- (feedback_stuff). A release's payload names them by content hash, so an
-- approval binds the exact files; they are uploaded to WeChat when the
-- release is submitted, since WeChat's media ids last only three days.
CREATE TABLE audit_media (
    tenant_id    INTEGER NOT NULL REFERENCES tenants (id),
    sha256       TEXT    NOT NULL CHECK (length(sha256) = 64),
    kind         TEXT    NOT NULL CHECK (kind IN ('image', 'video')),
    content_type TEXT    NOT NULL,
    data         BLOB    NOT NULL CHECK (length(data) BETWEEN 1 AND 10485760),
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, sha256)
);

-- WeChat's media ids for those files, per app and upload API, reused while
-- they are fresh.
CREATE TABLE audit_media_ids (
    appid       TEXT    NOT NULL,
    sha256      TEXT    NOT NULL,
    api         TEXT    NOT NULL CHECK (api IN ('preview', 'feedback')),
    media_id    TEXT    NOT NULL,
    uploaded_at INTEGER NOT NULL,
    PRIMARY KEY (appid, sha256, api)
);

-- +goose Down
DROP TABLE audit_media_ids;
DROP TABLE audit_media;
