package web

import (
	"context"
	"net/url"
	"testing"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/paths"
	"github.com/minifleet/minifleet/app/store"
)

// TestActivityFamiliesSearchAndTenantNames: the action filter offers every
// family (accounts, apps, releases, campaigns, settings) and filters by
// one; a search for an action's label (停用) finds those rows though no
// field holds the word; the staff log names tenants.
func TestActivityFamiliesSearchAndTenantNames(t *testing.T) {
	h := newHarness(t)
	w := h.seed() // tenant C was suspended ("unpaid")
	ctx := context.Background()
	if err := h.st.Activity(ctx, model.Actor{Label: "system"}, w.A.ID, store.ActCampaignDone, "campaign #9", "12 apps"); err != nil {
		t.Fatal(err)
	}
	if err := h.st.Activity(ctx, model.Actor{Label: "system"}, 0, store.ActSetting, "server_domains", ""); err != nil {
		t.Fatal(err)
	}
	staff := h.client().login(w.users["staffadmin"].Email)
	page := staff.get(paths.Activity(0))
	for _, fam := range []string{"accounts", "apps", "releases", "campaigns", "settings"} {
		mustContain(t, "family "+fam, page, `data-testid="family-`+fam+`"`)
	}
	mustContain(t, "tenant names", page, `>`+tenantAName+`</a>`, `>`+tenantCName+`</a>`)
	mustNotContain(t, "tenant ids", page, `>#1</a>`)

	camp := staff.get(paths.Activity(0) + "?" + url.Values{"action": {"@campaigns"}}.Encode())
	mustContain(t, "campaigns family", camp, "12 个小程序", `value="@campaigns" selected`)
	mustNotContain(t, "campaigns family", camp, "server_domains", "unpaid")

	found := staff.get(paths.Activity(0) + "?" + url.Values{"q": {"停用"}}.Encode())
	mustContain(t, "search 停用", found, "unpaid", tenantCName)
	mustNotContain(t, "search 停用", found, "12 个小程序", "server_domains")
}
