package platform

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"image"
	"image/jpeg"
	"image/png"
	"strconv"
	"strings"
	"time"

	_ "golang.org/x/image/webp" // decodes WebP uploads (re-encoded as PNG)

	"github.com/minifleet/minifleet/app/extconfig"
	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/paths"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/app/wechat"
)

// Content security (issue #16, docs/content-security.md): images uploaded
// into config forms, and WeChat's checks of them (media_check_async v2,
// answered by the wxa_media_check push) and of the texts a schema marks
// (msg_sec_check v2, answered at once). Both checks need the openid of a
// user who opened the Mini Program in the last two hours: the app's check
// openid, set by a member; without one a content is "unchecked", shown so,
// and does not block a commit. A risky content, or one still pending,
// blocks it.

// ImageError is an upload refused: Key is the translation key, Data its values.
type ImageError struct {
	Key  string
	Data map[string]any
}

func (e *ImageError) Error() string { return "image refused: " + e.Key }

// ProcessedImage is an upload decoded and re-encoded (metadata gone).
type ProcessedImage struct {
	Hash          string
	MIME          string
	Width, Height int
	Data          []byte
}

// ProcessImage checks an upload against lim and re-encodes it: the size
// first, then the header's format and dimensions (image.DecodeConfig, so a
// decompression bomb is refused before a pixel is decoded), then the full
// decode; JPEG stays JPEG, PNG and WebP become PNG. Nothing but the pixels
// survives: EXIF, comments, profiles are dropped.
func ProcessImage(data []byte, lim extconfig.ImageLimits) (ProcessedImage, error) {
	var out ProcessedImage
	if len(data) == 0 {
		return out, &ImageError{Key: "content.err.image_empty"}
	}
	if len(data) > lim.MaxBytes {
		return out, &ImageError{Key: "content.err.image_too_big", Data: map[string]any{"Max": kb(lim.MaxBytes)}}
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || (format != "jpeg" && format != "png" && format != "webp") {
		return out, &ImageError{Key: "content.err.image_type"}
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > lim.MaxWidth || cfg.Height > lim.MaxHeight {
		return out, &ImageError{Key: "content.err.image_dims", Data: map[string]any{
			"Width": cfg.Width, "Height": cfg.Height, "MaxWidth": lim.MaxWidth, "MaxHeight": lim.MaxHeight}}
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return out, &ImageError{Key: "content.err.image_type"}
	}
	var buf bytes.Buffer
	if format == "jpeg" {
		out.MIME = "image/jpeg"
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90})
	} else {
		out.MIME = "image/png"
		err = png.Encode(&buf, img) // default compression: BestCompression cost 2.5× the time for a few per cent
	}
	if err != nil {
		return out, err
	}
	if buf.Len() > lim.MaxBytes { // re-encoding may grow a small file
		return out, &ImageError{Key: "content.err.image_too_big", Data: map[string]any{"Max": kb(lim.MaxBytes)}}
	}
	sum := sha256.Sum256(buf.Bytes())
	out.Hash, out.Width, out.Height, out.Data = hex.EncodeToString(sum[:]), cfg.Width, cfg.Height, buf.Bytes()
	return out, nil
}

func kb(n int) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return strconv.Itoa(n>>20) + " MB"
	}
	return strconv.Itoa(n>>10) + " KB"
}

// ImageLimitsOf returns the upload limits of the image field at path of
// the template's schema ("logo", "banners.0.image").
func (r *Releases) ImageLimitsOf(ctx context.Context, templateID int64, path string) (extconfig.ImageLimits, error) {
	tpl, err := r.Store.Template(ctx, templateID)
	if err != nil {
		return extconfig.ImageLimits{}, err
	}
	sc, err := r.schemaOf(tpl)
	if err != nil {
		return extconfig.ImageLimits{}, &model.Error{Code: model.CodeConflict, Key: "release.err.no_schema", Err: err}
	}
	fs := sc.Fields("en")
	parts := strings.Split(path, ".")
	for i := 0; i < len(parts); i++ {
		var f *extconfig.Field
		for j := range fs {
			if fs[j].Name == parts[i] {
				f = &fs[j]
			}
		}
		switch {
		case f == nil:
		case f.Kind == extconfig.KindImage && i == len(parts)-1:
			return f.Image, nil
		case f.Kind == extconfig.KindList && i+2 < len(parts):
			if _, err := strconv.Atoi(parts[i+1]); err == nil {
				fs, i = f.Items, i+1
				continue
			}
		}
		break
	}
	return extconfig.ImageLimits{}, model.Errorf(model.CodeInvalid, "content.err.not_image_field")
}

// UploadImage stores an image uploaded into an image field of the app's
// config form (lim: the field's limits, ImageLimitsOf) and asks WeChat to
// check it for the app. It returns the field's new value (the image's
// reference). Nothing is stored when the image is refused (*ImageError).
func (r *Releases) UploadImage(ctx context.Context, a model.Actor, tenantID int64, appID string, data []byte, lim extconfig.ImageLimits) (string, ProcessedImage, error) {
	if _, err := r.Store.App(ctx, tenantID, appID); err != nil {
		return "", ProcessedImage{}, err
	}
	img, err := ProcessImage(data, lim)
	if err != nil {
		return "", img, err
	}
	if _, err := r.Store.SaveImage(ctx, a, store.ConfigImage{TenantID: tenantID, Hash: img.Hash, MIME: img.MIME,
		Width: img.Width, Height: img.Height, Data: img.Data}); err != nil {
		return "", img, err
	}
	if _, err := r.requestCheck(ctx, tenantID, appID, extconfig.Content{Image: true, Value: img.Hash}, false); err != nil {
		r.Log.Warn("content: media check", "appid", appID, "err", err)
	}
	return extconfig.ImageRef(img.Hash), img, nil
}

// ImageURL is the absolute URL an uploaded image is served at.
func (r *Releases) ImageURL(tenantID int64, hash string) string {
	return strings.TrimSuffix(r.BaseURL, "/") + paths.MediaImage(tenantID, hash)
}

// Retryable tells whether a check may be asked again now: failed or
// unchecked, or pending longer than WeChat's 30 minutes, and its wait over.
func Retryable(ck store.ContentCheck, now time.Time) bool {
	switch ck.State {
	case store.CheckFailed, store.CheckUnchecked:
	case store.CheckPending:
		if now.Sub(ck.RequestedAt) < CheckPendingTooLong {
			return false
		}
	default:
		return false
	}
	return !now.Before(ck.NextRetryAt)
}

// CheckPendingTooLong is when a pending media check may be asked again:
// WeChat pushes its result within 30 minutes.
const CheckPendingTooLong = wechat.MediaCheckWithin * time.Second

// retryWait is the wait before asking again after the n-th request: 1 min
// doubling to 1 h.
func retryWait(n int) time.Duration {
	d := time.Minute
	for i := 1; i < n && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}

// subjectOf is the content's key in content_checks.
func subjectOf(c extconfig.Content) (kind, subject string) {
	if c.Image {
		return "image", c.Value
	}
	sum := sha256.Sum256([]byte(c.Value))
	return "text", hex.EncodeToString(sum[:])
}

// requestCheck asks WeChat about one content for the app, unless a check
// of it stands (decided, or pending and not too long) and force is false.
func (r *Releases) requestCheck(ctx context.Context, tenantID int64, appID string, c extconfig.Content, force bool) (store.ContentCheck, error) {
	kind, subject := subjectOf(c)
	now := r.now()
	prev, err := r.Store.ContentChecks(ctx, tenantID, appID, []string{subject})
	if err != nil {
		return store.ContentCheck{}, err
	}
	ck, had := prev[subject]
	if had && !force {
		switch ck.State {
		case store.CheckPass, store.CheckRisky, store.CheckReview:
			return ck, nil
		case store.CheckPending:
			if now.Sub(ck.RequestedAt) < CheckPendingTooLong {
				return ck, nil
			}
		}
		if now.Before(ck.NextRetryAt) {
			return ck, nil
		}
	}
	if had && force && now.Before(ck.NextRetryAt) {
		return ck, &model.Error{Code: model.CodeConflict, Key: "content.err.retry_wait", Data: map[string]any{"At": ck.NextRetryAt}}
	}
	next := store.ContentCheck{TenantID: tenantID, AppID: appID, Kind: kind, Subject: subject, RequestedAt: now, Attempts: ck.Attempts + 1}
	next.NextRetryAt = now.Add(retryWait(next.Attempts))
	oid, err := r.Store.CheckOpenID(ctx, tenantID, appID)
	if model.IsNotFound(err) {
		next.State = store.CheckUnchecked
		next.Attempts, next.NextRetryAt = 0, time.Time{}
		return r.Store.PutCheck(ctx, next)
	} else if err != nil {
		return ck, err
	}
	if c.Image {
		trace, err := r.WeChat.MediaCheckAsync(ctx, appID, wechat.MediaCheckRequest{MediaURL: r.ImageURL(tenantID, c.Value),
			MediaType: wechat.MediaTypeImage, Scene: wechat.SceneProfile, OpenID: oid.OpenID})
		if err != nil {
			return r.Store.PutCheck(ctx, refused(next, err))
		}
		next.State, next.TraceID = store.CheckPending, trace
		return r.Store.PutCheck(ctx, next)
	}
	res, err := r.WeChat.MsgSecCheck(ctx, appID, wechat.TextCheckRequest{Content: c.Value, Scene: wechat.SceneProfile, OpenID: oid.OpenID})
	if err != nil {
		return r.Store.PutCheck(ctx, refused(next, err))
	}
	next.State, next.TraceID, next.Label, next.DecidedAt = verdict(res.Result.Suggest), res.TraceID, res.Result.Label, now
	return r.Store.PutCheck(ctx, next)
}

// refused records WeChat's refusal of a check request: the openid it does
// not accept (61010 visit too old, 40003, 43104) makes the content
// unchecked; anything else (or no answer) failed, retried after the wait.
func refused(c store.ContentCheck, err error) store.ContentCheck {
	c.Errcode = wechatCode(err)
	switch c.Errcode {
	case 61010, 40003, 43104:
		c.State = store.CheckUnchecked
	default:
		c.State = store.CheckFailed
	}
	return c
}

func verdict(suggest string) string {
	switch suggest {
	case "pass":
		return store.CheckPass
	case "risky":
		return store.CheckRisky
	default:
		return store.CheckReview
	}
}

// onMediaCheck applies a wxa_media_check push: the pending check with its
// trace_id gets the verdict in the push's transaction.
func (r *Releases) onMediaCheck(_ context.Context, tx *store.PushTx, p wechat.Push) (string, error) {
	m, ok := p.(*wechat.MediaCheck)
	if !ok || m.TraceID == "" {
		return store.PushRecorded, nil
	}
	appID := m.AppID
	if appID == "" {
		appID = tx.Push.AppID
	}
	state, label, code := verdict(m.Result.Suggest), m.Result.Label, m.ErrCode
	switch {
	case m.ErrCode != 0:
		state = store.CheckFailed
	case m.StatusCode != 0:
		state, code = store.CheckFailed, int(m.StatusCode) // 4294966288: WeChat could not download the media
	case m.Version < 2 && m.IsRisky == 1:
		state, label = store.CheckRisky, 0
	case m.Version < 2:
		state = store.CheckPass
	}
	ck, found, err := tx.DecideMediaCheck(appID, m.TraceID, state, label, code)
	if err != nil || !found {
		return store.PushStale, err
	}
	tx.AfterCommit(func() { r.Hub.Publish(Event{Name: EventContent, TenantID: ck.TenantID, AppID: ck.AppID}) })
	return store.PushApplied, nil
}

// SetCheckOpenID sets the openid the app's content checks are sent with,
// and asks again about the contents of its newest config that are not yet
// checked.
func (r *Releases) SetCheckOpenID(ctx context.Context, a model.Actor, tenantID int64, appID, openID string) error {
	if err := r.Store.SetCheckOpenID(ctx, a, tenantID, appID, openID); err != nil {
		return err
	}
	_, err := r.CheckConfig(ctx, tenantID, appID)
	return err
}

// Recheck asks WeChat again about one content of the app (by subject), if
// it is not decided or pending for too long, and its wait is over.
func (r *Releases) RecheckContent(ctx context.Context, a model.Actor, tenantID int64, appID, subject string) (store.ContentCheck, error) {
	items, _, err := r.ConfigContents(ctx, tenantID, appID)
	if err != nil {
		return store.ContentCheck{}, err
	}
	for _, it := range items {
		if it.Subject != subject {
			continue
		}
		switch it.Check.State {
		case store.CheckPass, store.CheckRisky, store.CheckReview:
			return it.Check, model.Errorf(model.CodeConflict, "content.err.decided")
		case store.CheckPending:
			if r.now().Sub(it.Check.RequestedAt) < CheckPendingTooLong {
				return it.Check, model.Errorf(model.CodeConflict, "content.err.not_yet")
			}
		}
		ck, err := r.requestCheck(ctx, tenantID, appID, it.Content, true)
		if err == nil {
			err = r.Store.Activity(ctx, a, tenantID, store.ActContentRechecks, appID, it.Content.Path)
		}
		return ck, err
	}
	return store.ContentCheck{}, model.NotFound("content check")
}

// ContentItem is one image or checked text of an app's newest config with
// WeChat's check of it (State empty when never asked).
type ContentItem struct {
	Content extconfig.Content
	Subject string
	Check   store.ContentCheck
}

// ConfigContents lists the images and checked texts of the app's newest
// config with their checks; version is the config's (0 for none).
func (r *Releases) ConfigContents(ctx context.Context, tenantID int64, appID string) ([]ContentItem, int64, error) {
	cfg, err := r.Store.LatestConfig(ctx, tenantID, appID)
	if model.IsNotFound(err) {
		return nil, 0, nil
	} else if err != nil {
		return nil, 0, err
	}
	items, err := r.contentsOf(ctx, cfg)
	return items, cfg.Version, err
}

func (r *Releases) contentsOf(ctx context.Context, cfg model.AppConfig) ([]ContentItem, error) {
	tpl, err := r.Store.Template(ctx, cfg.TemplateID)
	if err != nil {
		return nil, err
	}
	sc, err := r.schemaOf(tpl)
	if err != nil {
		return nil, nil // a schema that no longer compiles shows no contents
	}
	values, err := extconfig.DecodeConfig([]byte(cfg.JSON))
	if err != nil {
		return nil, nil
	}
	var items []ContentItem
	var subjects []string
	for _, c := range sc.Contents(values) {
		_, sj := subjectOf(c)
		items = append(items, ContentItem{Content: c, Subject: sj})
		subjects = append(subjects, sj)
	}
	if len(items) == 0 {
		return nil, nil
	}
	checks, err := r.Store.ContentChecks(ctx, cfg.TenantID, cfg.AppID, subjects)
	if err != nil {
		return nil, err
	}
	for i := range items {
		items[i].Check = checks[items[i].Subject]
	}
	return items, nil
}

// CheckConfig asks WeChat about every content of the app's newest config
// without a standing check: never asked, pending too long, or unchecked or
// failed with its wait over (one unchecked for want of an openid has none).
func (r *Releases) CheckConfig(ctx context.Context, tenantID int64, appID string) ([]ContentItem, error) {
	items, _, err := r.ConfigContents(ctx, tenantID, appID)
	if err != nil {
		return nil, err
	}
	for i, it := range items {
		ck, err := r.requestCheck(ctx, tenantID, appID, it.Content, false)
		if err != nil {
			return items, err
		}
		items[i].Check = ck
	}
	return items, nil
}

// ReleaseContents lists the images and checked texts of the config
// version a release commits, with their checks.
func (r *Releases) ReleaseContents(ctx context.Context, rel model.Release) ([]ContentItem, error) {
	if rel.ConfigVersion == 0 {
		return nil, nil
	}
	cfg, err := r.Store.Config(ctx, rel.TenantID, rel.AppID, rel.ConfigVersion)
	if err != nil {
		return nil, err
	}
	return r.contentsOf(ctx, cfg)
}

// ContentBlock is why a commit may not go ahead: a risky content (Label is
// WeChat's), or one still being checked.
type ContentBlock struct {
	Path    string
	Risky   bool
	Label   int
	Pending bool
}

// contentGate answers whether the config version a release commits may
// go: it asks WeChat about contents never asked, and refuses with
// "content.err.risky" (the field and WeChat's label) or "content.err.pending".
func (r *Releases) contentGate(ctx context.Context, rel model.Release) error {
	if rel.ConfigVersion == 0 {
		return nil
	}
	cfg, err := r.Store.Config(ctx, rel.TenantID, rel.AppID, rel.ConfigVersion)
	if err != nil {
		return err
	}
	items, err := r.contentsOf(ctx, cfg)
	if err != nil {
		return err
	}
	var pending []string
	for _, it := range items {
		ck := it.Check
		if ck.ID == 0 {
			if ck, err = r.requestCheck(ctx, rel.TenantID, rel.AppID, it.Content, false); err != nil {
				return err
			}
		}
		switch ck.State {
		case store.CheckRisky:
			return &model.Error{Code: model.CodeConflict, Key: "content.err.risky",
				Data: map[string]any{"Field": it.Content.Path, "Label": ck.Label}}
		case store.CheckPending:
			pending = append(pending, it.Content.Path)
		}
	}
	if len(pending) > 0 {
		return &model.Error{Code: model.CodeConflict, Key: "content.err.pending", Data: map[string]any{"Field": strings.Join(pending, ", ")}}
	}
	return nil
}

// ContentRisk reports, for a campaign's planning, the label of a risky
// content in each app's newest config (apps with none are absent).
func (r *Releases) ContentRisk(ctx context.Context, tenantID int64) (map[string]int, error) {
	return r.Store.RiskyAppIDs(ctx, tenantID)
}

// RiskyInConfig returns the first risky content of the app's newest config
// (ok false when none is risky).
func (r *Releases) RiskyInConfig(ctx context.Context, tenantID int64, appID string) (ContentItem, bool, error) {
	items, _, err := r.ConfigContents(ctx, tenantID, appID)
	if err != nil {
		return ContentItem{}, false, err
	}
	for _, it := range items {
		if it.Check.State == store.CheckRisky {
			return it, true, nil
		}
	}
	return ContentItem{}, false, nil
}
