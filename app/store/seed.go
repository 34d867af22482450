package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"

	"github.com/minifleet/minifleet/app/model"
)

// Kinds of sandbox seed data (the seed_data table of migration 00016).
const (
	SeedUser     = "user"
	SeedTenant   = "tenant"
	SeedApp      = "app"
	SeedTemplate = "template"
	SeedCampaign = "campaign"
)

// ActSeedPurged is the activity row `minifleet demo purge` writes.
const ActSeedPurged = "seed_data_purged"

// MarkSeed records that the sandbox seeded the kind row ref (an id, an
// appid or a template id). Live mode refuses to start while any is listed.
func (s *Store) MarkSeed(ctx context.Context, kind, ref string) error {
	_, err := s.W.ExecContext(ctx, `INSERT OR IGNORE INTO seed_data (kind, ref) VALUES (?, ?)`, kind, ref)
	return err
}

// MarkSeedID is MarkSeed for a row id.
func (s *Store) MarkSeedID(ctx context.Context, kind string, id int64) error {
	return s.MarkSeed(ctx, kind, strconv.FormatInt(id, 10))
}

// SeedCount is how many rows the sandbox seeded, by kind.
func (s *Store) SeedCount(ctx context.Context) (map[string]int, error) {
	return s.countBy(ctx, `SELECT kind, COUNT(*) FROM seed_data GROUP BY kind`)
}

// Purged counts what PurgeSeed removed.
type Purged struct {
	Users, Tenants, Apps, Templates, Campaigns, Releases int64
	AppsUnbound                                          int64 // other apps of a demo tenant, kept unbound
}

func (p Purged) String() string {
	return fmt.Sprintf("users=%d tenants=%d apps=%d templates=%d campaigns=%d releases=%d apps_unbound=%d",
		p.Users, p.Tenants, p.Apps, p.Templates, p.Campaigns, p.Releases, p.AppsUnbound)
}

// appendOnly are the triggers that keep history tables append-only. The
// purge drops them inside its transaction to remove the demo's own history
// and creates them again, word for word, before it commits.
var appendOnly = []string{"activity_no_update", "activity_no_delete", "app_configs_no_update", "app_configs_no_delete",
	"release_events_no_update", "release_events_no_delete"}

// PurgeSeed removes, in one transaction, everything seed_data lists and
// what hangs off it: the demo users (with their memberships, invites,
// attempts), the demo tenants (with their apps' configs, tags, releases,
// campaigns, contact, activity), the seeded apps and templates, and the
// campaigns and releases demo users made. Anything else is kept: an app of
// a demo tenant the sandbox did not seed becomes unbound (staff assign
// it); another tenant's history written by a demo user keeps its label
// without the user. It writes one activity row with the counts.
func (s *Store) PurgeSeed(ctx context.Context) (Purged, error) {
	var p Purged
	err := s.tx(ctx, func(tx *sql.Tx) error {
		ex := func(q string, args ...any) (int64, error) {
			res, err := tx.ExecContext(ctx, q, args...)
			if err != nil {
				return 0, fmt.Errorf("%w\n%s", err, q)
			}
			return res.RowsAffected()
		}
		if _, err := ex(`PRAGMA defer_foreign_keys = ON`); err != nil {
			return err
		}
		triggers := map[string]string{}
		for _, name := range appendOnly {
			var q string
			if err := tx.QueryRowContext(ctx, `SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?`, name).Scan(&q); err != nil {
				return fmt.Errorf("trigger %s: %w", name, err)
			}
			triggers[name] = q
			if _, err := ex(`DROP TRIGGER ` + name); err != nil {
				return err
			}
		}
		steps := []struct {
			n *int64
			q string
		}{
			{nil, `CREATE TEMP TABLE purge_u AS SELECT CAST(ref AS INTEGER) AS id FROM seed_data WHERE kind = 'user'`},
			{nil, `CREATE TEMP TABLE purge_t AS SELECT CAST(ref AS INTEGER) AS id FROM seed_data WHERE kind = 'tenant'`},
			{nil, `CREATE TEMP TABLE purge_a AS SELECT ref AS appid FROM seed_data WHERE kind = 'app'`},
			{nil, `CREATE TEMP TABLE purge_c AS SELECT id FROM campaigns WHERE id IN (SELECT CAST(ref AS INTEGER) FROM seed_data WHERE kind = 'campaign')
				OR tenant_id IN (SELECT id FROM purge_t) OR creator_id IN (SELECT id FROM purge_u)`},
			{nil, `CREATE TEMP TABLE purge_r AS SELECT id FROM releases WHERE tenant_id IN (SELECT id FROM purge_t) OR appid IN (SELECT appid FROM purge_a)
				OR campaign_id IN (SELECT id FROM purge_c) OR preparer_id IN (SELECT id FROM purge_u) OR approver_id IN (SELECT id FROM purge_u)`},
			{nil, `CREATE TEMP TABLE purge_att AS SELECT id FROM auth_attempts WHERE tenant_id IN (SELECT id FROM purge_t) OR user_id IN (SELECT id FROM purge_u)`},

			{nil, `DELETE FROM release_calls WHERE release_id IN (SELECT id FROM purge_r)`},
			{nil, `DELETE FROM release_artifacts WHERE release_id IN (SELECT id FROM purge_r)`},
			{nil, `DELETE FROM release_events WHERE release_id IN (SELECT id FROM purge_r)`},
			{nil, `UPDATE release_events SET actor_id = NULL WHERE actor_id IN (SELECT id FROM purge_u)`},
			{nil, `DELETE FROM campaign_apps WHERE campaign_id IN (SELECT id FROM purge_c) OR tenant_id IN (SELECT id FROM purge_t) OR appid IN (SELECT appid FROM purge_a)`},
			{&p.Releases, `DELETE FROM releases WHERE id IN (SELECT id FROM purge_r)`},
			{nil, `UPDATE campaigns SET approver_id = NULL WHERE approver_id IN (SELECT id FROM purge_u)`},
			{&p.Campaigns, `DELETE FROM campaigns WHERE id IN (SELECT id FROM purge_c)`},
			{nil, `DELETE FROM app_tags WHERE tenant_id IN (SELECT id FROM purge_t) OR appid IN (SELECT appid FROM purge_a)`},
			{nil, `DELETE FROM app_testers WHERE tenant_id IN (SELECT id FROM purge_t) OR appid IN (SELECT appid FROM purge_a)`},
			{nil, `DELETE FROM app_configs WHERE tenant_id IN (SELECT id FROM purge_t) OR appid IN (SELECT appid FROM purge_a)`},
			{nil, `UPDATE app_configs SET author_id = NULL WHERE author_id IN (SELECT id FROM purge_u)`},
			{nil, `DELETE FROM tenant_contacts WHERE tenant_id IN (SELECT id FROM purge_t)`},
			{nil, `DELETE FROM app_conflicts WHERE owner_tenant_id IN (SELECT id FROM purge_t) OR claimant_tenant_id IN (SELECT id FROM purge_t)
				OR attempt_id IN (SELECT id FROM purge_att) OR appid IN (SELECT appid FROM purge_a)`},
			{nil, `UPDATE app_conflicts SET resolved_by = NULL WHERE resolved_by IN (SELECT id FROM purge_u)`},
			{nil, `DELETE FROM auth_attempts WHERE id IN (SELECT id FROM purge_att)`},
			{nil, `DELETE FROM invites WHERE tenant_id IN (SELECT id FROM purge_t) OR created_by IN (SELECT id FROM purge_u)`},
			{nil, `UPDATE invites SET accepted_by = NULL WHERE accepted_by IN (SELECT id FROM purge_u)`},
			{nil, `DELETE FROM memberships WHERE tenant_id IN (SELECT id FROM purge_t) OR user_id IN (SELECT id FROM purge_u)`},
			{&p.Apps, `DELETE FROM authorizers WHERE appid IN (SELECT appid FROM purge_a)`},
			{&p.AppsUnbound, `UPDATE authorizers SET tenant_id = NULL WHERE tenant_id IN (SELECT id FROM purge_t)`},
			{nil, `DELETE FROM activity WHERE tenant_id IN (SELECT id FROM purge_t)`},
			{nil, `UPDATE activity SET actor_id = NULL WHERE actor_id IN (SELECT id FROM purge_u)`},
			{&p.Templates, `DELETE FROM templates WHERE template_id IN (SELECT CAST(ref AS INTEGER) FROM seed_data WHERE kind = 'template')`},
			{&p.Users, `DELETE FROM users WHERE id IN (SELECT id FROM purge_u)`},
			{&p.Tenants, `DELETE FROM tenants WHERE id IN (SELECT id FROM purge_t)`},
			{nil, `DELETE FROM seed_data`},
			{nil, `DROP TABLE temp.purge_u`}, {nil, `DROP TABLE temp.purge_t`}, {nil, `DROP TABLE temp.purge_a`},
			{nil, `DROP TABLE temp.purge_c`}, {nil, `DROP TABLE temp.purge_r`}, {nil, `DROP TABLE temp.purge_att`},
		}
		for _, st := range steps {
			n, err := ex(st.q)
			if err != nil {
				return err
			}
			if st.n != nil {
				*st.n = n
			}
		}
		for _, name := range appendOnly {
			if _, err := ex(triggers[name]); err != nil {
				return err
			}
		}
		return s.logTx(ctx, tx, model.SystemActor, 0, ActSeedPurged, "sandbox seed data", p.String())
	})
	return p, err
}
