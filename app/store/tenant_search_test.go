package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/store"
)

// The staff search index (migration 00004) follows renames, members joining
// and leaving, and e-mail changes.
func TestTenantSearchIndexFollowsChanges(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	owner, tn, err := st.Signup(ctx, model.User{Email: "lin@spruce.test", Name: "林", PasswordHash: "h"}, "云杉咖啡馆 Spruce", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.Signup(ctx, model.User{Email: "o@other.test", Name: "O", PasswordHash: "h"}, "青柠烘焙", ""); err != nil {
		t.Fatal(err)
	}
	search := func(q string) string {
		t.Helper()
		ts, total, err := st.ListTenants(ctx, store.TenantFilter{Query: q})
		if err != nil {
			t.Fatalf("ListTenants(%q): %v", q, err)
		}
		var names []string
		for _, t := range ts {
			names = append(names, t.Name)
		}
		if total != len(ts) {
			t.Fatalf("ListTenants(%q): total %d for %d rows", q, total, len(ts))
		}
		return strings.Join(names, ",")
	}
	want := func(q, names string) {
		t.Helper()
		if got := search(q); got != names {
			t.Errorf("search %q = %q, want %q", q, got, names)
		}
	}

	want("咖啡馆", "云杉咖啡馆 Spruce")
	want("SPRUCE", "云杉咖啡馆 Spruce")     // any case, name and e-mail
	want("lin@spruce", "云杉咖啡馆 Spruce") // owner's e-mail
	want("云杉", "云杉咖啡馆 Spruce")         // two characters: name scan
	want("杉", "云杉咖啡馆 Spruce")
	want("sP", "云杉咖啡馆 Spruce") // short with ASCII letters: any case
	want(`"; DROP`, "")        // quotes are literal

	if err := st.RenameTenant(ctx, model.SystemActor, tn.ID, "北岸书店"); err != nil {
		t.Fatal(err)
	}
	want("咖啡馆", "")
	want("北岸书", "北岸书店")
	want("lin@spruce", "北岸书店")

	actor := model.Actor{UserID: owner.ID, Label: owner.Email}
	_, tok, err := st.CreateInvite(ctx, actor, tn.ID, model.RoleViewer, "")
	if err != nil {
		t.Fatal(err)
	}
	_, guestID, err := st.AcceptInvite(ctx, tok, 0, &model.User{Email: "chen@guest.test", Name: "Chen", PasswordHash: "h"}, "")
	if err != nil {
		t.Fatal(err)
	}
	want("chen@guest", "北岸书店")

	if _, err := st.W.ExecContext(ctx, `UPDATE users SET email = 'chen@new.test' WHERE id = ?`, guestID); err != nil {
		t.Fatal(err)
	}
	want("chen@guest", "")
	want("chen@new", "北岸书店")
	want("lin@spruce", "北岸书店")

	if err := st.RemoveMember(ctx, actor, tn.ID, guestID); err != nil {
		t.Fatal(err)
	}
	want("chen@new", "")
	want("北岸书", "北岸书店")
}
