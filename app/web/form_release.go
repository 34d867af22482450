package web

import (
	"errors"
	"io"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/platform"
	"github.com/minifleet/minifleet/app/wechat"
	"github.com/minifleet/minifleet/views"
)

// An app's config and release forms.

// ConfigForm is an app's config form: the template it was generated from,
// the version's note, the row button pressed (if any) and the config's own
// fields as posted (the schema's fields and the "extra.<key>" JSON texts).
type ConfigForm struct {
	TemplateID int64
	Op         string // "" or "save", or a row button: "add:banners", "remove:banners.2"
	Note       string
	Values     url.Values
}

// NewConfigForm reads the config form from the request.
func NewConfigForm(c *fiber.Ctx) ConfigForm {
	f := ConfigForm{Values: postValues(c)}
	f.TemplateID, _ = strconv.ParseInt(c.FormValue("template_id"), 10, 64)
	f.Op = f.Values.Get("_op")
	f.Note = strings.TrimSpace(f.Values.Get("note"))
	for _, k := range []string{"_csrf", "_op", "template_id", "note"} {
		f.Values.Del(k)
	}
	return f
}

// RowOp reports whether a row button was pressed (nothing is saved then).
func (f ConfigForm) RowOp() bool { return f.Op != "" && f.Op != "save" }

// Validate checks the note; the config itself is checked against its
// template's schema when it is saved (platform.Releases.SaveConfig).
func (f ConfigForm) Validate() error {
	if !safeLine(f.Note) {
		return model.Errorf(model.CodeInvalid, "form.unsafe_text")
	}
	if tooLong(f.Note, 200) {
		return model.Errorf(model.CodeInvalid, "form.too_long")
	}
	return nil
}

// PrepareForm is the releases page's form starting a draft release; the
// platform checks it (PrepareRelease) against the app's config.
type PrepareForm struct {
	Template    string // the template's id as posted
	UserVersion string
	UserDesc    string
}

// NewPrepareForm reads the release form from the request.
func NewPrepareForm(c *fiber.Ctx) PrepareForm {
	return PrepareForm{Template: formText(c, "template_id"), UserVersion: formText(c, "user_version"), UserDesc: formText(c, "user_desc")}
}

// TemplateID is the chosen template (0 when none or not a number).
func (f PrepareForm) TemplateID() int64 {
	id, _ := parseInt64(f.Template)
	return id
}

// Validate checks the version and its description for control and bidi
// characters; the rest is the platform's (PrepareRelease).
func (f PrepareForm) Validate() error {
	errs := model.FieldErrors{}
	checkText(errs, "user_version", f.UserVersion)
	checkLines(errs, "user_desc", f.UserDesc)
	return errs.Err()
}

// View is the form to show again.
func (f PrepareForm) View() views.Form {
	v := views.NewForm()
	v.Values["template_id"], v.Values["user_version"], v.Values["user_desc"] = f.Template, f.UserVersion, f.UserDesc
	return v
}

// ItemRow is one audit item row of the items form, as typed (the tag's
// words joined by single spaces).
type ItemRow struct {
	Category, Address, Title, Tag string
}

func (r ItemRow) empty() bool { return r == ItemRow{} }

// ItemsForm is a release's submit form (WeChat's 提交审核): up to
// model.MaxAuditItems item rows, the version description, the UGC
// declaration, the feedback after a rejection, and the Seq the editor saw.
type ItemsForm struct {
	Seq          string
	Rows         []ItemRow
	VersionDesc  string
	FeedbackInfo string
	UGCScene     []string // as posted: numbers, checked boxes
	UGCMethod    []string
	UGCTeam      bool
	UGCOtherDesc string
	UGCAuditDesc string
}

// NewItemsForm reads the submit form from the request.
func NewItemsForm(c *fiber.Ctx) ItemsForm {
	v := postValues(c)
	f := ItemsForm{Seq: c.FormValue("seq"), Rows: make([]ItemRow, model.MaxAuditItems),
		VersionDesc: formText(c, "version_desc"), FeedbackInfo: formText(c, "feedback_info"),
		UGCScene: v["ugc_scene"], UGCMethod: v["ugc_method"], UGCTeam: c.FormValue("ugc_team") == "1",
		UGCOtherDesc: formText(c, "ugc_other_desc"), UGCAuditDesc: formText(c, "ugc_audit_desc")}
	for i := range f.Rows {
		k := itemKey(i)
		f.Rows[i] = ItemRow{Category: c.FormValue(k + "category"), Address: formText(c, k+"address"), Title: formText(c, k+"title"),
			Tag: strings.Join(strings.Fields(c.FormValue(k+"tag")), " ")}
	}
	return f
}

// Choices is the release's submit choices with this form's items, texts
// and declaration; what is wrong comes back as field errors.
func (f ItemsForm) Choices(base model.SubmitChoices, cats []wechat.Category, pages []string, feedback bool) (model.SubmitChoices, error) {
	errs := model.FieldErrors{}
	items, ierr := f.Items(cats, pages)
	if ierr != nil {
		var fe model.FieldErrors
		if !errors.As(ierr, &fe) {
			return base, ierr
		}
		maps.Copy(errs, fe)
	}
	checkLines(errs, "version_desc", f.VersionDesc)
	checkLines(errs, "feedback_info", f.FeedbackInfo)
	checkLines(errs, "ugc_other_desc", f.UGCOtherDesc)
	checkLines(errs, "ugc_audit_desc", f.UGCAuditDesc)
	ch := base
	ch.Items, ch.VersionDesc = items, f.VersionDesc
	if feedback {
		ch.FeedbackInfo = f.FeedbackInfo
	}
	ch.UGC = nil
	if len(f.UGCScene) > 0 || len(f.UGCMethod) > 0 || f.UGCTeam || f.UGCOtherDesc != "" || f.UGCAuditDesc != "" {
		u := &model.UGCDeclare{HasAuditTeam: f.UGCTeam, OtherSceneDesc: f.UGCOtherDesc, AuditDesc: f.UGCAuditDesc}
		var bad bool
		u.Scene, bad = choiceInts(f.UGCScene)
		if bad {
			errs.Add("ugc_scene", "form.invalid_choice")
		}
		u.Method, bad = choiceInts(f.UGCMethod)
		if bad {
			errs.Add("ugc_method", "form.invalid_choice")
		}
		ch.UGC = u
	}
	if len(errs) == 0 {
		var e *model.Error
		if err := ch.Check(); errors.As(err, &e) && e.Field != "" {
			errs.Add(e.Field, e.Key)
		} else if err != nil {
			return ch, err
		}
	}
	if len(errs) > 0 {
		return ch, errs
	}
	return ch, nil
}

// choiceInts reads checked boxes' numbers, sorted, once each; bad is true
// when one is not a number.
func choiceInts(vals []string) (out []int, bad bool) {
	for _, v := range vals {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, true
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out, false
}

func itemKey(i int) string { return "items." + strconv.Itoa(i) + "." }

// SeqSeen is the release's Seq the editor saw (0 when missing).
func (f ItemsForm) SeqSeen() int64 {
	seq, _ := strconv.ParseInt(f.Seq, 10, 64)
	return seq
}

// Used is the number of rows up to the last one filled in.
func (f ItemsForm) Used() int {
	n := 0
	for i, r := range f.Rows {
		if !r.empty() {
			n = i + 1
		}
	}
	return n
}

// Items reads the filled rows into audit items: each needs one of the
// categories the app may use, a page of the template (any page when pages
// is empty), a short title and a few short tags. What is wrong comes back
// as field errors; no row at all is an error of the form.
func (f ItemsForm) Items(cats []wechat.Category, pages []string) ([]model.AuditItemChoice, error) {
	errs := model.FieldErrors{}
	var items []model.AuditItemChoice
	for i, r := range f.Rows {
		if r.empty() {
			continue
		}
		k := itemKey(i)
		it := model.AuditItemChoice{Address: r.Address, Title: r.Title, Tag: r.Tag}
		checkText(errs, k+"address", r.Address)
		checkText(errs, k+"title", r.Title)
		checkText(errs, k+"tag", r.Tag)
		idx := slices.IndexFunc(cats, func(ct wechat.Category) bool {
			return categoryValue(ct.FirstID, ct.SecondID, ct.ThirdID) == r.Category
		})
		switch {
		case r.Category == "":
			errs.Add(k+"category", "release.items.err.category_required")
		case idx < 0:
			errs.Add(k+"category", "release.items.err.category")
		default:
			ct := cats[idx]
			it.FirstClass, it.SecondClass, it.ThirdClass = ct.FirstClass, ct.SecondClass, ct.ThirdClass
			it.FirstID, it.SecondID, it.ThirdID = ct.FirstID, ct.SecondID, ct.ThirdID
		}
		if r.Address != "" && len(pages) > 0 && !slices.Contains(pages, r.Address) {
			errs.Add(k+"address", "release.items.err.page")
		}
		if tooLong(r.Title, maxItemTitle) {
			errs.Add(k+"title", "release.items.err.title")
		}
		if tags := strings.Fields(r.Tag); len(tags) > maxItemTags || slices.ContainsFunc(tags, func(t string) bool { return tooLong(t, maxTagLen) }) {
			errs.Add(k+"tag", "release.items.err.tag")
		}
		items = append(items, it)
	}
	if len(errs) > 0 {
		return items, errs
	}
	if len(items) == 0 {
		return nil, model.Errorf(model.CodeInvalid, "release.preflight.no_category")
	}
	return items, nil
}

// View is the form to show again.
func (f ItemsForm) View() views.Form {
	v := views.NewForm()
	v.Values["seq"] = f.Seq
	v.Values["version_desc"], v.Values["feedback_info"] = f.VersionDesc, f.FeedbackInfo
	v.Values["ugc_other_desc"], v.Values["ugc_audit_desc"] = f.UGCOtherDesc, f.UGCAuditDesc
	if f.UGCTeam {
		v.Values["ugc_team"] = "1"
	}
	for _, n := range f.UGCScene {
		v.Values["ugc_scene."+n] = "1"
	}
	for _, n := range f.UGCMethod {
		v.Values["ugc_method."+n] = "1"
	}
	for i, r := range f.Rows {
		k := itemKey(i)
		v.Values[k+"category"], v.Values[k+"address"], v.Values[k+"title"], v.Values[k+"tag"] = r.Category, r.Address, r.Title, r.Tag
	}
	return v
}

// ConfigRestoreForm is the config history's button saving an old version
// as the newest one.
type ConfigRestoreForm struct {
	Version int64 // 0 when not a number
}

// NewConfigRestoreForm reads the version from the request.
func NewConfigRestoreForm(c *fiber.Ctx) ConfigRestoreForm {
	ver, err := strconv.ParseInt(c.FormValue("version"), 10, 64)
	if err != nil {
		ver = 0
	}
	return ConfigRestoreForm{Version: ver}
}

// Validate checks the version: a version that cannot be one is not found.
func (f ConfigRestoreForm) Validate() error {
	if f.Version <= 0 {
		return model.NotFound("config")
	}
	return nil
}

// ApproveForm is the approver's 提交审核, bound to the payload hash the
// review page showed.
type ApproveForm struct {
	Hash string
}

// NewApproveForm reads the shown hash from the request.
func NewApproveForm(c *fiber.Ctx) ApproveForm { return ApproveForm{Hash: c.FormValue("hash")} }

// Validate has nothing to check: the platform compares the hash.
func (f ApproveForm) Validate() error { return nil }

// stepEvents are the preparer's buttons on a release page; shipEvents the
// approver's.
var (
	stepEvents = []model.ReleaseEvent{model.EvCommit, model.EvRecheck, model.EvEdit, model.EvCancel, model.EvDismiss, model.EvUndo, model.EvSpeedUp}
	shipEvents = []model.ReleaseEvent{model.EvRelease, model.EvGray, model.EvGrayRevert, model.EvRollback}
)

// StepForm is a preparer's button on a release page and the release's Seq
// the page showed.
type StepForm struct {
	Event model.ReleaseEvent
	Seq   int64
}

// NewStepForm reads the button from the request.
func NewStepForm(c *fiber.Ctx) StepForm {
	seq, _ := strconv.ParseInt(c.FormValue("seq"), 10, 64)
	return StepForm{Event: model.ReleaseEvent(c.FormValue("event")), Seq: seq}
}

// Validate checks the button is one of stepEvents.
func (f StepForm) Validate() error {
	if !slices.Contains(stepEvents, f.Event) {
		return model.Errorf(model.CodeInvalid, "form.invalid_choice")
	}
	return nil
}

// ShipForm is an approver's button on a release page: release, gray
// release (to Percent), revert the gray release, roll back.
type ShipForm struct {
	Event   model.ReleaseEvent
	Percent int // 0 when not a number; the platform checks the range
}

// NewShipForm reads the button from the request.
func NewShipForm(c *fiber.Ctx) ShipForm {
	pct, err := strconv.Atoi(c.FormValue("percent"))
	if err != nil {
		pct = 0
	}
	return ShipForm{Event: model.ReleaseEvent(c.FormValue("event")), Percent: pct}
}

// Validate checks the button is one of shipEvents.
func (f ShipForm) Validate() error {
	if !slices.Contains(shipEvents, f.Event) {
		return model.Errorf(model.CodeInvalid, "form.invalid_choice")
	}
	return nil
}

// MediaForm is a file for WeChat's reviewers: a screenshot or recording
// (purpose "preview") or an image explaining a resubmission ("feedback").
type MediaForm struct {
	Purpose string
	Seq     string
	Name    string
	Data    []byte
}

// maxMediaUpload is the largest file read: WeChat's 10 MB for a recording
// (the platform checks each kind's own limit).
const maxMediaUpload = wechat.MaxAuditVideoBytes

// NewMediaForm reads the upload; a missing file or one larger than any
// kind may be is refused before its content is read.
func NewMediaForm(c *fiber.Ctx) (MediaForm, error) {
	f := MediaForm{Purpose: c.FormValue("purpose"), Seq: c.FormValue("seq")}
	fh, err := c.FormFile("media")
	if err != nil {
		return f, model.FieldError("media", "release.media.err.missing")
	}
	f.Name = fh.Filename
	if fh.Size > maxMediaUpload {
		return f, model.FieldError("media", "release.media.err.video_size")
	}
	r, err := fh.Open()
	if err != nil {
		return f, err
	}
	defer r.Close()
	f.Data, err = io.ReadAll(io.LimitReader(r, maxMediaUpload+1))
	return f, err
}

// SeqSeen is the release's Seq the editor saw (0 when missing).
func (f MediaForm) SeqSeen() int64 {
	seq, _ := strconv.ParseInt(f.Seq, 10, 64)
	return seq
}

// Validate checks the purpose; the file itself is the platform's to check.
func (f MediaForm) Validate() error {
	if f.Purpose != platform.MediaPreview && f.Purpose != platform.MediaFeedback {
		return model.Errorf(model.CodeInvalid, "form.invalid_choice")
	}
	return nil
}

// PrivacyForm is an app's privacy guideline form: the owner's contacts and
// settings, and a purpose per privacy key ("purpose.<Key>").
type PrivacyForm struct {
	ContactEmail, ContactPhone, ContactQQ, ContactWeixin string
	NoticeMethod, StoreExpire                            string
	Purposes                                             map[string]string
}

// NewPrivacyForm reads the form; only keys that look like WeChat's
// privacy keys are read.
func NewPrivacyForm(c *fiber.Ctx) PrivacyForm {
	f := PrivacyForm{ContactEmail: formText(c, "contact_email"), ContactPhone: formText(c, "contact_phone"), ContactQQ: formText(c, "contact_qq"),
		ContactWeixin: formText(c, "contact_weixin"), NoticeMethod: formText(c, "notice_method"), StoreExpire: formText(c, "store_expire"),
		Purposes: map[string]string{}}
	for k, vs := range postValues(c) {
		if key, ok := strings.CutPrefix(k, "purpose."); ok && validPrivacyKey(key) && len(vs) > 0 {
			f.Purposes[key] = strings.TrimSpace(vs[0])
		}
	}
	return f
}

// validPrivacyKey: WeChat's keys are short ASCII words (UserInfo, EXOrderInfo).
func validPrivacyKey(k string) bool {
	if k == "" || len(k) > 40 {
		return false
	}
	for _, r := range k {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// Validate checks every text for control and bidi characters and lengths;
// WeChat's own rules are the platform's (PrivacyEdit.Check).
func (f PrivacyForm) Validate() error {
	errs := model.FieldErrors{}
	for name, v := range map[string]string{"contact_email": f.ContactEmail, "contact_phone": f.ContactPhone, "contact_qq": f.ContactQQ,
		"contact_weixin": f.ContactWeixin, "notice_method": f.NoticeMethod, "store_expire": f.StoreExpire} {
		checkText(errs, name, v)
		if tooLong(v, 100) {
			errs.Add(name, "form.too_long")
		}
	}
	for k, v := range f.Purposes {
		checkText(errs, "purpose."+k, v)
	}
	return errs.Err()
}

// Edit is the platform's view of the form.
func (f PrivacyForm) Edit() platform.PrivacyEdit {
	return platform.PrivacyEdit{ContactEmail: f.ContactEmail, ContactPhone: f.ContactPhone, ContactQQ: f.ContactQQ, ContactWeixin: f.ContactWeixin,
		NoticeMethod: f.NoticeMethod, StoreExpire: f.StoreExpire, Purposes: f.Purposes}
}

// View is the form to show again.
func (f PrivacyForm) View() views.Form {
	v := views.NewForm()
	v.Values["contact_email"], v.Values["contact_phone"], v.Values["contact_qq"] = f.ContactEmail, f.ContactPhone, f.ContactQQ
	v.Values["contact_weixin"], v.Values["notice_method"], v.Values["store_expire"] = f.ContactWeixin, f.NoticeMethod, f.StoreExpire
	for k, p := range f.Purposes {
		v.Values["purpose."+k] = p
	}
	return v
}
