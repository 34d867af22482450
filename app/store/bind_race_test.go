package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/store"
)

// The redirect and the authorized push binding the same attempt at the same
// moment: exactly one of them binds and logs; the other is a Duplicate.
// Both for a first authorization (one "bound" row) and for an app its
// tenant authorizes again (one "re-authorized" row).
func TestBindAppConcurrentBindersLogOnce(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	owner, tn, err := st.Signup(ctx, model.User{Email: "o@race.test", Name: "O", PasswordHash: "h"}, "Race Tea", "")
	if err != nil {
		t.Fatal(err)
	}
	me := model.Actor{UserID: owner.ID, Label: owner.Email}
	const appID = "wxrace0000000001"
	if err := st.EnsureAuthorizer(ctx, appID); err != nil {
		t.Fatal(err)
	}
	count := func(action string) int {
		t.Helper()
		acts, err := st.ListActivity(ctx, store.ActivityFilter{TenantID: tn.ID, Action: action, Limit: 50})
		if err != nil {
			t.Fatal(err)
		}
		return len(acts)
	}
	race := func(pre string) []store.BindResult {
		t.Helper()
		att, err := st.CreateAttempt(ctx, me, tn.ID, pre, "", time.Now().Add(10*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		start := make(chan struct{})
		res := make([]store.BindResult, 2)
		errs := make([]error, 2)
		for i, who := range []model.Actor{me, {Label: "system"}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				res[i], errs[i] = st.BindApp(ctx, who, appID, tn.ID, att.ID)
			}()
		}
		close(start)
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		if !res[0].Bound || !res[1].Bound || res[0].Duplicate == res[1].Duplicate {
			t.Fatalf("results %+v: want both bound, exactly one duplicate", res)
		}
		got, err := st.Attempt(ctx, tn.ID, att.ID)
		if err != nil || got.State != model.AttemptBound || got.AppID != appID {
			t.Fatalf("attempt %+v %v: want bound to %s", got, err, appID)
		}
		return res
	}

	for i := 0; i < 20; i++ {
		if _, err := st.W.ExecContext(ctx, `UPDATE authorizers SET tenant_id = NULL WHERE appid = ?`, appID); err != nil {
			t.Fatal(err)
		}
		before := count(store.ActAppBound)
		race("pre-bind-" + itoaT(i))
		if n := count(store.ActAppBound) - before; n != 1 {
			t.Fatalf("round %d: %d bound rows, want 1", i, n)
		}
	}
	if n := count(store.ActAppReauthorized); n != 0 {
		t.Fatalf("%d re-authorized rows after first authorizations, want 0", n)
	}
	for i := 0; i < 20; i++ {
		race("pre-reauth-" + itoaT(i))
		if n := count(store.ActAppReauthorized); n != i+1 {
			t.Fatalf("round %d: %d re-authorized rows, want %d", i, n, i+1)
		}
	}
}

func itoaT(i int) string { return string(rune('a'+i/10)) + string(rune('0'+i%10)) }
