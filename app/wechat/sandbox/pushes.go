package sandbox

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/minifleet/minifleet/app/wechat/msgcrypt"
)

// PushRecord is the delivery log entry of one push.
type PushRecord struct {
	ID        int
	Target    string // "component" or "app"
	Type      string // InfoType or Event
	AppID     string // authorizer concerned, if any
	URL       string
	CreatedAt time.Time
	Attempts  int
	Delivered bool
	Status    int    // HTTP status of the last attempt
	Reply     string // body of the last answer (should be "success")
	Err       string // last transport error or why nothing was sent
}

const pushLogSize = 200

type push struct {
	id           int
	url          string
	field, value string // envelope field beside <Encrypt>
	msg          []byte
	createdAt    time.Time
}

// xmlBuilder writes WeChat's flat push XML.
type xmlBuilder struct{ b bytes.Buffer }

func (x *xmlBuilder) open()  { x.b.WriteString("<xml>") }
func (x *xmlBuilder) close() { x.b.WriteString("</xml>") }

func (x *xmlBuilder) cdata(tag, v string) {
	// "]]>" cannot appear inside CDATA; split it as XML writers do.
	v = strings.ReplaceAll(v, "]]>", "]]]]><![CDATA[>")
	fmt.Fprintf(&x.b, "<%s><![CDATA[%s]]></%s>", tag, v, tag)
}

func (x *xmlBuilder) num(tag string, v int64) { fmt.Fprintf(&x.b, "<%s>%d</%s>", tag, v, tag) }

func (x *xmlBuilder) bytes() []byte { return x.b.Bytes() }

// x writes raw XML (nested elements).
func (x *xmlBuilder) x(raw string) { x.b.WriteString(raw) }

// pushComponentLocked sends a component-level push to ComponentEventsURL.
func (s *Sandbox) pushComponentLocked(infoType, appID string, msg []byte) {
	s.enqueueLocked(PushRecord{Target: "component", Type: infoType, AppID: appID, URL: s.opts.ComponentEventsURL},
		msgcrypt.FieldAppID, s.opts.ComponentAppID, msg)
}

// pushAppEventLocked sends an event to the authorizer's message URL; fill
// adds the event's own fields after the common header.
func (s *Sandbox) pushAppEventLocked(a *app, event string, at time.Time, fill func(*xmlBuilder)) {
	var b xmlBuilder
	b.open()
	b.cdata("ToUserName", a.userName)
	b.cdata("FromUserName", "o_sandbox_system_000000000000")
	b.num("CreateTime", at.Unix())
	b.cdata("MsgType", "event")
	b.cdata("Event", event)
	fill(&b)
	b.close()
	url := strings.ReplaceAll(s.opts.AppEventsURL, "$APPID$", a.appID)
	s.enqueueLocked(PushRecord{Target: "app", Type: event, AppID: a.appID, URL: url},
		msgcrypt.FieldToUserName, a.userName, b.bytes())
}

func (s *Sandbox) enqueueLocked(rec PushRecord, field, value string, msg []byte) {
	s.nextPushID++
	rec.ID = s.nextPushID
	rec.CreatedAt = s.clock.Now()
	s.pushLog = append(s.pushLog, rec)
	if len(s.pushLog) > pushLogSize {
		s.pushLog = s.pushLog[len(s.pushLog)-pushLogSize:]
	}
	s.log.Info("sandbox push", "id", rec.ID, "type", rec.Type, "appid", rec.AppID, "url", rec.URL)
	p := &push{id: rec.ID, url: rec.URL, field: field, value: value, msg: msg, createdAt: rec.CreatedAt}
	if rec.URL == "" {
		s.recordLocked(p.id, func(r *PushRecord) { r.Err = "no URL configured" })
		return
	}
	s.deliverLocked(p)
}

// deliverLocked starts delivery, or holds the push until Start.
func (s *Sandbox) deliverLocked(p *push) {
	if !s.started || s.closed {
		s.queued = append(s.queued, p)
		return
	}
	s.inflight++
	go func() {
		s.deliver(s.runCtx, p)
		s.mu.Lock()
		if s.inflight--; s.inflight == 0 {
			s.idle.Broadcast()
		}
		s.mu.Unlock()
	}()
}

// deliver posts the push like WeChat: each attempt waits PushTimeout; an
// HTTP 200 ends delivery whatever the body; failures are retried up to
// PushAttempts in total (protocol doc §11).
func (s *Sandbox) deliver(ctx context.Context, p *push) {
	ts := strconv.FormatInt(p.createdAt.Unix(), 10)
	s.mu.Lock()
	nonce := strconv.FormatUint(uint64(s.rnd.Uint32()), 10)
	s.mu.Unlock()
	body, query, err := s.crypter.SealPush(p.field, p.value, p.msg, ts, nonce)
	if err != nil {
		s.recordLocking(p.id, func(r *PushRecord) { r.Err = "seal: " + err.Error() })
		return
	}
	target := p.url
	if strings.Contains(target, "?") {
		target += "&" + query.Encode()
	} else {
		target += "?" + query.Encode()
	}
	for attempt := 1; attempt <= s.opts.PushAttempts; attempt++ {
		status, reply, err := s.postOnce(ctx, target, body)
		s.recordLocking(p.id, func(r *PushRecord) {
			r.Attempts, r.Status, r.Reply, r.Err = attempt, status, reply, ""
			if err != nil {
				r.Err = err.Error()
			}
			r.Delivered = err == nil && status == http.StatusOK
		})
		if err == nil && status == http.StatusOK {
			if reply != "success" && reply != "" {
				s.log.Warn("sandbox push answered without success", "id", p.id, "reply", reply)
			}
			return
		}
		s.log.Warn("sandbox push attempt failed", "id", p.id, "attempt", attempt, "status", status, "err", err)
		if attempt == s.opts.PushAttempts || ctx.Err() != nil {
			return
		}
		if d := s.opts.PushRetryDelay; d > 0 {
			select {
			case <-s.clock.At(s.clock.Now().Add(d)):
			case <-ctx.Done():
				return
			}
		}
	}
}

func (s *Sandbox) postOnce(ctx context.Context, target string, body []byte) (int, string, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.PushTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "text/xml")
	req.Header.Set("User-Agent", "Mozilla/4.0")
	resp, err := s.opts.HTTPClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, strings.TrimSpace(string(b)), err
}

func (s *Sandbox) recordLocking(id int, f func(*PushRecord)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.recordLocked(id, f)
}

func (s *Sandbox) recordLocked(id int, f func(*PushRecord)) {
	for i := len(s.pushLog) - 1; i >= 0; i-- {
		if s.pushLog[i].ID == id {
			f(&s.pushLog[i])
			return
		}
	}
}

// Pushes returns the delivery log, oldest first (the last 200 pushes).
func (s *Sandbox) Pushes() []PushRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]PushRecord(nil), s.pushLog...)
}

// WaitPushes blocks until every push started so far has finished delivering
// (delivered or out of attempts). Pushes made before Start are not waited for.
func (s *Sandbox) WaitPushes() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.inflight > 0 {
		s.idle.Wait()
	}
}
