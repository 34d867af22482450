package web

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/minifleet/minifleet/app/platform"
	"github.com/minifleet/minifleet/app/store"
)

// liveFrames opens target's stream as c, publishes e once it is subscribed,
// and returns what the stream sent before it ended.
func liveFrames(t *testing.T, h *harness, c *client, target string, e platform.Event) string {
	t.Helper()
	h.srv.SSEMaxLife = 400 * time.Millisecond
	hub := h.srv.Onboarding.Hub
	before := hub.Subscribers()
	done := make(chan response, 1)
	go func() { done <- c.get(target) }()
	for i := 0; hub.Subscribers() == before; i++ {
		if i > 200 {
			t.Fatal("the stream never subscribed")
		}
		time.Sleep(5 * time.Millisecond)
	}
	hub.Publish(e)
	r := <-done
	return r.Body
}

// An app page's permission sets and activity update live with its summary,
// for staff and for the tenant.
func TestAppPageSectionsUpdateLive(t *testing.T) {
	fl := newFlow(t, "ownerA")
	A := fl.f.A.ID
	ctx := context.Background()
	const appID = "wxlive0000000001"
	addApp(fl.h, appID, "Live Lulu 实时", []int{17, 18}, A)
	page := fl.c.get("/t/" + itoa(A) + "/apps/" + appID)
	mustContain(t, "tenant page", page, `sse-swap="app"`, `sse-swap="perms"`, `sse-swap="activity"`)

	// A permission change lands: new set 19 and its activity row.
	if err := fl.h.st.SaveAppDetails(ctx, appID, store.AppDetails{Nickname: "Live Lulu 实时", AccountKind: "miniprogram", AccountStatus: 1, PermissionSets: []int{17, 18, 19}}); err != nil {
		t.Fatal(err)
	}
	if err := fl.h.st.Activity(ctx, platform.System, A, store.ActAppPermissions, appID, "+19 -∅"); err != nil {
		t.Fatal(err)
	}
	e := platform.Event{Name: platform.EventApp, TenantID: A, AppID: appID}
	perm19 := fl.h.tr("zh-CN", "perm.19")
	for _, c := range []struct {
		who    *client
		target string
	}{
		{fl.c, "/t/" + itoa(A) + "/apps/events?view=app&appid=" + appID},
		{fl.h.client().login("support@staff.test"), "/staff/apps/events?appid=" + appID},
	} {
		body := liveFrames(t, fl.h, c.who, c.target, e)
		for _, want := range []string{"event: app\n", "event: perms\n", "event: activity\n", perm19, "+19 -∅", `data-testid="app-activity"`, `data-testid="perm-list"`} {
			if !strings.Contains(body, want) {
				t.Errorf("%s: stream lacks %q:\n%s", c.target, want, body)
			}
		}
	}
}
