-- +goose Up
-- Trial-version testers (体验成员) bound through Minifleet. WeChat's own list
-- (memberauth get_experiencer) names testers only by userstr; this table
-- remembers the WeChat ID typed when we bound one, and who bound it, so the
-- list can show names. WeChat stays the source of truth for who is bound.
-- tenant_id is the tenant that bound it: an app moved to another tenant
-- shows its testers without the former tenant's names.
CREATE TABLE app_testers (
    tenant_id INTEGER NOT NULL REFERENCES tenants(id),
    appid     TEXT    NOT NULL,
    userstr   TEXT    NOT NULL,
    wechatid  TEXT    NOT NULL CHECK (length(wechatid) BETWEEN 1 AND 64),
    bound_by  TEXT    NOT NULL DEFAULT '',
    bound_at  INTEGER NOT NULL,
    PRIMARY KEY (appid, userstr)
);

-- +goose Down
DROP TABLE app_testers;
