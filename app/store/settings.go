package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"time"

	"github.com/minifleet/minifleet/app/model"
)

// A tenant's privacy-guideline contact and the platform's settings, both
// read by the release pipeline.

// Activity actions of the release pipeline's settings.
const (
	ActTenantContact = "tenant_contact_saved"
	ActSetting       = "platform_setting_saved"
)

// TenantContact is who answers for a tenant's Mini Programs in their
// privacy guideline.
type TenantContact struct {
	TenantID     int64
	Name         string
	Email        string
	Phone        string
	NoticeMethod string // how users are told of guideline changes, e.g. "弹窗"
	UpdatedAt    time.Time
	UpdatedBy    string
}

// SaveTenantContact creates or replaces the tenant's contact.
func (s *Store) SaveTenantContact(ctx context.Context, a model.Actor, tenantID int64, c TenantContact) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO tenant_contacts (tenant_id, name, email, phone, notice_method, updated_at, updated_by)
			VALUES (?,?,?,?,?,?,?) ON CONFLICT (tenant_id) DO UPDATE SET name = excluded.name, email = excluded.email,
			phone = excluded.phone, notice_method = excluded.notice_method, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
			tenantID, c.Name, c.Email, c.Phone, c.NoticeMethod, s.now(), a.Label)
		if err != nil {
			return err
		}
		return s.logTx(ctx, tx, a, tenantID, ActTenantContact, "", "")
	})
}

// TenantContact loads the tenant's contact; not found when none was saved.
func (s *Store) TenantContact(ctx context.Context, tenantID int64) (TenantContact, error) {
	c := TenantContact{TenantID: tenantID}
	var at int64
	err := s.readRow(ctx, `SELECT name, email, phone, notice_method, updated_at, updated_by FROM tenant_contacts WHERE tenant_id = ?`,
		tenantID).Scan(&c.Name, &c.Email, &c.Phone, &c.NoticeMethod, &at, &c.UpdatedBy)
	c.UpdatedAt = unix(at)
	return c, notFound(err, "contact")
}

// SetSetting stores a platform setting (value is marshalled to JSON).
func (s *Store) SetSetting(ctx context.Context, a model.Actor, key string, value any) error {
	b, err := json.Marshal(value)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO platform_settings (key, value, updated_at, updated_by) VALUES (?,?,?,?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
			key, string(b), s.now(), a.Label)
		if err != nil {
			return err
		}
		return s.logTx(ctx, tx, a, 0, ActSetting, key, "")
	})
}

// Setting decodes a platform setting into v; not found when never set.
func (s *Store) Setting(ctx context.Context, key string, v any) error {
	var raw string
	err := s.readRow(ctx, `SELECT value FROM platform_settings WHERE key = ?`, key).Scan(&raw)
	if err != nil {
		return notFound(err, "setting")
	}
	return json.Unmarshal([]byte(raw), v)
}
