package web

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/paths"
	"github.com/minifleet/minifleet/views"
)

// One set of handlers serves both scopes: a tenant's endpoints under
// /t/:tid/settings/webhooks (tenant owners) and the platform's under
// /staff/webhooks (staff admins). The scope is the route's: webhookScope
// is the tenant id, 0 for staff, and every platform call takes it, so
// another tenant's endpoint or delivery is not found.

func webhookScope(c *fiber.Ctx) int64 {
	if t := currentTenant(c); t != nil && c.Params("tid") != "" {
		return t.ID
	}
	return 0
}

func webhookTitle(scope int64) (string, string) {
	if scope == 0 {
		return "webhooks.staff_title", "webhooks.staff_help"
	}
	return "webhooks.title", "webhooks.help"
}

// webhooksList shows the endpoints and the new-endpoint form.
func (s *Server) webhooksList(c *fiber.Ctx) error {
	scope := webhookScope(c)
	f := views.NewForm()
	return s.renderWebhooks(c, scope, f, map[string]bool{})
}

func (s *Server) renderWebhooks(c *fiber.Ctx, scope int64, f views.Form, checked map[string]bool) error {
	eps, err := s.Platform.Webhooks.Endpoints(c.UserContext(), scope)
	if err != nil {
		return err
	}
	title, help := webhookTitle(scope)
	return s.render(c, views.WebhooksPage(s.page(c, title, help), views.WebhooksView{TenantID: scope, Endpoints: eps, Form: f, Events: checked}))
}

// webhookCreate stores a new endpoint and shows its secret once.
func (s *Server) webhookCreate(c *fiber.Ctx) error {
	scope := webhookScope(c)
	wf := NewWebhookForm(c)
	f, checked := wf.View()
	err := error(nil)
	if fe := wf.Validate(); len(fe) > 0 {
		err = fe
	} else {
		e, secret, cerr := s.Platform.Webhooks.CreateEndpoint(c.UserContext(), actor(c), scope, wf.Input())
		if cerr == nil {
			c.Set(fiber.HeaderCacheControl, "no-store") // the secret must not be cached
			title, _ := webhookTitle(scope)
			return s.render(c, views.WebhookSecretPage(s.page(c, title, "webhooks.secret_title"), views.WebhookSecretView{TenantID: scope, Endpoint: e, Secret: secret}))
		}
		err = cerr
	}
	if !formError(&f, err) {
		return err
	}
	c.Status(statusOf(err))
	return s.renderWebhooks(c, scope, f, checked)
}

// webhookPage shows one endpoint: state, delivery log, settings.
func (s *Server) webhookPage(c *fiber.Ctx) error {
	scope := webhookScope(c)
	wid, err := parseID(c, "wid")
	if err != nil {
		return err
	}
	e, err := s.Platform.Webhooks.Endpoint(c.UserContext(), scope, wid)
	if err != nil {
		return err
	}
	f, checked := endpointForm(e)
	return s.renderWebhook(c, scope, e, f, checked)
}

const deliveriesPage = 50

func (s *Server) renderWebhook(c *fiber.Ctx, scope int64, e model.WebhookEndpoint, f views.Form, checked map[string]bool) error {
	before, _ := strconv.ParseInt(c.Query("before"), 10, 64)
	ds, err := s.Platform.Webhooks.Deliveries(c.UserContext(), scope, e.ID, before, deliveriesPage+1)
	if err != nil {
		return err
	}
	more := ""
	if len(ds) > deliveriesPage {
		ds = ds[:deliveriesPage]
		more = paths.Webhook(scope, e.ID) + "?before=" + strconv.FormatInt(ds[len(ds)-1].ID, 10)
	}
	title, _ := webhookTitle(scope)
	return s.render(c, views.WebhookPage(s.page(c, title, "webhooks.endpoint_help"),
		views.WebhookView{TenantID: scope, Endpoint: e, Form: f, Events: checked, Deliveries: ds, More: more}))
}

// webhookSave changes an endpoint's URL, description and events.
func (s *Server) webhookSave(c *fiber.Ctx) error {
	scope := webhookScope(c)
	wid, err := parseID(c, "wid")
	if err != nil {
		return err
	}
	e, err := s.Platform.Webhooks.Endpoint(c.UserContext(), scope, wid)
	if err != nil {
		return err
	}
	wf := NewWebhookForm(c)
	f, checked := wf.View()
	if fe := wf.Validate(); len(fe) > 0 {
		err = fe
	} else if _, err = s.Platform.Webhooks.UpdateEndpoint(c.UserContext(), actor(c), scope, wid, wf.Input()); err == nil {
		return s.redirectFlash(c, paths.Webhook(scope, wid), "webhooks.saved")
	}
	if !formError(&f, err) {
		return err
	}
	c.Status(statusOf(err))
	return s.renderWebhook(c, scope, e, f, checked)
}

// webhookDelete removes an endpoint (its pending deliveries are cancelled).
func (s *Server) webhookDelete(c *fiber.Ctx) error {
	scope := webhookScope(c)
	wid, err := parseID(c, "wid")
	if err != nil {
		return err
	}
	if err := s.Platform.Webhooks.DeleteEndpoint(c.UserContext(), actor(c), scope, wid); err != nil {
		return err
	}
	return s.redirectFlash(c, paths.Webhooks(scope), "webhooks.deleted")
}

// webhookResume resumes a paused endpoint.
func (s *Server) webhookResume(c *fiber.Ctx) error {
	scope := webhookScope(c)
	wid, err := parseID(c, "wid")
	if err != nil {
		return err
	}
	if err := s.Platform.Webhooks.ResumeEndpoint(c.UserContext(), actor(c), scope, wid); err != nil {
		if model.ErrorCode(err) == model.CodeConflict {
			return s.redirectFlash(c, paths.Webhook(scope, wid), "webhooks.not_paused")
		}
		return err
	}
	return s.redirectFlash(c, paths.Webhook(scope, wid), "webhooks.resumed")
}

// webhookRotate gives the endpoint a new secret and shows it once.
func (s *Server) webhookRotate(c *fiber.Ctx) error {
	scope := webhookScope(c)
	wid, err := parseID(c, "wid")
	if err != nil {
		return err
	}
	e, err := s.Platform.Webhooks.Endpoint(c.UserContext(), scope, wid)
	if err != nil {
		return err
	}
	secret, err := s.Platform.Webhooks.RotateSecret(c.UserContext(), actor(c), scope, wid)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	title, _ := webhookTitle(scope)
	return s.render(c, views.WebhookSecretPage(s.page(c, title, "webhooks.secret_title"), views.WebhookSecretView{TenantID: scope, Endpoint: e, Secret: secret}))
}

// webhookReplay sends a delivered or failed event again.
func (s *Server) webhookReplay(c *fiber.Ctx) error {
	scope := webhookScope(c)
	wid, err := parseID(c, "wid")
	if err != nil {
		return err
	}
	did, err := parseID(c, "did")
	if err != nil {
		return err
	}
	if _, err := s.Platform.Webhooks.Replay(c.UserContext(), actor(c), scope, wid, did); err != nil {
		if model.ErrorCode(err) == model.CodeConflict {
			return s.redirectFlash(c, paths.Webhook(scope, wid), "webhooks.replay_pending")
		}
		return err
	}
	return s.redirectFlash(c, paths.Webhook(scope, wid), "webhooks.replayed")
}
