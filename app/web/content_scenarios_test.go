package web

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/minifleet/minifleet/app/extconfig"
	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/platform"
	"github.com/minifleet/minifleet/app/store"
)

// Content security (issue #16): image uploads into config forms, the public
// image route, the check openid, rechecks, the live checks fragment, and a
// risky or pending content blocking the commit.

const contentTemplateID = 9016

// contentApps holds each harness's content app (a sandbox app: its appid
// is the sandbox's).
var contentApps sync.Map // *harness → appid

func contentApp(h *harness) string {
	v, _ := contentApps.Load(h)
	return v.(string)
}

const contentSchema = `{
  "type": "object", "required": ["shopName"],
  "properties": {
    "shopName": {"type": "string", "minLength": 2, "x-label": {"zh-CN": "店铺名称", "en": "Shop name"}},
    "logo": {"type": "string", "format": "image-url", "x-label": {"zh-CN": "标志", "en": "Logo"},
      "x-image": {"maxBytes": 200000, "maxWidth": 400, "maxHeight": 300}},
    "slogan": {"type": "string", "maxLength": 60, "x-sec-check": true, "x-label": {"zh-CN": "宣传语", "en": "Slogan"}}
  }
}`

// pngOf encodes a w×h PNG with a gradient (so it does not compress to nothing).
func pngOf(t testing.TB, w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 7), uint8(y * 13), uint8(x ^ y), 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// jpegWithExif is a JPEG carrying an APP1 Exif segment with marker text.
func jpegWithExif(t testing.TB, marker string) []byte {
	img := image.NewRGBA(image.Rect(0, 0, 40, 30))
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	payload := append([]byte("Exif\x00\x00"), marker...)
	seg := []byte{0xFF, 0xE1, 0, 0}
	binary.BigEndian.PutUint16(seg[2:], uint16(len(payload)+2))
	out := append([]byte{}, b.Bytes()[:2]...) // SOI
	out = append(out, seg...)
	out = append(out, payload...)
	return append(out, b.Bytes()[2:]...)
}

// pngBomb is a valid PNG header announcing w×h pixels with almost no data:
// decoding it would allocate w×h×4 bytes.
func pngBomb(w, h uint32) []byte {
	chunk := func(typ string, data []byte) []byte {
		var c bytes.Buffer
		binary.Write(&c, binary.BigEndian, uint32(len(data)))
		c.WriteString(typ)
		c.Write(data)
		binary.Write(&c, binary.BigEndian, crc32.ChecksumIEEE(append([]byte(typ), data...)))
		return c.Bytes()
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], w)
	binary.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 6 // 8-bit RGBA
	out := []byte("\x89PNG\r\n\x1a\n")
	out = append(out, chunk("IHDR", ihdr)...)
	out = append(out, chunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})...)
	return append(out, chunk("IEND", nil)...)
}

// zipRenamed is the start of a zip archive, uploaded as "logo.png".
var zipRenamed = append([]byte("PK\x03\x04\x14\x00\x00\x00\x08\x00"), bytes.Repeat([]byte{0x42}, 200)...)

// withFile turns the row's url-encoded form (with its _csrf) into a
// multipart form carrying data as field's file.
func withFile(field, filename string, data []byte) reqOpt {
	return func(r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		vals, _ := url.ParseQuery(string(b))
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		for k, vs := range vals {
			for _, v := range vs {
				mw.WriteField(k, v)
			}
		}
		fw, _ := mw.CreateFormFile(field, filename)
		fw.Write(data)
		mw.Close()
		r.Body = io.NopCloser(bytes.NewReader(buf.Bytes()))
		r.ContentLength = int64(buf.Len())
		r.Header.Set("Content-Type", mw.FormDataContentType())
	}
}

// contentFixture: a template whose schema has a limited image and a checked
// text; tenant A's app with a config using an uploaded image and a draft
// release of it; an image of tenant B.
func contentFixture(h *harness, w *world) []string {
	ctx := context.Background()
	st := h.st
	list, err := st.ListTemplates(ctx, false)
	if err != nil {
		h.t.Fatal(err)
	}
	list = append(list, model.Template{TemplateID: contentTemplateID, DraftID: 9, UserVersion: "2.0.0", UserDesc: "内容模板", SourceName: "模板小程序"})
	if err := st.SyncTemplates(ctx, list); err != nil {
		h.t.Fatal(err)
	}
	if err := st.SetTemplateSchema(ctx, model.SystemActor, contentTemplateID, contentSchema, nil); err != nil {
		h.t.Fatal(err)
	}
	appContentA := sandboxApp(h, w.A.ID, "Acme 内容小程序")
	contentApps.Store(h, appContentA)
	who := model.Actor{UserID: w.users["developerA"].ID, Label: w.users["developerA"].Email}
	imgA, err := platform.ProcessImage(pngOf(h.t, 64, 48), extconfig.ImageLimits{MaxBytes: 1 << 20, MaxWidth: 400, MaxHeight: 300})
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := st.SaveImage(ctx, who, store.ConfigImage{TenantID: w.A.ID, Hash: imgA.Hash, MIME: imgA.MIME, Width: imgA.Width, Height: imgA.Height, Data: imgA.Data}); err != nil {
		h.t.Fatal(err)
	}
	imgB, err := platform.ProcessImage(pngOf(h.t, 20, 20), extconfig.ImageLimits{MaxBytes: 1 << 20, MaxWidth: 400, MaxHeight: 300})
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := st.SaveImage(ctx, model.Actor{Label: "owner@b.test"}, store.ConfigImage{TenantID: w.B.ID, Hash: imgB.Hash, MIME: imgB.MIME, Width: 20, Height: 20, Data: imgB.Data}); err != nil {
		h.t.Fatal(err)
	}
	cfg := `{"shopName":"甲店内容","logo":"upload:` + imgA.Hash + `","slogan":"秋季上新"}`
	if _, err := st.SaveConfig(ctx, who, w.A.ID, appContentA, contentTemplateID, cfg, "", ""); err != nil {
		h.t.Fatal(err)
	}
	r, err := model.NewRelease(w.A.ID, appContentA, 1, model.ReleasePayload{TemplateID: contentTemplateID, UserVersion: "2.0.0", UserDesc: "内容版本", ExtJSON: "{}"}, who, h.clock.Now())
	if err != nil {
		h.t.Fatal(err)
	}
	if r, err = st.CreateRelease(ctx, w.A.ID, r); err != nil {
		h.t.Fatal(err)
	}
	return []string{"{appCA}", appContentA, "{imgA}", imgA.Hash, "{imgB}", imgB.Hash, "{relCA}", itoa(r.ID), "{seqCA}", strconv.FormatInt(r.Seq, 10)}
}

// putCheck sets the content app's check of subject (an image hash, or a
// text whose digest is the subject) to state with label.
func putCheck(h *harness, w *world, kind, subject, state string, label int) {
	h.t.Helper()
	if kind == "text" {
		subject = textDigest(subject)
	}
	if _, err := h.st.PutCheck(context.Background(), store.ContentCheck{TenantID: w.A.ID, AppID: contentApp(h), Kind: kind, Subject: subject,
		State: state, Label: label, TraceID: "trace-" + state, RequestedAt: h.clock.Now(), DecidedAt: h.clock.Now()}); err != nil {
		h.t.Fatal(err)
	}
}

func textDigest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// imageHashOf is the fixture's image of tenant A (from the config).
func imageHashOf(h *harness, w *world) string {
	h.t.Helper()
	c, err := h.st.LatestConfig(context.Background(), w.A.ID, contentApp(h))
	if err != nil {
		h.t.Fatal(err)
	}
	i := strings.Index(c.JSON, "upload:")
	return c.JSON[i+7 : i+7+64]
}

func imagesOf(h *harness, tid int64) int {
	h.t.Helper()
	n, err := h.st.ImageCount(context.Background(), tid)
	if err != nil {
		h.t.Fatal(err)
	}
	return n
}

func contentScenarios() []scenario {
	var sc []scenario
	add := func(s ...scenario) { sc = append(sc, s...) }
	cfgURL := "/t/{A}/apps/{appCA}/config"
	up := cfgURL + "/images"
	upForm := func() url.Values {
		return form("template_id", itoa(contentTemplateID), "_upload", "logo", "shopName", "我正在输入的店名", "slogan", "没保存的宣传语")
	}
	setOpenID := func(t *testing.T, h *harness, w *world) {
		if err := h.st.SetCheckOpenID(context.Background(), model.Actor{Label: "fixture"}, w.A.ID, contentApp(h), h.sb.Visit(contentApp(h))); err != nil {
			t.Fatal(err)
		}
	}
	storedOne := func(t *testing.T, h *harness, w *world) {
		if n := imagesOf(h, w.A.ID); n != 2 {
			t.Errorf("tenant A images = %d, want 2 (the fixture's and the upload)", n)
		}
	}

	// The config page shows the image with its check and the content section.
	for _, who := range tenantRolesA {
		add(scenario{name: "content config page as " + who, method: "GET", url: cfgURL, who: who, status: 200,
			want: []string{`data-testid="content-checks"`, `/media/{A}/{imgA}`, "t:content.title", "t:content.openid.none", "t:content.not_asked"}, notWant: leakB})
		add(scenario{name: "content checks fragment as " + who, method: "GET", url: cfgURL + "/checks", who: who, htmx: true, status: 200,
			want: []string{`data-testid="content-checks"`, "logo", "slogan"}})
	}
	add(
		scenario{name: "content config page shows upload limits and risky label", method: "GET", url: cfgURL, who: "developerA", status: 200,
			setup: func(t *testing.T, h *harness, w *world) {
				putCheck(h, w, "image", imageHashOf(h, w), store.CheckRisky, 20002)
			},
			want: []string{`data-testid="upload-logo"`, `data-max-bytes="200000"`, "t:content.state.risky", "t:content.label.20002", "400"}},
		scenario{name: "content checks fragment polls while pending", method: "GET", url: cfgURL + "/checks", who: "viewerA", htmx: true, status: 200,
			setup: func(t *testing.T, h *harness, w *world) {
				putCheck(h, w, "image", imageHashOf(h, w), store.CheckPending, 0)
			},
			want: []string{`hx-trigger="every 2s"`, "t:content.state.pending"}},
		scenario{name: "content checks fragment of B's member", method: "GET", url: cfgURL + "/checks", who: "ownerB", status: 404, notWant: leakA},
		scenario{name: "content checks fragment anonymous", method: "GET", url: cfgURL + "/checks", who: "anon", status: 303, loc: "/login?next="},
	)

	// Uploads: owners and developers; the page comes back with what was
	// typed and the new image in the field.
	for _, who := range []string{"ownerA", "developerA"} {
		add(scenario{name: "upload image as " + who, method: "POST", url: up, form: upForm(), who: who, status: 200,
			opt:   withFile("file.logo", "logo.png", pngOf(nil, 120, 90)),
			want:  []string{"t:content.uploaded", "我正在输入的店名", "没保存的宣传语", `value="upload:`, `data-testid="preview-logo"`},
			check: storedOne})
	}
	for _, who := range []string{"approverA", "viewerA"} {
		add(scenario{name: "upload image as " + who + " refused", method: "POST", url: up, form: upForm(), who: who, status: 403,
			opt: withFile("file.logo", "logo.png", pngOf(nil, 120, 90))})
	}
	add(
		scenario{name: "upload image to A as B's owner", method: "POST", url: up, form: upForm(), who: "ownerB", status: 404, notWant: leakA,
			opt: withFile("file.logo", "logo.png", pngOf(nil, 120, 90))},
		scenario{name: "upload image anonymous", method: "POST", url: up, form: upForm(), who: "anon", status: 303, loc: "/login?next=",
			opt: withFile("file.logo", "logo.png", pngOf(nil, 120, 90))},
		scenario{name: "upload image to B's app through A", method: "POST", url: "/t/{A}/apps/wxappb0000000002/config/images", form: upForm(), who: "ownerA", status: 404,
			opt: withFile("file.logo", "logo.png", pngOf(nil, 120, 90))},
		scenario{name: "upload strips metadata", method: "POST", url: up, form: upForm(), who: "developerA", status: 200,
			opt: withFile("file.logo", "logo.jpg", jpegWithExif(nil, "SECRET-GPS-31.2304N")),
			check: func(t *testing.T, h *harness, w *world) {
				rows, err := h.st.R.Query(`SELECT data, mime FROM config_images WHERE tenant_id = ?`, w.A.ID)
				if err != nil {
					t.Fatal(err)
				}
				defer rows.Close()
				n := 0
				for rows.Next() {
					var data []byte
					var mime string
					rows.Scan(&data, &mime)
					if bytes.Contains(data, []byte("SECRET-GPS")) {
						t.Errorf("stored image still holds the Exif text")
					}
					n++
				}
				if n != 2 {
					t.Errorf("images = %d, want 2", n)
				}
			}},
	)
	// Bad input: a clear localized error under the field, what was typed
	// kept, nothing stored (the runner also compares the database).
	for _, bad := range []struct {
		name, file string
		data       []byte
		key        string
	}{
		{"a text file", "logo.png", []byte("just some text, not an image at all"), "t:content.err.image_type"},
		{"a zip renamed .png", "logo.png", zipRenamed, "t:content.err.image_type"},
		{"a GIF", "logo.gif", []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"), "t:content.err.image_type"},
		{"a decompression bomb", "bomb.png", pngBomb(60000, 60000), "60000×60000"},
		{"oversize dimensions", "wide.png", pngOf(nil, 500, 200), "500×200"},
		{"an empty file", "empty.png", nil, "t:content.err.image_empty"},
	} {
		add(scenario{name: "upload refuses " + bad.name, method: "POST", url: up, form: upForm(), who: "developerA", status: 422,
			opt:  withFile("file.logo", bad.file, bad.data),
			want: []string{bad.key, "我正在输入的店名", "没保存的宣传语", `data-testid="error-logo"`}})
	}
	add(scenario{name: "upload refuses a file over the field's limit", method: "POST", url: up, form: upForm(), who: "developerA", status: 422,
		opt:  withFile("file.logo", "noise.png", append(pngOf(nil, 10, 10), bytes.Repeat([]byte{7}, 210000)...)),
		want: []string{"图片太大", "195 KB", "我正在输入的店名"}})
	add(scenario{name: "upload into a field that is not an image", method: "POST", url: up, who: "developerA", status: 422,
		form: form("template_id", itoa(contentTemplateID), "_upload", "shopName", "shopName", "我正在输入的店名"),
		opt:  withFile("file.shopName", "logo.png", pngOf(nil, 10, 10)), want: []string{"t:content.err.not_image_field", "我正在输入的店名"}})

	// Removing an uploaded image from the field (a button, like the rows').
	add(scenario{name: "remove an uploaded image from the form", method: "POST", url: cfgURL, who: "developerA", status: 200,
		form:    form("template_id", itoa(contentTemplateID), "_op", "clear:logo", "shopName", "我正在输入的店名", "logo", "upload:{imgA}"),
		want:    []string{"我正在输入的店名", `id="cf-logo" name="logo" value=""`},
		notWant: []string{`data-testid="preview-logo"`}})

	// Saving a config that names an image the tenant does not have.
	add(scenario{name: "config save refuses another tenant's image", method: "POST", url: cfgURL, who: "developerA", status: 422,
		form: form("template_id", itoa(contentTemplateID), "_op", "save", "shopName", "甲店内容", "logo", "upload:{imgB}"),
		want: []string{"t:content.err.image_missing"}})

	// The public image route: cacheable, by tenant.
	add(
		scenario{name: "image served to anyone, cacheable", method: "GET", url: "/media/{A}/{imgA}", who: "anon", status: 200,
			check: func(t *testing.T, h *harness, w *world) {
				r := h.client().get("/media/" + itoa(w.A.ID) + "/" + imageHashOf(h, w))
				if cc := r.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") || r.Header.Get("ETag") != `"`+imageHashOf(h, w)+`"` {
					t.Errorf("headers %v", r.Header)
				}
				if ct := r.Header.Get("Content-Type"); ct != "image/png" {
					t.Errorf("Content-Type %q", ct)
				}
				if _, _, err := image.Decode(strings.NewReader(r.Body)); err != nil {
					t.Errorf("served image does not decode: %v", err)
				}
				r2 := h.client().get("/media/"+itoa(w.A.ID)+"/"+imageHashOf(h, w), withHeader("If-None-Match", r.Header.Get("ETag")))
				if r2.Status != 304 {
					t.Errorf("If-None-Match: status %d, want 304", r2.Status)
				}
			}},
		scenario{name: "image of B under A's id is not found", method: "GET", url: "/media/{A}/{imgB}", who: "anon", status: 404},
		scenario{name: "image with a bad hash is not found", method: "GET", url: "/media/{A}/nothex", who: "anon", status: 404},
		scenario{name: "image etag guess for another tenant is not confirmed", method: "GET", url: "/media/{B}/{imgA}", who: "anon", status: 404,
			opt: withHeader("If-None-Match", `"{imgA}"`)},
	)

	// The check openid: writers set it; it is not logged.
	for _, who := range []string{"ownerA", "developerA"} {
		add(scenario{name: "set check openid as " + who, method: "POST", url: cfgURL + "/check-openid", form: form("openid", "oSandboxVisitor_12345"), who: who,
			status: 303, loc: cfgURL + "?flash=content.openid_saved",
			check: func(t *testing.T, h *harness, w *world) {
				o, err := h.st.CheckOpenID(context.Background(), w.A.ID, contentApp(h))
				if err != nil || o.OpenID != "oSandboxVisitor_12345" {
					t.Errorf("openid %+v %v", o, err)
				}
				var n int
				h.st.R.QueryRow(`SELECT COUNT(*) FROM activity WHERE detail LIKE '%oSandboxVisitor%' OR object LIKE '%oSandboxVisitor%'`).Scan(&n)
				if n != 0 {
					t.Errorf("the openid was logged")
				}
			}})
	}
	add(
		scenario{name: "set check openid as viewer refused", method: "POST", url: cfgURL + "/check-openid", form: form("openid", "oSandboxVisitor_12345"), who: "viewerA", status: 403},
		scenario{name: "set check openid of A's app as B's owner", method: "POST", url: cfgURL + "/check-openid", form: form("openid", "oSandboxVisitor_12345"), who: "ownerB", status: 404, notWant: leakA},
		scenario{name: "set check openid refuses junk", method: "POST", url: cfgURL + "/check-openid", form: form("openid", "o<script>"), who: "ownerA", status: 422,
			want: []string{"t:content.err.openid"}},
		scenario{name: "set a visitor's openid asks WeChat", method: "POST", url: cfgURL + "/check-openid", who: "developerA", status: 303,
			prep: func(h *harness, c *client, f *fixture) []string {
				return []string{"{visitor}", h.sb.Visit(contentApp(h))}
			},
			form: form("openid", "{visitor}"),
			check: func(t *testing.T, h *harness, w *world) {
				cks, err := h.st.ContentChecks(context.Background(), w.A.ID, contentApp(h), nil)
				if err != nil {
					t.Fatal(err)
				}
				var img, txt string
				for _, ck := range cks {
					if ck.Kind == "image" {
						img = ck.State
					} else {
						txt = ck.State
					}
				}
				if img != store.CheckPending || txt != store.CheckPass {
					t.Errorf("image %q text %q, want pending and pass", img, txt)
				}
			}},
	)

	// Recheck: a content not checked (no openid) may be asked again.
	for _, who := range []string{"ownerA", "developerA"} {
		add(scenario{name: "recheck as " + who, method: "POST", url: cfgURL + "/recheck", form: form("subject", "{imgA}"), who: who, status: 303,
			loc: cfgURL + "?flash=content.rechecked",
			setup: func(t *testing.T, h *harness, w *world) {
				putCheck(h, w, "image", imageHashOf(h, w), store.CheckUnchecked, 0)
				setOpenID(t, h, w)
			},
			check: func(t *testing.T, h *harness, w *world) {
				cks, _ := h.st.ContentChecks(context.Background(), w.A.ID, contentApp(h), []string{imageHashOf(h, w)})
				if ck := cks[imageHashOf(h, w)]; ck.State != store.CheckPending || ck.TraceID == "" {
					t.Errorf("after recheck: %+v", ck)
				}
			}})
	}
	add(
		scenario{name: "recheck as viewer refused", method: "POST", url: cfgURL + "/recheck", form: form("subject", "{imgA}"), who: "viewerA", status: 403},
		scenario{name: "recheck of A's app as B's owner", method: "POST", url: cfgURL + "/recheck", form: form("subject", "{imgA}"), who: "ownerB", status: 404, notWant: leakA},
		scenario{name: "recheck of a decided check refused", method: "POST", url: cfgURL + "/recheck", form: form("subject", "{imgA}"), who: "ownerA", status: 409,
			setup: func(t *testing.T, h *harness, w *world) {
				putCheck(h, w, "image", imageHashOf(h, w), store.CheckPass, 100)
			},
			want: []string{"t:content.err.decided"}},
		scenario{name: "recheck of a fresh pending check refused", method: "POST", url: cfgURL + "/recheck", form: form("subject", "{imgA}"), who: "ownerA", status: 409,
			setup: func(t *testing.T, h *harness, w *world) {
				putCheck(h, w, "image", imageHashOf(h, w), store.CheckPending, 0)
			},
			want: []string{"t:content.err.not_yet"}},
		scenario{name: "recheck of a pending check after 30 minutes", method: "POST", url: cfgURL + "/recheck", form: form("subject", "{imgA}"), who: "ownerA", status: 303,
			setup: func(t *testing.T, h *harness, w *world) {
				putCheck(h, w, "image", imageHashOf(h, w), store.CheckPending, 0)
				setOpenID(t, h, w)
				h.clock.Advance(31 * 60 * 1e9)
			}},
	)

	// The commit: risky blocks it with WeChat's label in words; pending
	// blocks it; passed goes ahead.
	step := "/t/{A}/apps/{appCA}/releases/{relCA}/step"
	add(
		scenario{name: "commit blocked by a risky image", method: "POST", url: step, form: form("event", "commit", "seq", "{seqCA}"), who: "developerA", status: 409,
			setup: func(t *testing.T, h *harness, w *world) {
				putCheck(h, w, "image", imageHashOf(h, w), store.CheckRisky, 20002)
				putCheck(h, w, "text", "秋季上新", store.CheckPass, 100)
			},
			want: []string{"logo", "t:content.label.20002", `data-testid="content-checks"`}},
		scenario{name: "commit blocked by a risky text", method: "POST", url: step, form: form("event", "commit", "seq", "{seqCA}"), who: "developerA", status: 409,
			setup: func(t *testing.T, h *harness, w *world) {
				putCheck(h, w, "image", imageHashOf(h, w), store.CheckPass, 100)
				putCheck(h, w, "text", "秋季上新", store.CheckRisky, 20006)
			},
			want: []string{"slogan", "t:content.label.20006"}},
		scenario{name: "commit waits for a pending check", method: "POST", url: step, form: form("event", "commit", "seq", "{seqCA}"), who: "developerA", status: 409,
			setup: func(t *testing.T, h *harness, w *world) {
				putCheck(h, w, "image", imageHashOf(h, w), store.CheckPending, 0)
				putCheck(h, w, "text", "秋季上新", store.CheckPass, 100)
			},
			want: []string{"logo"}},
		scenario{name: "commit goes ahead when checks pass", method: "POST", url: step, form: form("event", "commit", "seq", "{seqCA}"), who: "developerA", status: 303,
			setup: func(t *testing.T, h *harness, w *world) {
				putCheck(h, w, "image", imageHashOf(h, w), store.CheckPass, 100)
				putCheck(h, w, "text", "秋季上新", store.CheckPass, 100)
			}},
		scenario{name: "commit goes ahead when content is not checked (no openid)", method: "POST", url: step, form: form("event", "commit", "seq", "{seqCA}"), who: "developerA", status: 303},
	)
	return sc
}

// TestContentScenarios runs the content security rows.
func TestContentScenarios(t *testing.T) { runScenarios(t, contentScenarios()) }

// TestUpload50MBRefusedBeforeReading: a 50 MB image upload is answered 413
// (localized) from its Content-Length, before the body is sent: the test
// sends only the headers and reads the answer; nothing is stored.
func TestUpload50MBRefusedBeforeReading(t *testing.T) {
	h := newHarness(t)
	f := h.fixture()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = h.app.Listener(ln) }()
	c := h.client().login("developer@a.test")
	var cookies []string
	for k, v := range c.cookies {
		cookies = append(cookies, k+"="+v)
	}
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	target := "/t/" + itoa(f.A.ID) + "/apps/" + contentApp(h) + "/config/images"
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: localhost\r\nCookie: %s\r\nX-Csrf-Token: %s\r\nAccept-Language: zh-CN\r\n"+
		"Content-Type: multipart/form-data; boundary=x\r\nContent-Length: %d\r\n\r\n", target, strings.Join(cookies, "; "), c.csrf, 50<<20)
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer before the body was sent: %v", err)
	}
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 413 || !strings.Contains(string(body), h.tr("zh-CN", "error.too_large")) {
		t.Errorf("status %d, body %.200q", res.StatusCode, body)
	}
	if n := imagesOf(h, f.A.ID); n != 1 {
		t.Errorf("tenant A images = %d, want the fixture's 1", n)
	}
}
