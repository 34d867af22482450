package store

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/minifleet/minifleet/app/model"
)

// Activity of links into released apps and of per-app domains.
const (
	ActLinkCreated    = "link_created"
	ActWxaCodeCreated = "wxacode_created"
	ActDomainsChanged = "domains_changed"
)

// Link kinds.
const (
	LinkScheme    = "scheme"
	LinkURLLink   = "urllink"
	LinkShortLink = "shortlink"
	LinkWxaCode   = "wxacode"
)

// AppLink is a URL Scheme, URL Link, Short Link or 小程序码 Minifleet made.
type AppLink struct {
	ID         int64
	AppID      string
	Kind       string
	Link       string // "" for a 小程序码
	Path       string // a 小程序码's page
	Query      string // a 小程序码's scene
	EnvVersion string
	Title      string
	ExpiresAt  time.Time // zero: never
	CreatedBy  string
	CreatedAt  time.Time
}

const linkCols = `id, appid, kind, link, path, query, env_version, title, expires_at, created_by, created_at`

func scanLink(sc interface{ Scan(...any) error }) (AppLink, error) {
	var l AppLink
	var exp, at int64
	err := sc.Scan(&l.ID, &l.AppID, &l.Kind, &l.Link, &l.Path, &l.Query, &l.EnvVersion, &l.Title, &exp, &l.CreatedBy, &at)
	l.ExpiresAt, l.CreatedAt = unix(exp), unix(at)
	return l, err
}

// AppLinks lists an app's links and codes the tenant made, newest first.
func (s *Store) AppLinks(ctx context.Context, tenantID int64, appID string) ([]AppLink, error) {
	rows, err := s.read(ctx, `SELECT `+linkCols+` FROM app_links WHERE tenant_id = ? AND appid = ? ORDER BY id DESC LIMIT 200`, tenantID, appID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AppLink
	for rows.Next() {
		l, err := scanLink(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// AppLink returns one of the tenant's links of an app.
func (s *Store) AppLink(ctx context.Context, tenantID int64, appID string, id int64) (AppLink, error) {
	l, err := scanLink(s.readRow(ctx, `SELECT `+linkCols+` FROM app_links WHERE tenant_id = ? AND appid = ? AND id = ?`, tenantID, appID, id))
	return l, notFound(err, "link")
}

// WxaCodeImage returns a 小程序码's PNG.
func (s *Store) WxaCodeImage(ctx context.Context, tenantID int64, appID string, id int64) ([]byte, error) {
	var img []byte
	err := s.readRow(ctx, `SELECT image FROM app_links WHERE tenant_id = ? AND appid = ? AND id = ? AND kind = 'wxacode'`, tenantID, appID, id).Scan(&img)
	return img, notFound(err, "wxacode")
}

// LinkCreated records a link (or, with image, a 小程序码) WeChat made,
// with its activity row.
func (s *Store) LinkCreated(ctx context.Context, a model.Actor, tenantID int64, l AppLink, image []byte) (int64, error) {
	var id int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := appOfTenantTx(ctx, tx, tenantID, l.AppID); err != nil {
			return err
		}
		var exp int64
		if !l.ExpiresAt.IsZero() {
			exp = l.ExpiresAt.Unix()
		}
		var img any
		if l.Kind == LinkWxaCode {
			img = image
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO app_links (tenant_id, appid, kind, link, path, query, env_version, title, expires_at, image, created_by, created_at)
			VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`, tenantID, l.AppID, l.Kind, l.Link, l.Path, l.Query, l.EnvVersion, l.Title, exp, img, a.Label, s.now())
		if err != nil {
			return err
		}
		if id, err = res.LastInsertId(); err != nil {
			return err
		}
		act, detail := ActLinkCreated, l.Kind+" "+l.Path
		if l.Kind == LinkWxaCode {
			act, detail = ActWxaCodeCreated, l.Path+" scene="+l.Query
		}
		return s.logTx(ctx, tx, a, tenantID, act, l.AppID, strings.TrimSpace(detail))
	})
	return id, err
}

// DomainChange is one change Minifleet sent to an app's domains.
type DomainChange struct {
	Kind, Action string
	Domains      []string
	ChangedBy    string
	ChangedAt    time.Time
}

// DomainChangesSince lists an app's domain changes of one kind since t
// (the start of the month), oldest first. Every tenant's changes count:
// WeChat's limit is the app's.
func (s *Store) DomainChangesSince(ctx context.Context, appID, kind string, since time.Time) ([]DomainChange, error) {
	rows, err := s.read(ctx, `SELECT kind, action, domains, changed_by, changed_at FROM app_domain_changes
		WHERE appid = ? AND kind = ? AND changed_at >= ? ORDER BY changed_at, id`, appID, kind, since.Unix())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []DomainChange
	for rows.Next() {
		var d DomainChange
		var list string
		var at int64
		if err := rows.Scan(&d.Kind, &d.Action, &list, &d.ChangedBy, &at); err != nil {
			return nil, err
		}
		d.Domains, d.ChangedAt = strings.Fields(list), unix(at)
		out = append(out, d)
	}
	return out, rows.Err()
}

// DomainsChanged records a change WeChat accepted, with its activity row.
func (s *Store) DomainsChanged(ctx context.Context, a model.Actor, tenantID int64, appID, kind, action string, domains []string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := appOfTenantTx(ctx, tx, tenantID, appID); err != nil {
			return err
		}
		list := strings.Join(domains, " ")
		if _, err := tx.ExecContext(ctx, `INSERT INTO app_domain_changes (tenant_id, appid, kind, action, domains, changed_by, changed_at) VALUES (?,?,?,?,?,?,?)`,
			tenantID, appID, kind, action, list, a.Label, s.now()); err != nil {
			return err
		}
		return s.logTx(ctx, tx, a, tenantID, ActDomainsChanged, appID, kind+" "+action+" "+list)
	})
}
