package wechat

import (
	"context"
	"slices"
	"testing"
)

func TestTesters(t *testing.T) {
	c, _, fs := newTestClient(t, ok(`{"errcode":0,"errmsg":"ok","userstr":"U1","members":[{"userstr":"U1"},{"userstr":"U2"}]}`))
	ctx := context.Background()
	if u, err := c.BindTester(ctx, "wx", "wechat_id"); err != nil || u != "U1" {
		t.Errorf("BindTester = %q, %v", u, err)
	}
	if b := fs.last(t).Body; b != `{"wechatid":"wechat_id"}` {
		t.Errorf("bind body = %s", b)
	}
	if err := c.UnbindTester(ctx, "wx", Tester{UserStr: "U1"}); err != nil {
		t.Fatal(err)
	}
	if b := fs.last(t).Body; b != `{"userstr":"U1"}` {
		t.Errorf("unbind body = %s", b)
	}
	n := len(fs.requests())
	if err := c.UnbindTester(ctx, "wx", Tester{}); err == nil || len(fs.requests()) != n {
		t.Error("UnbindTester without a tester was sent")
	}
	users, err := c.Testers(ctx, "wx")
	if err != nil || !slices.Equal(users, []string{"U1", "U2"}) {
		t.Errorf("Testers = %v, %v", users, err)
	}
	if r := fs.last(t); r.Path != "/wxa/memberauth" || r.Body != `{"action":"get_experiencer"}` {
		t.Errorf("memberauth request %s %s", r.Path, r.Body)
	}
}
