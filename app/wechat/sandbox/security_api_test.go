package sandbox

import (
	"bytes"
	"image"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"
)

// TestContentSecurityAPIs: media_check_async and msg_sec_check v2 answer
// the openid rules (40003, 43104, 61010 after the visitor's two hours,
// 40129, 44002, 47001 for v1), deliver the wxa_media_check push (pass; risky
// after the console control; not downloadable), and take fault injection.
func TestContentSecurityAPIs(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.TokenTTL = 24 * time.Hour })
	ct := h.componentToken()
	appID, tok := h.authorizedApp(ct, AppSpec{})
	var pic bytes.Buffer
	png.Encode(&pic, image.NewRGBA(image.Rect(0, 0, 4, 4)))
	media := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
			return
		}
		w.Write(pic.Bytes())
	}))
	t.Cleanup(media.Close)
	check := func(openid string, scene, version int, mediaURL string) map[string]any {
		return h.call("/wxa/media_check_async", acc(tok), map[string]any{"media_url": mediaURL, "media_type": 2, "version": version, "scene": scene, "openid": openid})
	}
	visitor := h.sb.VisitorOpenID(appID)
	h.expectCode(check(visitor, 1, 2, media.URL+"/a.png"), 61010, "visitor never opened the app")
	h.sb.Visit(appID)
	h.expectCode(check("", 1, 2, media.URL+"/a.png"), 44002, "no openid")
	h.expectCode(check("bad", 1, 2, media.URL+"/a.png"), 40003, "junk openid")
	h.expectCode(check("o"+visitor[1:27]+"x", 1, 2, media.URL+"/a.png"), 43104, "another app's user")
	h.expectCode(check(visitor, 7, 2, media.URL+"/a.png"), 40129, "scene")
	h.expectCode(check(visitor, 1, 1, media.URL+"/a.png"), 47001, "v1 is retired")

	m := check(visitor, 1, 2, media.URL+"/a.png")
	h.expectCode(m, 0, "accepted")
	trace := m["trace_id"].(string)
	h.clock.Advance(2 * time.Second)
	p := h.apps.nextType("wxa_media_check")
	if p.Path != "/wechat/apps/"+appID+"/events" || !bytes.Contains([]byte(p.Msg["trace_id"]), []byte(trace)) {
		t.Fatalf("push %+v", p)
	}
	// The console's control: the next check comes back risky.
	resp, err := http.PostForm(h.srv.URL+"/console/media-risky", url.Values{"appid": {appID}, "label": {"20001"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	m = check(visitor, 1, 2, media.URL+"/b.png")
	h.expectCode(m, 0, "risky accepted")
	h.clock.Advance(2 * time.Second)
	raw := h.apps.nextType("wxa_media_check")
	if raw.Msg["trace_id"] != m["trace_id"] {
		t.Fatalf("second push %v", raw.Msg)
	}
	// (nested result fields are read by the platform's parser; here the flat view.)
	m = check(visitor, 1, 2, media.URL+"/missing")
	h.clock.Advance(2 * time.Second)
	if p := h.apps.nextType("wxa_media_check"); p.Msg["status_code"] != "4294966288" || p.Msg["trace_id"] != m["trace_id"] {
		t.Errorf("undownloadable media: %v", p.Msg)
	}
	// Fault injection by API name.
	h.sb.InjectError("media_check_async", 45009, 1)
	h.expectCode(check(visitor, 1, 2, media.URL+"/a.png"), 45009, "injected")
	h.expectCode(check(visitor, 1, 2, media.URL+"/a.png"), 0, "after the fault")

	// Text check: at once; risky words; the same openid rules.
	txt := func(content string) map[string]any {
		return h.call("/wxa/msg_sec_check", acc(tok), map[string]any{"content": content, "version": 2, "scene": 1, "openid": visitor})
	}
	if r := txt("好吃不贵"); errcode(r) != 0 || r["result"].(map[string]any)["suggest"] != "pass" {
		t.Errorf("pass text: %v", r)
	}
	if r := txt("出售违禁品"); errcode(r) != 0 || r["result"].(map[string]any)["suggest"] != "risky" {
		t.Errorf("risky text: %v", r)
	}
	h.sb.InjectError("msg_sec_check", -1, 1)
	h.expectCode(txt("好吃不贵"), -1, "busy")
	h.clock.Advance(2*time.Hour + time.Minute)
	h.expectCode(txt("好吃不贵"), 61010, "visitor's two hours over")
}
