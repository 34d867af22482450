package wechat

import (
	"context"
	"slices"
	"testing"
)

func TestModifyDomainNilVersusEmpty(t *testing.T) {
	c, _, fs := newTestClient(t, ok(`{"errcode":0,"errmsg":"ok","requestdomain":["https://a.example"],"invalid_requestdomain":["https://bad.example"]}`))
	res, err := c.ModifyDomain(context.Background(), "wx", DomainSet, ServerDomains{
		RequestDomain: []string{"https://a.example"},
		UploadDomain:  []string{}, // clear uploads
	})
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"action":"set","requestdomain":["https://a.example"],"uploaddomain":[]}`
	if got := fs.last(t).Body; got != want {
		t.Errorf("body = %s, want %s", got, want)
	}
	if !slices.Equal(res.RequestDomain, []string{"https://a.example"}) || !slices.Equal(res.InvalidRequestDomain, []string{"https://bad.example"}) {
		t.Errorf("result = %+v", res)
	}
}

func TestSetWebviewDomain(t *testing.T) {
	c, _, fs := newTestClient(t, ok(`{"errcode":0,"errmsg":"ok","webviewdomain":["https://w.example"]}`))
	got, err := c.SetWebviewDomain(context.Background(), "wx", DomainGet, nil)
	if err != nil || !slices.Equal(got, []string{"https://w.example"}) {
		t.Errorf("SetWebviewDomain = %v, %v", got, err)
	}
	if b := fs.last(t).Body; b != `{"action":"get"}` {
		t.Errorf("body = %s", b)
	}
}
