package api

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/paths"
)

// Event delivery endpoints (events:manage), through the same service the
// pages use (platform.WebhookAPI): a tenant key manages its tenant's, a
// platform key for every tenant the platform's. A platform key limited to
// chosen tenants has none (a platform endpoint hears every tenant).

func hookScope(c *fiber.Ctx) (int64, bool) { return campScope(c) }

func noHooks(c *fiber.Ctx) error {
	return fail(c, fiber.StatusForbidden, "forbidden", "webhooks need a tenant key or a platform key for every tenant", 0)
}

type webhookJSON struct {
	ID           int64     `json:"id"`
	TenantID     int64     `json:"tenant_id,omitempty"`
	URL          string    `json:"url"`
	Description  string    `json:"description"`
	Events       []string  `json:"events"`
	State        string    `json:"state"`
	FailingSince time.Time `json:"failing_since,omitzero"`
	PausedAt     time.Time `json:"paused_at,omitzero"`
	CreatedAt    time.Time `json:"created_at"`
	Pending      int       `json:"pending"`
	Failed       int       `json:"failed"`
	// Secret is shown once, when the endpoint is created.
	Secret string `json:"secret,omitempty"`
}

func webhookOut(e model.WebhookEndpoint) webhookJSON {
	ev := e.Events
	if ev == nil {
		ev = []string{}
	}
	return webhookJSON{ID: e.ID, TenantID: e.TenantID, URL: e.URL, Description: e.Description, Events: ev, State: e.State,
		FailingSince: e.FailingSince.UTC(), PausedAt: e.PausedAt.UTC(), CreatedAt: e.CreatedAt.UTC(), Pending: e.Pending, Failed: e.Failed}
}

type deliveryJSON struct {
	ID        int64     `json:"id"`
	EventID   string    `json:"event_id"`
	Type      string    `json:"type"`
	AppID     string    `json:"appid,omitempty"`
	State     string    `json:"state"`
	Attempts  int       `json:"attempts"`
	NextAt    time.Time `json:"next_at,omitzero"`
	LastCode  int       `json:"last_status,omitempty"`
	LastError string    `json:"last_error,omitempty"`
	LastMS    int       `json:"last_ms,omitempty"`
	LastAt    time.Time `json:"last_at,omitzero"`
	CreatedAt time.Time `json:"created_at"`
	ReplayOf  int64     `json:"replay_of,omitempty"`
}

func (a *API) listWebhooks(c *fiber.Ctx) error {
	tid, ok := hookScope(c)
	if !ok {
		return noHooks(c)
	}
	es, err := a.Platform.Webhooks.Endpoints(c.UserContext(), tid)
	if err != nil {
		return a.fail(c, err)
	}
	out := make([]webhookJSON, 0, len(es))
	for _, e := range es {
		out = append(out, webhookOut(e))
	}
	return c.JSON(fiber.Map{"webhooks": out})
}

func (a *API) createWebhook(c *fiber.Ctx) error {
	tid, ok := hookScope(c)
	if !ok {
		return noHooks(c)
	}
	var in struct {
		URL         string   `json:"url"`
		Description string   `json:"description"`
		Events      []string `json:"events"`
	}
	if err := decode(c, &in); err != nil {
		return a.fail(c, err)
	}
	e, secret, err := a.Platform.Webhooks.CreateEndpoint(c.UserContext(), keyOf(c).Actor(c.IP()), tid,
		model.EndpointInput{URL: in.URL, Description: in.Description, Events: in.Events})
	if err != nil {
		return a.fail(c, err)
	}
	out := webhookOut(e)
	out.Secret = secret
	c.Location(paths.APIWebhook(e.ID))
	return c.Status(fiber.StatusCreated).JSON(out)
}

// webhookID reads :wid; ok is false (and the answer sent) when it is not one.
func webhookID(c *fiber.Ctx, name string) (int64, bool) {
	id, err := strconv.ParseInt(c.Params(name), 10, 64)
	return id, err == nil && id > 0
}

func (a *API) getWebhook(c *fiber.Ctx) error {
	tid, ok := hookScope(c)
	if !ok {
		return noHooks(c)
	}
	id, ok := webhookID(c, "wid")
	if !ok {
		return notFound(c, "webhook")
	}
	e, err := a.Platform.Webhooks.Endpoint(c.UserContext(), tid, id)
	if err != nil {
		return a.fail(c, err)
	}
	return c.JSON(webhookOut(e))
}

func (a *API) deleteWebhook(c *fiber.Ctx) error {
	tid, ok := hookScope(c)
	if !ok {
		return noHooks(c)
	}
	id, ok := webhookID(c, "wid")
	if !ok {
		return notFound(c, "webhook")
	}
	if err := a.Platform.Webhooks.DeleteEndpoint(c.UserContext(), keyOf(c).Actor(c.IP()), tid, id); err != nil {
		return a.fail(c, err)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// listDeliveries pages the endpoint's delivery log, newest first:
// ?before=<id>&limit=<1–100>.
func (a *API) listDeliveries(c *fiber.Ctx) error {
	tid, ok := hookScope(c)
	if !ok {
		return noHooks(c)
	}
	id, ok := webhookID(c, "wid")
	if !ok {
		return notFound(c, "webhook")
	}
	before, _ := strconv.ParseInt(c.Query("before"), 10, 64)
	limit, err := strconv.Atoi(c.Query("limit", "50"))
	if err != nil || limit < 1 || limit > 100 {
		return badRequest(c, "limit must be a number from 1 to 100")
	}
	if _, err := a.Platform.Webhooks.Endpoint(c.UserContext(), tid, id); err != nil {
		return a.fail(c, err)
	}
	ds, err := a.Platform.Webhooks.Deliveries(c.UserContext(), tid, id, before, limit)
	if err != nil {
		return a.fail(c, err)
	}
	out := make([]deliveryJSON, 0, len(ds))
	for _, d := range ds {
		out = append(out, deliveryJSON{ID: d.ID, EventID: d.EventID, Type: d.Type, AppID: d.AppID, State: d.State, Attempts: d.Attempts,
			NextAt: d.NextAt.UTC(), LastCode: d.LastCode, LastError: d.LastError, LastMS: d.LastMS, LastAt: d.LastAt.UTC(),
			CreatedAt: d.CreatedAt.UTC(), ReplayOf: d.ReplayOf})
	}
	next := ""
	if len(ds) == limit {
		next = strconv.FormatInt(ds[len(ds)-1].ID, 10)
	}
	return c.JSON(fiber.Map{"deliveries": out, "next_before": next})
}

// replayDelivery sends a delivery's event again, with the same event id.
func (a *API) replayDelivery(c *fiber.Ctx) error {
	tid, ok := hookScope(c)
	if !ok {
		return noHooks(c)
	}
	id, ok1 := webhookID(c, "wid")
	did, ok2 := webhookID(c, "did")
	if !ok1 || !ok2 {
		return notFound(c, "delivery")
	}
	nid, err := a.Platform.Webhooks.Replay(c.UserContext(), keyOf(c).Actor(c.IP()), tid, id, did)
	if err != nil {
		return a.fail(c, err)
	}
	return c.Status(fiber.StatusAccepted).JSON(fiber.Map{"delivery_id": nid})
}
