package main

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/minifleet/minifleet/app/model"
)

// firstCellJS reports, for the first body row of the page's first data
// table, whether its first cell is the element at its own centre (nothing,
// such as a sticky header, lies over it), after scrolling it into view.
const firstCellJS = `(() => {
	const td = document.querySelector('table.data tbody tr:first-child td');
	if (!td) return 'no table row';
	td.scrollIntoView({block: 'nearest'});
	const r = td.getBoundingClientRect();
	if (r.width === 0 || r.height === 0) return 'the first cell is not shown';
	const x = r.left + Math.min(r.width / 2, 20), y = r.top + r.height / 2;
	const hit = document.elementFromPoint(x, y);
	if (!hit) return 'nothing at the first cell';
	if (hit === td || td.contains(hit)) return '';
	return 'the first cell is covered by ' + hit.tagName.toLowerCase() + (hit.className ? '.' + hit.className : '') + ' "' + (hit.textContent || '').trim().slice(0, 40) + '"';
})()`

// firstRowClickable fails unless the first row of the page's table can be
// clicked and the page does not scroll sideways.
func (b *tab) firstRowClickable(what string) {
	b.t.Helper()
	msg, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](firstCellJS))
	if err != nil {
		b.fail(err, what+": first row")
	}
	if msg != "" {
		b.fail(fmt.Errorf("%s", msg), what)
	}
	b.noHorizontalScroll()
}

// menu opens the navigation menu on a phone (a details/summary disclosure,
// closed on every page load) and clicks the link.
func (b *tab) menu(what, testID, waitFor string) {
	b.t.Helper()
	b.do("open the menu", chromedp.Click(css(`[data-testid=nav-menu-toggle]`)))
	b.nav(what, chromedp.Click(css(`a[data-testid=`+testID+`]`)), chromedp.WaitVisible(css(waitFor)))
}

// TestE2ETablesOnPhone: on a 375 px phone, the nav is a menu, tables are
// stacked rows whose first cell is never covered (the template library's
// draft row added by 从微信同步 included), and no page scrolls sideways;
// at 1280 px the template library's first row is clickable too.
func TestE2ETablesOnPhone(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skip("chromium is not installed (make chromium)")
	}
	if testing.Short() {
		t.Skip("browser test skipped with -short")
	}
	a, _, budget := startReleaseRig(t, 90*time.Second)
	ctx := context.Background()
	u, err := createStaff(ctx, a.store, "tables@minifleet.test", "表格 Ops", "tables-password-1", model.StaffAdmin)
	if err != nil {
		t.Fatal(err)
	}
	a.authz.SetStaffRole(u.ID, model.StaffAdmin)
	releaseCast(t, a, "owner@tables.example", "店主", "表格面馆", "boss@tables.example", "老板")

	br := startBrowser(t, budget, a.base, 375, 812, "zh-CN")
	staff := br.tab("staff")
	staff.do("phone", chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile))
	staff.open("/login", 200)
	staff.nav("log in",
		chromedp.SendKeys(css("#f-email"), "tables@minifleet.test"),
		chromedp.SendKeys(css("#f-password"), "tables-password-1"),
		chromedp.Click(css(`[data-testid=login-submit]`)),
		chromedp.WaitVisible(css(`[data-testid=page-title]`)),
	)
	if vis, err := chromedp.Run(staff.ctx, chromedp.Evaluate[bool](`!!document.querySelector('a[data-testid=nav-staff-templates]').offsetParent`)); err != nil || vis {
		staff.fail(err, "the nav should be a closed menu on a phone")
	}
	staff.menu("templates from the menu", "nav-staff-templates", `[data-testid=templates-sync]`)
	staff.nav("从微信同步", chromedp.Click(css(`[data-testid=templates-sync]`)), chromedp.WaitVisible(css(`table.data tbody tr`)))
	staff.firstRowClickable("template library")
	staff.shot("tables-templates-375")
	// At 1280 px the nav is a column again and the header covers no row
	// (the draft row 从微信同步 added was unreachable under it).
	staff.do("desktop", chromedp.EmulateViewport(1280, 800))
	if vis, err := chromedp.Run(staff.ctx, chromedp.Evaluate[bool](`!!document.querySelector('a[data-testid=nav-staff-templates]').offsetParent`)); err != nil || !vis {
		staff.fail(err, "the nav should be a column at 1280 px")
	}
	staff.firstRowClickable("template library at 1280")
	staff.shot("tables-templates-1280")
	staff.do("phone again", chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile))
	staff.menu("tenants from the menu", "nav-staff-tenants", `table.data tbody tr`)
	staff.firstRowClickable("tenants")
	staff.menu("activity from the menu", "nav-staff-activity", `table.data tbody tr`)
	staff.firstRowClickable("activity")
	staff.shot("tables-activity-375")

	owner := br.tab("owner")
	owner.do("phone", chromedp.EmulateViewport(375, 812, chromedp.EmulateMobile))
	owner.open("/login", 200)
	owner.nav("log in",
		chromedp.SendKeys(css("#f-email"), "owner@tables.example"),
		chromedp.SendKeys(css("#f-password"), "release-password"),
		chromedp.Click(css(`[data-testid=login-submit]`)),
		chromedp.WaitVisible(css(`[data-testid=page-title]`)),
	)
	owner.menu("members from the menu", "nav-members", `table.data tbody tr`)
	owner.firstRowClickable("members")
	// The member's role and actions stay on screen.
	if off, err := chromedp.Run(owner.ctx, chromedp.Evaluate[int](`(() => { let n = 0; for (const el of document.querySelectorAll('table.data select, table.data button')) { const r = el.getBoundingClientRect(); if (r.width > 0 && (r.right > window.innerWidth || r.left < 0)) n++; } return n; })()`)); err != nil || off > 0 {
		owner.fail(err, fmt.Sprintf("%d member controls are off screen", off))
	}
	owner.shot("tables-members-375")

}
