package web

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/minifleet/minifleet/app/model"
)

// formCase is one invalid submission: the server must answer 422, keep what
// was typed and put the localized message beside the field.
type formCase struct {
	name   string
	who    string // "anon" or a world user key
	url    string
	form   []string
	htmx   bool
	kept   []string          // typed values that must be in the re-rendered form (HTML-escaped)
	errors map[string]string // field -> message key shown beside it ("" field = form summary)
}

func formCases() []formCase {
	return append(campaignFormCases(), []formCase{
		{name: "signup empty", who: "anon", url: "/signup", form: []string{"tenant", "", "name", "", "email", "", "password", ""},
			errors: map[string]string{"tenant": "form.required", "name": "form.required", "email": "form.required", "password": "form.required"}},
		{name: "signup bad values", who: "anon", url: "/signup", form: []string{"tenant", "Shop <b>&", "name", "Ming 明", "email", "not-an-email", "password", "short"},
			kept:   []string{`value="Shop &lt;b&gt;&amp;"`, `value="Ming 明"`, `value="not-an-email"`},
			errors: map[string]string{"email": "form.email_invalid", "password": "form.password_short"}},
		{name: "signup too long", who: "anon", url: "/signup", form: []string{"tenant", strings.Repeat("长", 65), "name", "Ok", "email", "ok@ok.test", "password", strings.Repeat("p", 129)},
			kept:   []string{`value="` + strings.Repeat("长", 65) + `"`, `value="ok@ok.test"`},
			errors: map[string]string{"tenant": "form.too_long", "password": "form.password_long"}},
		{name: "signup duplicate e-mail", who: "anon", url: "/signup", form: []string{"tenant", "Second Shop", "name", "Alice", "email", "Owner@A.test", "password", "a long enough password"},
			kept:   []string{`value="Second Shop"`, `value="owner@a.test"`},
			errors: map[string]string{"email": "form.email_taken"}},
		{name: "login empty", who: "anon", url: "/login", form: []string{"email", "", "password", ""},
			errors: map[string]string{"email": "form.required", "password": "form.required"}},
		{name: "login unknown account", who: "anon", url: "/login", form: []string{"email", "who@x.test", "password", "whatever it is"},
			kept: []string{`value="who@x.test"`}, errors: map[string]string{"": "login.bad_credentials"}},
		{name: "invite signup bad values", who: "anon", url: "/invite/{tokenA}", form: []string{"name", "", "email", "zoe@", "password", "123"},
			kept:   []string{`value="zoe@"`},
			errors: map[string]string{"name": "form.required", "email": "form.email_invalid", "password": "form.password_short"}},
		{name: "invite signup taken e-mail", who: "anon", url: "/invite/{tokenA}", form: []string{"name", "Dev Again", "email", "developer@a.test", "password", "a long enough password"},
			kept: []string{`value="Dev Again"`}, errors: map[string]string{"email": "form.email_taken"}},
		{name: "invite create bad role and long note", who: "ownerA", url: "/t/{A}/invites", form: []string{"role", "emperor", "note", strings.Repeat("n", 101)},
			kept: []string{`value="` + strings.Repeat("n", 101) + `"`}, errors: map[string]string{"role": "form.role_invalid", "note": "form.too_long"}},
		{name: "invite create htmx", who: "ownerA", url: "/t/{A}/invites", htmx: true, form: []string{"role", "", "note", "kept note"},
			kept: []string{`value="kept note"`}, errors: map[string]string{"role": "form.role_invalid"}},
		{name: "password wrong current and short new", who: "viewerA", url: "/account/password", form: []string{"current", "not my password", "password", "short"},
			errors: map[string]string{"current": "account.wrong_password", "password": "form.password_short"}},
		{name: "preferences bad time zone", who: "viewerA", url: "/account/preferences", form: []string{"locale", "zh-CN", "time_zone", "Mars/Olympus"},
			errors: map[string]string{"time_zone": "form.invalid_choice"}},
		{name: "preferences bad language", who: "viewerA", url: "/account/preferences", form: []string{"locale", "tlh", "time_zone", "UTC"},
			errors: map[string]string{"locale": "form.invalid_choice"}},
		{name: "suspend without reason", who: "staffadmin", url: "/staff/tenants/{B}/status", form: []string{"status", "suspended", "reason", "  "},
			errors: map[string]string{"reason": "form.required"}},
		{name: "suspend with a long reason", who: "staffoperator", url: "/staff/tenants/{B}/status", form: []string{"status", "suspended", "reason", strings.Repeat("理", 201)},
			kept: []string{`value="` + strings.Repeat("理", 201) + `"`}, errors: map[string]string{"reason": "form.too_long"}},
		{name: "reactivate an active tenant", who: "staffadmin", url: "/staff/tenants/{B}/status", form: []string{"status", "active"},
			errors: map[string]string{"": "tenant.status_unchanged"}},
		{name: "status not a choice", who: "staffadmin", url: "/staff/tenants/{B}/status", htmx: true, form: []string{"status", "deleted", "reason", "x"},
			errors: map[string]string{"": "form.invalid_choice"}},
	}...)
}

func TestFormsValidateOnTheServer(t *testing.T) {
	for _, lang := range []string{"zh-CN", "en"} {
		for _, fc := range formCases() {
			t.Run(lang+"/"+fc.name, func(t *testing.T) {
				t.Parallel()
				h := newHarness(t)
				f := h.fixture()
				c := h.client()
				if lang == "en" {
					c.lang = "en-US,en;q=0.9"
				}
				if fc.who != "anon" {
					c.login(f.users[fc.who].Email)
				}
				vals := form()
				for i := 0; i+1 < len(fc.form); i += 2 {
					vals.Add(fc.form[i], fc.form[i+1])
				}
				var opts []reqOpt
				if fc.htmx {
					opts = append(opts, c.htmx())
				}
				before := h.dbState()
				r := c.post(f.repl.Replace(fc.url), vals, opts...)
				wantStatus(t, fc.name, r, 422)
				if !strings.Contains(r.Header.Get("Content-Language"), lang) {
					t.Errorf("Content-Language = %q, want %s", r.Header.Get("Content-Language"), lang)
				}
				for _, k := range fc.kept {
					mustContain(t, "typed value kept", r, k)
				}
				for field, key := range fc.errors {
					msg := h.tr(lang, key)
					if field == "" {
						mustContain(t, "form summary", r, `data-testid="form-summary"`, msg)
						continue
					}
					// The message sits in the field's own error element.
					mustContain(t, "field error", r, `data-testid="error-`+field+`">`+msg+`<`)
				}
				mustNotContain(t, "no raw keys", r, "form.required", "form.email_invalid", "form.invalid_choice")
				if fc.url != "/login" {
					if after := h.dbState(); after != before {
						t.Errorf("an invalid form changed the database")
					}
				}
			})
		}
	}
}

// The server domains form: every bad list beside its field, and the first
// bad line in the summary's Data.
func TestDomainsFormErrors(t *testing.T) {
	df := DomainsForm{Lists: map[string]string{"requestdomain": "api.example.com\nhttp://plain.example.com", "wsrequestdomain": "wss://ws.example.com",
		"uploaddomain": "https://10.0.0.1", "downloaddomain": ""}}
	_, err := df.Domains()
	f := df.View()
	if !formError(&f, err) {
		t.Fatalf("formError did not show %v", err)
	}
	if f.Summary != "domains.err.summary" || f.Data["Value"] != "http://plain.example.com" {
		t.Errorf("summary = %q %v", f.Summary, f.Data)
	}
	want := map[string]string{"requestdomain": "domains.err.https", "uploaddomain": "domains.err.https"}
	if !maps.Equal(f.Errors, want) {
		t.Errorf("errors = %v, want %v", f.Errors, want)
	}
	if f.V("requestdomain") != df.Lists["requestdomain"] {
		t.Errorf("typed value lost: %q", f.V("requestdomain"))
	}
	df.Lists["requestdomain"], df.Lists["uploaddomain"] = "API.example.com\nhttps://api.example.com/", ""
	d, err := df.Domains()
	if err != nil || !slices.Equal(d.RequestDomain, []string{"https://api.example.com"}) || !slices.Equal(d.WsRequestDomain, []string{"wss://ws.example.com"}) {
		t.Errorf("Domains() = %+v, %v", d, err)
	}
}

// The button forms refuse what is not one of their choices.
func TestButtonFormsValidate(t *testing.T) {
	for _, c := range []struct {
		name string
		v    interface{ Validate() error }
		ok   bool
	}{
		{"step commit", StepForm{Event: model.EvCommit}, true},
		{"step release", StepForm{Event: model.EvRelease}, false},
		{"ship gray", ShipForm{Event: model.EvGray, Percent: 5}, true},
		{"ship commit", ShipForm{Event: model.EvCommit}, false},
		{"conflict moved", ConflictForm{Resolution: "moved"}, true},
		{"conflict other", ConflictForm{Resolution: "both"}, false},
		{"assign none", AssignForm{}, false},
		{"draft negative", DraftForm{DraftID: -1}, false},
		{"draft zero", DraftForm{}, true},
		{"restore zero", ConfigRestoreForm{}, false},
		{"campaign pause", CampaignActionForm{Action: model.CampActPause}, true},
		{"campaign approve as action", CampaignActionForm{Action: model.CampActApprove}, false},
		{"role emperor", MemberRoleForm{Role: "emperor"}, false},
		{"schema blank", SchemaForm{Schema: " \n"}, false},
		{"tags too many", TagsForm{Tags: "a,b,c,d,e,f,g,h,i,j,k"}, false},
		{"tags", TagsForm{Tags: "a，b、a"}, true},
	} {
		if err := c.v.Validate(); (err == nil) != c.ok {
			t.Errorf("%s: Validate() = %v", c.name, err)
		}
	}
}
