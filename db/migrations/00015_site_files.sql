-- +goose Up
-- Domain verification files WeChat asks for at the web root (the
-- authorization page's domain, Mini Programs' business domains): staff
-- upload them, the portal serves them at /<name>. Small text files only.
CREATE TABLE site_files (
    name       TEXT    PRIMARY KEY CHECK (length(name) BETWEEN 5 AND 132),
    content    TEXT    NOT NULL CHECK (length(CAST(content AS BLOB)) <= 4096),
    updated_at INTEGER NOT NULL,
    updated_by TEXT    NOT NULL DEFAULT ''
);

-- +goose Down
DROP TABLE site_files;
