package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"strconv"

	"github.com/minifleet/minifleet/app/model"
)

// Activity actions for templates, configs and releases.
const (
	ActTemplateSchema = "template_schema_saved"
	ActTemplateDelete = "template_deleted"
	ActConfigSave     = "config_saved"
	ActConfigRestore  = "config_restored"
	ActReleaseCreate  = "release_created"
	ActReleaseStep    = "release_step" // a person moved a release; detail names the event
)

const templateCols = `template_id, template_type, draft_id, user_version, user_desc, source_appid, source_name,
	developer, created_at, schema_json, allowed_keys, pages, COALESCE(schema_at, 0), schema_by, synced_at, COALESCE(deleted_at, 0)`

func scanTemplate(sc interface{ Scan(...any) error }) (model.Template, error) {
	var t model.Template
	var created, schemaAt, synced, deleted int64
	var keys, pages string
	err := sc.Scan(&t.TemplateID, &t.TemplateType, &t.DraftID, &t.UserVersion, &t.UserDesc, &t.SourceAppID, &t.SourceName,
		&t.Developer, &created, &t.SchemaJSON, &keys, &pages, &schemaAt, &t.SchemaBy, &synced, &deleted)
	if err != nil {
		return t, err
	}
	t.CreatedAt, t.SchemaAt, t.SyncedAt, t.DeletedAt = unix(created), unix(schemaAt), unix(synced), unix(deleted)
	if err := json.Unmarshal([]byte(keys), &t.AllowedKeys); err != nil {
		return t, err
	}
	return t, json.Unmarshal([]byte(pages), &t.Pages)
}

func jsonList(v []string) string {
	if v == nil {
		v = []string{}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// SyncTemplates records the library as gettemplatelist returned it: WeChat's
// fields are refreshed, schemas and pages are kept, templates no longer
// listed are marked deleted (never removed: releases refer to them).
func (s *Store) SyncTemplates(ctx context.Context, list []model.Template) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		now := s.now()
		for _, t := range list {
			_, err := tx.ExecContext(ctx, `INSERT INTO templates (template_id, template_type, draft_id, user_version, user_desc,
				source_appid, source_name, developer, created_at, synced_at) VALUES (?,?,?,?,?,?,?,?,?,?)
				ON CONFLICT (template_id) DO UPDATE SET template_type = excluded.template_type, draft_id = excluded.draft_id,
				user_version = excluded.user_version, user_desc = excluded.user_desc, source_appid = excluded.source_appid,
				source_name = excluded.source_name, developer = excluded.developer, created_at = excluded.created_at,
				synced_at = excluded.synced_at, deleted_at = NULL`,
				t.TemplateID, t.TemplateType, t.DraftID, t.UserVersion, t.UserDesc, t.SourceAppID, t.SourceName, t.Developer,
				t.CreatedAt.Unix(), now)
			if err != nil {
				return err
			}
		}
		ids, _ := json.Marshal(templateIDs(list))
		_, err := tx.ExecContext(ctx, `UPDATE templates SET deleted_at = ? WHERE deleted_at IS NULL
			AND template_id NOT IN (SELECT value FROM json_each(?))`, now, string(ids))
		return err
	})
}

func templateIDs(list []model.Template) []int64 {
	out := make([]int64, 0, len(list))
	for _, t := range list {
		out = append(out, t.TemplateID)
	}
	return out
}

// Template loads one template, deleted or not.
func (s *Store) Template(ctx context.Context, id int64) (model.Template, error) {
	t, err := scanTemplate(s.readRow(ctx, `SELECT `+templateCols+` FROM templates WHERE template_id = ?`, id))
	return t, notFound(err, "template")
}

// ListTemplates returns the library, newest first; deleted ones only when asked.
func (s *Store) ListTemplates(ctx context.Context, withDeleted bool) ([]model.Template, error) {
	q := `SELECT ` + templateCols + ` FROM templates`
	if !withDeleted {
		q += ` WHERE deleted_at IS NULL`
	}
	rows, err := s.read(ctx, q+` ORDER BY template_id DESC`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []model.Template
	for rows.Next() {
		t, err := scanTemplate(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// SetTemplateSchema stores a config schema that app/extconfig has parsed,
// with the ext_json keys it allows.
func (s *Store) SetTemplateSchema(ctx context.Context, a model.Actor, id int64, schemaJSON string, allowedKeys []string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE templates SET schema_json = ?, allowed_keys = ?, schema_at = ?, schema_by = ? WHERE template_id = ?`,
			schemaJSON, jsonList(allowedKeys), s.now(), a.Label, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return model.NotFound("template")
		}
		return s.logTx(ctx, tx, a, 0, ActTemplateSchema, strconv.FormatInt(id, 10), "")
	})
}

// SetTemplatePages records the template's page paths (from get_page on an
// app that runs it, or typed by staff).
func (s *Store) SetTemplatePages(ctx context.Context, id int64, pages []string) error {
	res, err := s.W.ExecContext(ctx, `UPDATE templates SET pages = ? WHERE template_id = ?`, jsonList(pages), id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return model.NotFound("template")
	}
	return nil
}

// DeleteTemplate marks a template deleted after deletetemplate succeeded.
func (s *Store) DeleteTemplate(ctx context.Context, a model.Actor, id int64) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE templates SET deleted_at = ? WHERE template_id = ? AND deleted_at IS NULL`, s.now(), id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return model.NotFound("template")
		}
		return s.logTx(ctx, tx, a, 0, ActTemplateDelete, strconv.FormatInt(id, 10), "")
	})
}
