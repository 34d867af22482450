package wechat

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// token returns the token the request carried, whichever name it used.
func (r recorded) token() string {
	if t := r.Query.Get("component_access_token"); t != "" {
		return t
	}
	return r.Query.Get("access_token")
}

func TestHealOnTokenError(t *testing.T) {
	for _, code := range []int{40001, 40014, 42001} {
		c, tokens, fs := newTestClient(t, func(r recorded) reply {
			if r.token() == "A1" {
				return reply{Body: `{"errcode":` + strconv.Itoa(code) + `,"errmsg":"invalid credential rid: x"}`}
			}
			return reply{Body: `{"errcode":0,"errmsg":"ok","page_list":["pages/index/index"]}`}
		})
		pages, err := c.Pages(context.Background(), "wxapp")
		if err != nil {
			t.Fatalf("errcode %d: Pages: %v", code, err)
		}
		if !slices.Equal(pages, []string{"pages/index/index"}) {
			t.Errorf("errcode %d: pages = %v", code, pages)
		}
		if got := fs.requests(); len(got) != 2 || got[0].token() != "A1" || got[1].token() != "A2" {
			t.Errorf("errcode %d: requests carried %v, want A1 then A2", code, tokensOf(got))
		}
		if want := []string{"authorizer:wxapp:A1"}; !slices.Equal(tokens.expired, want) {
			t.Errorf("errcode %d: expired = %v, want %v", code, tokens.expired, want)
		}
	}
}

func TestHealRetriesExactlyOnce(t *testing.T) {
	c, tokens, fs := newTestClient(t, ok(`{"errcode":40001,"errmsg":"invalid credential"}`))
	_, err := c.CreatePreAuthCode(context.Background())
	if !IsCode(err, 40001) {
		t.Fatalf("err = %v, want errcode 40001", err)
	}
	if got := tokensOf(fs.requests()); !slices.Equal(got, []string{"C1", "C2"}) {
		t.Errorf("requests carried %v, want [C1 C2]", got)
	}
	if want := []string{"component:C1"}; !slices.Equal(tokens.expired, want) {
		t.Errorf("expired = %v, want %v", tokens.expired, want)
	}
}

func TestHealSkipsRetryWhenTokenUnchanged(t *testing.T) {
	c, tokens, fs := newTestClient(t, ok(`{"errcode":42001,"errmsg":"access_token expired"}`))
	tokens.stuck = true
	err := c.Release(context.Background(), "wxapp")
	if !IsCode(err, 42001) {
		t.Fatalf("err = %v, want errcode 42001", err)
	}
	if n := len(fs.requests()); n != 1 {
		t.Errorf("%d requests, want 1: retrying with the same token cannot help", n)
	}
	if len(tokens.expired) != 1 {
		t.Errorf("expired = %v, want one call", tokens.expired)
	}
}

func TestNoHealOnOtherErrors(t *testing.T) {
	c, tokens, fs := newTestClient(t, ok(`{"errcode":85009,"errmsg":"already submit a version under auditing rid: 1"}`))
	_, err := c.SubmitAudit(context.Background(), "wxapp", SubmitAuditRequest{})
	var werr *Error
	if !errors.As(err, &werr) {
		t.Fatalf("err = %v (%T), want *Error", err, err)
	}
	want := Error{API: "/wxa/submit_audit", Code: 85009, Msg: "already submit a version under auditing rid: 1"}
	if *werr != want {
		t.Errorf("error = %+v, want %+v", *werr, want)
	}
	if !IsCode(err, 85085, 85009) || IsCode(err, 40001) {
		t.Errorf("IsCode disagrees with code %d", werr.Code)
	}
	if len(fs.requests()) != 1 || len(tokens.expired) != 0 {
		t.Errorf("requests = %d, expired = %v; want 1 request and no expiry", len(fs.requests()), tokens.expired)
	}
}

func TestTokenErrorOnUnauthenticatedCallIsNotHealed(t *testing.T) {
	c, tokens, fs := newTestClient(t, ok(`{"errcode":40001,"errmsg":"invalid credential"}`))
	_, err := c.ComponentToken(context.Background(), "ticket@@@x")
	if !IsCode(err, 40001) || len(fs.requests()) != 1 || len(tokens.expired) != 0 {
		t.Errorf("err = %v, requests = %d, expired = %v; want one unhealed 40001", err, len(fs.requests()), tokens.expired)
	}
}

func TestTokenSourceError(t *testing.T) {
	c, tokens, fs := newTestClient(t, ok(`{}`))
	tokens.fetchErr = errors.New("vault sealed")
	_, err := c.Templates(context.Background(), TemplateAny)
	if err == nil || !strings.Contains(err.Error(), "vault sealed") {
		t.Errorf("err = %v, want the token source's error", err)
	}
	if len(fs.requests()) != 0 {
		t.Error("a request was sent without a token")
	}
}

func TestIsCodeIgnoresOtherErrors(t *testing.T) {
	if IsCode(nil, 0) || IsCode(errors.New("errcode 40001"), 40001) {
		t.Error("IsCode matched an error that is not *Error")
	}
	wrapped := errors.Join(errors.New("context"), &Error{Code: 61023})
	if !IsCode(wrapped, 61023) {
		t.Error("IsCode missed a wrapped *Error")
	}
}

func TestHTTPStatusError(t *testing.T) {
	c, _, _ := newTestClient(t, func(recorded) reply {
		return reply{Status: 502, ContentType: "text/html", Body: "<html>bad gateway</html>"}
	})
	err := c.UndoAudit(context.Background(), "wxapp")
	var he *HTTPError
	if !errors.As(err, &he) || he.StatusCode != 502 || he.API != "/wxa/undocodeaudit" {
		t.Errorf("err = %v (%T), want *HTTPError 502", err, err)
	}
	if IsCode(err, 502) {
		t.Error("an HTTP status must not look like an errcode")
	}
}

func TestTransportErrorHidesToken(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close() // nothing listens: connection refused
	tokens := newFakeTokens()
	c := New("wxcomponent", "secret", tokens)
	c.APIBase = srv.URL
	err := c.RevertGrayRelease(context.Background(), "wxapp")
	var te *TransportError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v (%T), want *TransportError", err, err)
	}
	if strings.Contains(err.Error(), "A1") || strings.Contains(err.Error(), "access_token") {
		t.Errorf("error %q leaks the token URL", err)
	}
}

func TestContextCancelIsTransportError(t *testing.T) {
	c, _, _ := newTestClient(t, ok(`{}`))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := c.Release(ctx, "wxapp")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

func TestBadResponses(t *testing.T) {
	for _, tc := range []struct{ name, body string }{
		{"not json", "<html>oops</html>"},
		{"oversized", `{"errcode":0,"x":"` + strings.Repeat("a", MaxResponseBytes) + `"}`},
		{"token endpoint without token", `{"expires_in":7200}`},
	} {
		c, _, _ := newTestClient(t, ok(tc.body))
		_, err := c.ComponentToken(context.Background(), "ticket")
		if !errors.Is(err, ErrBadResponse) {
			t.Errorf("%s: err = %v, want ErrBadResponse", tc.name, err)
		}
	}
}

func TestEmptyPostSendsBraces(t *testing.T) {
	c, _, fs := newTestClient(t, ok(`{"errcode":0,"errmsg":"ok"}`))
	if err := c.Release(context.Background(), "wxapp"); err != nil {
		t.Fatal(err)
	}
	r := fs.last(t)
	if r.Method != http.MethodPost || r.Path != "/wxa/release" || r.Body != "{}" {
		t.Errorf("got %s %s body %q, want POST /wxa/release body {}", r.Method, r.Path, r.Body)
	}
	if !strings.HasPrefix(r.ContentType, "application/json") {
		t.Errorf("Content-Type = %q", r.ContentType)
	}
}

func TestJSONIsRawUTF8(t *testing.T) {
	c, _, fs := newTestClient(t, ok(`{"errcode":0,"errmsg":"ok"}`))
	err := c.Commit(context.Background(), "wxapp", CommitRequest{
		TemplateID:  7,
		ExtJSON:     `{"ext":{"title":"小店"}}`,
		UserVersion: "1.0.0",
		UserDesc:    "首发 <beta> & more",
	})
	if err != nil {
		t.Fatal(err)
	}
	body := fs.last(t).Body
	for _, want := range []string{`"user_desc":"首发 <beta> & more"`, `小店`} {
		if !strings.Contains(body, want) {
			t.Errorf("body %s lacks raw %q", body, want)
		}
	}
	if strings.Contains(body, `\u`) {
		t.Errorf("body %s has \\u escapes", body)
	}
}

func TestTokenQueryNames(t *testing.T) {
	ctx := context.Background()
	c, _, fs := newTestClient(t, ok(`{"errcode":0,"errmsg":"ok","pre_auth_code":"preauthcode@@@x","expires_in":1800}`))
	for _, tc := range []struct {
		name      string
		call      func() error
		param     string
		wantToken string
	}{
		{"component API", func() error { _, err := c.CreatePreAuthCode(ctx); return err }, "component_access_token", "C1"},
		{"template API", func() error { _, err := c.TemplateDrafts(ctx); return err }, "access_token", "C1"},
		{"authorizer API", func() error { _, err := c.Categories(ctx, "wxapp"); return err }, "access_token", "A1"},
		{"privacy API", func() error { _, err := c.PrivacySetting(ctx, "wxapp", PrivacyDev); return err }, "access_token", "A1"},
	} {
		if err := tc.call(); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		q := fs.last(t).Query
		if q.Get(tc.param) != tc.wantToken || len(q) != 1 {
			t.Errorf("%s: query = %v, want only %s=%s", tc.name, q, tc.param, tc.wantToken)
		}
	}
}

func tokensOf(reqs []recorded) []string {
	var out []string
	for _, r := range reqs {
		out = append(out, r.token())
	}
	return out
}
