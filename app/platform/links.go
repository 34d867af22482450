package platform

import (
	"bytes"
	"context"
	"errors"
	"image"
	_ "image/jpeg" // WeChat draws 小程序码 as JPEG (PNG when transparent)
	"image/png"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/app/wechat"
)

// Links into a released app (docs/links.md): URL Scheme, URL Link, Short
// Link and the unlimited 小程序码, each checked as WeChat's doc says before
// the call, and WeChat's errcodes explained in words.

// LinkInput is a link as typed in the form.
type LinkInput struct {
	Kind       string // store.LinkScheme, LinkURLLink, LinkShortLink
	Path       string
	Query      string
	EnvVersion string
	ExpireMode string    // "days" or "time" (scheme, URL Link)
	ExpireDays int       // 1–30
	ExpireAt   time.Time // at most 30 days ahead
	Title      string    // Short Link
	Permanent  bool      // Short Link
}

// linkErrs explain the link APIs' documented errcodes; a field name puts
// the words under that field, "" in the form's summary.
var linkErrs = map[int]struct{ key, field string }{
	85079: {"link.err.85079", ""},            // no released version
	40165: {"link.err.40165", "path"},        // not a page of the released version
	41030: {"link.err.40165", "path"},        // (getwxacodeunlimit) the same
	40212: {"link.err.40212", "query"},       // query refused
	85401: {"link.err.85401", "expire"},      // expiry out of range
	85402: {"link.err.85402", "env_version"}, // env_version refused
	44990: {"link.err.44990", ""},            // too fast (100/s)
	45009: {"link.err.45009", ""},            // daily quota
	85400: {"link.err.85400", "permanent"},   // permanent Short Links used up
	40002: {"link.err.40002", ""},            // no permission (personal subject, outside mainland China)
	40013: {"link.err.40013", ""},            // generation banned
	61007: {"link.err.61007", ""},            // permission set not granted to the platform
	40169: {"link.err.scene", "scene"},       // scene too long
	40129: {"link.err.scene", "scene"},       // scene characters
	85403: {"link.err.85403", ""},            // query: no such link
}

func linkError(err error) error {
	var we *wechat.Error
	if !errors.As(err, &we) {
		return err
	}
	if e, ok := linkErrs[we.Code]; ok {
		return &model.Error{Code: model.CodeInvalid, Key: e.key, Field: e.field, Err: err}
	}
	return &model.Error{Code: model.CodeInvalid, Key: "link.err.other",
		Data: map[string]any{"Errcode": strconv.Itoa(we.Code)}, Err: err}
}

// retryBusy runs call, again after a short wait while WeChat answers -1
// (system busy) or the network fails, at most three times in all.
func retryBusy(ctx context.Context, call func() error) error {
	wait := 300 * time.Millisecond
	var err error
	for i := 0; i < 3; i++ {
		if err = call(); err == nil {
			return nil
		}
		var te *wechat.TransportError
		if !wechat.IsCode(err, -1) && !errors.As(err, &te) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait *= 3
	}
	return err
}

func allowed(s, extra string) bool {
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || strings.ContainsRune(extra, r)) {
			return false
		}
	}
	return true
}

// CheckLinkPath: a page path as WeChat wants it: no query, no leading
// slash (one is dropped), the characters of a page path.
func CheckLinkPath(p string) (string, error) {
	p = strings.TrimPrefix(strings.TrimSpace(p), "/")
	if strings.Contains(p, "?") {
		return p, model.FieldError("path", "link.err.path_query")
	}
	if len(p) > 256 || !allowed(p, "/_-.") {
		return p, model.FieldError("path", "link.err.path")
	}
	return p, nil
}

// CheckLink checks a link as typed against the doc's rules and returns it
// cleaned, with its expiry (zero: never).
func (r *Releases) CheckLink(in LinkInput) (LinkInput, time.Time, error) {
	now := r.Now()
	var err error
	if in.Path, err = CheckLinkPath(in.Path); err != nil {
		return in, time.Time{}, err
	}
	in.Query = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(in.Query), "?"))
	if len(in.Query) > wechat.MaxLinkQueryLen || !allowed(in.Query, "!#$&'()*+,/:;=?@-._~%") {
		return in, time.Time{}, model.FieldError("query", "link.err.query")
	}
	switch in.Kind {
	case store.LinkScheme, store.LinkURLLink:
		switch in.EnvVersion {
		case "":
			in.EnvVersion = "release"
		case "release", "trial", "develop":
		default:
			return in, time.Time{}, model.FieldError("env_version", "link.err.85402")
		}
		switch in.ExpireMode {
		case "days", "":
			in.ExpireMode = "days"
			if in.ExpireDays < 1 || in.ExpireDays > wechat.MaxLinkDays {
				return in, time.Time{}, model.FieldError("expire", "link.err.expire_days")
			}
			return in, now.Add(time.Duration(in.ExpireDays) * 24 * time.Hour), nil
		case "time":
			if d := in.ExpireAt.Sub(now); in.ExpireAt.IsZero() || d <= time.Minute || d > wechat.MaxLinkDays*24*time.Hour {
				return in, time.Time{}, model.FieldError("expire", "link.err.expire_time")
			}
			return in, in.ExpireAt, nil
		}
		return in, time.Time{}, model.FieldError("expire", "link.err.expire_days")
	case store.LinkShortLink:
		in.EnvVersion = "release"
		in.Title = strings.TrimSpace(in.Title)
		if utf8.RuneCountInString(in.Title) > 20 {
			return in, time.Time{}, model.FieldError("title", "link.err.title")
		}
		if len(shortPage(in)) > wechat.MaxShortLinkPage {
			return in, time.Time{}, model.FieldError("query", "link.err.query")
		}
		if in.Permanent {
			return in, time.Time{}, nil
		}
		return in, now.Add(wechat.MaxLinkDays * 24 * time.Hour), nil
	}
	return in, time.Time{}, model.FieldError("kind", "link.err.kind")
}

func shortPage(in LinkInput) string {
	if in.Query == "" {
		return in.Path
	}
	return in.Path + "?" + in.Query
}

// CreateLink asks WeChat for the link and records it with its activity row.
func (r *Releases) CreateLink(ctx context.Context, actor model.Actor, tenantID int64, appID string, in LinkInput) (int64, error) {
	in, exp, err := r.CheckLink(in)
	if err != nil {
		return 0, err
	}
	if in.Kind == store.LinkShortLink && in.Path == "" {
		return 0, model.FieldError("path", "link.err.path_required")
	}
	if _, err := r.Store.App(ctx, tenantID, appID); err != nil {
		return 0, err
	}
	req := wechat.LinkRequest{Path: in.Path, Query: in.Query, EnvVersion: in.EnvVersion}
	if in.ExpireMode == "time" {
		req.ExpireType, req.ExpireTime = wechat.ExpireAtTime, exp.Unix()
	} else {
		req.ExpireType, req.ExpireInterval = wechat.ExpireAfterDays, in.ExpireDays
	}
	var link string
	err = retryBusy(ctx, func() (err error) {
		switch in.Kind {
		case store.LinkScheme:
			link, err = r.WeChat.GenerateScheme(ctx, appID, req)
		case store.LinkURLLink:
			link, err = r.WeChat.GenerateURLLink(ctx, appID, req)
		default:
			link, err = r.WeChat.GenerateShortLink(ctx, appID, shortPage(in), in.Title, in.Permanent)
		}
		return err
	})
	if err != nil {
		return 0, linkError(err)
	}
	return r.Store.LinkCreated(ctx, actor, tenantID, store.AppLink{AppID: appID, Kind: in.Kind, Link: link, Path: in.Path,
		Query: in.Query, EnvVersion: in.EnvVersion, Title: in.Title, ExpiresAt: exp}, nil)
}

// LinkState is what WeChat says of a scheme or URL Link now.
type LinkState struct {
	Info *wechat.LinkInfo
	// RemainVisits is today's remaining opens of all the app's schemes and
	// URL Links (-1 when WeChat did not say).
	RemainVisits int64
}

// QueryLink asks WeChat about one of the tenant's schemes or URL Links
// (Short Links and 小程序码 cannot be queried).
func (r *Releases) QueryLink(ctx context.Context, tenantID int64, appID string, id int64) (store.AppLink, *LinkState, error) {
	l, err := r.Store.AppLink(ctx, tenantID, appID, id)
	if err != nil {
		return l, nil, err
	}
	if l.Kind != store.LinkScheme && l.Kind != store.LinkURLLink {
		return l, nil, nil
	}
	st := &LinkState{RemainVisits: -1}
	err = retryBusy(ctx, func() (err error) {
		if l.Kind == store.LinkScheme {
			st.Info, err = r.WeChat.QueryScheme(ctx, appID, l.Link)
		} else {
			st.Info, err = r.WeChat.QueryURLLink(ctx, appID, l.Link)
		}
		return err
	})
	if err != nil {
		return l, nil, linkError(err)
	}
	if n, err := r.WeChat.RemainVisitQuota(ctx, appID); err == nil {
		st.RemainVisits = n
	}
	return l, st, nil
}

// WxaCodeInput is a 小程序码 as typed.
type WxaCodeInput struct {
	Page, Scene, EnvVersion string
}

// CheckWxaCode checks a 小程序码 request as the doc says: scene 1–32
// visible characters of its set (no %, so no URL-encoded Chinese), page a
// path without query.
func CheckWxaCode(in WxaCodeInput) (WxaCodeInput, error) {
	var err error
	if in.Page, err = CheckLinkPath(in.Page); err != nil {
		return in, err
	}
	in.Scene = strings.TrimSpace(in.Scene)
	if in.Scene == "" || len(in.Scene) > wechat.MaxWxaCodeScene || !allowed(in.Scene, "!#$&'()*+,/:;=?@-._~") {
		return in, model.FieldError("scene", "link.err.scene")
	}
	switch in.EnvVersion {
	case "":
		in.EnvVersion = "release"
	case "release", "trial", "develop":
	default:
		return in, model.FieldError("env_version", "link.err.85402")
	}
	return in, nil
}

// CreateWxaCode fetches an unlimited 小程序码 (check_path on: the page must
// be in the released version), keeps it as PNG and logs it.
func (r *Releases) CreateWxaCode(ctx context.Context, actor model.Actor, tenantID int64, appID string, in WxaCodeInput) (int64, error) {
	in, err := CheckWxaCode(in)
	if err != nil {
		return 0, err
	}
	if _, err := r.Store.App(ctx, tenantID, appID); err != nil {
		return 0, err
	}
	var qr *wechat.QRCode
	err = retryBusy(ctx, func() (err error) {
		qr, err = r.WeChat.UnlimitedWxaCode(ctx, appID, wechat.WxaCodeRequest{Scene: in.Scene, Page: in.Page, CheckPath: true, EnvVersion: in.EnvVersion, Width: 430})
		return err
	})
	if err != nil {
		return 0, linkError(err)
	}
	img, err := asPNG(qr.Image)
	if err != nil {
		return 0, err
	}
	return r.Store.LinkCreated(ctx, actor, tenantID, store.AppLink{AppID: appID, Kind: store.LinkWxaCode, Path: in.Page,
		Query: in.Scene, EnvVersion: in.EnvVersion}, img)
}

// asPNG re-encodes WeChat's image as PNG (the download the page offers).
func asPNG(b []byte) ([]byte, error) {
	if bytes.HasPrefix(b, []byte("\x89PNG")) {
		return b, nil
	}
	img, _, err := image.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, errors.New("wechat 小程序码: undecodable image: " + err.Error())
	}
	var out bytes.Buffer
	if err := png.Encode(&out, img); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}
