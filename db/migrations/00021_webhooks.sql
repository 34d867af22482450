-- +goose Up
-- Issue #15: event delivery (webhooks). An endpoint belongs to a tenant or,
-- with tenant_id NULL, to the platform (staff). events is ",type,type," so
-- the outbox insert matches a type with instr(). The signing secret is sealed
-- with the store's Box (AES-256-GCM, associated data "webhook:<id>:secret").
CREATE TABLE webhook_endpoints (
	id            INTEGER PRIMARY KEY,
	tenant_id     INTEGER REFERENCES tenants(id),
	url           TEXT NOT NULL,
	description   TEXT NOT NULL DEFAULT '',
	events        TEXT NOT NULL,
	secret_sealed TEXT NOT NULL DEFAULT '',
	state         TEXT NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'paused')),
	failing_since INTEGER,            -- first failure of the current run of failures
	paused_at     INTEGER,
	notice        TEXT NOT NULL DEFAULT '', -- why it was paused (translation key)
	created_by    TEXT NOT NULL DEFAULT '',
	created_at    INTEGER NOT NULL,
	updated_at    INTEGER NOT NULL,
	deleted_at    INTEGER
);
CREATE INDEX webhook_endpoints_tenant ON webhook_endpoints (tenant_id) WHERE deleted_at IS NULL;

-- The outbox: one row per (event, endpoint), written in the transaction of
-- the change that causes the event. payload is the event's data (JSON); the
-- body is built from the row at delivery. state: pending (to deliver or
-- retrying), delivered, failed (gave up after 24 h), cancelled (endpoint
-- deleted).
CREATE TABLE webhook_deliveries (
	id           INTEGER PRIMARY KEY,
	endpoint_id  INTEGER NOT NULL REFERENCES webhook_endpoints(id),
	event_id     TEXT NOT NULL,
	type         TEXT NOT NULL,
	tenant_id    INTEGER,
	appid        TEXT NOT NULL DEFAULT '',
	payload      TEXT NOT NULL,
	created_at   INTEGER NOT NULL,
	state        TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed', 'cancelled')),
	attempts     INTEGER NOT NULL DEFAULT 0,
	next_at      INTEGER NOT NULL,
	last_code    INTEGER NOT NULL DEFAULT 0,
	last_error   TEXT NOT NULL DEFAULT '',
	last_ms      INTEGER NOT NULL DEFAULT 0,
	last_at      INTEGER,
	replay_of    INTEGER
);
-- the delivery worker's order per (endpoint, app): the pending rows in id order
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (endpoint_id, appid, id) WHERE state = 'pending';
-- an endpoint's delivery log, newest first
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);

-- Every attempt of a delivery: the log behind the delivery list.
CREATE TABLE webhook_attempts (
	id          INTEGER PRIMARY KEY,
	delivery_id INTEGER NOT NULL REFERENCES webhook_deliveries(id),
	attempt     INTEGER NOT NULL,
	at          INTEGER NOT NULL,
	code        INTEGER NOT NULL DEFAULT 0,
	duration_ms INTEGER NOT NULL DEFAULT 0,
	error       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);

-- +goose Down
DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_endpoints;
