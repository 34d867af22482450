-- +goose Up
-- Live-page events the primary published (platform.Hub), kept a few minutes
-- so LiteFS replicas can replay them to their own live streams: a replica
-- reads the rows after the last id it saw each time its replication position
-- moves (docs/architecture.md "Past one machine"). Ids only, never content.
CREATE TABLE live_events (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL,
    tenant_id  INTEGER NOT NULL DEFAULT 0,
    appid      TEXT    NOT NULL DEFAULT '',
    attempt_id INTEGER NOT NULL DEFAULT 0,
    campaign   INTEGER NOT NULL DEFAULT 0,
    at         INTEGER NOT NULL
);

-- +goose Down
DROP TABLE live_events;
