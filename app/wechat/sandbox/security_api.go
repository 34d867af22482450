package sandbox

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	_ "image/jpeg" // media the check downloads
	_ "image/png"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// Content security v2 (wechat-protocol.md §9): media_check_async and
// msg_sec_check. Both need the openid of a user who opened the Mini Program
// within the last two hours: each sandbox app has one visitor
// (VisitorOpenID), who "opens" the app through Visit or the console.

// visitWindow is WeChat's "用户需在近两小时访问过小程序".
const visitWindow = 2 * time.Hour

// mediaNotDownloadable is the status_code WeChat pushes when it cannot
// fetch media_url (v1 field, kept in v2 answers by the community reports).
const mediaNotDownloadable = 4294966288

// VisitorOpenID is the openid of the sandbox app's one visitor.
func (s *Sandbox) VisitorOpenID(appID string) string {
	m := hmac.New(sha256.New, []byte(s.opts.ComponentSecret))
	m.Write([]byte("visitor|" + appID))
	return "o" + hex.EncodeToString(m.Sum(nil))[:27]
}

// Visit records that the app's visitor opened it now and returns their openid.
func (s *Sandbox) Visit(appID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.apps[appID]; a != nil {
		a.visitedAt = s.clock.Now()
	}
	return s.VisitorOpenID(appID)
}

// SetNextMediaRisky makes the next media check (of appID, or of any app
// for "") come back risky with label (20002 porn when 0).
func (s *Sandbox) SetNextMediaRisky(appID string, label int) {
	if label == 0 {
		label = 20002
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.nextRisky == nil {
		s.nextRisky = map[string]int{}
	}
	s.nextRisky[appID] = label
}

// SetMediaCheckDelay sets how long a media check takes before its push.
func (s *Sandbox) SetMediaCheckDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mediaDelay = d
}

// checkOpenIDLocked answers the openid rules of both checks.
func (s *Sandbox) checkOpenIDLocked(c *call, openid string, scene int) *apiError {
	switch {
	case openid == "":
		return failMsg(44002, "empty post data: openid")
	case scene < 1 || scene > 4:
		return fail(40129)
	case openid != s.VisitorOpenID(c.app.appID):
		if strings.HasPrefix(openid, "o") && len(openid) == 28 {
			return failMsg(43104, "appid and openid not match")
		}
		return failMsg(40003, "invalid openid")
	case c.app.visitedAt.IsZero() || c.now.Sub(c.app.visitedAt) > visitWindow:
		return failMsg(61010, "code is expired")
	}
	return nil
}

func (s *Sandbox) apiMediaCheckAsync(c *call) any {
	var req struct {
		MediaURL  string `json:"media_url"`
		MediaType int    `json:"media_type"`
		Version   int    `json:"version"`
		Scene     int    `json:"scene"`
		OpenID    string `json:"openid"`
	}
	if e := c.decode(&req); e != nil {
		return e
	}
	if req.Version != 2 {
		return failMsg(47001, "data format error: version must be 2 (1.0 stopped 2021-09-01)")
	}
	if req.MediaURL == "" || (req.MediaType != 1 && req.MediaType != 2) {
		return failMsg(47001, "data format error: media_url, media_type")
	}
	if e := s.checkOpenIDLocked(c, req.OpenID, req.Scene); e != nil {
		return e
	}
	s.nextID++
	trace := fmt.Sprintf("%08x-%08x-%08x", c.now.Unix(), s.nextID, s.rnd.Uint32())
	risky, forced := s.nextRisky[c.app.appID]
	if forced {
		delete(s.nextRisky, c.app.appID)
	} else if risky, forced = s.nextRisky[""]; forced {
		delete(s.nextRisky, "")
	}
	a, openid, url, delay := c.app, req.OpenID, req.MediaURL, s.mediaDelay
	if delay == 0 {
		delay = time.Second
	}
	at := c.now.Add(delay)
	go func() {
		// WeChat downloads the media; so does the sandbox, off the lock.
		status := s.fetchMedia(url)
		s.mu.Lock()
		defer s.mu.Unlock()
		s.scheduleLocked(at, func(now time.Time) {
			suggest, label := "pass", 100
			switch {
			case status != 0:
			case forced:
				suggest, label = "risky", risky
			}
			s.pushAppEventLocked(a, "wxa_media_check", now, func(b *xmlBuilder) {
				b.cdata("appid", a.appID)
				b.cdata("trace_id", trace)
				b.num("version", 2)
				b.num("status_code", status)
				b.x("<result><suggest><![CDATA[" + suggest + "]]></suggest><label>" + fmt.Sprint(label) + "</label></result>")
				b.x("<detail><strategy><![CDATA[content_model]]></strategy><errcode>0</errcode><suggest><![CDATA[" + suggest +
					"]]></suggest><label>" + fmt.Sprint(label) + "</label><prob>90</prob></detail>")
			})
			s.log.Info("sandbox media check", "appid", a.appID, "openid", openid[:6], "suggest", suggest, "status", status)
		})
	}()
	return struct {
		okEnvelope
		TraceID string `json:"trace_id"`
	}{ok(), trace}
}

// fetchMedia downloads url like WeChat's checker: 0 when it is an image
// of at most 10 MB, mediaNotDownloadable otherwise.
func (s *Sandbox) fetchMedia(url string) int64 {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return mediaNotDownloadable
	}
	resp, err := s.opts.HTTPClient.Do(req)
	if err != nil {
		return mediaNotDownloadable
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return mediaNotDownloadable
	}
	if _, _, err := image.DecodeConfig(io.LimitReader(resp.Body, 10<<20)); err != nil {
		return mediaNotDownloadable
	}
	return 0
}

// riskyWords make msg_sec_check answer risky (label 20006, crime) in the
// sandbox; anything else passes.
var riskyWords = []string{"违禁", "risky-text"}

func (s *Sandbox) apiMsgSecCheck(c *call) any {
	var req struct {
		Content string `json:"content"`
		Version int    `json:"version"`
		Scene   int    `json:"scene"`
		OpenID  string `json:"openid"`
	}
	if e := c.decode(&req); e != nil {
		return e
	}
	if req.Version != 2 {
		return failMsg(47001, "data format error: version must be 2")
	}
	if req.Content == "" {
		return failMsg(44002, "empty post data: content")
	}
	if utf8.RuneCountInString(req.Content) > 2500 {
		return failMsg(47001, "data format error: content longer than 2500")
	}
	if e := s.checkOpenIDLocked(c, req.OpenID, req.Scene); e != nil {
		return e
	}
	suggest, label := "pass", 100
	for _, w := range riskyWords {
		if strings.Contains(req.Content, w) {
			suggest, label = "risky", 20006
		}
	}
	s.nextID++
	type verdict struct {
		Suggest string `json:"suggest"`
		Label   int    `json:"label"`
	}
	return struct {
		okEnvelope
		TraceID string  `json:"trace_id"`
		Result  verdict `json:"result"`
	}{ok(), fmt.Sprintf("%08x-%08x", c.now.Unix(), s.nextID), verdict{suggest, label}}
}
