-- +goose Up
-- The extra ext_json keys a template allows (window, tabBar, extPages …),
-- set per app: a JSON object stored with the immutable config version it
-- belongs to, so a version renders the same ext_json (and payload hash)
-- for ever and a restore brings them back with the config.
ALTER TABLE app_configs ADD COLUMN extra TEXT NOT NULL DEFAULT '{}';

-- +goose Down
ALTER TABLE app_configs DROP COLUMN extra;
