package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/minifleet/minifleet/app/model"
)

// appCols reads an authorizer for the apps views: never a token, only
// whether one is held.
const appCols = `a.appid, COALESCE(a.tenant_id, 0), COALESCE(t.name, ''), a.status, a.nickname, a.head_img, a.user_name, a.principal_name,
	a.account_kind, a.service_type, a.verify_type, a.account_status, a.func_info, a.categories, a.domains, a.reauth_reason,
	a.token_state, a.refresh_token != '', a.access_expires_at, a.last_error, a.authorized_at, a.unauthorized_at, a.bound_at,
	a.info_at, a.reconciled_at, a.updated_at`

const appFrom = ` FROM authorizers a LEFT JOIN tenants t ON t.id = a.tenant_id`

func scanApp(row interface{ Scan(...any) error }) (model.App, error) {
	var a model.App
	var sets, cats, doms string
	var exp, info, rec, upd int64
	var authAt, unauthAt, boundAt sql.NullInt64
	err := row.Scan(&a.AppID, &a.TenantID, &a.TenantName, &a.Status, &a.Nickname, &a.HeadImg, &a.UserName, &a.PrincipalName,
		&a.AccountKind, &a.ServiceType, &a.VerifyType, &a.AccountStatus, &sets, &cats, &doms, &a.ReauthReason,
		&a.TokenState, &a.HasRefresh, &exp, &a.LastTokenError, &authAt, &unauthAt, &boundAt, &info, &rec, &upd)
	if err != nil {
		return a, err
	}
	_ = json.Unmarshal([]byte(sets), &a.PermissionSets)
	_ = json.Unmarshal([]byte(cats), &a.Categories)
	_ = json.Unmarshal([]byte(doms), &a.Domains)
	a.AccessExpires, a.InfoAt, a.ReconciledAt, a.UpdatedAt = unix(exp), unix(info), unix(rec), unix(upd)
	a.AuthorizedAt, a.UnauthorizedAt, a.BoundAt = nullUnix(authAt), nullUnix(unauthAt), nullUnix(boundAt)
	return a, nil
}

// queryApps reads a query of appCols.
func (s *Store) queryApps(ctx context.Context, q string, args ...any) ([]model.App, error) {
	rows, err := s.read(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []model.App
	for rows.Next() {
		a, err := scanApp(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// rowWithTotal scans a row of appCols followed by one more column, total.
type rowWithTotal struct {
	rows  *sql.Rows
	total *int
}

func (r rowWithTotal) Scan(dest ...any) error { return r.rows.Scan(append(dest, r.total)...) }

// queryAppsTotal is queryApps for a query whose last column is a total.
func (s *Store) queryAppsTotal(ctx context.Context, q string, total *int, args ...any) ([]model.App, error) {
	rows, err := s.read(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []model.App
	for rows.Next() {
		a, err := scanApp(rowWithTotal{rows, total})
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// App loads one of tenantID's apps; another tenant's appid is not found.
func (s *Store) App(ctx context.Context, tenantID int64, appID string) (model.App, error) {
	a, err := scanApp(s.readRow(ctx, `SELECT `+appCols+appFrom+` WHERE a.tenant_id = ? AND a.appid = ?`, tenantID, appID))
	return a, notFound(err, "app")
}

// AppForStaff loads any app (staff views and the platform layer).
func (s *Store) AppForStaff(ctx context.Context, appID string) (model.App, error) {
	a, err := scanApp(s.readRow(ctx, `SELECT `+appCols+appFrom+` WHERE a.appid = ?`, appID))
	return a, notFound(err, "app")
}

// TenantApps lists tenantID's apps, most recently changed first.
func (s *Store) TenantApps(ctx context.Context, tenantID int64) ([]model.App, error) {
	return s.queryApps(ctx, `SELECT `+appCols+appFrom+` WHERE a.tenant_id = ? ORDER BY a.updated_at DESC, a.appid`, tenantID)
}

// AppFilter selects apps for staff.
type AppFilter struct {
	TenantID int64  // 0: every tenant
	Status   string // model.AppStatus, or "unbound"; "" all
	Problems bool   // only apps that need re-authorization or whose tokens fail
	Query    string // appid, nickname, gh_ name, principal or tenant name
	Offset   int
	Limit    int
}

// AppPage is one page of StaffApps.
type AppPage struct {
	Apps []model.App
	// Total counts the matches; a search that has to count them one by one
	// (a short search, or a search with other filters) counts only up to
	// max(AppCountCap, Offset+Limit), and More says there are more than that.
	Total int
	More  bool
}

// AppCountCap is how far a search counts its matches one by one: past it the
// list says "more than 200" instead of reading every match only to count it.
// Four pages of 50: a search that broad is one to narrow, not to page through
// (paging on counts further: the cap moves with the page).
const AppCountCap = 200

// "Needs re-authorization", defined once: an authorized app whose details
// say it cannot be managed (reauth_reason) or whose refresh token was lost
// (token_state needs_reauth). condNeedsReauth and condProblems are word for
// word the WHERE clauses of migration 00010's partial indexes, which the
// list names with INDEXED BY: SQLite uses a partial index only when the
// query repeats its condition, and INDEXED BY fails loudly if it does not.
// model.App.DisplayStatus is the same predicate in Go. The test
// TestNeedsReauthDefinedOnce holds the three together.
const (
	condAuthorizedApp = `a.status = 'authorized'`
	reauthNeeded      = `(a.reauth_reason != '' OR a.token_state = 'needs_reauth')`
	condNeedsReauth   = condAuthorizedApp + ` AND ` + reauthNeeded
	condAuthorizedOK  = condAuthorizedApp + ` AND NOT ` + reauthNeeded
	// Any problem: needs re-authorization, or its tokens fail.
	condProblems = `a.status = 'authorized' AND (a.reauth_reason != '' OR a.token_state IN ('needs_reauth', 'failing'))`
)

// A trigram search matching more apps than this walks the list's order
// (authorizers_updated_search) keeping the matches; fewer are looked up by
// their search keys (authorizers_search) and sorted.
const appSearchWalkFrom = 200

// appListOrder is the staff list's order, newest change first: the order of
// the authorizers_updated_search index walked backwards, so no sort (the
// partial indexes share its leading columns).
const appListOrder = ` ORDER BY a.updated_at DESC, a.appid DESC`

// StaffApps lists apps across tenants, newest change first, with the number
// matching the filter. A list without a search is appsFiltered (an exact
// count, then the page); with a search it is appsSearched (the page and its
// count in one statement). Both pick the page's rowids on an index alone and
// read only those rows in full.
func (s *Store) StaffApps(ctx context.Context, f AppFilter) (AppPage, error) {
	l := newAppList(f)
	if l.search == "" {
		return s.appsFiltered(ctx, l)
	}
	if !searchable(l.search) {
		return AppPage{}, nil
	}
	return s.appsSearched(ctx, l)
}

// appList is a staff apps list being built: the filters' conditions and
// their arguments in the SQL's order, the index that serves them, the page.
type appList struct {
	where  []string
	args   []any
	index  string // named with INDEXED BY by the count and the page; "" lets SQLite choose
	tenant bool   // one tenant's apps (few, by authorizers_tenant)
	search string
	offset int
	limit  int
}

func newAppList(f AppFilter) *appList {
	l := &appList{tenant: f.TenantID != 0, search: strings.TrimSpace(f.Query), offset: f.Offset, limit: f.Limit}
	if l.limit <= 0 {
		l.limit = 50
	}
	if l.tenant {
		l.filter("a.tenant_id = ?", f.TenantID)
	}
	switch f.Status {
	case string(model.AppAuthorized):
		l.filter(condAuthorizedOK)
	case string(model.AppNeedsReauth):
		l.filter(condNeedsReauth)
		l.index = "authorizers_needs_reauth"
	case string(model.AppUnauthorized), string(model.AppPending):
		l.filter("a.status = ?", f.Status)
	case "unbound":
		l.filter("a.tenant_id IS NULL AND a.status != 'unauthorized'")
	}
	if f.Problems {
		l.filter(condProblems)
		if l.index == "" {
			l.index = "authorizers_problems"
		}
	}
	if l.tenant {
		l.index = ""
	}
	return l
}

func (l *appList) filter(cond string, args ...any) {
	l.where, l.args = append(l.where, cond), append(l.args, args...)
}

// from reads the apps on the filters' index, when they have one.
func (l *appList) from() string {
	if l.index == "" {
		return ` FROM authorizers a`
	}
	return ` FROM authorizers a INDEXED BY ` + l.index
}

// appsFiltered is the list without a search: the filters count exactly on
// their index (the problem filters on their small partial indexes), then
// the page's rowids are picked on the index and only they are joined and
// read in full.
func (s *Store) appsFiltered(ctx context.Context, l *appList) (AppPage, error) {
	var page AppPage
	cond := whereClause(l.where)
	if err := s.readRow(ctx, `SELECT COUNT(*)`+l.from()+cond, l.args...).Scan(&page.Total); err != nil {
		return page, err
	}
	if page.Total == 0 || l.offset >= page.Total {
		return page, nil
	}
	var err error
	page.Apps, err = s.queryApps(ctx, `SELECT `+appCols+appFrom+` WHERE a.rowid IN (SELECT a.rowid`+l.from()+cond+appListOrder+sqlLimit(l.limit)+` OFFSET ?)`+appListOrder,
		append(l.args, l.offset)...)
	return page, err
}

// appsSearched is the list with a search, in one statement: the matches'
// count (cnt) and the page's rowids (p), then the page's rows in full.
//
// A search of three characters or more reads the trigram index (migration
// 00008) once, into m: its rowids are the apps' search keys (migration
// 00011). When the search is the only filter, the size of m is the exact
// total. Otherwise (a shorter search scans names, appShortSearchCond, or
// other filters apply) the total is counted only up to
// max(AppCountCap, Offset+Limit): counting every match of a short search
// would scan every app.
func (s *Store) appsSearched(ctx context.Context, l *appList) (AppPage, error) {
	counted := max(AppCountCap, l.offset+l.limit)
	var with []string // the CTEs
	var withArgs []any
	trigram, exact := utf8.RuneCountInString(l.search) >= 3, false
	if trigram {
		match := `"` + strings.ReplaceAll(l.search, `"`, `""`) + `"`
		with = append(with, `m(id) AS MATERIALIZED (SELECT rowid FROM app_search WHERE app_search MATCH ?)`,
			`mc(c) AS MATERIALIZED (SELECT COUNT(*) FROM m)`)
		withArgs = append(withArgs, match)
		exact = len(l.where) == 0
		l.filter(`a.search_id IN m`)
		if exact {
			with = append(with, `cnt(c) AS (SELECT c FROM mc)`) // m is exactly the matching apps
		}
	} else {
		l.where, l.args = appShortSearchCond(l.search, l.where, l.args)
	}
	if !exact {
		// Count up to the cap: a short search stops scanning names there.
		// Past the cap (deep pages) the limit is an argument, so their SQL
		// stays one statement.
		lim := sqlLimit(counted + 1)
		if counted != AppCountCap {
			lim = ` LIMIT ?`
		}
		with = append(with, `cnt(c) AS MATERIALIZED (SELECT COUNT(*) FROM (SELECT 1`+l.from()+whereClause(l.where)+lim+`))`)
		withArgs = append(withArgs, l.args...)
		if counted != AppCountCap {
			withArgs = append(withArgs, counted+1)
		}
	}
	withSQL := `WITH ` + strings.Join(with, `, `) + ` `
	// The page's rowids: in the list's order on the filters' index...
	pick := `SELECT a.rowid AS rid` + l.from() + whereClause(l.where) + appListOrder + sqlLimit(l.limit) + ` OFFSET ?`
	args := append(append(slices.Clone(withArgs), l.args...), l.offset)
	if trigram && l.index == "" && !l.tenant {
		// ...or, for a trigram search over the whole fleet, the fast path.
		pick, args = l.walkOrLook(args)
	}
	var page AppPage
	apps, err := s.queryAppsTotal(ctx, withSQL+`SELECT `+appCols+`, (SELECT c FROM cnt) FROM (`+pick+`) p CROSS JOIN authorizers a ON a.rowid = p.rid LEFT JOIN tenants t ON t.id = a.tenant_id`+appListOrder,
		&page.Total, args...)
	if err != nil {
		return page, err
	}
	if len(apps) == 0 && l.offset > 0 { // a page past the end still says how many there are
		if err := s.readRow(ctx, withSQL+`SELECT c FROM cnt`, withArgs...).Scan(&page.Total); err != nil {
			return page, err
		}
	}
	page.Apps = apps
	if !exact && page.Total > counted {
		page.Total, page.More = counted, true
	}
	return page, nil
}

// walkOrLook is the fast path of a trigram search over the whole fleet:
// the page's rowids by whichever of two plans fits the number of matches,
// both in the one statement. Many matches: walk the list's order keeping
// the matches (a page needs ~Limit×(apps/matches) steps). Few: look each up
// by its search key and sort them. The count of m gives one plan LIMIT 0,
// which ends it before it reads anything, so the choice costs no second
// reading of the trigram index. args are the statement's arguments so far;
// the look plan adds its filters' and its offset.
func (l *appList) walkOrLook(args []any) (string, []any) {
	rest := whereClause(l.where[:len(l.where)-1]) // the filters besides the search
	many, n := ` (SELECT c FROM mc) > `+strconv.Itoa(appSearchWalkFrom), strconv.Itoa(l.limit)
	walk := ` LIMIT CASE WHEN` + many + ` THEN ` + n + ` ELSE 0 END OFFSET ?`
	look := ` LIMIT CASE WHEN` + many + ` THEN 0 ELSE ` + n + ` END OFFSET ?`
	pick := `SELECT rid FROM (SELECT a.rowid AS rid FROM authorizers a INDEXED BY authorizers_updated_search` + whereClause(l.where) + appListOrder + walk +
		`) UNION ALL SELECT rid FROM (SELECT a.rowid AS rid FROM m CROSS JOIN authorizers a INDEXED BY authorizers_search ON a.search_id = m.id` +
		rest + appListOrder + look + `)`
	return pick, append(append(args, l.args...), l.offset)
}

// sqlLimit writes a LIMIT as a literal. SQLite reads a bound LIMIT's value
// when it plans and re-prepares the statement whenever it is bound again,
// which for the staff list's statements cost as much as preparing them; the
// limits here are a few constants, so the prepared statements stay few.
func sqlLimit(n int) string { return ` LIMIT ` + strconv.Itoa(n) }

func whereClause(where []string) string {
	if len(where) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(where, " AND ")
}

// appShortSearchCond adds a search of one or two characters (two CJK
// characters are a real name; trigrams need three): a scan of the
// nicknames, principals and tenant names only, the columns where so short a
// substring means something.
func appShortSearchCond(q string, where []string, args []any) ([]string, []any) {
	if strings.IndexFunc(q, isASCIILetter) < 0 {
		// Without ASCII letters, LIKE's case folding does nothing and
		// instr finds the same rows faster.
		where = append(where, `(instr(a.nickname, ?) > 0 OR instr(a.principal_name, ?) > 0 OR a.tenant_id IN (SELECT id FROM tenants WHERE instr(name, ?) > 0))`)
		return where, append(args, q, q, q)
	}
	p := "%" + likeEscape(q) + "%"
	where = append(where, `(a.nickname LIKE ? ESCAPE '\' OR a.principal_name LIKE ? ESCAPE '\' OR a.tenant_id IN (SELECT id FROM tenants WHERE name LIKE ? ESCAPE '\'))`)
	return where, append(args, p, p, p)
}

// AppDetails is what api_get_authorizer_info says about an app.
type AppDetails struct {
	Nickname       string
	HeadImg        string
	UserName       string
	PrincipalName  string
	AccountKind    string // miniprogram, official_account
	ServiceType    int
	VerifyType     int
	AccountStatus  int
	PermissionSets []int
	Categories     []model.AppCategory
	Domains        map[string][]string
}

// ReauthReasonOf says why an app with these details cannot be managed.
func ReauthReasonOf(d AppDetails) string {
	switch {
	case d.AccountKind == "official_account":
		return model.ReauthNotMiniProgram
	case !slices.Contains(d.PermissionSets, model.PermissionSetCodeManagement):
		return model.ReauthMissingCodePerm
	}
	return ""
}

// SaveAppDetails stores fetched details and the resulting re-authorization reason.
func (s *Store) SaveAppDetails(ctx context.Context, appID string, d AppDetails) error {
	sets, _ := json.Marshal(nonNil(d.PermissionSets))
	cats := d.Categories
	if cats == nil {
		cats = []model.AppCategory{}
	}
	cj, _ := json.Marshal(cats)
	doms := d.Domains
	if doms == nil {
		doms = map[string][]string{}
	}
	dj, _ := json.Marshal(doms)
	now := s.now()
	_, err := s.W.ExecContext(ctx, `UPDATE authorizers SET nickname = ?, head_img = ?, user_name = ?, principal_name = ?, account_kind = ?,
		service_type = ?, verify_type = ?, account_status = ?, func_info = ?, categories = ?, domains = ?, reauth_reason = ?, info_at = ?, updated_at = ?
		WHERE appid = ?`, d.Nickname, d.HeadImg, d.UserName, d.PrincipalName, d.AccountKind, d.ServiceType, d.VerifyType, d.AccountStatus,
		string(sets), string(cj), string(dj), ReauthReasonOf(d), now, now, appID)
	return err
}

// PermissionSetsOf returns the permission sets recorded for appID (nil if
// unknown). It reads on the writer, after any write in flight.
func (s *Store) PermissionSetsOf(ctx context.Context, appID string) ([]int, error) {
	var js string
	err := s.W.QueryRowContext(ctx, `SELECT func_info FROM authorizers WHERE appid = ?`, appID).Scan(&js)
	if err != nil {
		return nil, notFound(err, "app")
	}
	var sets []int
	_ = json.Unmarshal([]byte(js), &sets)
	return sets, nil
}

// BindResult says what binding did.
type BindResult struct {
	Bound         bool  // the app is (now or already) tenantID's
	AlreadyBound  bool  // it was tenantID's before
	OwnerTenantID int64 // set when another tenant holds it
	ConflictID    int64
	// Duplicate: the attempt was already completed (the redirect and the
	// push bound it together); this call changed and logged nothing.
	Duplicate bool
}

// BindApp binds appID to tenantID unless another tenant holds it; then a
// conflict is recorded for staff and nothing moves. With an attempt, the
// attempt is completed (bound or refused, its sealed auth code dropped) in
// the same transaction, and only the first of two binders of one attempt
// (the redirect and the push, at the same moment) acts and logs: the other
// gets Duplicate. An app its tenant authorizes again is logged re-authorized.
func (s *Store) BindApp(ctx context.Context, actor model.Actor, appID string, tenantID, attemptID int64) (BindResult, error) {
	var r BindResult
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var owner sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT tenant_id FROM authorizers WHERE appid = ?`, appID).Scan(&owner); err != nil {
			return notFound(err, "app")
		}
		now := s.now()
		if attemptID != 0 {
			state, key := model.AttemptBound, ""
			if owner.Valid && owner.Int64 != tenantID {
				state, key = model.AttemptRefused, "authorize.bound_elsewhere"
			}
			res, err := tx.ExecContext(ctx, `UPDATE auth_attempts SET state = ?, appid = ?, error = ?, auth_code_sealed = '', next_try_at = 0, updated_at = ?
				WHERE id = ? AND state NOT IN ('bound', 'refused')`, string(state), appID, key, now, attemptID)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				r.Duplicate = true
				r.Bound = !owner.Valid || owner.Int64 == tenantID
				r.AlreadyBound = owner.Valid && owner.Int64 == tenantID
				if owner.Valid && owner.Int64 != tenantID {
					r.OwnerTenantID = owner.Int64
				}
				return nil
			}
		}
		switch {
		case owner.Valid && owner.Int64 == tenantID:
			r.Bound, r.AlreadyBound = true, true
			if err := s.emitTx(ctx, tx, appAuthorizedEvent(tenantID, appID, true)); err != nil {
				return err
			}
			return s.logTx(ctx, tx, actor, tenantID, ActAppReauthorized, appID, "")
		case owner.Valid:
			r.OwnerTenantID = owner.Int64
			err := tx.QueryRowContext(ctx, `SELECT id FROM app_conflicts WHERE appid = ? AND claimant_tenant_id = ? AND resolved_at IS NULL`, appID, tenantID).Scan(&r.ConflictID)
			if err == sql.ErrNoRows {
				res, err := tx.ExecContext(ctx, `INSERT INTO app_conflicts (appid, owner_tenant_id, claimant_tenant_id, attempt_id, created_at) VALUES (?,?,?,?,?)`,
					appID, owner.Int64, tenantID, nullID(attemptID), now)
				if err != nil {
					return err
				}
				r.ConflictID, _ = res.LastInsertId()
			} else if err != nil {
				return err
			}
			return s.logTx(ctx, tx, actor, tenantID, ActAppRefused, appID, "bound_elsewhere")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE authorizers SET tenant_id = ?, bound_at = ?, updated_at = ? WHERE appid = ?`, tenantID, now, now, appID); err != nil {
			return err
		}
		r.Bound = true
		if err := s.emitTx(ctx, tx, appAuthorizedEvent(tenantID, appID, false)); err != nil {
			return err
		}
		return s.logTx(ctx, tx, actor, tenantID, ActAppBound, appID, "")
	})
	return r, err
}

// AssignApp binds an app bound to no tenant (staff, from reconcile results).
func (s *Store) AssignApp(ctx context.Context, actor model.Actor, appID string, tenantID int64) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM tenants WHERE id = ?`, tenantID).Scan(&n); err != nil || n == 0 {
			return model.Errorf(model.CodeInvalid, "apps.assign_no_tenant")
		}
		now := s.now()
		res, err := tx.ExecContext(ctx, `UPDATE authorizers SET tenant_id = ?, bound_at = ?, updated_at = ? WHERE appid = ? AND tenant_id IS NULL`, tenantID, now, now, appID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return model.Errorf(model.CodeConflict, "apps.assign_not_unbound")
		}
		if err := s.emitTx(ctx, tx, appAuthorizedEvent(tenantID, appID, false)); err != nil {
			return err
		}
		return s.logTx(ctx, tx, actor, tenantID, ActAppAssigned, appID, "")
	})
}

// Conflicts lists unresolved conflicts, oldest first.
func (s *Store) Conflicts(ctx context.Context) ([]model.AppConflict, error) {
	rows, err := s.read(ctx, `SELECT c.id, c.appid, COALESCE(a.nickname, ''), c.owner_tenant_id, o.name, c.claimant_tenant_id, cl.name,
		COALESCE(c.attempt_id, 0), c.created_at
		FROM app_conflicts c JOIN tenants o ON o.id = c.owner_tenant_id JOIN tenants cl ON cl.id = c.claimant_tenant_id
		LEFT JOIN authorizers a ON a.appid = c.appid WHERE c.resolved_at IS NULL ORDER BY c.id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []model.AppConflict
	for rows.Next() {
		var c model.AppConflict
		var at int64
		if err := rows.Scan(&c.ID, &c.AppID, &c.Nickname, &c.OwnerTenantID, &c.OwnerTenant, &c.ClaimantTenantID, &c.ClaimantTenant, &c.AttemptID, &at); err != nil {
			return nil, err
		}
		c.CreatedAt = unix(at)
		out = append(out, c)
	}
	return out, rows.Err()
}

// ResolveConflict keeps the app with its owner or moves it to the claimant.
func (s *Store) ResolveConflict(ctx context.Context, actor model.Actor, id int64, move bool) (model.AppConflict, error) {
	var c model.AppConflict
	err := s.tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT appid, owner_tenant_id, claimant_tenant_id FROM app_conflicts WHERE id = ? AND resolved_at IS NULL`, id).
			Scan(&c.AppID, &c.OwnerTenantID, &c.ClaimantTenantID)
		if err != nil {
			return notFound(err, "conflict")
		}
		c.ID = id
		now := s.now()
		c.Resolution = "kept"
		if move {
			c.Resolution = "moved"
			res, err := tx.ExecContext(ctx, `UPDATE authorizers SET tenant_id = ?, bound_at = ?, updated_at = ? WHERE appid = ? AND tenant_id = ?`,
				c.ClaimantTenantID, now, now, c.AppID, c.OwnerTenantID)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return model.Errorf(model.CodeConflict, "apps.conflict_changed")
			}
			// Other claims on the app are settled by the move too.
			if _, err := tx.ExecContext(ctx, `UPDATE app_conflicts SET resolved_at = ?, resolved_by = ?, resolution = 'kept' WHERE appid = ? AND resolved_at IS NULL AND id != ?`,
				now, nullID(actor.UserID), c.AppID, id); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE app_conflicts SET resolved_at = ?, resolved_by = ?, resolution = ? WHERE id = ?`, now, nullID(actor.UserID), c.Resolution, id); err != nil {
			return err
		}
		detail := c.Resolution
		if err := s.logTx(ctx, tx, actor, c.OwnerTenantID, ActAppConflict, c.AppID, detail); err != nil {
			return err
		}
		return s.logTx(ctx, tx, actor, c.ClaimantTenantID, ActAppConflict, c.AppID, detail)
	})
	return c, err
}

// AuthorizerListing is what reconcile compares with api_get_authorizer_list.
type AuthorizerListing struct {
	AppID      string
	TenantID   int64
	Status     string
	HasRefresh bool
}

// AuthorizerListings returns every authorizer we hold, by appid.
func (s *Store) AuthorizerListings(ctx context.Context) (map[string]AuthorizerListing, error) {
	rows, err := s.read(ctx, `SELECT appid, COALESCE(tenant_id, 0), status, refresh_token != '' FROM authorizers`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]AuthorizerListing{}
	for rows.Next() {
		var l AuthorizerListing
		if err := rows.Scan(&l.AppID, &l.TenantID, &l.Status, &l.HasRefresh); err != nil {
			return nil, err
		}
		out[l.AppID] = l
	}
	return out, rows.Err()
}

// MarkReconciled stamps the appids WeChat listed.
func (s *Store) MarkReconciled(ctx context.Context, appIDs []string, at time.Time) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `UPDATE authorizers SET reconciled_at = ? WHERE appid = ?`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, id := range appIDs {
			if _, err := st.ExecContext(ctx, at.Unix(), id); err != nil {
				return err
			}
		}
		return nil
	})
}

// EnsureAuthorizer creates the row of an app we learn about from the list.
func (s *Store) EnsureAuthorizer(ctx context.Context, appID string) error {
	now := s.now()
	_, err := s.W.ExecContext(ctx, `INSERT INTO authorizers (appid, status, authorized_at, created_at, updated_at) VALUES (?, 'authorized', ?, ?, ?) ON CONFLICT (appid) DO NOTHING`, appID, now, now, now)
	return err
}

// StartReconcileRun opens a run record.
func (s *Store) StartReconcileRun(ctx context.Context, trigger string) (int64, error) {
	res, err := s.W.ExecContext(ctx, `INSERT INTO reconcile_runs (started_at, trigger) VALUES (?, ?)`, s.now(), trigger)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// FinishReconcileRun stores a run's counts and logs it.
func (s *Store) FinishReconcileRun(ctx context.Context, r model.ReconcileRun) error {
	_, err := s.W.ExecContext(ctx, `UPDATE reconcile_runs SET finished_at = ?, listed = ?, backfilled = ?, unauthorized = ?, unbound = ?, error = ? WHERE id = ?`,
		s.now(), r.Listed, r.Backfilled, r.Unauthorized, r.Unbound, truncate(r.Error, 500), r.ID)
	return err
}

// LatestReconcileRun returns the newest run (not found if none).
func (s *Store) LatestReconcileRun(ctx context.Context) (model.ReconcileRun, error) {
	var r model.ReconcileRun
	var started int64
	var finished sql.NullInt64
	err := s.readRow(ctx, `SELECT id, started_at, finished_at, trigger, listed, backfilled, unauthorized, unbound, error FROM reconcile_runs ORDER BY id DESC LIMIT 1`).
		Scan(&r.ID, &started, &finished, &r.Trigger, &r.Listed, &r.Backfilled, &r.Unauthorized, &r.Unbound, &r.Error)
	r.StartedAt, r.FinishedAt = unix(started), nullUnix(finished)
	return r, notFound(err, "reconcile run")
}

// SwapLoggedSets records sets as the permission sets last logged for appID
// and returns the previous ones (nil when none were logged yet).
func (s *Store) SwapLoggedSets(ctx context.Context, appID string, sets []int) (prev []int, err error) {
	js, _ := json.Marshal(nonNil(sets))
	err = s.tx(ctx, func(tx *sql.Tx) error {
		var old string
		if err := tx.QueryRowContext(ctx, `SELECT logged_sets FROM authorizers WHERE appid = ?`, appID).Scan(&old); err != nil {
			return notFound(err, "app")
		}
		if old != "[]" {
			_ = json.Unmarshal([]byte(old), &prev)
			if prev == nil {
				prev = []int{}
			}
		}
		_, err := tx.ExecContext(ctx, `UPDATE authorizers SET logged_sets = ? WHERE appid = ?`, string(js), appID)
		return err
	})
	return prev, err
}

// TenantOfApp returns the tenant an app is bound to (0 if none). It reads
// on the writer, after any write in flight (a bind by the redirect racing
// the push).
func (s *Store) TenantOfApp(ctx context.Context, appID string) (int64, error) {
	var t sql.NullInt64
	err := s.W.QueryRowContext(ctx, `SELECT tenant_id FROM authorizers WHERE appid = ?`, appID).Scan(&t)
	return t.Int64, notFound(err, "app")
}

// OptimizeAppSearch merges the staff search index into one segment. Every
// insert or re-index adds a small segment that FTS5 merges only lazily, and
// a search reads each segment's lists of its trigrams: the nightly reconcile
// calls this so searches stay one lookup per trigram.
func (s *Store) OptimizeAppSearch(ctx context.Context) error {
	_, err := s.W.ExecContext(ctx, `INSERT INTO app_search (app_search) VALUES ('optimize')`)
	return err
}
