-- +goose Up
-- Staff search over apps: a trigram full-text index of each authorizer's
-- appid, nickname, gh_ user name, principal name and bound tenant's name, so
-- a substring search of three or more characters is an index lookup instead
-- of LIKE scans of every app (docs/benchmarks.md, "Onboarding"). Triggers
-- keep it in step with the authorizers and with tenant renames.
--
-- authorizers has no INTEGER PRIMARY KEY, so its rowids may change (VACUUM,
-- VACUUM INTO backups); the index is keyed instead by app_search_keys, whose
-- ids are stable.

CREATE TABLE app_search_keys (
    id    INTEGER PRIMARY KEY,
    appid TEXT    NOT NULL UNIQUE
);

-- A search matches by appid and orders by updated_at: covered, no table reads.
CREATE INDEX authorizers_appid_updated ON authorizers (appid, updated_at);

CREATE VIRTUAL TABLE app_search USING fts5(doc, tokenize = 'trigram');

INSERT INTO app_search_keys (appid) SELECT appid FROM authorizers ORDER BY appid;

INSERT INTO app_search (rowid, doc)
SELECT k.id, a.appid || char(10) || a.nickname || char(10) || a.user_name || char(10) || a.principal_name || char(10) || coalesce(t.name, '')
FROM app_search_keys k JOIN authorizers a ON a.appid = k.appid LEFT JOIN tenants t ON t.id = a.tenant_id;

-- +goose StatementBegin
CREATE TRIGGER app_search_insert AFTER INSERT ON authorizers BEGIN
    INSERT OR IGNORE INTO app_search_keys (appid) VALUES (new.appid);
    DELETE FROM app_search WHERE rowid = (SELECT id FROM app_search_keys WHERE appid = new.appid);
    INSERT INTO app_search (rowid, doc)
    SELECT k.id, new.appid || char(10) || new.nickname || char(10) || new.user_name || char(10) || new.principal_name || char(10) || coalesce((SELECT name FROM tenants WHERE id = new.tenant_id), '')
    FROM app_search_keys k WHERE k.appid = new.appid;
END;
-- +goose StatementEnd

-- Only a change of what is searched re-indexes the app: token refreshes and
-- details fetches that change nothing searched leave the index alone.
-- +goose StatementBegin
CREATE TRIGGER app_search_update AFTER UPDATE OF nickname, user_name, principal_name, tenant_id ON authorizers
WHEN old.nickname IS NOT new.nickname OR old.user_name IS NOT new.user_name OR old.principal_name IS NOT new.principal_name OR old.tenant_id IS NOT new.tenant_id
BEGIN
    DELETE FROM app_search WHERE rowid = (SELECT id FROM app_search_keys WHERE appid = new.appid);
    INSERT INTO app_search (rowid, doc)
    SELECT k.id, new.appid || char(10) || new.nickname || char(10) || new.user_name || char(10) || new.principal_name || char(10) || coalesce((SELECT name FROM tenants WHERE id = new.tenant_id), '')
    FROM app_search_keys k WHERE k.appid = new.appid;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER app_search_delete AFTER DELETE ON authorizers BEGIN
    DELETE FROM app_search WHERE rowid = (SELECT id FROM app_search_keys WHERE appid = old.appid);
    DELETE FROM app_search_keys WHERE appid = old.appid;
END;
-- +goose StatementEnd

-- A tenant's new name (or its removal) re-indexes the apps bound to it.
-- +goose StatementBegin
CREATE TRIGGER app_search_tenant_rename AFTER UPDATE OF name ON tenants WHEN old.name IS NOT new.name BEGIN
    DELETE FROM app_search WHERE rowid IN (SELECT k.id FROM app_search_keys k JOIN authorizers a ON a.appid = k.appid WHERE a.tenant_id = new.id);
    INSERT INTO app_search (rowid, doc)
    SELECT k.id, a.appid || char(10) || a.nickname || char(10) || a.user_name || char(10) || a.principal_name || char(10) || new.name
    FROM authorizers a JOIN app_search_keys k ON k.appid = a.appid WHERE a.tenant_id = new.id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER app_search_tenant_delete AFTER DELETE ON tenants BEGIN
    DELETE FROM app_search WHERE rowid IN (SELECT k.id FROM app_search_keys k JOIN authorizers a ON a.appid = k.appid WHERE a.tenant_id = old.id);
    INSERT INTO app_search (rowid, doc)
    SELECT k.id, a.appid || char(10) || a.nickname || char(10) || a.user_name || char(10) || a.principal_name || char(10)
    FROM authorizers a JOIN app_search_keys k ON k.appid = a.appid WHERE a.tenant_id = old.id;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER app_search_tenant_delete;
DROP TRIGGER app_search_tenant_rename;
DROP TRIGGER app_search_delete;
DROP TRIGGER app_search_update;
DROP TRIGGER app_search_insert;
DROP TABLE app_search;
DROP TABLE app_search_keys;
DROP INDEX authorizers_appid_updated;
