package platform

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/url"
	"regexp"
	"strings"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/app/wechat"
	"github.com/minifleet/minifleet/app/wechat/msgcrypt"
)

// MaxPushBody is the largest push body accepted. Real pushes are a few KiB.
const MaxPushBody = 64 << 10

// Verdict is how a push was received; the web layer maps it to a status.
type Verdict int

const (
	Accepted  Verdict = iota // 200 success: recorded now
	Duplicate                // 200 success: recorded before, not applied again
	Rejected                 // 403: bad signature, undecryptable or wrong appid
	Malformed                // 400: not a push envelope, or bad XML inside
	TooLarge                 // 413
	Failed                   // 500: could not record it; WeChat will retry
)

// Result is what Receive did with a push.
type Result struct {
	Verdict Verdict
	Kind    string
	AppID   string
	PushID  int64
	Outcome string // store.Push* outcome
	Err     error  // why it was refused or failed
	// Replied: answer Reply (a passive reply, encrypted; may be empty)
	// instead of "success".
	Replied bool
	Reply   []byte
}

// Intake verifies, decrypts and records WeChat's pushes, and applies each
// through the push table (pushes.go).
type Intake struct {
	p            *Platform
	crypter      *msgcrypt.Crypter
	handlers     map[pushKey]pushAction // set by New, read-only after
	publishCheck pushAction             // WeChat's test accounts (publish_check.go)
}

func newIntake(p *Platform, c *msgcrypt.Crypter) *Intake {
	return &Intake{p: p, crypter: c}
}

var appIDPattern = regexp.MustCompile(`^[A-Za-z0-9_]{2,64}$`)

// Receive handles one push. routeAppID is the :appid of the per-app URL, ""
// on the component URL. The push is durably recorded before it returns
// Accepted; nothing is stored from a refused push.
func (in *Intake) Receive(ctx context.Context, body []byte, query url.Values, routeAppID string) Result {
	if len(body) > MaxPushBody {
		return Result{Verdict: TooLarge, Err: errors.New("push body too large")}
	}
	var refused *Result // set when prepare refuses the push
	var rec store.NewPush
	var act pushAction
	var push wechat.Push
	saved, dup, err := in.p.Store.ReceivePush(ctx, func() (store.NewPush, store.PushApply, error) {
		var res *Result
		rec, push, res = in.open(ctx, body, query, routeAppID)
		if res != nil {
			refused = res
			return rec, nil, res.Err
		}
		act = in.action(rec)
		var apply store.PushApply
		switch {
		case act.declare != nil:
			rec.Ticket = act.declare(push)
		case act.apply != nil:
			apply = func(tx *store.PushTx) (string, error) { return act.apply(ctx, tx, push) }
		default:
			apply = func(*store.PushTx) (string, error) { return store.PushRecorded, nil }
		}
		if rec.Route == store.RouteApp && apply != nil {
			apply = withPushEvent(apply, rec)
		}
		return rec, apply, nil
	})
	if refused != nil {
		in.p.Metrics.Push(orOther(rec.Kind), "refused")
		return *refused
	}
	if err != nil {
		in.p.Metrics.Push(orOther(rec.Kind), "failed")
		return Result{Verdict: Failed, Kind: rec.Kind, AppID: rec.AppID, Err: err}
	}
	if dup {
		in.p.Metrics.Push(rec.Kind, "duplicate")
	} else {
		in.p.Metrics.Push(rec.Kind, saved.Outcome)
	}
	res := Result{Verdict: Accepted, Kind: rec.Kind, AppID: rec.AppID, PushID: saved.ID, Outcome: saved.Outcome}
	if act.reply != nil {
		// A retry gets the same answer: WeChat retries when no reply came.
		in.passiveReply(&res, act, push, query)
	}
	if dup {
		res.Verdict = Duplicate
		return res
	}
	switch saved.Outcome {
	case store.PushQueued:
		in.p.Jobs.Kick()
	case store.PushApplied:
		if act.applied != nil {
			act.applied()
		}
	}
	return res
}

// action is the push table's row for rec; WeChat's 全网发布 test accounts
// get their own rule on the per-app URL, whatever the kind.
func (in *Intake) action(rec store.NewPush) pushAction {
	if rec.Route == store.RouteApp && wechat.IsPublishTestApp(rec.AppID) {
		return in.publishCheck
	}
	return in.handlers[pushKey{rec.Route, rec.Kind}]
}

// passiveReply seals the row's reply to push into res, if it has one. The
// reply carries the request's timestamp and nonce, as WeChat's examples do.
func (in *Intake) passiveReply(res *Result, act pushAction, push wechat.Push, query url.Values) {
	msg, ok := act.reply(push, in.p.now())
	if !ok {
		return
	}
	res.Replied = true
	if len(msg) == 0 {
		return // an empty answer, as a test case asks
	}
	sealed, err := in.crypter.SealReply(msg, query.Get("timestamp"), query.Get("nonce"))
	if err != nil {
		in.p.log.Error("sealing a passive reply", "appid", res.AppID, "err", err)
		res.Replied = false
		return
	}
	res.Reply = sealed
}

// open verifies, decrypts and parses a push into the record to store; a
// non-nil Result says why it was refused.
func (in *Intake) open(ctx context.Context, body []byte, query url.Values, routeAppID string) (store.NewPush, wechat.Push, *Result) {
	route := store.RouteComponent
	if routeAppID != "" {
		route = store.RouteApp
		if !appIDPattern.MatchString(routeAppID) {
			return store.NewPush{}, nil, &Result{Verdict: Rejected, Err: errors.New("bad appid in URL")}
		}
	}
	plain, err := in.crypter.OpenPush(body, query.Get("timestamp"), query.Get("nonce"), query.Get("msg_signature"))
	switch {
	case errors.Is(err, msgcrypt.ErrMalformed):
		return store.NewPush{}, nil, &Result{Verdict: Malformed, Err: err}
	case errors.Is(err, msgcrypt.ErrTooLarge):
		return store.NewPush{}, nil, &Result{Verdict: TooLarge, Err: err}
	case err != nil:
		return store.NewPush{}, nil, &Result{Verdict: Rejected, Err: err}
	}
	push, err := wechat.ParsePush(plain)
	if err != nil {
		return store.NewPush{}, nil, &Result{Verdict: Malformed, Err: err}
	}
	appID, err := in.pushAppID(ctx, push, routeAppID)
	if err != nil {
		return store.NewPush{}, nil, &Result{Verdict: Rejected, Kind: push.Kind(), Err: err}
	}
	full := string(plain)
	return store.NewPush{
		Route:      route,
		Kind:       push.Kind(),
		AppID:      appID,
		DedupeKey:  StoredDedupeKey(push),
		CreateTime: createTime(push),
		ReceivedAt: in.p.now(),
		XML:        maskSecrets(full),
		FullXML:    full,
	}, push, nil
}

// pushAppID checks the push belongs to this platform and this URL, and
// returns the authorizer it concerns.
func (in *Intake) pushAppID(ctx context.Context, p wechat.Push, routeAppID string) (string, error) {
	component := in.p.componentAppID
	errWrong := errors.New("push is for another appid")
	if routeAppID != "" {
		// Per-app pushes name the authorizer by its original id (gh_…);
		// when we know it, it must match the URL's appid.
		if to := toUserName(p); to != "" {
			a, err := in.p.Store.Authorizer(ctx, routeAppID)
			if err != nil && !model.IsNotFound(err) {
				return "", err
			}
			if err == nil && a.UserName != "" && a.UserName != to {
				return "", errWrong
			}
		}
		return routeAppID, nil
	}
	switch t := p.(type) {
	case *wechat.ComponentVerifyTicket:
		return "", checkComponent(t.AppID, component, errWrong)
	case *wechat.Authorized:
		return t.AuthorizerAppID, checkComponent(t.AppID, component, errWrong)
	case *wechat.UpdateAuthorized:
		return t.AuthorizerAppID, checkComponent(t.AppID, component, errWrong)
	case *wechat.Unauthorized:
		return t.AuthorizerAppID, checkComponent(t.AppID, component, errWrong)
	case *wechat.FastRegister:
		return t.NewAppID, checkComponent(t.AppID, component, errWrong)
	case *wechat.UnknownPush:
		if t.AppID != "" && t.AppID != component {
			return "", errWrong
		}
	}
	return "", nil
}

func checkComponent(got, want string, errWrong error) error {
	if got != want {
		return errWrong
	}
	return nil
}

// StoredDedupeKey is the key a push is stored under: the kind and a hash of
// its natural dedupe key, which may contain a ticket or an auth code.
func StoredDedupeKey(p wechat.Push) string {
	sum := sha256.Sum256([]byte(p.DedupeKey()))
	kind := p.Kind()
	if len(kind) > 64 {
		kind = kind[:64]
	}
	return kind + ":" + hex.EncodeToString(sum[:])
}

func createTime(p wechat.Push) int64 {
	switch t := p.(type) {
	case *wechat.ComponentVerifyTicket:
		return t.CreateTime
	case *wechat.Authorized:
		return t.CreateTime
	case *wechat.UpdateAuthorized:
		return t.CreateTime
	case *wechat.Unauthorized:
		return t.CreateTime
	case *wechat.FastRegister:
		return t.CreateTime
	case *wechat.AuditSuccess:
		return t.CreateTime
	case *wechat.AuditFail:
		return t.CreateTime
	case *wechat.AuditDelay:
		return t.CreateTime
	case *wechat.NicknameAudit:
		return t.CreateTime
	case *wechat.MediaCheck:
		return t.CreateTime
	case *wechat.UnknownPush:
		return t.CreateTime
	}
	return 0
}

func toUserName(p wechat.Push) string {
	switch t := p.(type) {
	case *wechat.AuditSuccess:
		return t.ToUserName
	case *wechat.AuditFail:
		return t.ToUserName
	case *wechat.AuditDelay:
		return t.ToUserName
	case *wechat.NicknameAudit:
		return t.ToUserName
	case *wechat.MediaCheck:
		return t.ToUserName
	case *wechat.UnknownPush:
		return t.ToUserName
	}
	return ""
}

// secretNames are the elements holding credentials: the ticket, authorization codes.
var secretNames = [...]string{"ComponentVerifyTicket", "AuthorizationCode", "PreAuthCode", "auth_code"}

// secretElems is what maskSecrets does, as a regexp; the tests hold the
// hand-written scanner to it.
var secretElems = regexp.MustCompile(`(?s)<(ComponentVerifyTicket|AuthorizationCode|PreAuthCode|auth_code)>.*?</(?:ComponentVerifyTicket|AuthorizationCode|PreAuthCode|auth_code)>`)

// maskSecrets hides credential values in the XML kept readable for staff:
// from an opening secret element to the first closing one after it becomes
// <Name>***</Name>. (A scanner: the regexp cost a fifth of parsing a push.)
func maskSecrets(xml string) string {
	var b strings.Builder
	done := 0 // xml[:done] is written (or needs no change)
	for i := 0; ; {
		open, name := nextSecretTag(xml, i, "<")
		if open < 0 {
			break
		}
		body := open + 1 + len(name) + 1
		end, endName := nextSecretTag(xml, body, "</")
		if end < 0 {
			break // no closing tag after the first opening one: none after any later one either
		}
		if b.Len() == 0 {
			b.Grow(len(xml))
		}
		b.WriteString(xml[done:open])
		b.WriteString("<" + name + ">***</" + name + ">")
		done = end + 2 + len(endName) + 1
		i = done
	}
	if done == 0 {
		return xml
	}
	b.WriteString(xml[done:])
	return b.String()
}

// nextSecretTag finds the first prefix+Name+">" at or after i with Name one
// of secretNames.
func nextSecretTag(xml string, i int, prefix string) (int, string) {
	for i < len(xml) {
		j := strings.Index(xml[i:], prefix)
		if j < 0 {
			return -1, ""
		}
		at := i + j
		rest := xml[at+len(prefix):]
		for _, n := range secretNames {
			if len(rest) > len(n) && rest[:len(n)] == n && rest[len(n)] == '>' {
				return at, n
			}
		}
		i = at + 1
	}
	return -1, ""
}

// withPushEvent writes the wechat.push event (the decrypted push, for the
// endpoints that asked for raw pushes) in the push's own transaction, after
// its state change. A duplicate never gets here (apply does not run).
func withPushEvent(apply store.PushApply, rec store.NewPush) store.PushApply {
	return func(tx *store.PushTx) (string, error) {
		out, err := apply(tx)
		if err != nil {
			return out, err
		}
		return out, tx.EmitPush(map[string]any{
			"appid": rec.AppID, "kind": rec.Kind, "create_time": rec.CreateTime, "xml": rec.FullXML,
		})
	}
}

// orOther is a push's kind for metrics when it may be unknown (refused
// before parsing).
func orOther(kind string) string {
	if kind == "" {
		return "unknown"
	}
	return kind
}
