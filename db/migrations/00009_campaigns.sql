-- +goose Up
-- Campaigns: one template version shipped to many apps in waves. Each
-- target's progress lives in its release (releases.campaign_id); the
-- campaign keeps only what is its own: the payload set it was approved
-- for, waves, skips, drops, deferrals and retry timers.

CREATE TABLE campaigns (
    id            INTEGER PRIMARY KEY,
    tenant_id     INTEGER REFERENCES tenants (id),   -- NULL: a staff campaign across tenants
    name          TEXT    NOT NULL,
    template_id   INTEGER NOT NULL,
    user_version  TEXT    NOT NULL,
    user_desc     TEXT    NOT NULL DEFAULT '',
    filter        TEXT    NOT NULL DEFAULT '',       -- the target filter, as chosen
    canary_size   INTEGER NOT NULL CHECK (canary_size > 0),
    wave_max      INTEGER NOT NULL CHECK (wave_max > 0),
    concurrency   INTEGER NOT NULL CHECK (concurrency > 0),
    halt_permille INTEGER NOT NULL CHECK (halt_permille BETWEEN 1 AND 1000),
    release_mode  TEXT    NOT NULL CHECK (release_mode IN ('each', 'at')),
    release_at    INTEGER,
    gray_percent  INTEGER NOT NULL DEFAULT 0 CHECK (gray_percent BETWEEN 0 AND 100),
    state         TEXT    NOT NULL,
    seq           INTEGER NOT NULL DEFAULT 0,
    set_hash      TEXT    NOT NULL,
    creator_id    INTEGER NOT NULL REFERENCES users (id),
    creator       TEXT    NOT NULL DEFAULT '',
    approver_id   INTEGER REFERENCES users (id),
    approver      TEXT    NOT NULL DEFAULT '',
    approved_hash TEXT    NOT NULL DEFAULT '',
    approved_at   INTEGER,
    wave          INTEGER NOT NULL DEFAULT 0,
    notice        TEXT    NOT NULL DEFAULT '',
    notice_data   TEXT    NOT NULL DEFAULT '',
    resume_at     INTEGER,                           -- waiting_quota: the next quota window
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    finished_at   INTEGER
);
CREATE INDEX campaigns_tenant ON campaigns (tenant_id, id);
CREATE INDEX campaigns_state ON campaigns (state);

CREATE TABLE campaign_apps (
    campaign_id INTEGER NOT NULL REFERENCES campaigns (id),
    appid       TEXT    NOT NULL,
    tenant_id   INTEGER NOT NULL REFERENCES tenants (id),
    ext_hash    TEXT    NOT NULL DEFAULT '',          -- approved ext_json hash ('' for a skipped app)
    state       TEXT    NOT NULL,
    reason      TEXT    NOT NULL DEFAULT '',          -- skip or drop reason (campaign.skip.* / campaign.drop.*)
    wave        INTEGER NOT NULL DEFAULT 0,           -- 0 until a wave takes it
    attempts    INTEGER NOT NULL DEFAULT 0,           -- retries spent on the current failure
    retry_at    INTEGER,                              -- when the next retry is due
    retry_seq   INTEGER NOT NULL DEFAULT -1,          -- the release seq the retry was planned for
    started_at  INTEGER,
    PRIMARY KEY (campaign_id, appid)
) WITHOUT ROWID;
CREATE INDEX campaign_apps_state ON campaign_apps (campaign_id, state, wave);

-- A campaign's release of an app; one per app per campaign, so a restart
-- that prepares again finds the first one instead of making a second.
ALTER TABLE releases ADD COLUMN campaign_id INTEGER REFERENCES campaigns (id);
CREATE UNIQUE INDEX releases_campaign_app ON releases (campaign_id, appid) WHERE campaign_id IS NOT NULL;

-- Free-form tags a tenant puts on its apps ("华东", "beta"); campaigns filter by them.
CREATE TABLE app_tags (
    tenant_id INTEGER NOT NULL REFERENCES tenants (id),
    appid     TEXT    NOT NULL,
    tag       TEXT    NOT NULL,
    PRIMARY KEY (tenant_id, appid, tag)
) WITHOUT ROWID;
CREATE INDEX app_tags_tag ON app_tags (tag, appid);

-- +goose Down
DROP TABLE app_tags;
DROP INDEX releases_campaign_app;
ALTER TABLE releases DROP COLUMN campaign_id;
DROP TABLE campaign_apps;
DROP TABLE campaigns;
