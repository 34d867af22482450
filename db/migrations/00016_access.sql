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

-- A database the sandbox seeded before this migration: its demo accounts
-- (the reserved .test domain), the demo owner's tenant, the demo fleet
-- (tagged "demo" there) and the demo template.
INSERT OR IGNORE INTO seed_data (kind, ref)
    SELECT 'user', id FROM users WHERE email LIKE '%@demo.minifleet.test';
INSERT OR IGNORE INTO seed_data (kind, ref)
    SELECT 'tenant', m.tenant_id FROM memberships m JOIN users u ON u.id = m.user_id
    WHERE u.email = 'owner@demo.minifleet.test' AND m.role = 'owner';
INSERT OR IGNORE INTO seed_data (kind, ref)
    SELECT 'app', t.appid FROM app_tags t
    WHERE t.tag = 'demo' AND t.tenant_id IN (SELECT CAST(ref AS INTEGER) FROM seed_data WHERE kind = 'tenant');
INSERT OR IGNORE INTO seed_data (kind, ref)
    SELECT 'template', template_id FROM templates
    WHERE developer = 'sandbox' AND source_name = '模板小程序' AND user_desc = '店铺模板 首个版本';

-- +goose Down
DROP TABLE seed_data;
ALTER TABLE auth_attempts DROP COLUMN state_hash;
