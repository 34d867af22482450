package sandbox

import (
	"bytes"
	"image/png"
	"io"
	"net/http"
	"testing"
)

// TestHeadImgServed: head_img points at AssetBase, where the sandbox serves
// a generated PNG (so the platform's avatar proxy works offline).
func TestHeadImgServed(t *testing.T) {
	h := newHarness(t, func(o *Options) {
		o.PublicBase, o.AssetBase = "http://public.test/sandbox", "http://internal.test/sandbox/"
	})
	ct := h.componentToken()
	appID, _ := h.authorizedApp(ct, AppSpec{Nickname: "头像店"})
	m := h.call("/cgi-bin/component/api_get_authorizer_info", comp(ct), map[string]string{
		"component_appid": testComponentAppID, "authorizer_appid": appID})
	if got, want := m["authorizer_info"].(map[string]any)["head_img"], "http://internal.test/sandbox/mmopen/"+appID+"/0"; got != want {
		t.Fatalf("head_img = %v, want %s", got, want)
	}

	get := func(path string) (*http.Response, []byte) {
		t.Helper()
		res, err := http.Get(h.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, b
	}
	res, body := get("/mmopen/" + appID + "/0")
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("avatar: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	img, err := png.Decode(bytes.NewReader(body))
	if err != nil || img.Bounds().Dx() != 64 {
		t.Fatalf("avatar PNG: %v %v", err, img)
	}
	if _, again := get("/mmopen/" + appID + "/0"); !bytes.Equal(again, body) {
		t.Error("the same app got a different avatar")
	}
	if _, other := get("/mmopen/wxother000000001/0"); bytes.Equal(other, body) {
		t.Error("two apps got the same avatar")
	}
	if res, _ := get("/mmopen/bad%2E%2E/0"); res.StatusCode != 404 {
		t.Errorf("bad appid: status %d, want 404", res.StatusCode)
	}
}

// TestAssetBaseDefaultsToPublicBase keeps head_img absolute without AssetBase.
func TestAssetBaseDefaultsToPublicBase(t *testing.T) {
	h := newHarness(t, func(o *Options) { o.PublicBase = "http://public.test/sandbox" })
	if got := h.sb.headImgURL("wxa"); got != "http://public.test/sandbox/mmopen/wxa/0" {
		t.Fatalf("headImgURL = %q", got)
	}
}
