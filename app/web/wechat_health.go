package web

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/minifleet/minifleet/app/authz"
	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/paths"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/views"
)

const pushesPage = 50

// staffWeChat shows the WeChat health page: ticket, tokens, pushes.
func (s *Server) staffWeChat(c *fiber.Ctx) error {
	v, err := s.wechatHealth(c)
	if err != nil {
		return err
	}
	p := s.page(c, "wechat.title", "wechat.help")
	if isHTMX(c) && c.Get("HX-Target") == "pushes" {
		return s.render(c, views.PushesTable(p, v))
	}
	return s.render(c, views.WeChatHealthPage(p, v))
}

// staffWeChatTicket asks WeChat to push a verify ticket now.
func (s *Server) staffWeChatTicket(c *fiber.Ctx) error {
	if err := s.Platform.Vault.RequestTicketPush(c.UserContext()); err != nil {
		if model.ErrorCode(err) == model.CodeInternal {
			s.Log.Warn("api_start_push_ticket", "err", err)
			return &model.Error{Code: model.CodeConflict, Key: "wechat.ticket_failed", Err: err}
		}
		return err
	}
	if isHTMX(c) {
		return s.render(c, views.Toast("success", msgT(c, "wechat.ticket_requested")))
	}
	v, err := s.wechatHealth(c)
	if err != nil {
		return err
	}
	p := s.page(c, "wechat.title", "wechat.help")
	p.Flash = "wechat.ticket_requested"
	return s.render(c, views.WeChatHealthPage(p, v))
}

func (s *Server) wechatHealth(c *fiber.Ctx) (views.WeChatHealthView, error) {
	var v views.WeChatHealthView
	ctx := c.UserContext()
	h, err := s.Platform.Health(ctx)
	if err != nil {
		return v, err
	}
	v = views.WeChatHealthView{
		ComponentAppID:    h.ComponentAppID,
		HasTicket:         h.Component.HasTicket,
		TicketReceivedAt:  h.Component.TicketReceivedAt,
		TicketStale:       h.TicketStale,
		TicketRequestedAt: h.Component.TicketRequestedAt,
		HasToken:          h.Component.HasToken,
		TokenExpiresAt:    h.Component.TokenExpiresAt,
		TokenFailures:     h.Component.Failures,
		TokenLastError:    h.Component.LastError,
		TokenProblem:      views.UpstreamProblemView(h.TokenProblem),
		TicketProblem:     views.UpstreamProblemView(h.TicketProblem),
		AgedPushes:        h.AgedPushes,
		CanWrite:          s.can(c, authz.PermWeChatWrite),
	}
	for _, st := range []string{store.TokenFresh, store.TokenRefreshing, store.TokenFailing, store.TokenNeedsReauth} {
		v.TokenStates = append(v.TokenStates, views.StateCount{State: st, N: h.TokenStates[st]})
	}
	for _, st := range []string{store.JobQueued, store.JobRunning, store.JobDone, store.JobFailed} {
		if n := h.Jobs[st]; n > 0 {
			v.Jobs = append(v.Jobs, views.StateCount{State: st, N: n})
		}
	}
	for _, a := range h.Trouble {
		v.Trouble = append(v.Trouble, views.TroubleApp{AppID: a.AppID, Nickname: a.Nickname, State: a.TokenState, LastError: a.LastError, Since: a.UpdatedAt})
	}
	for _, w := range h.Warnings {
		v.Warnings = append(v.Warnings, views.WarningRow{At: w.At, Kind: w.Kind, AppID: w.AppID, Detail: w.Detail})
	}
	v.LastPushes = pushRows(h.LastPushes)

	offset, _ := strconv.Atoi(c.Query("offset"))
	offset = max(offset, 0)
	f := views.PushFilterView{Kind: strings.TrimSpace(c.Query("kind")), AppID: strings.TrimSpace(c.Query("appid")), Outcome: c.Query("outcome")}
	valid := false
	for _, o := range views.PushOutcomes {
		valid = valid || o == f.Outcome
	}
	if !valid {
		f.Outcome = ""
	}
	v.Filter = f
	pushes, total, err := s.Store.ListPushes(ctx, store.PushFilter{Kind: f.Kind, AppID: f.AppID, Outcome: f.Outcome, Offset: offset, Limit: pushesPage})
	if err != nil {
		return v, err
	}
	v.Pushes = pushRows(pushes)
	if v.Kinds, err = s.Store.PushKinds(ctx); err != nil {
		return v, err
	}
	link := func(off int) string {
		u := url.Values{}
		for k, val := range map[string]string{"kind": f.Kind, "appid": f.AppID, "outcome": f.Outcome} {
			if val != "" {
				u.Set(k, val)
			}
		}
		if off > 0 {
			u.Set("offset", strconv.Itoa(off))
		}
		return paths.WithQuery(paths.StaffWeChat, u)
	}
	v.Pager = views.Pager{Total: total, Offset: offset, Limit: pushesPage}
	if offset > 0 {
		v.Pager.Prev = link(max(offset-pushesPage, 0))
	}
	if offset+pushesPage < total {
		v.Pager.Next = link(offset + pushesPage)
	}
	return v, nil
}

func pushRows(ps []store.Push) []views.PushRow {
	out := make([]views.PushRow, 0, len(ps))
	for _, p := range ps {
		out = append(out, views.PushRow{ID: p.ID, Route: p.Route, Kind: p.Kind, AppID: p.AppID, Outcome: p.Outcome, ReceivedAt: p.ReceivedAt, Duplicates: p.Duplicates, XML: p.XML})
	}
	return out
}
