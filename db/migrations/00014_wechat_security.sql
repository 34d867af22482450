-- +goose Up
-- Issue #12, the WeChat side (docs/architecture.md "Security").

-- Upstream backoff of api_start_push_ticket: consecutive failed asks and
-- when the watchdog may ask again (the component token's own backoff is
-- failures/next_refresh_at, already there). Persisted, so a restart or
-- another process respects it.
ALTER TABLE wechat_component ADD COLUMN ticket_failures INTEGER NOT NULL DEFAULT 0;
ALTER TABLE wechat_component ADD COLUMN ticket_retry_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE wechat_component ADD COLUMN ticket_last_error TEXT NOT NULL DEFAULT '';

-- Two-person rule: everyone but the preparer who changed the payload (a
-- JSON array of user ids, in order); none of them may approve it.
ALTER TABLE releases ADD COLUMN amenders TEXT NOT NULL DEFAULT '[]';

-- Pushes whose CreateTime is more than an hour from when they arrived:
-- counted on the health page. Partial, so an ordinary push pays only the
-- WHERE; store.AgedPushes repeats the condition word for word.
CREATE INDEX wechat_pushes_aged ON wechat_pushes (received_at) WHERE abs(received_at - create_time) > 3600;

-- +goose Down
DROP INDEX wechat_pushes_aged;
ALTER TABLE releases DROP COLUMN amenders;
ALTER TABLE wechat_component DROP COLUMN ticket_last_error;
ALTER TABLE wechat_component DROP COLUMN ticket_retry_at;
ALTER TABLE wechat_component DROP COLUMN ticket_failures;
