-- +goose Up
-- Push intake writes one wechat_pushes row per push and answers WeChat only
-- after the commit, so every index on the table is paid in a push flood
-- (docs/benchmarks.md, "WeChat protocol layer"). The table is rebuilt so that:
--   - duplicates are found by (create_time, dedupe_key), unique: a push's
--     natural key already holds its CreateTime, so this is the same rule, but
--     a flood's inserts land next to each other instead of on a random page
--     of a hash-ordered index each;
--   - appid and outcome are indexed only where the staff filters look:
--     pushes about an authorizer (not tickets), and outcomes other than
--     "applied" (the rare ones); the filters repeat these conditions;
--   - the CHECKs are comparisons: an IN list of four built a temporary table
--     on every insert.

CREATE TABLE wechat_pushes_new (
    id           INTEGER PRIMARY KEY,
    route        TEXT    NOT NULL CHECK (route = 'component' OR route = 'app'),
    kind         TEXT    NOT NULL,
    appid        TEXT    NOT NULL DEFAULT '', -- the authorizer concerned, '' for tickets
    dedupe_key   TEXT    NOT NULL,
    create_time  INTEGER NOT NULL DEFAULT 0,  -- WeChat's CreateTime
    received_at  INTEGER NOT NULL,
    xml          TEXT    NOT NULL,
    xml_sealed   TEXT    NOT NULL,
    -- applied: its state change is done; queued: a job follows it up;
    -- recorded: kept, nothing to apply (yet); stale: older than what we hold.
    outcome      TEXT    NOT NULL DEFAULT 'recorded'
        CHECK (outcome = 'applied' OR outcome = 'queued' OR outcome = 'recorded' OR outcome = 'stale'),
    duplicates   INTEGER NOT NULL DEFAULT 0,  -- retries of the same push seen after the first
    last_seen_at INTEGER NOT NULL
);
INSERT INTO wechat_pushes_new SELECT id, route, kind, appid, dedupe_key, create_time, received_at, xml, xml_sealed, outcome, duplicates, last_seen_at
FROM wechat_pushes;
DROP TABLE wechat_pushes;
ALTER TABLE wechat_pushes_new RENAME TO wechat_pushes;
CREATE UNIQUE INDEX wechat_pushes_dedupe ON wechat_pushes (create_time, dedupe_key);
CREATE INDEX wechat_pushes_kind ON wechat_pushes (kind, id);
CREATE INDEX wechat_pushes_app ON wechat_pushes (appid, id) WHERE appid != '';
CREATE INDEX wechat_pushes_unapplied ON wechat_pushes (outcome, id) WHERE outcome != 'applied';

-- +goose Down
CREATE TABLE wechat_pushes_old (
    id           INTEGER PRIMARY KEY,
    route        TEXT    NOT NULL CHECK (route IN ('component', 'app')),
    kind         TEXT    NOT NULL,
    appid        TEXT    NOT NULL DEFAULT '',
    dedupe_key   TEXT    NOT NULL UNIQUE,
    create_time  INTEGER NOT NULL DEFAULT 0,
    received_at  INTEGER NOT NULL,
    xml          TEXT    NOT NULL,
    xml_sealed   TEXT    NOT NULL,
    outcome      TEXT    NOT NULL DEFAULT 'recorded' CHECK (outcome IN ('applied', 'queued', 'recorded', 'stale')),
    duplicates   INTEGER NOT NULL DEFAULT 0,
    last_seen_at INTEGER NOT NULL
);
INSERT INTO wechat_pushes_old SELECT id, route, kind, appid, dedupe_key, create_time, received_at, xml, xml_sealed, outcome, duplicates, last_seen_at
FROM wechat_pushes;
DROP TABLE wechat_pushes;
ALTER TABLE wechat_pushes_old RENAME TO wechat_pushes;
CREATE INDEX wechat_pushes_kind ON wechat_pushes (kind, id);
CREATE INDEX wechat_pushes_appid ON wechat_pushes (appid, id);
CREATE INDEX wechat_pushes_outcome ON wechat_pushes (outcome, id);
