package store

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/minifleet/minifleet/app/model"
)

// "Needs re-authorization" is said once: the WHERE clauses of migration
// 00010's partial indexes are condNeedsReauth and condProblems word for
// word, and on every combination of status, reason and token state the SQL
// predicates pick the apps model.App.DisplayStatus calls so.
func TestNeedsReauthDefinedOnce(t *testing.T) {
	ctx := context.Background()
	st := OpenTest(t)
	words := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	for index, cond := range map[string]string{"authorizers_needs_reauth": condNeedsReauth, "authorizers_problems": condProblems} {
		var def string
		if err := st.R.QueryRowContext(ctx, `SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?`, index).Scan(&def); err != nil {
			t.Fatalf("%s: %v", index, err)
		}
		_, where, ok := strings.Cut(words(def), " WHERE ")
		if want := strings.ReplaceAll(cond, "a.", ""); !ok || words(where) != words(want) {
			t.Errorf("%s WHERE %q; the store says %q", index, where, want)
		}
	}

	var apps []string
	for _, status := range []string{"pending", "authorized", "unauthorized"} {
		for _, reason := range []string{"", model.ReauthMissingCodePerm, model.ReauthNotMiniProgram} {
			for _, tokens := range []string{TokenFresh, TokenRefreshing, TokenFailing, TokenNeedsReauth} {
				id := fmt.Sprintf("wx%014d", len(apps))
				if _, err := st.W.ExecContext(ctx, `INSERT INTO authorizers (appid, status, reauth_reason, token_state, created_at, updated_at) VALUES (?, ?, ?, ?, 1, 1)`,
					id, status, reason, tokens); err != nil {
					t.Fatal(err)
				}
				apps = append(apps, id)
			}
		}
	}
	for _, id := range apps {
		a, err := st.AppForStaff(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name, cond string
			want       bool
		}{
			{"needs re-authorization", condNeedsReauth, a.DisplayStatus() == model.AppNeedsReauth},
			{"authorized", condAuthorizedOK, a.DisplayStatus() == model.AppAuthorized},
			{"problems", condProblems, a.DisplayStatus() == model.AppNeedsReauth || a.Status == "authorized" && a.TokenState == TokenFailing},
		} {
			var n int
			if err := st.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM authorizers a WHERE a.appid = ? AND `+c.cond, id).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if got := n == 1; got != c.want {
				t.Errorf("%s (%s, %q, %s): SQL says %v, Go says %v", c.name, a.Status, a.ReauthReason, a.TokenState, got, c.want)
			}
		}
	}
}
