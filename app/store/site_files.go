package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/minifleet/minifleet/app/model"
)

// Domain verification files served at the web root (model.CheckSiteFile).

// Activity actions of site files.
const (
	ActSiteFileSaved   = "site_file_saved"
	ActSiteFileDeleted = "site_file_deleted"
)

// SiteFile is a verification file and who last saved it.
type SiteFile struct {
	Name      string
	Content   string
	UpdatedAt time.Time
	UpdatedBy string
}

// SaveSiteFile creates or replaces a site file (checked by the caller with
// model.CheckSiteFile; the table's CHECKs hold the limits too).
func (s *Store) SaveSiteFile(ctx context.Context, a model.Actor, name, content string) error {
	if err := model.CheckSiteFile(name, []byte(content)); err != nil {
		return err
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO site_files (name, content, updated_at, updated_by) VALUES (?,?,?,?)
			ON CONFLICT (name) DO UPDATE SET content = excluded.content, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
			name, content, s.now(), a.Label)
		if err != nil {
			return err
		}
		return s.logTx(ctx, tx, a, 0, ActSiteFileSaved, name, "")
	})
}

// DeleteSiteFile removes a site file; not found when there is none.
func (s *Store) DeleteSiteFile(ctx context.Context, a model.Actor, name string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM site_files WHERE name = ?`, name)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return model.NotFound("site_file")
		}
		return s.logTx(ctx, tx, a, 0, ActSiteFileDeleted, name, "")
	})
}

// SiteFile loads one site file by name.
func (s *Store) SiteFile(ctx context.Context, name string) (SiteFile, error) {
	f := SiteFile{Name: name}
	var at int64
	err := s.readRow(ctx, `SELECT content, updated_at, updated_by FROM site_files WHERE name = ?`, name).Scan(&f.Content, &at, &f.UpdatedBy)
	f.UpdatedAt = unix(at)
	return f, notFound(err, "site_file")
}

// SiteFiles lists every site file by name.
func (s *Store) SiteFiles(ctx context.Context) ([]SiteFile, error) {
	rows, err := s.read(ctx, `SELECT name, content, updated_at, updated_by FROM site_files ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []SiteFile
	for rows.Next() {
		var f SiteFile
		var at int64
		if err := rows.Scan(&f.Name, &f.Content, &at, &f.UpdatedBy); err != nil {
			return nil, err
		}
		f.UpdatedAt = unix(at)
		out = append(out, f)
	}
	return out, rows.Err()
}
