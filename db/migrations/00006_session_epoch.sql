-- +goose Up
-- Sessions remember the epoch they were signed in at; changing the password
-- bumps it, which signs out every other session of that user.
ALTER TABLE users ADD COLUMN session_epoch INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE users DROP COLUMN session_epoch;
