package sandbox

import (
	"bytes"
	"encoding/json"
	"image"
	"image/jpeg"
	"net/url"
	"slices"
	"strings"
	"time"

	"rsc.io/qr"
)

// codeState is an app's code lifecycle (protocol doc §7.3).
type codeState struct {
	trial      *codeVersion // latest commit (体验版)
	audits     []*audit     // oldest first; only the last can be in flight
	live       *liveVersion
	history    []liveVersion // earlier releases, newest last, at most 5
	gray       *grayPlan
	appVersion int
}

type codeVersion struct {
	template    *codeTemplate
	userVersion string
	userDesc    string
	pages       []string
	required    []string // requiredPrivateInfos from ext_json
	committed   time.Time
	scanDone    time.Time
}

func (c *call) requireCommit() (*codeVersion, *apiError) {
	if t := c.app.code.trial; t != nil {
		return t, nil
	}
	return nil, fail(86001)
}

// extKeysStandard are the only ext_json keys a standard template accepts (§8).
var extKeysStandard = []string{"extEnable", "extAppid", "ext", "window"}

func (s *Sandbox) apiCommit(c *call) any {
	var req struct {
		TemplateID  *flexInt        `json:"template_id"`
		ExtJSON     json.RawMessage `json:"ext_json"`
		UserVersion string          `json:"user_version"`
		UserDesc    string          `json:"user_desc"`
	}
	if e := c.decode(&req); e != nil {
		return e
	}
	if req.TemplateID == nil {
		return failMsg(47001, "data format error: template_id missing")
	}
	if lenRunes(req.UserVersion) > 64 {
		return failMsg(47001, "data format error: user_version too long")
	}
	tpl := s.templateByID(int64(*req.TemplateID))
	if tpl == nil {
		return fail(85014)
	}
	v := &codeVersion{template: tpl, userVersion: req.UserVersion, userDesc: req.UserDesc,
		pages: slices.Clone(tpl.draft.Pages), committed: c.now, scanDone: c.now.Add(s.opts.PrivacyScanDuration)}
	if e := parseExtJSON(req.ExtJSON, tpl, v); e != nil {
		return e
	}
	c.app.code.trial = v
	return nil
}

// parseExtJSON validates ext_json like WeChat: it must be a string holding a
// JSON object whose pages are a subset of the template's.
func parseExtJSON(raw json.RawMessage, tpl *codeTemplate, v *codeVersion) *apiError {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	if raw[0] != '"' {
		return failMsg(47001, "data format error: ext_json must be a string")
	}
	var text string
	if err := json.Unmarshal(raw, &text); err != nil {
		return fail(47001)
	}
	if strings.TrimSpace(text) == "" {
		return nil
	}
	var ext map[string]json.RawMessage
	if err := json.Unmarshal([]byte(text), &ext); err != nil {
		return fail(85048)
	}
	if tpl.kind == 1 {
		for k := range ext {
			if !slices.Contains(extKeysStandard, k) {
				return failMsg(85013, "invalid ext config: standard template does not accept "+k)
			}
		}
	}
	tplPages := tpl.draft.Pages
	if p, found := ext["pages"]; found {
		var pages []string
		if err := json.Unmarshal(p, &pages); err != nil {
			return fail(85013)
		}
		if len(pages) == 0 {
			return fail(85047)
		}
		for _, pg := range pages {
			if !slices.Contains(tplPages, pg) {
				return failMsg(85045, "some path in ext_json not exist: "+pg)
			}
		}
		v.pages = pages
	}
	if p, found := ext["extPages"]; found {
		var pages map[string]json.RawMessage
		if err := json.Unmarshal(p, &pages); err != nil {
			return fail(85013)
		}
		for pg := range pages {
			if !slices.Contains(tplPages, pg) {
				return failMsg(85045, "some path in ext_json not exist: "+pg)
			}
		}
	}
	if p, found := ext["tabBar"]; found {
		var tab struct {
			List []struct {
				PagePath *string `json:"pagePath"`
			} `json:"list"`
		}
		if err := json.Unmarshal(p, &tab); err != nil {
			return fail(85013)
		}
		for _, it := range tab.List {
			if it.PagePath == nil || *it.PagePath == "" {
				return fail(85046)
			}
			if !slices.Contains(v.pages, *it.PagePath) {
				return failMsg(85045, "some path in ext_json not exist: "+*it.PagePath)
			}
		}
	}
	if p, found := ext["requiredPrivateInfos"]; found {
		if err := json.Unmarshal(p, &v.required); err != nil {
			return fail(85013)
		}
	}
	return nil
}

func (s *Sandbox) apiGetPage(c *call) any {
	v, e := c.requireCommit()
	if e != nil {
		return e
	}
	return struct {
		okEnvelope
		PageList []string `json:"page_list"`
	}{ok(), v.pages}
}

// apiGetVersionInfo reports the trial version (the last commit) and the
// live version; either part is empty when there is none.
func (s *Sandbox) apiGetVersionInfo(c *call) any {
	type expInfo struct {
		ExpTime    int64  `json:"exp_time"`
		ExpVersion string `json:"exp_version"`
		ExpDesc    string `json:"exp_desc"`
	}
	type releaseInfo struct {
		ReleaseTime    int64  `json:"release_time"`
		ReleaseVersion string `json:"release_version"`
		ReleaseDesc    string `json:"release_desc"`
	}
	out := struct {
		okEnvelope
		ExpInfo     *expInfo     `json:"exp_info,omitempty"`
		ReleaseInfo *releaseInfo `json:"release_info,omitempty"`
	}{okEnvelope: ok()}
	if t := c.app.code.trial; t != nil {
		out.ExpInfo = &expInfo{t.committed.Unix(), t.userVersion, t.userDesc}
	}
	if l := c.app.code.live; l != nil {
		out.ReleaseInfo = &releaseInfo{l.commitTime.Unix(), l.userVersion, l.userDesc}
	}
	return out
}

func (s *Sandbox) apiGetQRCode(c *call) any {
	if _, e := c.requireCommit(); e != nil {
		return e
	}
	// A fake experience-version link; scanning it only shows the text.
	u := "https://open.weixin.qq.com/sns/getexpappinfo?appid=" + c.app.appID
	if p := c.r.URL.Query().Get("path"); p != "" {
		u += "&path=" + url.QueryEscape(p)
	}
	return binary{
		contentType: "image/jpeg",
		header:      map[string]string{"Content-Disposition": `attachment; filename="QRCode.jpg"`},
		render:      func() ([]byte, error) { return qrJPEG(u + "#wechat-redirect") },
	}
}

// qrJPEG renders a QR code. WeChat answers get_qrcode with a JPEG. The
// modules are drawn straight into a grayscale image (a 4-module quiet
// zone, 4 px a module: ~180 px, what WeChat's own is scaled to on a
// phone), which the JPEG encoder takes on its fast path.
func qrJPEG(text string) ([]byte, error) {
	code, err := qr.Encode(text, qr.M)
	if err != nil {
		return nil, err
	}
	const scale, quiet = 4, 4
	side := (code.Size + 2*quiet) * scale
	img := image.NewGray(image.Rect(0, 0, side, side))
	for i := range img.Pix {
		img.Pix[i] = 0xFF
	}
	for y := 0; y < code.Size; y++ {
		for x := 0; x < code.Size; x++ {
			if !code.Black(x, y) {
				continue
			}
			for dy := 0; dy < scale; dy++ {
				row := ((quiet+y)*scale+dy)*img.Stride + (quiet+x)*scale
				clear(img.Pix[row : row+scale])
			}
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85}); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func (s *Sandbox) apiGetCategory(c *call) any {
	type item struct {
		FirstClass  string `json:"first_class"`
		SecondClass string `json:"second_class"`
		FirstID     int    `json:"first_id"`
		SecondID    int    `json:"second_id"`
	}
	list := []item{}
	for _, cat := range c.app.categories {
		list = append(list, item{cat.First, cat.Second, cat.FirstID, cat.SecondID})
	}
	return struct {
		okEnvelope
		List []item `json:"category_list"`
	}{ok(), list}
}

// privacyKeyOf maps privacy APIs to guideline keys (§7.2).
var privacyKeyOf = map[string]string{
	"wx.getLocation": "Location", "wx.chooseLocation": "Location", "wx.getFuzzyLocation": "Location",
	"wx.startLocationUpdate": "Location", "wx.choosePoi": "Location",
	"wx.chooseImage": "Album", "wx.chooseMedia": "Album", "wx.chooseVideo": "Album",
	"wx.saveImageToPhotosAlbum": "AlbumWriteOnly", "wx.getUserProfile": "UserInfo",
	"wx.chooseAddress": "Address", "wx.chooseInvoice": "Invoice", "wx.getWeRunData": "RunData",
	"wx.startRecord": "Record", "wx.createCameraContext": "Camera", "getPhoneNumber": "PhoneNumber",
	"wx.addPhoneContact": "Contact", "wx.openBluetoothAdapter": "BlueTooth",
	"wx.addPhoneCalendar": "CalendarWriteOnly", "wx.chooseMessageFile": "MessageFile",
}

// privacyFindings is the scan result: APIs missing from ext_json
// requiredPrivateInfos (location APIs need it) and APIs whose privacy key the
// dev guideline does not cover.
func (a *app) privacyFindings(v *codeVersion) (withoutAuth, withoutConf []string) {
	withoutAuth, withoutConf = []string{}, []string{}
	dev := a.privacy[2]
	for _, api := range v.template.draft.PrivacyAPIs {
		key := privacyKeyOf[api]
		if key == "Location" && !slices.Contains(v.required, strings.TrimPrefix(api, "wx.")) {
			withoutAuth = append(withoutAuth, api)
		}
		if dev == nil || !slices.ContainsFunc(dev.settings, func(p privacyItem) bool { return p.Key == key }) {
			withoutConf = append(withoutConf, api)
		}
	}
	return withoutAuth, withoutConf
}

func (s *Sandbox) apiGetCodePrivacyInfo(c *call) any {
	v, e := c.requireCommit()
	if e != nil {
		return e
	}
	if c.now.Before(v.scanDone) {
		return fail(61039)
	}
	wa, wc := c.app.privacyFindings(v)
	return struct {
		okEnvelope
		WithoutAuth []string `json:"without_auth_list"`
		WithoutConf []string `json:"without_conf_list"`
	}{ok(), wa, wc}
}
