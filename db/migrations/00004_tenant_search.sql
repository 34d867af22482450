-- +goose Up
-- Staff search over tenants: a trigram full-text index of each tenant's name
-- and its members' e-mails (rowid = tenant id), so a substring search of three
-- or more characters is an index lookup instead of a LIKE scan of every tenant
-- and member (docs/benchmarks.md, "Portal"). Triggers keep it in step.

CREATE VIRTUAL TABLE tenant_search USING fts5(doc, tokenize = 'trigram');

INSERT INTO tenant_search (rowid, doc)
SELECT t.id, t.name || char(10) || coalesce((SELECT group_concat(u.email, char(10)) FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.tenant_id = t.id), '')
FROM tenants t;

-- +goose StatementBegin
CREATE TRIGGER tenant_search_tenant_insert AFTER INSERT ON tenants BEGIN
    INSERT INTO tenant_search (rowid, doc) VALUES (new.id, new.name);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER tenant_search_tenant_rename AFTER UPDATE OF name ON tenants BEGIN
    DELETE FROM tenant_search WHERE rowid = new.id;
    INSERT INTO tenant_search (rowid, doc)
    SELECT t.id, t.name || char(10) || coalesce((SELECT group_concat(u.email, char(10)) FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.tenant_id = t.id), '')
    FROM tenants t WHERE t.id = new.id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER tenant_search_tenant_delete AFTER DELETE ON tenants BEGIN
    DELETE FROM tenant_search WHERE rowid = old.id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER tenant_search_member_insert AFTER INSERT ON memberships BEGIN
    DELETE FROM tenant_search WHERE rowid = new.tenant_id;
    INSERT INTO tenant_search (rowid, doc)
    SELECT t.id, t.name || char(10) || coalesce((SELECT group_concat(u.email, char(10)) FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.tenant_id = t.id), '')
    FROM tenants t WHERE t.id = new.tenant_id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER tenant_search_member_delete AFTER DELETE ON memberships BEGIN
    DELETE FROM tenant_search WHERE rowid = old.tenant_id;
    INSERT INTO tenant_search (rowid, doc)
    SELECT t.id, t.name || char(10) || coalesce((SELECT group_concat(u.email, char(10)) FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.tenant_id = t.id), '')
    FROM tenants t WHERE t.id = old.tenant_id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER tenant_search_email_update AFTER UPDATE OF email ON users BEGIN
    DELETE FROM tenant_search WHERE rowid IN (SELECT tenant_id FROM memberships WHERE user_id = new.id);
    INSERT INTO tenant_search (rowid, doc)
    SELECT t.id, t.name || char(10) || coalesce((SELECT group_concat(u.email, char(10)) FROM memberships m JOIN users u ON u.id = m.user_id WHERE m.tenant_id = t.id), '')
    FROM tenants t WHERE t.id IN (SELECT tenant_id FROM memberships WHERE user_id = new.id);
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER tenant_search_email_update;
DROP TRIGGER tenant_search_member_delete;
DROP TRIGGER tenant_search_member_insert;
DROP TRIGGER tenant_search_tenant_delete;
DROP TRIGGER tenant_search_tenant_rename;
DROP TRIGGER tenant_search_tenant_insert;
DROP TABLE tenant_search;
