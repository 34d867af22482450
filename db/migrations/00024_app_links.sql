-- +goose Up
-- Ways into a released app Minifleet made (docs/links.md): URL Schemes,
-- URL Links, Short Links, and unlimited 小程序码 (kind wxacode, the image
-- kept as WeChat drew it, re-encoded as PNG). WeChat keeps the links too
-- (queryscheme / query_urllink read them back); this is the list the app
-- page shows, with who made each and when it expires (0: never).
CREATE TABLE app_links (
    id          INTEGER PRIMARY KEY,
    tenant_id   INTEGER NOT NULL REFERENCES tenants(id),
    appid       TEXT    NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('scheme', 'urllink', 'shortlink', 'wxacode')),
    link        TEXT    NOT NULL DEFAULT '',
    path        TEXT    NOT NULL DEFAULT '',
    query       TEXT    NOT NULL DEFAULT '',
    env_version TEXT    NOT NULL DEFAULT 'release' CHECK (env_version IN ('release', 'trial', 'develop')),
    title       TEXT    NOT NULL DEFAULT '',
    expires_at  INTEGER NOT NULL DEFAULT 0,
    image       BLOB,
    created_by  TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    CHECK ((kind = 'wxacode') = (image IS NOT NULL))
);
CREATE INDEX app_links_by_app ON app_links (tenant_id, appid, id DESC);

-- Each change Minifleet sent to an app's domains (business or server),
-- counted per calendar month to show WeChat's monthly limit before it is hit.
CREATE TABLE app_domain_changes (
    id         INTEGER PRIMARY KEY,
    tenant_id  INTEGER NOT NULL REFERENCES tenants(id),
    appid      TEXT    NOT NULL,
    kind       TEXT    NOT NULL CHECK (kind IN ('webview', 'server')),
    action     TEXT    NOT NULL CHECK (action IN ('add', 'delete')),
    domains    TEXT    NOT NULL,
    changed_by TEXT    NOT NULL DEFAULT '',
    changed_at INTEGER NOT NULL
);
CREATE INDEX app_domain_changes_by_app ON app_domain_changes (appid, kind, changed_at);

-- +goose Down
DROP TABLE app_domain_changes;
DROP TABLE app_links;
