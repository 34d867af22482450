package model

import "time"

// Template is a code template of the platform's library with the config
// schema staff wrote for it. Not tenant-owned.
type Template struct {
	TemplateID   int64 // WeChat's id
	TemplateType int   // 0 normal, 1 standard (accepts only extAppid, ext, window)
	DraftID      int64 // the draft it was made from
	UserVersion  string
	UserDesc     string
	SourceAppID  string
	SourceName   string
	Developer    string
	CreatedAt    time.Time // WeChat's create_time
	SchemaJSON   string    // the config schema (app/extconfig); "" until staff write one
	AllowedKeys  []string  // ext_json keys besides ext the template lets apps set
	Pages        []string  // the template's page paths
	SchemaAt     time.Time
	SchemaBy     string
	SyncedAt     time.Time
	DeletedAt    time.Time
}

// AppConfig is one immutable version of an app's config.
type AppConfig struct {
	ID         int64
	TenantID   int64
	AppID      string
	Version    int64 // 1, 2, … per app
	TemplateID int64 // the template whose schema it was written for
	JSON       string
	// Extra is the app's extra ext_json keys (window, tabBar, extPages …
	// as the template allows): a JSON object, "{}" for none.
	Extra    string
	AuthorID int64
	Author   string
	Note     string
	// RestoredFrom is the version this one copies, 0 when it is an edit.
	RestoredFrom int64
	CreatedAt    time.Time
}
