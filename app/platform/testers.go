package platform

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/wechat"
)

// Tester is one trial-version tester (体验成员) of an app as WeChat lists
// it, with the WeChat ID and who bound it when Minifleet did the binding.
type Tester struct {
	UserStr  string
	WeChatID string // "" when bound elsewhere (WeChat lists only userstr)
	BoundBy  string
	BoundAt  time.Time
}

// testerErrKeys explain bind_tester's documented errcodes in words.
var testerErrKeys = map[int]string{
	85001: "tester.err.85001", // no such WeChat ID, or it cannot be searched
	85002: "tester.err.85002", // the app has reached its testers limit
	85003: "tester.err.85003", // this WeChat ID is a tester of too many apps
	85004: "tester.err.85004", // already a tester
}

// testerError turns a WeChat error into a form error: the documented
// bind_tester errcodes on the WeChat ID field, anything else (with its
// errcode) as the form's summary.
func testerError(err error) error {
	var we *wechat.Error
	if !errors.As(err, &we) {
		return err
	}
	if k, ok := testerErrKeys[we.Code]; ok {
		return &model.Error{Code: model.CodeInvalid, Key: k, Field: "wechatid", Err: err}
	}
	return &model.Error{Code: model.CodeInvalid, Key: "tester.err.other",
		Data: map[string]any{"Errcode": strconv.Itoa(we.Code)}, Err: err}
}

// Testers lists the app's testers as WeChat has them now (memberauth),
// joined with what Minifleet remembers of the ones it bound.
func (r *Releases) Testers(ctx context.Context, tenantID int64, appID string) ([]Tester, error) {
	if _, err := r.Store.App(ctx, tenantID, appID); err != nil {
		return nil, err
	}
	users, err := r.WeChat.Testers(ctx, appID)
	if err != nil {
		return nil, testerError(err)
	}
	known, err := r.Store.AppTesters(ctx, tenantID, appID)
	if err != nil {
		return nil, err
	}
	out := make([]Tester, 0, len(users))
	for _, u := range users {
		t := Tester{UserStr: u}
		if k, ok := known[u]; ok {
			t.WeChatID, t.BoundBy, t.BoundAt = k.WeChatID, k.BoundBy, k.BoundAt
		}
		out = append(out, t)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if (out[i].WeChatID == "") != (out[j].WeChatID == "") {
			return out[i].WeChatID != ""
		}
		return out[i].WeChatID < out[j].WeChatID
	})
	return out, nil
}

// CheckWeChatID checks a WeChat ID as typed: required, at most 64
// characters, no spaces or control characters.
func CheckWeChatID(id string) error {
	switch {
	case id == "":
		return model.FieldError("wechatid", "tester.err.required")
	case utf8.RuneCountInString(id) > 64 || !utf8.ValidString(id) || strings.ContainsFunc(id, func(r rune) bool { return r <= ' ' || r == 0x7f || (r >= 0x80 && r < 0xa0) }):
		return model.FieldError("wechatid", "tester.err.format")
	}
	return nil
}

// BindTester binds a WeChat ID as a tester of the app (bind_tester) and
// records it with its activity row.
func (r *Releases) BindTester(ctx context.Context, actor model.Actor, tenantID int64, appID, wechatID string) error {
	wechatID = strings.TrimSpace(wechatID)
	if err := CheckWeChatID(wechatID); err != nil {
		return err
	}
	if _, err := r.Store.App(ctx, tenantID, appID); err != nil {
		return err
	}
	userStr, err := r.WeChat.BindTester(ctx, appID, wechatID)
	if err != nil {
		return testerError(err)
	}
	return r.Store.TesterBound(ctx, actor, tenantID, appID, wechatID, userStr)
}

// UnbindTester removes a tester by userstr (unbind_tester) and records it;
// the log names the WeChat ID when Minifleet bound it.
func (r *Releases) UnbindTester(ctx context.Context, actor model.Actor, tenantID int64, appID, userStr string) error {
	if userStr == "" {
		return model.Errorf(model.CodeInvalid, "tester.err.unknown")
	}
	if _, err := r.Store.App(ctx, tenantID, appID); err != nil {
		return err
	}
	known, err := r.Store.AppTesters(ctx, tenantID, appID)
	if err != nil {
		return err
	}
	users, err := r.WeChat.Testers(ctx, appID)
	if err != nil {
		return testerError(err)
	}
	if !slices.Contains(users, userStr) {
		return model.Errorf(model.CodeInvalid, "tester.err.unknown")
	}
	if err := r.WeChat.UnbindTester(ctx, appID, wechat.Tester{UserStr: userStr}); err != nil {
		return testerError(err)
	}
	label := userStr
	if k, ok := known[userStr]; ok {
		label = k.WeChatID
	}
	return r.Store.TesterUnbound(ctx, actor, tenantID, appID, userStr, label)
}
