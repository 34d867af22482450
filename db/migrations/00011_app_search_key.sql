-- +goose Up
-- Each app carries its search key (app_search_keys.id, the rowid of its
-- document in the trigram index), so a search's matches are the index's
-- rowids as they come, with no mapping back to appids: a search matching
-- many apps walks the list's order (authorizers_updated_search, covering)
-- keeping the rows whose key matched, one matching few looks its keys up
-- (authorizers_search) and sorts them (docs/benchmarks.md, "Onboarding").
-- The two indexes replace authorizers_updated and authorizers_appid_updated,
-- whose columns they carry.

ALTER TABLE authorizers ADD COLUMN search_id INTEGER;

UPDATE authorizers SET search_id = (SELECT id FROM app_search_keys k WHERE k.appid = authorizers.appid);

DROP INDEX authorizers_updated;
DROP INDEX authorizers_appid_updated;
CREATE INDEX authorizers_updated_search ON authorizers (updated_at, appid, search_id);
CREATE INDEX authorizers_search ON authorizers (search_id, updated_at, appid);

-- A new app gets its key and its document, and now records the key. The
-- UPDATE touches only search_id, which app_search_update does not watch.
DROP TRIGGER app_search_insert;
-- +goose StatementBegin
CREATE TRIGGER app_search_insert AFTER INSERT ON authorizers BEGIN
    INSERT OR IGNORE INTO app_search_keys (appid) VALUES (new.appid);
    UPDATE authorizers SET search_id = (SELECT id FROM app_search_keys WHERE appid = new.appid) WHERE appid = new.appid;
    DELETE FROM app_search WHERE rowid = (SELECT id FROM app_search_keys WHERE appid = new.appid);
    INSERT INTO app_search (rowid, doc)
    SELECT k.id, new.appid || char(10) || new.nickname || char(10) || new.user_name || char(10) || new.principal_name || char(10) || coalesce((SELECT name FROM tenants WHERE id = new.tenant_id), '')
    FROM app_search_keys k WHERE k.appid = new.appid;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER app_search_insert;
-- +goose StatementBegin
CREATE TRIGGER app_search_insert AFTER INSERT ON authorizers BEGIN
    INSERT OR IGNORE INTO app_search_keys (appid) VALUES (new.appid);
    DELETE FROM app_search WHERE rowid = (SELECT id FROM app_search_keys WHERE appid = new.appid);
    INSERT INTO app_search (rowid, doc)
    SELECT k.id, new.appid || char(10) || new.nickname || char(10) || new.user_name || char(10) || new.principal_name || char(10) || coalesce((SELECT name FROM tenants WHERE id = new.tenant_id), '')
    FROM app_search_keys k WHERE k.appid = new.appid;
END;
-- +goose StatementEnd
DROP INDEX authorizers_search;
DROP INDEX authorizers_updated_search;
CREATE INDEX authorizers_appid_updated ON authorizers (appid, updated_at);
CREATE INDEX authorizers_updated ON authorizers (updated_at, appid);
ALTER TABLE authorizers DROP COLUMN search_id;
