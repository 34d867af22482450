package wechat

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"
)

// fakeTokens is a TokenSource whose tokens rotate C1, C2, … (component) and
// A1, A2, … (per authorizer) when the current one is expired.
type fakeTokens struct {
	mu       sync.Mutex
	compGen  int
	authGen  map[string]int
	expired  []string // "component:TOKEN" or "authorizer:APPID:TOKEN"
	stuck    bool     // never rotate (a source that cannot refresh)
	fetchErr error
}

func newFakeTokens() *fakeTokens { return &fakeTokens{compGen: 1, authGen: map[string]int{}} }

func (f *fakeTokens) ComponentAccessToken(context.Context) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fetchErr != nil {
		return "", f.fetchErr
	}
	return fmt.Sprintf("C%d", f.compGen), nil
}

func (f *fakeTokens) AuthorizerAccessToken(_ context.Context, appID string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fetchErr != nil {
		return "", f.fetchErr
	}
	if f.authGen[appID] == 0 {
		f.authGen[appID] = 1
	}
	return fmt.Sprintf("A%d", f.authGen[appID]), nil
}

func (f *fakeTokens) ExpireComponentAccessToken(_ context.Context, failed string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.expired = append(f.expired, "component:"+failed)
	if !f.stuck && failed == fmt.Sprintf("C%d", f.compGen) {
		f.compGen++
	}
}

func (f *fakeTokens) ExpireAuthorizerAccessToken(_ context.Context, appID, failed string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.expired = append(f.expired, "authorizer:"+appID+":"+failed)
	if !f.stuck && failed == fmt.Sprintf("A%d", f.authGen[appID]) {
		f.authGen[appID]++
	}
}

// recorded is one request the fake server saw.
type recorded struct {
	Method      string
	Path        string
	Query       url.Values
	Body        string
	ContentType string
}

// reply is what the fake server answers.
type reply struct {
	Status      int // 0 means 200
	ContentType string
	Body        string
}

// fakeServer is a per-test stand-in for api.weixin.qq.com.
type fakeServer struct {
	mu   sync.Mutex
	reqs []recorded
}

func (s *fakeServer) requests() []recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]recorded(nil), s.reqs...)
}

func (s *fakeServer) last(t *testing.T) recorded {
	t.Helper()
	reqs := s.requests()
	if len(reqs) == 0 {
		t.Fatal("no request reached the server")
	}
	return reqs[len(reqs)-1]
}

// newTestClient starts a server answering with respond and returns a client
// pointed at it, with a fixed clock.
func newTestClient(t *testing.T, respond func(r recorded) reply) (*Client, *fakeTokens, *fakeServer) {
	t.Helper()
	fs := &fakeServer{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rec := recorded{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Body: string(body), ContentType: r.Header.Get("Content-Type")}
		fs.mu.Lock()
		fs.reqs = append(fs.reqs, rec)
		fs.mu.Unlock()
		rp := respond(rec)
		if rp.ContentType == "" {
			rp.ContentType = "application/json; encoding=utf-8"
		}
		w.Header().Set("Content-Type", rp.ContentType)
		if rp.Status != 0 {
			w.WriteHeader(rp.Status)
		}
		io.WriteString(w, rp.Body)
	}))
	t.Cleanup(srv.Close)
	tokens := newFakeTokens()
	c := New("wxcomponent", "component-secret", tokens)
	c.APIBase = srv.URL
	c.HTTP = srv.Client()
	c.Now = func() time.Time { return testNow }
	return c, tokens, fs
}

var testNow = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

func ok(body string) func(recorded) reply {
	return func(recorded) reply { return reply{Body: body} }
}
