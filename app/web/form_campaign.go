package web

import (
	"cmp"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/i18n"
	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/platform"
	"github.com/minifleet/minifleet/views"
)

var campaignFields = []string{"name", "template_id", "user_version", "user_desc", "tenant", "tag", "cur_template", "cur_version",
	"status", "canary_size", "wave_max", "concurrency", "halt_rate", "gray_percent", "release_mode", "release_at"}

// CampaignForm is the campaign form (preview and create): every field as
// typed, kept for a re-render, and read into the platform's input by Input.
type CampaignForm struct {
	Fields   map[string]string // by name in campaignFields, trimmed (user_desc as typed)
	TenantID int64             // the tenant whose apps it ships to; 0: staff, any tenant (the "tenant" field)
	Loc      *time.Location    // the user's time zone, for release_at
}

// NewCampaignForm reads the campaign form posted in scope cs.
func NewCampaignForm(c *fiber.Ctx, cs campScope) CampaignForm {
	f := CampaignForm{Fields: make(map[string]string, len(campaignFields)), TenantID: cs.TenantID, Loc: time.UTC}
	for _, k := range campaignFields {
		f.Fields[k] = strings.TrimSpace(c.FormValue(k))
	}
	f.Fields["user_desc"] = c.FormValue("user_desc") // kept as typed
	if l := i18n.From(c.UserContext()); l != nil && l.Loc != nil {
		f.Loc = l.Loc
	}
	return f
}

// Input is the platform's input for the form; what cannot be read (a
// number, the halt rate's range, the release time, the status filter)
// comes back as field errors.
func (f CampaignForm) Input() (platform.CampaignInput, error) {
	v, errs := f.Fields, model.FieldErrors{}
	for _, k := range campaignFields {
		if k == "user_desc" {
			checkLines(errs, k, v[k])
		} else {
			checkText(errs, k, v[k])
		}
	}
	in := platform.CampaignInput{TenantID: f.TenantID, Name: v["name"], UserVersion: v["user_version"], UserDesc: strings.TrimSpace(v["user_desc"])}
	in.TemplateID, _ = strconv.ParseInt(v["template_id"], 10, 64)
	in.CanarySize, in.WaveMax = f.number("canary_size", errs), f.number("wave_max", errs)
	in.Concurrency, in.GrayPercent = f.number("concurrency", errs), f.number("gray_percent", errs)
	halt := f.number("halt_rate", errs)
	if errs["halt_rate"] == "" && (halt < 1 || halt > 100) {
		errs.Add("halt_rate", "campaign.err.halt_rate")
	}
	in.HaltRate = float64(halt) / 100
	in.ReleaseMode = cmp.Or(v["release_mode"], model.ReleaseEach)
	if in.ReleaseMode == model.ReleaseAt {
		t, err := time.ParseInLocation("2006-01-02T15:04", v["release_at"], f.Loc)
		if err != nil {
			errs.Add("release_at", "campaign.err.release_at")
		}
		in.ReleaseAt = t
	}
	if f.TenantID == 0 {
		in.Filter.TenantID, _ = strconv.ParseInt(v["tenant"], 10, 64)
	}
	in.Filter.Tag = v["tag"]
	in.Filter.TemplateID, _ = strconv.ParseInt(v["cur_template"], 10, 64)
	in.Filter.Version = v["cur_version"]
	switch st := v["status"]; st {
	case "", string(model.AppAuthorized), string(model.AppNeedsReauth), string(model.AppUnauthorized):
		in.Filter.Status = st
	default:
		errs.Add("status", "form.invalid_choice")
	}
	return in, errs.Err()
}

// number is a whole-number field (0 and an error when it is not one).
func (f CampaignForm) number(name string, errs model.FieldErrors) int {
	n, err := strconv.Atoi(f.Fields[name])
	if err != nil {
		errs.Add(name, "campaign.err.number")
	}
	return n
}

// Validate reports what Input cannot read.
func (f CampaignForm) Validate() error {
	_, err := f.Input()
	return err
}

// View is the form to show again.
func (f CampaignForm) View() views.Form {
	v := views.NewForm()
	maps.Copy(v.Values, f.Fields)
	return v
}

// CampaignApproveForm is an approver's decision on a campaign, bound to the
// campaign's Seq and the payload set hash the page showed.
type CampaignApproveForm struct {
	Seq     int64 // -1 when not a number
	SetHash string
}

// NewCampaignApproveForm reads the decision from the request.
func NewCampaignApproveForm(c *fiber.Ctx) CampaignApproveForm {
	return CampaignApproveForm{Seq: campaignSeq(c), SetHash: c.FormValue("set_hash")}
}

// Validate has nothing to check: the platform compares Seq and the hash.
func (f CampaignApproveForm) Validate() error { return nil }

// CampaignActionForm pauses, resumes or cancels a campaign whose Seq the
// page showed.
type CampaignActionForm struct {
	Action model.CampaignAction
	Seq    int64 // -1 when not a number
}

// NewCampaignActionForm reads the action from the request.
func NewCampaignActionForm(c *fiber.Ctx) CampaignActionForm {
	return CampaignActionForm{Action: model.CampaignAction(c.FormValue("action")), Seq: campaignSeq(c)}
}

// Validate checks the action.
func (f CampaignActionForm) Validate() error {
	switch f.Action {
	case model.CampActPause, model.CampActResume, model.CampActCancel:
		return nil
	}
	return model.Errorf(model.CodeInvalid, "form.invalid_choice")
}

// campaignSeq is the posted seq, -1 when it is not a number (never a Seq).
func campaignSeq(c *fiber.Ctx) int64 {
	seq, err := strconv.ParseInt(c.FormValue("seq"), 10, 64)
	if err != nil {
		return -1
	}
	return seq
}
