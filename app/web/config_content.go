package web

import (
	"errors"
	"io"
	"mime/multipart"
	"regexp"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"github.com/minifleet/minifleet/app/authz"
	"github.com/minifleet/minifleet/app/extconfig"
	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/paths"
	"github.com/minifleet/minifleet/app/platform"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/views"
)

// Content security on the config page (issue #16): image uploads into the
// form, the openid WeChat's checks need, the checks' states and retries,
// and the public route serving uploaded images.

// uploadSlack is what a multipart request carries besides the file (the
// form's other fields, boundaries): an image may use the body limit less it.
const uploadSlack = 64 << 10

// uploadCap is the largest image the body limit lets through.
func (s *Server) uploadCap() int { return max(s.Config.MaxBodySize-uploadSlack, 64<<10) }

// effectiveLimits narrows a field's limits to what the server accepts.
func (s *Server) effectiveLimits(l extconfig.ImageLimits) extconfig.ImageLimits {
	l.MaxBytes = min(l.MaxBytes, s.uploadCap())
	return l
}

// appConfigUpload takes the whole config form, posted as multipart by an
// image field's upload button, with one file: the image is checked, stored
// and its check asked for, and the page comes back with everything as typed
// and the field holding the new image (saved when the merchant saves). A
// refused image stores nothing and is explained under its field.
func (s *Server) appConfigUpload(c *fiber.Ctx) error {
	ctx := c.UserContext()
	t := currentTenant(c)
	appID := c.Params("appid")
	f := NewConfigForm(c)
	field := strings.TrimSpace(f.Values.Get("_upload"))
	f.Values.Del("_upload")
	for k := range f.Values {
		if strings.HasPrefix(k, "file.") {
			f.Values.Del(k)
		}
	}
	v, err := s.configFormPage(c, f)
	if err != nil {
		return err
	}
	fail := func(key string, data map[string]any) error {
		if v.Form.Errors == nil {
			v.Form.Errors = extconfig.FieldErrors{}
		}
		args := map[string]any{}
		for k, x := range data {
			args[k] = x
		}
		v.Form.Errors.Add(field, extconfig.Message{Key: key, Args: args})
		s.fillContent(c, &v)
		c.Status(fiber.StatusUnprocessableEntity)
		return s.render(c, views.ConfigPage(s.page(c, "config.title", "config.help"), v))
	}
	lim, err := s.Releases.ImageLimitsOf(ctx, f.TemplateID, field)
	if err != nil {
		v.Summary = "content.err.not_image_field"
		s.fillContent(c, &v)
		c.Status(fiber.StatusUnprocessableEntity)
		return s.render(c, views.ConfigPage(s.page(c, "config.title", "config.help"), v))
	}
	lim = s.effectiveLimits(lim)
	fh, err := c.FormFile("file." + field)
	if err != nil || fh.Size == 0 {
		return fail("content.err.image_empty", nil)
	}
	if fh.Size > int64(lim.MaxBytes) { // before reading it
		return fail("content.err.image_too_big", map[string]any{"Max": sizeWords(lim.MaxBytes)})
	}
	data, err := readUpload(fh, lim.MaxBytes)
	if err != nil {
		return fail("content.err.image_too_big", map[string]any{"Max": sizeWords(lim.MaxBytes)})
	}
	ref, _, err := s.Releases.UploadImage(ctx, actor(c), t.ID, appID, data, lim)
	var ie *platform.ImageError
	if errors.As(err, &ie) {
		return fail(ie.Key, ie.Data)
	}
	if err != nil {
		return err
	}
	v.Form.Values.Set(field, ref)
	s.fillContent(c, &v)
	p := s.page(c, "config.title", "config.help")
	p.Flash = "content.uploaded"
	return s.render(c, views.ConfigPage(p, v))
}

func readUpload(fh *multipart.FileHeader, limit int) ([]byte, error) {
	r, err := fh.Open()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return nil, err
	}
	if len(data) > limit {
		return nil, errors.New("too large")
	}
	return data, nil
}

func sizeWords(n int) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return strconv.Itoa(n>>20) + " MB"
	}
	return strconv.Itoa(n>>10) + " KB"
}

// fillContent adds to the config page what content security shows: each
// image and checked text's check (by content), the uploads' limits, the
// check openid and the saved config's checks.
func (s *Server) fillContent(c *fiber.Ctx, v *views.ConfigPageView) {
	ctx := c.UserContext()
	t := currentTenant(c)
	v.Form.TenantID = t.ID
	v.Form.UploadURL = paths.ConfigImages(t.ID, v.App.AppID)
	v.Form.UploadCap = s.uploadCap()
	checks, err := s.Store.ContentChecks(ctx, t.ID, v.App.AppID, nil)
	if err != nil {
		s.Log.Warn("content checks", "err", err)
	}
	v.Form.Checks = map[string]views.CheckState{}
	for subject, ck := range checks {
		v.Form.Checks[subject] = checkState(ck)
	}
	cb, err := s.contentBlock(c, v.App.AppID)
	if err != nil {
		s.Log.Warn("content block", "err", err)
	}
	v.Content = cb
}

func checkState(ck store.ContentCheck) views.CheckState {
	return views.CheckState{State: ck.State, Label: ck.Label, Errcode: ck.Errcode, RequestedAt: ck.RequestedAt, DecidedAt: ck.DecidedAt,
		NextRetryAt: ck.NextRetryAt, Subject: ck.Subject}
}

// contentBlock is the config page's content security section.
func (s *Server) contentBlock(c *fiber.Ctx, appID string) (views.ContentBlock, error) {
	ctx := c.UserContext()
	t := currentTenant(c)
	b := views.ContentBlock{TenantID: t.ID, AppID: appID, CanWrite: s.can(c, authz.PermConfigWrite), Now: s.Releases.Now()}
	if oid, err := s.Store.CheckOpenID(ctx, t.ID, appID); err == nil {
		b.OpenIDSet, b.OpenIDSetAt, b.OpenIDSetBy = true, oid.SetAt, oid.SetBy
	} else if !model.IsNotFound(err) {
		return b, err
	}
	items, _, err := s.Releases.ConfigContents(ctx, t.ID, appID)
	if err != nil {
		return b, err
	}
	for _, it := range items {
		row := views.ContentRow{Path: it.Content.Path, Image: it.Content.Image, Subject: it.Subject, Check: checkState(it.Check)}
		if it.Content.Image {
			row.Src = paths.MediaImage(t.ID, it.Content.Value)
		}
		row.CanRetry = b.CanWrite && b.OpenIDSet && platform.Retryable(it.Check, b.Now)
		b.Rows = append(b.Rows, row)
	}
	return b, nil
}

// appConfigChecks is the live fragment of the content checks (HTMX polls it
// while one is pending).
func (s *Server) appConfigChecks(c *fiber.Ctx) error {
	a, err := s.Store.App(c.UserContext(), currentTenant(c).ID, c.Params("appid"))
	if err != nil {
		return err
	}
	b, err := s.contentBlock(c, a.AppID)
	if err != nil {
		return err
	}
	c.Vary("HX-Request")
	b.OOB = c.Get("HX-Request") == "true"
	return s.render(c, views.ContentChecks(s.page(c, "config.title", ""), b))
}

var openIDRE = regexp.MustCompile(`^[A-Za-z0-9_-]{6,128}$`)

// appCheckOpenID sets the openid the app's checks are sent with.
func (s *Server) appCheckOpenID(c *fiber.Ctx) error {
	t := currentTenant(c)
	a, err := s.Store.App(c.UserContext(), t.ID, c.Params("appid"))
	if err != nil {
		return err
	}
	openid := formText(c, "openid")
	if !openIDRE.MatchString(openid) {
		return &model.Error{Code: model.CodeInvalid, Key: "content.err.openid", Field: "openid"}
	}
	if err := s.Releases.SetCheckOpenID(c.UserContext(), actor(c), t.ID, a.AppID, openid); err != nil {
		return err
	}
	return s.redirectFlash(c, paths.Config(t.ID, a.AppID), "content.openid_saved")
}

// appContentRecheck asks WeChat again about one content.
func (s *Server) appContentRecheck(c *fiber.Ctx) error {
	t := currentTenant(c)
	a, err := s.Store.App(c.UserContext(), t.ID, c.Params("appid"))
	if err != nil {
		return err
	}
	subject := formText(c, "subject")
	if len(subject) != 64 {
		return model.Errorf(model.CodeInvalid, "content.err.subject")
	}
	if _, err := s.Releases.RecheckContent(c.UserContext(), actor(c), t.ID, a.AppID, subject); err != nil {
		return err
	}
	return s.redirectFlash(c, paths.Config(t.ID, a.AppID), "content.rechecked")
}

var hashRE = regexp.MustCompile(`^[0-9a-f]{64}$`)

// mediaImage serves an uploaded image to anyone who has its URL (the Mini
// Program, WeChat's checker): by tenant and content hash, so it never
// changes — cached for a year, immutable, with the hash as its ETag.
func (s *Server) mediaImage(c *fiber.Ctx) error {
	tid, err := strconv.ParseInt(c.Params("tid"), 10, 64)
	hash := utils.CopyString(c.Params("hash"))
	if err != nil || tid <= 0 || !hashRE.MatchString(hash) {
		return c.Status(fiber.StatusNotFound).SendString("not found")
	}
	etag := `"` + hash + `"`
	c.Set(fiber.HeaderETag, etag)
	c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	if inm := c.Get(fiber.HeaderIfNoneMatch); inm != "" && strings.Contains(inm, etag) {
		// Still only for an image that exists: a 304 must not confirm a guess.
		if _, err := s.Store.Image(c.UserContext(), tid, hash); err == nil {
			return c.SendStatus(fiber.StatusNotModified)
		}
	}
	img, err := s.Store.Image(c.UserContext(), tid, hash)
	switch {
	case model.IsNotFound(err):
		c.Set(fiber.HeaderCacheControl, "no-store")
		c.Response().Header.Del(fiber.HeaderETag)
		return c.Status(fiber.StatusNotFound).SendString("not found")
	case err != nil:
		return err
	}
	c.Set(fiber.HeaderContentType, img.MIME)
	c.Set(fiber.HeaderContentSecurityPolicy, "default-src 'none'")
	return c.Send(img.Data)
}
