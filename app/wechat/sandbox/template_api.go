package sandbox

import (
	"encoding/json"
	"slices"
	"strconv"
	"time"
)

// Draft is a code draft uploaded from WeChat DevTools to the platform's
// development Mini Program.
type Draft struct {
	UserVersion string
	UserDesc    string
	// Pages of the code package; ext_json pages must be a subset.
	Pages []string
	// PrivacyAPIs the post-commit scan will detect (e.g. "wx.getLocation").
	PrivacyAPIs []string
}

type draft struct {
	Draft
	id      int64
	created time.Time
}

type codeTemplate struct {
	id    int64
	draft *draft
	kind  int // 0 normal, 1 standard
	added time.Time
}

var defaultPages = []string{"pages/index/index", "pages/goods/detail", "pages/cart/cart", "pages/mine/mine"}

// seedDrafts gives a fresh sandbox two drafts: a plain one and one that uses
// a location API, so both sides of the privacy checks can be exercised.
func (s *Sandbox) seedDrafts() {
	s.addDraftLocked(Draft{UserVersion: "1.0.0", UserDesc: "店铺模板 首个版本", Pages: defaultPages})
	s.addDraftLocked(Draft{UserVersion: "1.1.0", UserDesc: "店铺模板 门店定位", Pages: defaultPages,
		PrivacyAPIs: []string{"wx.getLocation", "wx.chooseImage"}})
}

// AddDraft adds a code draft and returns its draft_id.
func (s *Sandbox) AddDraft(d Draft) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addDraftLocked(d).id
}

func (s *Sandbox) addDraftLocked(d Draft) *draft {
	if len(d.Pages) == 0 {
		d.Pages = defaultPages
	}
	d.Pages = slices.Clone(d.Pages)
	d.PrivacyAPIs = slices.Clone(d.PrivacyAPIs)
	s.nextID++
	dr := &draft{Draft: d, id: s.nextID, created: s.clock.Now()}
	s.drafts = append(s.drafts, dr)
	return dr
}

const sourceApp = "wxsandboxdev0000001"

func (s *Sandbox) apiGetTemplateDraftList(c *call) any {
	type item struct {
		DraftID     int64  `json:"draft_id"`
		UserVersion string `json:"user_version"`
		UserDesc    string `json:"user_desc"`
		CreateTime  int64  `json:"create_time"`
		SourceAppID string `json:"source_miniprogram_appid"`
		Source      string `json:"source_miniprogram"`
		Developer   string `json:"developer"`
	}
	list := []item{}
	for _, d := range s.drafts {
		list = append(list, item{d.id, d.UserVersion, d.UserDesc, d.created.Unix(), sourceApp, "沙箱开发小程序", "sandbox-dev"})
	}
	return struct {
		okEnvelope
		List []item `json:"draft_list"`
	}{ok(), list}
}

// flexInt accepts a number or a quoted number (old doc examples quote ids).
type flexInt int64

func (f *flexInt) UnmarshalJSON(b []byte) error {
	var n int64
	if err := json.Unmarshal(b, &n); err == nil {
		*f = flexInt(n)
		return nil
	}
	var str string
	if err := json.Unmarshal(b, &str); err != nil {
		return err
	}
	n, err := strconv.ParseInt(str, 10, 64)
	*f = flexInt(n)
	return err
}

func (s *Sandbox) apiAddToTemplate(c *call) any {
	var req struct {
		DraftID      *flexInt `json:"draft_id"`
		TemplateType int      `json:"template_type"`
	}
	if e := c.decode(&req); e != nil {
		return e
	}
	if req.DraftID == nil {
		return failMsg(47001, "data format error: draft_id missing")
	}
	if req.TemplateType != 0 && req.TemplateType != 1 {
		return failMsg(47001, "data format error: invalid template_type")
	}
	i := slices.IndexFunc(s.drafts, func(d *draft) bool { return d.id == int64(*req.DraftID) })
	if i < 0 {
		return fail(85064)
	}
	n := 0
	for _, t := range s.templates {
		if t.kind == req.TemplateType {
			n++
		}
	}
	if n >= s.opts.TemplateCap {
		return fail(85065)
	}
	s.nextID++
	s.templates = append(s.templates, &codeTemplate{id: s.nextID, draft: s.drafts[i], kind: req.TemplateType, added: c.now})
	return nil
}

func (s *Sandbox) apiGetTemplateList(c *call) any {
	type item struct {
		TemplateID   int64  `json:"template_id"`
		DraftID      int64  `json:"draft_id"`
		UserVersion  string `json:"user_version"`
		UserDesc     string `json:"user_desc"`
		CreateTime   int64  `json:"create_time"`
		TemplateType int    `json:"template_type"`
		SourceAppID  string `json:"source_miniprogram_appid"`
		Source       string `json:"source_miniprogram"`
		Developer    string `json:"developer"`
	}
	filter := -1
	if v := c.r.URL.Query().Get("template_type"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || (n != 0 && n != 1) {
			return failMsg(47001, "data format error: invalid template_type")
		}
		filter = n
	}
	list := []item{}
	for _, t := range s.templates {
		if filter >= 0 && t.kind != filter {
			continue
		}
		d := t.draft
		list = append(list, item{t.id, d.id, d.UserVersion, d.UserDesc, t.added.Unix(), t.kind, sourceApp, "沙箱开发小程序", "sandbox-dev"})
	}
	return struct {
		okEnvelope
		List []item `json:"template_list"`
	}{ok(), list}
}

func (s *Sandbox) apiDeleteTemplate(c *call) any {
	var req struct {
		TemplateID *flexInt `json:"template_id"`
	}
	if e := c.decode(&req); e != nil {
		return e
	}
	if req.TemplateID == nil {
		return failMsg(47001, "data format error: template_id missing")
	}
	i := slices.IndexFunc(s.templates, func(t *codeTemplate) bool { return t.id == int64(*req.TemplateID) })
	if i < 0 {
		return fail(85064)
	}
	s.templates = slices.Delete(s.templates, i, i+1)
	return nil
}

func (s *Sandbox) templateByID(id int64) *codeTemplate {
	for _, t := range s.templates {
		if t.id == id {
			return t
		}
	}
	return nil
}

// AddTemplate adds a draft to the normal template library without the API
// and returns the template_id (0 if the draft does not exist).
func (s *Sandbox) AddTemplate(draftID int64) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range s.drafts {
		if d.id == draftID {
			s.nextID++
			s.templates = append(s.templates, &codeTemplate{id: s.nextID, draft: d, added: s.clock.Now()})
			return s.nextID
		}
	}
	return 0
}
