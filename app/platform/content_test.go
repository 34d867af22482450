package platform_test

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/minifleet/minifleet/app/extconfig"
	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/platform"
	"github.com/minifleet/minifleet/app/store"
)

const contentSchema = `{
  "type": "object", "required": ["shopName"],
  "properties": {
    "shopName": {"type": "string", "minLength": 2, "x-label": {"zh-CN": "店铺名称", "en": "Shop name"}},
    "logo": {"type": "string", "format": "image-url", "x-label": {"zh-CN": "标志", "en": "Logo"},
      "x-image": {"maxBytes": 300000, "maxWidth": 400, "maxHeight": 300}},
    "slogan": {"type": "string", "x-sec-check": true, "x-label": {"zh-CN": "宣传语", "en": "Slogan"}}
  }
}`

func gradientPNG(t testing.TB, w, h int, seed uint8) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x) + seed, uint8(y) ^ seed, seed, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

var lim = extconfig.ImageLimits{MaxBytes: 300000, MaxWidth: 400, MaxHeight: 300}

// TestProcessImage: what an upload may be, and what survives re-encoding.
func TestProcessImage(t *testing.T) {
	ok := gradientPNG(t, 200, 100, 1)
	img, err := platform.ProcessImage(ok, lim)
	if err != nil || img.MIME != "image/png" || img.Width != 200 || img.Height != 100 || len(img.Hash) != 64 {
		t.Fatalf("png: %+v %v", img, err)
	}
	again, _ := platform.ProcessImage(ok, lim)
	if again.Hash != img.Hash {
		t.Errorf("the same upload hashed twice differently")
	}
	// JPEG stays JPEG; its Exif (APP1) is gone.
	var jb bytes.Buffer
	jpeg.Encode(&jb, image.NewRGBA(image.Rect(0, 0, 30, 20)), nil)
	exif := append([]byte{0xFF, 0xE1, 0, 24}, []byte("Exif\x00\x00GPS 31.2N 121.4E")...)
	withExif := append(append(append([]byte{}, jb.Bytes()[:2]...), exif...), jb.Bytes()[2:]...)
	j, err := platform.ProcessImage(withExif, lim)
	if err != nil || j.MIME != "image/jpeg" || bytes.Contains(j.Data, []byte("GPS 31.2N")) {
		t.Errorf("jpeg: mime %q, exif kept %v, err %v", j.MIME, bytes.Contains(j.Data, []byte("GPS 31.2N")), err)
	}
	// WebP decodes and becomes PNG.
	webp, err := os.ReadFile("testdata/blue-purple-pink.lossless.webp")
	if err != nil {
		t.Fatal(err)
	}
	wp, err := platform.ProcessImage(webp, extconfig.ImageLimits{MaxBytes: 1 << 20, MaxWidth: 4096, MaxHeight: 4096})
	if err != nil || wp.MIME != "image/png" {
		t.Errorf("webp: %+v %v", wp.MIME, err)
	} else if _, err := png.Decode(bytes.NewReader(wp.Data)); err != nil {
		t.Errorf("webp re-encoded is not a PNG: %v", err)
	}
	for _, c := range []struct {
		name string
		data []byte
		key  string
	}{
		{"empty", nil, "content.err.image_empty"},
		{"text", []byte("hello, not an image"), "content.err.image_type"},
		{"zip renamed", []byte("PK\x03\x04\x14\x00\x00\x00\x08\x00 rest of a zip"), "content.err.image_type"},
		{"gif", []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"), "content.err.image_type"},
		{"too wide", gradientPNG(t, 401, 10, 2), "content.err.image_dims"},
		{"too big", append(gradientPNG(t, 10, 10, 3), bytes.Repeat([]byte{1}, 300001)...), "content.err.image_too_big"},
		{"truncated png", ok[:len(ok)/2], "content.err.image_type"},
	} {
		_, err := platform.ProcessImage(c.data, lim)
		ie, isIE := err.(*platform.ImageError)
		if !isIE || ie.Key != c.key {
			t.Errorf("%s: %v, want %s", c.name, err, c.key)
		}
	}
}

// TestProcessImageRefusesBombsBeforeDecoding: a PNG announcing 50000×50000
// pixels is refused from its header, without allocating them.
func TestProcessImageRefusesBombsBeforeDecoding(t *testing.T) {
	hdr := gradientPNG(t, 1, 1, 0)
	// Patch IHDR's width and height (bytes 16..23); the CRC is wrong, which
	// image/png's DecodeConfig does not check before reporting the size.
	bomb := append([]byte{}, hdr...)
	copy(bomb[16:], []byte{0, 0, 0xC3, 0x50, 0, 0, 0xC3, 0x50})
	var before, after runtimeMem
	before.read()
	_, err := platform.ProcessImage(bomb, extconfig.ImageLimits{MaxBytes: 1 << 20, MaxWidth: 4096, MaxHeight: 4096})
	after.read()
	ie, ok := err.(*platform.ImageError)
	if !ok || (ie.Key != "content.err.image_dims" && ie.Key != "content.err.image_type") {
		t.Fatalf("bomb: %v", err)
	}
	if grew := after.total - before.total; grew > 64<<20 {
		t.Errorf("refusing the bomb allocated %d MB", grew>>20)
	}
}

// contentRig is the release rig with the content template and an image
// server standing in for the web layer's /media route.
func contentRig(t *testing.T) (*relRig, int64) {
	rr := newRelRig(t, 1)
	ctx := rr.ctx
	if err := rr.lib.SetSchema(ctx, rr.dev, rr.tplID, contentSchema); err != nil {
		t.Fatal(err)
	}
	img := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		parts := strings.Split(req.URL.Path, "/") // /media/:tid/:hash
		tid, _ := strconv.ParseInt(parts[2], 10, 64)
		im, err := rr.st.Image(req.Context(), tid, parts[3])
		if err != nil {
			http.NotFound(w, req)
			return
		}
		w.Header().Set("Content-Type", im.MIME)
		w.Write(im.Data)
	}))
	t.Cleanup(img.Close)
	rr.rel.BaseURL = img.URL
	return rr, rr.tplID
}

func (rr *relRig) waitCheck(t *testing.T, subject, want string) store.ContentCheck {
	return rr.waitCheckOf(t, rr.appID, subject, want)
}

func (rr *relRig) waitCheckOf(t *testing.T, appID, subject, want string) store.ContentCheck {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		rr.clock.Advance(time.Second) // the sandbox answers a second after the request
		cks, err := rr.st.ContentChecks(rr.ctx, rr.tenantID, appID, []string{subject})
		if err != nil {
			t.Fatal(err)
		}
		if ck := cks[subject]; ck.State == want {
			return ck
		} else if time.Now().After(deadline) {
			t.Fatalf("check of %s is %q (errcode %d), want %q", subject[:8], ck.State, ck.Errcode, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestMediaCheckThroughThePush: an upload is checked by media_check_async
// with the visitor's openid; the sandbox downloads the image and answers
// with the wxa_media_check push, which decides the check; the console's
// risky switch makes the next one risky and the commit is refused with
// WeChat's label; errcodes make a content failed (retried after the wait)
// or unchecked (61010: the visitor's two hours are over).
func TestMediaCheckThroughThePush(t *testing.T) {
	rr, tpl := contentRig(t)
	ctx := rr.ctx

	// No openid: not checked, and that does not pretend to pass.
	ref, img, err := rr.rel.UploadImage(ctx, rr.dev, rr.tenantID, rr.appID, gradientPNG(t, 120, 90, 5), lim)
	if err != nil {
		t.Fatal(err)
	}
	cks, _ := rr.st.ContentChecks(ctx, rr.tenantID, rr.appID, []string{img.Hash})
	if ck := cks[img.Hash]; ck.State != store.CheckUnchecked || ck.Errcode != 0 {
		t.Fatalf("without an openid: %+v", ck)
	}
	if err := rr.rel.SetCheckOpenID(ctx, rr.dev, rr.tenantID, rr.appID, rr.sb.Visit(rr.appID)); err != nil {
		t.Fatal(err)
	}
	if _, err := rr.rel.SaveConfig(ctx, rr.dev, rr.tenantID, rr.appID, tpl, url.Values{"shopName": {"老王面馆"}, "logo": {ref}, "slogan": {"好吃不贵"}}, ""); err != nil {
		t.Fatal(err)
	}
	ck := rr.waitCheck(t, img.Hash, store.CheckPass)
	if ck.TraceID == "" || ck.Label != 100 {
		t.Errorf("pass: %+v", ck)
	}
	if n := rr.sb.CallCount("media_check_async"); n != 1 {
		t.Errorf("media_check_async calls = %d, want 1 (a decided check is not asked again)", n)
	}
	// The text went through msg_sec_check at once.
	items, _, err := rr.rel.ConfigContents(ctx, rr.tenantID, rr.appID)
	if err != nil || len(items) != 2 || items[1].Check.State != store.CheckPass {
		t.Fatalf("contents: %+v %v", items, err)
	}
	// ext_json names the image by its absolute URL under the base URL.
	ext, err := rr.rel.PreviewExtJSON(ctx, rr.tenantID, rr.appID, tpl)
	if err != nil || !strings.Contains(ext, rr.rel.BaseURL+"/media/"+strconv.FormatInt(rr.tenantID, 10)+"/"+img.Hash) {
		t.Errorf("ext_json %s %v", ext, err)
	}
	rel, err := rr.rel.PrepareRelease(ctx, rr.tenantID, rr.appID, tpl, "1.0.0", "first", rr.dev)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rr.rel.Commit(ctx, rr.tenantID, rel.ID, rr.dev, rel.Seq); err != nil {
		t.Fatalf("commit with checks passed: %v", err)
	}
	if st := rr.get(t, rel.ID).State; st == model.RelDraft {
		t.Errorf("the commit did not go ahead")
	}

	// Risky, on a second app: the console's switch; the commit is refused
	// with the label.
	app2 := rr.sb.AddApps(1)[0]
	rr.seedAuthorizer(rr.st, app2)
	if err := rr.st.AssignApp(ctx, rr.dev, app2, rr.tenantID); err != nil {
		t.Fatal(err)
	}
	if err := rr.rel.SetCheckOpenID(ctx, rr.dev, rr.tenantID, app2, rr.sb.Visit(app2)); err != nil {
		t.Fatal(err)
	}
	rr.sb.SetNextMediaRisky(app2, 20002)
	ref2, img2, err := rr.rel.UploadImage(ctx, rr.dev, rr.tenantID, app2, gradientPNG(t, 120, 90, 6), lim)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rr.rel.SaveConfig(ctx, rr.dev, rr.tenantID, app2, tpl, url.Values{"shopName": {"老王面馆"}, "logo": {ref2}, "slogan": {"好吃不贵"}}, ""); err != nil {
		t.Fatal(err)
	}
	if ck := rr.waitCheckOf(t, app2, img2.Hash, store.CheckRisky); ck.Label != 20002 {
		t.Errorf("risky label %d", ck.Label)
	}
	// A campaign leaves the app out, with the reason.
	pv, err := rr.p.Campaigns.Preview(ctx, platform.CampaignInput{TenantID: rr.tenantID, Name: "秋季", TemplateID: tpl, UserVersion: "1.0.2", UserDesc: "campaign",
		CampaignSettings: model.CampaignSettings{Concurrency: 1, CanarySize: 1, WaveMax: 1, HaltRate: 0.5, ReleaseMode: model.ReleaseEach}})
	if err != nil {
		t.Fatal(err)
	}
	if pv.SkipBy[model.SkipContentRisky] != 1 || len(pv.Skipped) == 0 {
		t.Errorf("campaign preview: skipped %v", pv.SkipBy)
	}
	for _, s := range pv.Skipped {
		if s.Reason == model.SkipContentRisky && s.AppID != app2 {
			t.Errorf("skipped %s as risky, want %s", s.AppID, app2)
		}
	}

	rel2, err := rr.rel.PrepareRelease(ctx, rr.tenantID, app2, tpl, "1.0.1", "second", rr.dev)
	if err != nil {
		t.Fatal(err)
	}
	_, err = rr.rel.Commit(ctx, rr.tenantID, rel2.ID, rr.dev, rel2.Seq)
	me, ok := err.(*model.Error)
	if !ok || me.Key != "content.err.risky" || me.Data["Label"] != 20002 || me.Data["Field"] != "logo" {
		t.Fatalf("risky commit: %v", err)
	}
	if st := rr.get(t, rel2.ID).State; st != model.RelDraft {
		t.Errorf("the release moved to %s", st)
	}
	// WeChat busy (-1): failed, asked again only after the wait.
	rr.sb.InjectError("media_check_async", -1, 1)
	_, img3, err := rr.rel.UploadImage(ctx, rr.dev, rr.tenantID, rr.appID, gradientPNG(t, 120, 90, 7), lim)
	if err != nil {
		t.Fatal(err)
	}
	cks, _ = rr.st.ContentChecks(ctx, rr.tenantID, rr.appID, []string{img3.Hash})
	if ck := cks[img3.Hash]; ck.State != store.CheckFailed || ck.Errcode != -1 || !ck.NextRetryAt.After(rr.now()) {
		t.Fatalf("after -1: %+v", ck)
	}
	if platform.Retryable(cks[img3.Hash], rr.now()) {
		t.Errorf("retryable before the wait")
	}
	if !platform.Retryable(cks[img3.Hash], rr.now().Add(61*time.Second)) {
		t.Errorf("not retryable after the wait")
	}

	// Two hours later the visitor's openid is stale: 61010, not checked.
	rr.clock.Advance(2*time.Hour + time.Minute)
	_, img4, err := rr.rel.UploadImage(ctx, rr.dev, rr.tenantID, rr.appID, gradientPNG(t, 120, 90, 8), lim)
	if err != nil {
		t.Fatal(err)
	}
	cks, _ = rr.st.ContentChecks(ctx, rr.tenantID, rr.appID, []string{img4.Hash})
	if ck := cks[img4.Hash]; ck.State != store.CheckUnchecked || ck.Errcode != 61010 {
		t.Errorf("stale visitor: %+v", ck)
	}
}

type runtimeMem struct{ total uint64 }

func (m *runtimeMem) read() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m.total = ms.TotalAlloc
}

// BenchmarkProcessImage: what an upload costs the server (decode, re-encode,
// hash) at the largest default size, and refusing a bomb from its header.
func BenchmarkProcessImage(b *testing.B) {
	big := extconfig.ImageLimits{MaxBytes: 10 << 20, MaxWidth: 2048, MaxHeight: 2048}
	pngData := gradientPNG(b, 1024, 768, 3)
	var jb bytes.Buffer
	im, _ := png.Decode(bytes.NewReader(pngData))
	jpeg.Encode(&jb, im, &jpeg.Options{Quality: 90})
	bomb := append([]byte{}, gradientPNG(b, 1, 1, 0)...)
	copy(bomb[16:], []byte{0, 0, 0xC3, 0x50, 0, 0, 0xC3, 0x50})
	for _, c := range []struct {
		name string
		data []byte
	}{{"png-1024x768", pngData}, {"jpeg-1024x768", jb.Bytes()}, {"bomb-50000x50000", bomb}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.data)))
			b.ReportAllocs()
			for b.Loop() {
				platform.ProcessImage(c.data, big)
			}
		})
	}
}

// A campaign planned while the app's content passed leaves the app out,
// with the reason, when the merchant saves risky content before the
// campaign reaches it: nothing is uploaded to WeChat and no draft is left
// open.
func TestCampaignSkipsContentTurnedRisky(t *testing.T) {
	rr, tpl := contentRig(t)
	ctx := rr.ctx
	if err := rr.rel.SetCheckOpenID(ctx, rr.dev, rr.tenantID, rr.appID, rr.sb.Visit(rr.appID)); err != nil {
		t.Fatal(err)
	}
	ref, img, err := rr.rel.UploadImage(ctx, rr.dev, rr.tenantID, rr.appID, gradientPNG(t, 120, 90, 7), lim)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rr.rel.SaveConfig(ctx, rr.dev, rr.tenantID, rr.appID, tpl, url.Values{"shopName": {"老王面馆"}, "logo": {ref}, "slogan": {"好吃不贵"}}, ""); err != nil {
		t.Fatal(err)
	}
	rr.waitCheck(t, img.Hash, store.CheckPass)
	camp, _, err := rr.p.Campaigns.Create(ctx, platform.CampaignInput{TenantID: rr.tenantID, Name: "秋季", TemplateID: tpl, UserVersion: "2.0.0", UserDesc: "campaign",
		CampaignSettings: model.CampaignSettings{Concurrency: 1, CanarySize: 1, WaveMax: 1, HaltRate: 0.5, ReleaseMode: model.ReleaseEach}}, rr.dev)
	if err != nil {
		t.Fatal(err)
	}
	if camp, err = rr.p.Campaigns.Decide(ctx, rr.tenantID, camp.ID, model.CampActApprove, rr.boss, camp.Seq, camp.SetHash); err != nil {
		t.Fatal(err)
	}
	// Before the engine reaches the app, a risky logo is saved.
	rr.sb.SetNextMediaRisky(rr.appID, 20002)
	ref2, img2, err := rr.rel.UploadImage(ctx, rr.dev, rr.tenantID, rr.appID, gradientPNG(t, 120, 90, 8), lim)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rr.rel.SaveConfig(ctx, rr.dev, rr.tenantID, rr.appID, tpl, url.Values{"shopName": {"老王面馆"}, "logo": {ref2}, "slogan": {"好吃不贵"}}, ""); err != nil {
		t.Fatal(err)
	}
	rr.waitCheck(t, img2.Hash, store.CheckRisky)
	for range 4 {
		if err := rr.p.Campaigns.TickOnce(ctx); err != nil {
			t.Logf("tick: %v", err)
		}
		rr.p.Campaigns.Wait(ctx)
	}
	apps, err := rr.st.CampaignApps(ctx, camp.ID)
	if err != nil || len(apps) != 1 {
		t.Fatalf("campaign apps %+v %v", apps, err)
	}
	if a := apps[0]; a.State != model.CASkipped || a.Reason != model.SkipContentRisky {
		t.Errorf("app in the campaign: %s (%s), want skipped for risky content", a.State, a.Reason)
	}
	if n := rr.sb.AppSuccessCount("commit", rr.appID); n != 0 {
		t.Errorf("wxa/commit answered %d times for the risky app", n)
	}
	if _, err := rr.st.OpenRelease(ctx, rr.tenantID, rr.appID); !model.IsNotFound(err) {
		t.Errorf("an open release is left: %v", err)
	}
}
