package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/minifleet/minifleet/app/model"
)

const configCols = `id, tenant_id, appid, version, template_id, json, extra, COALESCE(author_id, 0), author, note, restored_from, created_at`

func scanConfig(sc interface{ Scan(...any) error }) (model.AppConfig, error) {
	var c model.AppConfig
	var created int64
	err := sc.Scan(&c.ID, &c.TenantID, &c.AppID, &c.Version, &c.TemplateID, &c.JSON, &c.Extra, &c.AuthorID, &c.Author, &c.Note, &c.RestoredFrom, &created)
	c.CreatedAt = unix(created)
	return c, err
}

// SaveConfig stores a new version of an app's config (JSON that
// app/extconfig validated) with its extra ext_json keys (a JSON object, ""
// for none) and returns it. Versions count 1, 2, … per app.
func (s *Store) SaveConfig(ctx context.Context, a model.Actor, tenantID int64, appID string, templateID int64, configJSON, extraJSON, note string) (model.AppConfig, error) {
	return s.insertConfig(ctx, a, tenantID, appID, templateID, configJSON, extraJSON, note, 0)
}

// RestoreConfig saves an old version's JSON as the newest version; history
// is never rewritten.
func (s *Store) RestoreConfig(ctx context.Context, a model.Actor, tenantID int64, appID string, version int64) (model.AppConfig, error) {
	old, err := s.Config(ctx, tenantID, appID, version)
	if err != nil {
		return model.AppConfig{}, err
	}
	return s.insertConfig(ctx, a, tenantID, appID, old.TemplateID, old.JSON, old.Extra, "", version)
}

func (s *Store) insertConfig(ctx context.Context, a model.Actor, tenantID int64, appID string, templateID int64, configJSON, extraJSON, note string, from int64) (model.AppConfig, error) {
	if extraJSON == "" {
		extraJSON = "{}"
	}
	if !json.Valid([]byte(configJSON)) || !json.Valid([]byte(extraJSON)) || !strings.HasPrefix(strings.TrimSpace(extraJSON), "{") {
		return model.AppConfig{}, model.Errorf(model.CodeInvalid, "config.err.invalid")
	}
	c := model.AppConfig{TenantID: tenantID, AppID: appID, TemplateID: templateID, JSON: configJSON, Extra: extraJSON,
		AuthorID: a.UserID, Author: a.Label, Note: note, RestoredFrom: from}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) + 1 FROM app_configs WHERE tenant_id = ? AND appid = ?`,
			tenantID, appID).Scan(&c.Version); err != nil {
			return err
		}
		now := s.now()
		res, err := tx.ExecContext(ctx, `INSERT INTO app_configs (tenant_id, appid, version, template_id, json, extra, author_id, author, note, restored_from, created_at)
			VALUES (?,?,?,?,?,?,?,?,?,?,?)`, tenantID, appID, c.Version, templateID, configJSON, extraJSON, nullID(a.UserID), a.Label, note, from, now)
		if err != nil {
			return err
		}
		c.ID, _ = res.LastInsertId()
		c.CreatedAt = unix(now)
		act, detail := ActConfigSave, fmt.Sprintf("v%d", c.Version)
		if from != 0 {
			act, detail = ActConfigRestore, fmt.Sprintf("v%d → v%d", from, c.Version)
		}
		return s.logTx(ctx, tx, a, tenantID, act, appID, detail)
	})
	return c, err
}

// Config loads one version of an app's config.
func (s *Store) Config(ctx context.Context, tenantID int64, appID string, version int64) (model.AppConfig, error) {
	c, err := scanConfig(s.readRow(ctx, `SELECT `+configCols+` FROM app_configs WHERE tenant_id = ? AND appid = ? AND version = ?`,
		tenantID, appID, version))
	return c, notFound(err, "config")
}

// LatestConfig loads an app's newest config.
func (s *Store) LatestConfig(ctx context.Context, tenantID int64, appID string) (model.AppConfig, error) {
	c, err := scanConfig(s.readRow(ctx, `SELECT `+configCols+` FROM app_configs WHERE tenant_id = ? AND appid = ?
		ORDER BY version DESC LIMIT 1`, tenantID, appID))
	return c, notFound(err, "config")
}

// ListConfigs returns an app's config versions, newest first.
func (s *Store) ListConfigs(ctx context.Context, tenantID int64, appID string) ([]model.AppConfig, error) {
	rows, err := s.read(ctx, `SELECT `+configCols+` FROM app_configs WHERE tenant_id = ? AND appid = ? ORDER BY version DESC`, tenantID, appID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []model.AppConfig
	for rows.Next() {
		c, err := scanConfig(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// ConfigPair loads two versions of one app's config, for a diff
// (extconfig.Diff). Either missing is not-found.
func (s *Store) ConfigPair(ctx context.Context, tenantID int64, appID string, from, to int64) (model.AppConfig, model.AppConfig, error) {
	a, err := s.Config(ctx, tenantID, appID, from)
	if err != nil {
		return model.AppConfig{}, model.AppConfig{}, err
	}
	b, err := s.Config(ctx, tenantID, appID, to)
	if err != nil {
		return model.AppConfig{}, model.AppConfig{}, err
	}
	return a, b, nil
}
