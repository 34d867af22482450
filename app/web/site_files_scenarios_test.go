package web

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/minifleet/minifleet/app/model"
)

// Domain verification files: staff admins upload, list, replace and remove
// them; anyone (WeChat) reads them at the web root.

func TestSiteFilesScenarios(t *testing.T) { runScenarios(t, siteFilesScenarios()) }

const (
	siteFileName    = "MP_verify_fixture01.txt"
	siteFileContent = "fixture-content-8Hq2"
)

func siteFilesFixture(h *harness, w *world) []string {
	if err := h.st.SaveSiteFile(context.Background(), model.SystemActor, siteFileName, siteFileContent); err != nil {
		h.t.Fatal(err)
	}
	return nil
}

// upload turns the scenario's form into a multipart body with a file field
// (the form's own fields, _csrf among them, stay).
func upload(name string, content []byte) reqOpt { return uploadAs("file", name, content) }

// uploadAs is upload with the file in the named field.
func uploadAs(field, name string, content []byte) reqOpt {
	return func(r *http.Request) {
		raw, _ := io.ReadAll(r.Body)
		fields, _ := url.ParseQuery(string(raw))
		var b bytes.Buffer
		mw := multipart.NewWriter(&b)
		for k, vs := range fields {
			for _, v := range vs {
				mw.WriteField(k, v)
			}
		}
		fw, _ := mw.CreateFormFile(field, name)
		fw.Write(content)
		mw.Close()
		r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(b.Bytes())), int64(b.Len())
		r.Header.Set("Content-Type", mw.FormDataContentType())
	}
}

func siteFilesScenarios() []scenario {
	const list = "/staff/settings/files"
	served := func(name, want string) func(t *testing.T, h *harness, w *world) {
		return func(t *testing.T, h *harness, w *world) {
			r := h.client().get("/" + name)
			if want == "" {
				if r.Status != 404 {
					t.Errorf("GET /%s = %d, want 404", name, r.Status)
				}
				return
			}
			if r.Status != 200 || r.Body != want || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/plain") {
				t.Errorf("GET /%s = %d %q (%s), want 200 %q as text/plain", name, r.Status, r.Body, r.Header.Get("Content-Type"), want)
			}
		}
	}
	logged := func(action, name string) func(t *testing.T, h *harness, w *world) {
		return func(t *testing.T, h *harness, w *world) {
			if n := h.count(`SELECT COUNT(*) FROM activity WHERE action = ? AND object = ? AND actor_id IS NOT NULL`, action, name); n != 1 {
				t.Errorf("%d %s activity rows by a user for %s, want 1", n, action, name)
			}
		}
	}
	both := func(fs ...func(t *testing.T, h *harness, w *world)) func(t *testing.T, h *harness, w *world) {
		return func(t *testing.T, h *harness, w *world) {
			for _, f := range fs {
				f(t, h, w)
			}
		}
	}
	rows := []scenario{
		{name: "site file served to anyone", method: "GET", url: "/" + siteFileName, who: "anon", status: 200, want: []string{siteFileContent}, notWant: []string{"<html"}},
		{name: "unknown site file", method: "GET", url: "/MP_verify_missing.txt", who: "anon", status: 404},
		{name: "site files as staff admin", method: "GET", url: list, who: "staffadmin", status: 200,
			want: []string{siteFileName, siteFileContent, `data-testid="site-file-form"`, `data-testid="site-file-delete-` + siteFileName}},
		{name: "site files as support (read only)", method: "GET", url: list, who: "staffsupport", status: 200,
			want: []string{siteFileName, `data-testid="site-files-read-only"`}, notWant: []string{`data-testid="site-file-form"`, "site-file-delete-"}},
		{name: "upload as staff admin", method: "POST", url: list, who: "staffadmin", status: 303, loc: list + "?flash=site_files.saved",
			opt: upload("MP_verify_new.txt", []byte("new-content")), check: both(served("MP_verify_new.txt", "new-content"), logged("site_file_saved", "MP_verify_new.txt"))},
		{name: "replace as staff admin", method: "POST", url: list, who: "staffadmin", status: 303,
			opt: upload(siteFileName, []byte("replaced")), check: served(siteFileName, "replaced")},
		{name: "upload with a bad name", method: "POST", url: list, who: "staffadmin", status: 422, want: []string{"t:site_files.err.name"},
			opt: upload("index.html", []byte("<script>x</script>")), check: served("index.txt", "")},
		{name: "upload with a path in the name keeps its base name", method: "POST", url: list, who: "staffadmin", status: 303,
			opt: upload("../../etc/MP_verify_x.txt", []byte("x")), check: served("MP_verify_x.txt", "x")},
		{name: "upload too large", method: "POST", url: list, who: "staffadmin", status: 422, want: []string{"t:site_files.err.too_large"},
			opt: upload("MP_verify_big.txt", bytes.Repeat([]byte("a"), model.MaxSiteFileBytes+1)), check: served("MP_verify_big.txt", "")},
		{name: "upload a binary", method: "POST", url: list, who: "staffadmin", status: 422, want: []string{"t:site_files.err.not_text"},
			opt: upload("MP_verify_zip.txt", []byte("PK\x03\x04\x00\x00binary"))},
		{name: "upload an empty file", method: "POST", url: list, who: "staffadmin", status: 422, want: []string{"t:site_files.err.empty"},
			opt: upload("MP_verify_empty.txt", nil)},
		{name: "upload without a file", method: "POST", url: list, who: "staffadmin", status: 422, want: []string{"t:site_files.err.missing"}},
		{name: "delete as staff admin", method: "POST", url: list + "/" + siteFileName + "/delete", who: "staffadmin", status: 303,
			loc: list + "?flash=site_files.deleted", check: both(served(siteFileName, ""), logged("site_file_deleted", siteFileName))},
		{name: "delete an unknown file", method: "POST", url: list + "/MP_verify_none.txt/delete", who: "staffadmin", status: 404},
		{name: "site files anonymous", method: "GET", url: list, who: "anon", status: 303, loc: "/login?next="},
	}
	for _, who := range []string{"staffoperator", "staffsupport", "staffapprover", "ownerA"} {
		rows = append(rows,
			scenario{name: "upload as " + who, method: "POST", url: list, who: who, status: 403, opt: upload("MP_verify_x.txt", []byte("x")), check: served("MP_verify_x.txt", "")},
			scenario{name: "delete as " + who, method: "POST", url: list + "/" + siteFileName + "/delete", who: who, status: 403, check: served(siteFileName, siteFileContent)},
		)
	}
	rows = append(rows, scenario{name: "site files as a merchant", method: "GET", url: list, who: "ownerA", status: 403, notWant: []string{siteFileContent}})
	return rows
}
