package paths

import (
	"net/url"
	"testing"
)

// TestBuilders writes out what every builder renders: the URLs the pages
// have always linked to.
func TestBuilders(t *testing.T) {
	const app = "wx0123456789abcdef"
	for _, c := range []struct{ got, want string }{
		{Invite("tok-_9"), "/invite/tok-_9"},
		{LoginNext("/t/1/members"), "/login?next=%2Ft%2F1%2Fmembers"},
		{InviteLogin("tok"), "/login?next=/invite/tok"},
		{WeChatAppEvents(app), "/wechat/apps/" + app + "/events"},
		{Tenant(7), "/t/7"},
		{Members(7), "/t/7/members"},
		{MemberRole(7, 3), "/t/7/members/3/role"},
		{MemberRemove(7, 3), "/t/7/members/3/remove"},
		{Invites(7), "/t/7/invites"},
		{InviteRevoke(7, 4), "/t/7/invites/4/revoke"},
		{Activity(7), "/t/7/activity"},
		{Activity(0), "/staff/activity"},
		{ActivityCSV(7), "/t/7/activity.csv"},
		{ActivityCSV(0), "/staff/activity.csv"},
		{Contact(7), "/t/7/settings/contact"},
		{TenantApps(7), "/t/7/apps"},
		{TenantAppsListEvents(7), "/t/7/apps/events?view=list"},
		{TenantAppEvents(7, app), "/t/7/apps/events?view=app&appid=" + app},
		{TenantApp(7, app), "/t/7/apps/" + app},
		{TenantAppAvatar(7, app), "/t/7/apps/" + app + "/avatar"},
		{AppReauthorize(7, app), "/t/7/apps/" + app + "/reauthorize"},
		{AppTags(7, app), "/t/7/apps/" + app + "/tags"},
		{AppSettings(7, app), "/t/7/apps/" + app + "/settings"},
		{AppTesters(7, app), "/t/7/apps/" + app + "/testers"},
		{AppTesterUnbind(7, app), "/t/7/apps/" + app + "/testers/unbind"},
		{Config(7, app), "/t/7/apps/" + app + "/config"},
		{ConfigDiff(7, app), "/t/7/apps/" + app + "/config/diff"},
		{ConfigDiffBetween(7, app, 2, 5), "/t/7/apps/" + app + "/config/diff?from=2&to=5"},
		{ConfigExtJSON(7, app, 3), "/t/7/apps/" + app + "/config/ext_json?version=3"},
		{ConfigRestore(7, app), "/t/7/apps/" + app + "/config/restore"},
		{Releases(7, app), "/t/7/apps/" + app + "/releases"},
		{Release(7, app, 9), "/t/7/apps/" + app + "/releases/9"},
		{ReleaseEvents(7, app, 9, 4), "/t/7/apps/" + app + "/releases/9/events?seq=4"},
		{ReviewEvents(7, app, 9, 4, "a b"), "/t/7/apps/" + app + "/releases/9/events?seq=4&view=review&hash=a+b"},
		{ReleaseQR(7, app, 9), "/t/7/apps/" + app + "/releases/9/qr"},
		{ReleaseScreenshot(7, app, 9, "m/1 x"), "/t/7/apps/" + app + "/releases/9/screenshots/" + url.PathEscape("m/1 x")},
		{ReleaseStep(7, app, 9), "/t/7/apps/" + app + "/releases/9/step"},
		{ReleaseItems(7, app, 9), "/t/7/apps/" + app + "/releases/9/items"},
		{AppPrivacy(7, app), "/t/7/apps/" + app + "/privacy"},
		{ReleaseMedia(7, app, 9), "/t/7/apps/" + app + "/releases/9/media"},
		{ReleaseMediaFile(7, app, 9, "ab12"), "/t/7/apps/" + app + "/releases/9/media/ab12"},
		{ReleaseMediaDrop(7, app, 9, "ab12"), "/t/7/apps/" + app + "/releases/9/media/ab12/remove"},
		{ReleaseReview(7, app, 9), "/t/7/apps/" + app + "/releases/9/review"},
		{ReleaseSubmit(7, app, 9), "/t/7/apps/" + app + "/releases/9/submit"},
		{ReleaseShip(7, app, 9), "/t/7/apps/" + app + "/releases/9/ship"},
		{Campaigns(7), "/t/7/campaigns"},
		{Campaigns(0), "/staff/campaigns"},
		{CampaignNew(7), "/t/7/campaigns/new"},
		{CampaignNew(0), "/staff/campaigns/new"},
		{CampaignPreview(7), "/t/7/campaigns/preview"},
		{CampaignPreview(0), "/staff/campaigns/preview"},
		{Campaign(7, 5), "/t/7/campaigns/5"},
		{Campaign(0, 5), "/staff/campaigns/5"},
		{CampaignEvents(7, 5), "/t/7/campaigns/5/events"},
		{CampaignEventsAt(0, 5, 2), "/staff/campaigns/5/events?seq=2"},
		{CampaignReport(7, 5), "/t/7/campaigns/5/report.csv"},
		{CampaignApprove(0, 5), "/staff/campaigns/5/approve"},
		{CampaignAction(7, 5), "/t/7/campaigns/5/action"},
		{Authorize(7), "/t/7/authorize"},
		{Attempt(7, 8), "/t/7/authorize/8"},
		{AttemptEvents(7, 8), "/t/7/authorize/8/events"},
		{AttemptCancel(7, 8), "/t/7/authorize/8/cancel"},
		{AttemptCallback(7, 8), "/t/7/authorize/8/callback"},
		{AttemptCallbackState(7, 8, "s+t/="), "/t/7/authorize/8/callback?state=s%2Bt%2F%3D"},
		{AttemptCallbackState(7, 8, ""), "/t/7/authorize/8/callback"},
		{StaffTenant(7), "/staff/tenants/7"},
		{StaffTenantStatus(7), "/staff/tenants/7/status"},
		{StaffConflict(2), "/staff/apps/conflicts/2"},
		{StaffApp(app), "/staff/apps/" + app},
		{StaffAppEvents(app), "/staff/apps/events?appid=" + app},
		{StaffAppAvatar(app), "/staff/apps/" + app + "/avatar"},
		{StaffAppAssign(app), "/staff/apps/" + app + "/assign"},
		{StaffTemplateDelete(3), "/staff/templates/3/delete"},
		{StaffTemplateSchema(3), "/staff/templates/3/schema"},
		{StaffTemplatePreview(3), "/staff/templates/3/schema/preview"},
		{WithQuery(StaffTenants, url.Values{}), "/staff/tenants?"},
		{WithQuery(StaffTenants, url.Values{"q": {"a&b"}}), "/staff/tenants?q=a%26b"},
		{WithQueryOmitEmpty(StaffApps, url.Values{}), "/staff/apps"},
		{WithQueryOmitEmpty(StaffApps, url.Values{"offset": {"50"}}), "/staff/apps?offset=50"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func TestFillRefusesAWrongCount(t *testing.T) {
	for _, args := range [][]string{{"1"}, {"1", "2", "3"}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("fill(%q, %q) did not panic", MemberRolePattern, args)
				}
			}()
			fill(MemberRolePattern, args...)
		}()
	}
}
