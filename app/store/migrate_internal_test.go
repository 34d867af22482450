package store

import (
	"context"
	"testing"
)

// Apps that existed before migration 00011 get their search keys from it:
// searches find them afterwards, by the walk and by the lookup alike.
func TestSearchKeysBackfilled(t *testing.T) {
	ctx := context.Background()
	st := OpenTest(t)
	p, err := st.provider()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(ctx, 10); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"wxbefore00000001", "wxbefore00000002"} {
		if _, err := st.W.ExecContext(ctx, `INSERT INTO authorizers (appid, nickname, created_at, updated_at) VALUES (?, '迁移前', 1, 1)`, id); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var missing int
	if err := st.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM authorizers WHERE search_id IS NULL`).Scan(&missing); err != nil || missing != 0 {
		t.Fatalf("apps without a search key: %d (%v)", missing, err)
	}
	for _, q := range []string{"wxbefore00000002", "迁移前"} {
		res, err := st.StaffApps(ctx, AppFilter{Query: q})
		if err != nil || res.Total == 0 || len(res.Apps) != res.Total {
			t.Errorf("search %q after the migration: %d of %d (%v)", q, len(res.Apps), res.Total, err)
		}
	}
}
