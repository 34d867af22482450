package platform

import (
	"context"
	"time"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/store"
	"github.com/minifleet/minifleet/app/wechat"
)

// PushHandler applies a push of one kind inside the transaction that
// records it, and returns the outcome (store.PushApplied, PushQueued …).
// It must be quick and must not call WeChat: enqueue a job for that.
type PushHandler func(ctx context.Context, tx *store.PushTx, p wechat.Push) (outcome string, err error)

// pushKey names a row of the push table: the URL a push came in on
// (store.RouteComponent or store.RouteApp) and its kind.
type pushKey struct{ route, kind string }

// pushAction is what the platform does with one kind of push. A push
// without a row is recorded only.
type pushAction struct {
	// declare turns the push into a state change the store applies itself
	// (so a flood of them costs one write a batch); nil for apply.
	declare func(p wechat.Push) *store.TicketChange
	// apply makes the push's cheap state change in its transaction.
	apply PushHandler
	// applied runs after the commit when the push was applied.
	applied func()
	// reply, when set, answers the push with a passive reply: the plaintext
	// reply message (empty for an empty answer), or ok false for "success".
	reply func(p wechat.Push, now time.Time) (msg []byte, ok bool)
}

// pushHandlers is the push table: every kind of push the platform acts on.
// A new kind gets its row here (and, for work that calls WeChat, a job
// kind in registerJobs). One rule stands beside the table: every push on
// the per-app URL of WeChat's 全网发布 test accounts goes to
// Intake.publishCheck (publish_check.go), whatever its kind.
func (p *Platform) pushHandlers() map[pushKey]pushAction {
	comp := func(kind string) pushKey { return pushKey{store.RouteComponent, kind} }
	app := func(kind string) pushKey { return pushKey{store.RouteApp, kind} }
	return map[pushKey]pushAction{
		// Every ten minutes; once stored, a token can be fetched if none is valid.
		comp(wechat.KindComponentVerifyTicket): {declare: p.declareTicket, applied: p.Vault.Kick},
		// Authorization events: the code exchange and details run as jobs.
		comp(wechat.KindAuthorized):       {apply: p.queueAuth(JobAuthorized)},
		comp(wechat.KindUpdateAuthorized): {apply: p.queueAuth(JobAuthorized)},
		comp(wechat.KindUnauthorized):     {apply: p.queueAuth(JobUnauthorized)},
		// Audit results, on the per-app URL: the release moves in the same transaction.
		app(wechat.KindAuditSuccess): {apply: p.Releases.onAuditPush},
		app(wechat.KindAuditFail):    {apply: p.Releases.onAuditPush},
		app(wechat.KindAuditDelay):   {apply: p.Releases.onAuditPush},
		// Content checks (content.go): the verdict lands on the pending check.
		app(wechat.KindMediaCheck): {apply: p.Releases.onMediaCheck},
	}
}

// declareTicket is the ticket's state change: the store keeps the newest
// ticket of a batch.
func (p *Platform) declareTicket(push wechat.Push) *store.TicketChange {
	t := push.(*wechat.ComponentVerifyTicket)
	return &store.TicketChange{ComponentAppID: p.componentAppID, Ticket: t.Ticket, CreateTime: t.CreateTime}
}

// queueAuth enqueues the follow-up of an authorization event unless a newer
// event about the same app was already recorded (pushes come out of order).
func (p *Platform) queueAuth(kind string) PushHandler {
	return func(_ context.Context, tx *store.PushTx, push wechat.Push) (string, error) {
		appID, createTime := tx.Push.AppID, tx.Push.CreateTime
		if appID == "" {
			return store.PushRecorded, nil
		}
		newest, err := tx.NoteAuthEvent(appID, createTime)
		if err != nil || !newest {
			return store.PushStale, err
		}
		_, _, err = tx.Enqueue(store.NewJob{
			Kind:      kind,
			DedupeKey: "push:" + tx.Push.DedupeKey,
			Payload:   AuthJob{PushID: tx.Push.ID, AppID: appID, CreateTime: createTime},
		})
		if err == nil && push.Kind() == wechat.KindUpdateAuthorized {
			// The merchant changed the permissions granted: the event goes to
			// the tenant the app is bound to (and platform endpoints).
			err = tx.Emit(store.Event{Type: model.EvtAppUpdated, AppID: appID,
				Data: map[string]any{"appid": appID, "create_time": createTime}})
		}
		return store.PushQueued, err
	}
}
