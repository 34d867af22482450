package store

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"time"

	"github.com/minifleet/minifleet/app/model"
)

// API keys (issue #15): created and revoked with their activity row in the
// same transaction; looked up by the SHA-256 of the secret.

// Activity actions of API keys.
const (
	ActAPIKeyCreate = "api_key_created"
	ActAPIKeyRevoke = "api_key_revoked"
)

const apiKeyCols = `id, COALESCE(tenant_id, 0), tenants, name, prefix, scopes, expires_at, created_by, creator, created_at, revoked_at, revoked_by, last_used_at`

func scanAPIKey(sc interface{ Scan(...any) error }) (model.APIKey, error) {
	var k model.APIKey
	var tenants, scopes string
	var exp, created, revoked, used int64
	if err := sc.Scan(&k.ID, &k.TenantID, &tenants, &k.Name, &k.Prefix, &scopes, &exp, &k.CreatedBy, &k.Creator, &created, &revoked, &k.RevokedBy, &used); err != nil {
		return k, err
	}
	for _, t := range strings.Split(tenants, ",") {
		if id, err := strconv.ParseInt(t, 10, 64); err == nil {
			k.Tenants = append(k.Tenants, id)
		}
	}
	for _, s := range strings.Fields(scopes) {
		k.Scopes = append(k.Scopes, model.APIScope(s))
	}
	k.ExpiresAt, k.CreatedAt, k.RevokedAt, k.LastUsedAt = unix(exp), unix(created), unix(revoked), unix(used)
	return k, nil
}

// CreateAPIKey stores a key (its secret's hash, never the secret) and logs
// it in the key's tenant (platform keys: the platform's log).
func (s *Store) CreateAPIKey(ctx context.Context, a model.Actor, k model.APIKey, secretHash []byte) (model.APIKey, error) {
	ids := make([]string, len(k.Tenants))
	for i, t := range k.Tenants {
		ids[i] = strconv.FormatInt(t, 10)
	}
	var exp int64
	if !k.ExpiresAt.IsZero() {
		exp = k.ExpiresAt.Unix()
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if k.TenantID == 0 && len(k.Tenants) > 0 {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM tenants WHERE id IN (`+inList(len(k.Tenants))+`)`, int64sAny(k.Tenants)...).Scan(&n); err != nil {
				return err
			}
			if n != len(k.Tenants) {
				return model.FieldError("tenants", "apikey.err.tenants")
			}
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO api_keys (tenant_id, tenants, name, prefix, secret_hash, scopes, expires_at, created_by, creator, created_at)
			VALUES (?,?,?,?,?,?,?,?,?,?)`, nullID(k.TenantID), strings.Join(ids, ","), k.Name, k.Prefix, secretHash, model.ScopeList(k.Scopes), exp, a.UserID, a.Label, s.now())
		if err != nil {
			return err
		}
		if k.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		return s.logTx(ctx, tx, a, k.TenantID, ActAPIKeyCreate, k.Name, k.Prefix+" "+model.ScopeList(k.Scopes))
	})
	if err != nil {
		return model.APIKey{}, err
	}
	return s.apiKey(ctx, k.TenantID, k.ID)
}

func int64sAny(v []int64) []any {
	out := make([]any, len(v))
	for i, x := range v {
		out[i] = x
	}
	return out
}

func (s *Store) apiKey(ctx context.Context, tid, id int64) (model.APIKey, error) {
	cond, args := scopeCond(tid)
	k, err := scanAPIKey(s.W.QueryRowContext(ctx, `SELECT `+apiKeyCols+` FROM api_keys WHERE id = ? AND `+cond, append([]any{id}, args...)...))
	return k, notFound(err, "api_key")
}

// APIKeys lists a tenant's keys (tid > 0) or the platform keys (0), newest first.
func (s *Store) APIKeys(ctx context.Context, tid int64) ([]model.APIKey, error) {
	cond, args := scopeCond(tid)
	rows, err := s.read(ctx, `SELECT `+apiKeyCols+` FROM api_keys WHERE `+cond+` ORDER BY id DESC LIMIT 500`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []model.APIKey
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// APIKeyByHash finds a key by its secret's hash (revoked and expired keys
// too: the caller decides) and returns the hash as stored, for the caller's
// constant-time comparison; not found when none has it.
func (s *Store) APIKeyByHash(ctx context.Context, hash []byte) (model.APIKey, []byte, error) {
	var stored []byte
	row := s.readRow(ctx, `SELECT `+apiKeyCols+`, secret_hash FROM api_keys WHERE secret_hash = ?`, hash)
	k, err := scanAPIKey(scanFunc(func(dest ...any) error { return row.Scan(append(dest, &stored)...) }))
	return k, stored, notFound(err, "api_key")
}

type scanFunc func(...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

// RevokeAPIKey revokes a key of the tenant (tid > 0) or a platform key (0);
// not found for another tenant's key, conflict when already revoked.
func (s *Store) RevokeAPIKey(ctx context.Context, a model.Actor, tid, id int64) (model.APIKey, error) {
	cond, args := scopeCond(tid)
	var k model.APIKey
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		k, err = scanAPIKey(tx.QueryRowContext(ctx, `SELECT `+apiKeyCols+` FROM api_keys WHERE id = ? AND `+cond, append([]any{id}, args...)...))
		if err != nil {
			return notFound(err, "api_key")
		}
		if !k.RevokedAt.IsZero() {
			return model.Errorf(model.CodeConflict, "apikey.err.revoked")
		}
		now := s.now()
		if _, err := tx.ExecContext(ctx, `UPDATE api_keys SET revoked_at = ?, revoked_by = ? WHERE id = ?`, now, a.Label, id); err != nil {
			return err
		}
		k.RevokedAt, k.RevokedBy = unix(now), a.Label
		return s.logTx(ctx, tx, a, tid, ActAPIKeyRevoke, k.Name, k.Prefix)
	})
	return k, err
}

// TouchAPIKeys records when keys were last used, all in one statement
// batch (the API collects uses in memory and writes them every few seconds).
func (s *Store) TouchAPIKeys(ctx context.Context, used map[int64]time.Time) error {
	if len(used) == 0 {
		return nil
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `UPDATE api_keys SET last_used_at = max(last_used_at, ?) WHERE id = ?`)
		if err != nil {
			return err
		}
		defer st.Close()
		for id, at := range used {
			if _, err := st.ExecContext(ctx, at.Unix(), id); err != nil {
				return err
			}
		}
		return nil
	})
}

// ReleasesBefore pages an app's releases newest first: those with an id
// below before (0: from the newest), at most limit.
func (s *Store) ReleasesBefore(ctx context.Context, tenantID int64, appID string, before int64, limit int) ([]model.Release, error) {
	if before <= 0 {
		before = 1<<62 - 1
	}
	return s.queryReleases(ctx, `SELECT `+releaseCols+` FROM releases WHERE tenant_id = ? AND appid = ? AND id < ? ORDER BY id DESC LIMIT `+strconv.Itoa(limit),
		tenantID, appID, before)
}
