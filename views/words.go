package views

import (
	"context"
	"regexp"
	"strconv"
	"strings"

	"github.com/minifleet/minifleet/app/i18n"
	"github.com/minifleet/minifleet/app/model"
)

// Details kept by the platform (release events, activity rows) are written
// once, in a fixed English shape, for logs and CSV tooling. The pages show
// them in the viewer's language: each known shape is matched here and
// rendered through a translation key; an unknown shape with Latin words is
// left to the title attribute (DetailTitle), never shown raw.

var (
	reScan        = regexp.MustCompile(`^privacy scan: (\d+) without authorization, (\d+) without configuration$`)
	reRevert      = regexp.MustCompile(`^revertcoderelease to app_version (\d+)$`)
	reAuditStatus = regexp.MustCompile(`^get_latest_auditstatus: status (\d+)$`)
	rePush        = regexp.MustCompile(`^push #(\d+)$`)
	rePreflight   = regexp.MustCompile(`^(category|pages|privacy|domains): (\S+) ?(.*)$`)
	reRelStep     = regexp.MustCompile(`^#(\d+) ([a-z_]+): ([a-z_]+) → ([a-z_]+)$`)
	reRelCreate   = regexp.MustCompile(`^#(\d+) (.*)$`)
	reArrow       = regexp.MustCompile(`^([a-z_]+) → ([a-z_]+)$`)
	reCampCreate  = regexp.MustCompile(`^(.*): (\d+) apps, (\d+) skipped$`)
	reHalt        = regexp.MustCompile(`^wave (\d+): (\d+) of (\d+) decided rejected \((\d+)% > (\d+)%\)$`)
	reWave        = regexp.MustCompile(`^wave (\d+): (\d+) apps(; .*)?$`)
	reApps        = regexp.MustCompile(`^(\d+) apps$`)
	reQuotaMove   = regexp.MustCompile(`^.*; (\d+) apps moved to the window of (\S+)$`)
	reQuotaOpen   = regexp.MustCompile(`^quota window open: (\d+) deferred apps back in the queue$`)
	reReconcile   = regexp.MustCompile(`^listed=(\d+) backfilled=(\d+) unauthorized=(\d+) unbound=(\d+)( error)?$`)
	reLatin       = regexp.MustCompile(`[A-Za-z]{2,}`)
)

// fixedDetails are the details written as constants.
var fixedDetails = map[string]string{
	"category, pages, privacy, domains":      "detail.preflight_ok",
	"get_qrcode":                             "detail.qrcode",
	"submit_audit":                           "detail.submit_audit",
	"wxa/release":                            "detail.release",
	"reconciled with get_latest_auditstatus": "detail.reconciled_audit",
	"reconciled with the release history":    "detail.reconciled_history",
	"getgrayreleaseplan: done":               "detail.gray_done",
	"commit refused before a restart":        "detail.commit_refused",
	"privacy scan did not finish":            "detail.scan_unfinished",
	"bound_elsewhere":                        "detail.bound_elsewhere",
}

// latin reports whether s has words in Latin letters a Chinese reader
// should not be shown raw.
func latin(s string) bool { return reLatin.MatchString(s) }

// Errcode renders "errcode N" in the viewer's language.
func Errcode(ctx context.Context, code int) string {
	return i18n.T(ctx, "common.errcode", "Code", code)
}

// tOr translates key when the viewer's language has it, else returns raw.
func tOr(ctx context.Context, key, raw string) string {
	if l := i18n.From(ctx); l != nil && l.Has(key) {
		return i18n.T(ctx, key)
	}
	return raw
}

// TimelineDetail is a release event's detail in the viewer's language; ""
// when it has nothing readable to add.
func TimelineDetail(ctx context.Context, ev model.ReleaseTransition) string {
	d := strings.TrimSpace(ev.Detail)
	if d == "" {
		return ""
	}
	if k, ok := fixedDetails[d]; ok {
		return i18n.T(ctx, k)
	}
	if m := reScan.FindStringSubmatch(d); m != nil {
		return i18n.T(ctx, "detail.scan", "Auth", m[1], "Conf", m[2])
	}
	if m := reRevert.FindStringSubmatch(d); m != nil {
		return i18n.T(ctx, "detail.revert", "Version", m[1])
	}
	if m := reAuditStatus.FindStringSubmatch(d); m != nil {
		return i18n.T(ctx, "detail.audit_status", "Status", tOr(ctx, "detail.audit_status."+m[1], m[1]))
	}
	if m := rePush.FindStringSubmatch(d); m != nil {
		return i18n.T(ctx, "detail.push", "ID", m[1])
	}
	if m := rePreflight.FindStringSubmatch(d); m != nil {
		s := i18n.T(ctx, "release.check."+m[1])
		if l := i18n.From(ctx); l != nil && l.Has(m[2]) {
			s += i18n.T(ctx, "detail.colon") + i18n.T(ctx, m[2], "Errcode", ev.Errcode, "Detail", m[3])
		}
		return s
	}
	if strings.HasPrefix(d, "gave up: ") {
		return i18n.T(ctx, "detail.gave_up")
	}
	if ev.Errcode != 0 {
		// A WeChat error's text: its errcode says it in words.
		return i18n.T(ctx, model.ErrActionFor(ev.Errcode).Key, "Errcode", ev.Errcode)
	}
	if latin(d) {
		return ""
	}
	return d
}

// ActorLabel names who did something: the system and WeChat in words.
func ActorLabel(ctx context.Context, actor string) string {
	switch actor {
	case "system":
		return i18n.T(ctx, "actor.system")
	case "wechat":
		return i18n.T(ctx, "actor.wechat")
	}
	return actor
}

// stateWord translates one state or role code of an activity detail.
func stateWord(ctx context.Context, action, s string) string {
	for _, k := range []string{"release.state." + s, "campaign.state." + s, "role." + s, "staff_role." + s, "detail.word." + s} {
		if strings.HasPrefix(action, "campaign") && strings.HasPrefix(k, "release.") {
			continue
		}
		if l := i18n.From(ctx); l != nil && l.Has(k) {
			return i18n.T(ctx, k)
		}
	}
	return s
}

// ActivityDetail is an activity row's detail in the viewer's language.
func ActivityDetail(ctx context.Context, a model.Activity) string {
	d := strings.TrimSpace(a.Detail)
	if d == "" {
		return ""
	}
	if k, ok := fixedDetails[d]; ok {
		return i18n.T(ctx, k)
	}
	switch a.Action {
	case "release_step":
		if m := reRelStep.FindStringSubmatch(d); m != nil {
			return i18n.T(ctx, "detail.release_step", "ID", m[1], "Event", tOr(ctx, "release.event."+m[2], m[2]),
				"From", stateWord(ctx, a.Action, m[3]), "To", stateWord(ctx, a.Action, m[4]))
		}
	case "release_created":
		if m := reRelCreate.FindStringSubmatch(d); m != nil {
			return i18n.T(ctx, "detail.release_created", "ID", m[1], "Version", m[2])
		}
	case "campaign_created":
		if m := reCampCreate.FindStringSubmatch(d); m != nil {
			return i18n.T(ctx, "detail.campaign_created", "Name", m[1], "Apps", m[2], "Skipped", m[3])
		}
	case "campaign_halted":
		if m := reHalt.FindStringSubmatch(d); m != nil {
			return i18n.T(ctx, "detail.campaign_halted", "Wave", m[1], "Rejected", m[2], "Decided", m[3], "Rate", m[4], "Limit", m[5])
		}
	case "campaign_wave":
		if m := reWave.FindStringSubmatch(d); m != nil {
			return i18n.T(ctx, "detail.campaign_wave", "Wave", m[1], "Apps", m[2])
		}
	case "campaign_done":
		if m := reApps.FindStringSubmatch(d); m != nil {
			return i18n.T(ctx, "detail.apps", "N", m[1])
		}
	case "campaign_waiting_quota":
		if m := reQuotaMove.FindStringSubmatch(d); m != nil {
			return i18n.T(ctx, "detail.quota_moved", "N", m[1], "Date", m[2])
		}
	case "campaign_resumed":
		if m := reQuotaOpen.FindStringSubmatch(d); m != nil {
			return i18n.T(ctx, "detail.quota_open", "N", m[1])
		}
	case "apps_reconciled":
		if m := reReconcile.FindStringSubmatch(d); m != nil {
			s := i18n.T(ctx, "detail.reconciled", "Listed", m[1], "Backfilled", m[2], "Unauthorized", m[3], "Unbound", m[4])
			if m[5] != "" {
				s += i18n.T(ctx, "detail.reconcile_error")
			}
			return s
		}
	case "app_permissions_changed":
		return i18n.T(ctx, "detail.permission_sets", "Sets", d)
	}
	if m := reArrow.FindStringSubmatch(d); m != nil {
		return stateWord(ctx, a.Action, m[1]) + " → " + stateWord(ctx, a.Action, m[2])
	}
	if !strings.ContainsAny(d, " :") {
		if w := stateWord(ctx, a.Action, d); w != d {
			return w
		}
	}
	if latin(d) && !strings.Contains(d, "@") {
		if i := strings.Index(d, ": "); i > 0 && a.Action == "campaign_decision" {
			return d[:i] + i18n.T(ctx, "detail.colon") + tOr(ctx, "detail.decision."+d[i+2:], d[i+2:])
		}
	}
	return d
}

// Lines splits a WeChat text on its <br> tags (audit reasons carry them);
// each line is shown as text, never as HTML.
func Lines(s string) []string { return model.ReasonLines(s) }

// PlainReason is s with its <br> tags as newlines (CSV, titles).
func PlainReason(s string) string { return strings.Join(Lines(s), "\n") }

// tenantName names an activity row's tenant: its name, else #id.
func tenantName(a model.Activity) string {
	if a.TenantName != "" {
		return a.TenantName
	}
	return "#" + strconv.FormatInt(a.TenantID, 10)
}

var reObject = regexp.MustCompile(`^(campaign|attempt) #(\d+)$`)

// ActivityObject is an activity row's object in the viewer's language:
// "campaign #3" reads 批量发布 #3, a role its label.
func ActivityObject(ctx context.Context, a model.Activity) string {
	o := a.Object
	if m := reObject.FindStringSubmatch(o); m != nil {
		return i18n.T(ctx, "detail.object."+m[1], "ID", m[2])
	}
	switch {
	case a.Action == "invite_created", o == "staff":
		return stateWord(ctx, a.Action, o)
	case a.Action == "seed_data_purged":
		return i18n.T(ctx, "detail.object.seed")
	}
	return o
}

var reErrcodeIn = regexp.MustCompile(`\((\d{5})\)|errcode[ =:]*(\d{5})`)

// vaultReasons are the reasons the vault records for an app that needs
// reauthorization.
var vaultReasons = map[string]string{
	"no refresh token stored": "detail.vault.no_refresh",
	"refresh token rejected (61023) and no newer one in the authorizer list": "detail.vault.refresh_rejected",
	"component is not authorized by this account (61003)":                    "detail.vault.not_authorized",
}

// ErrorText is a recorded error (a token refresh's, a warning's) in the
// viewer's language: a known reason by its key, else the errcode it names
// in words, else "" (the raw text stays in a title).
func ErrorText(ctx context.Context, s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	if k, ok := vaultReasons[s]; ok {
		return i18n.T(ctx, k)
	}
	if m := reErrcodeIn.FindStringSubmatch(s); m != nil {
		code := m[1] + m[2]
		n, _ := strconv.Atoi(code)
		return i18n.T(ctx, model.ErrActionFor(n).Key, "Errcode", n) + " (" + Errcode(ctx, n) + ")"
	}
	if latin(s) {
		return i18n.T(ctx, "detail.see_logs")
	}
	return s
}

// WarningKind names a WeChat warning's kind.
func WarningKind(ctx context.Context, kind string) string {
	return tOr(ctx, "wechat.warning."+kind, kind)
}
