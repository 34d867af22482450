-- +goose Up
-- Issue #12, access.
--
-- An authorization attempt carries a callback state: 32 random bytes put in
-- the redirect_uri WeChat sends the browser back to, known otherwise only to
-- the session that started the attempt. Only its SHA-256 (hex) is stored;
-- '' (attempts from before this migration) matches no callback, so those
-- bind through WeChat's authorized push alone.
ALTER TABLE auth_attempts ADD COLUMN state_hash TEXT NOT NULL DEFAULT '';

-- Rows the sandbox seeded (demo users, tenants, apps, templates, campaigns).
-- Live mode refuses to start while any is listed; `minifleet demo purge`
-- removes them.
CREATE TABLE seed_data (
    kind TEXT    NOT NULL CHECK (kind IN ('user', 'tenant', 'app', 'template', 'campaign')),
    ref  TEXT    NOT NULL, -- the id (appid for apps, template id for templates)
    PRIMARY KEY (kind, ref)
) WITHOUT ROWID;

-- +goose Down
DROP TABLE seed_data;
ALTER TABLE auth_attempts DROP COLUMN state_hash;
