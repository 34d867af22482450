package sandbox

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Media uploaded for the reviewers: /wxa/uploadmedia (preview_info) and
// /cgi-bin/media/upload?type=image (feedback_stuff). Either id lives three
// days; submit_audit refuses an id it never handed out, handed out to
// another app, or expired (40007).

const mediaTTL = 72 * time.Hour

// uploadedMedia is one media id the sandbox handed out.
type uploadedMedia struct {
	appID string
	kind  string // "image" or "video"
	temp  bool   // from /cgi-bin/media/upload
	at    time.Time
	size  int
}

// maxUploadBody bounds what handleAPI reads: a 10 MB video plus its
// multipart envelope.
const maxUploadBody = 11 << 20

// apiUploadMedia answers /wxa/uploadmedia: PNG/JPEG/GIF ≤2 MB as "image",
// MP4 ≤10 MB as "video".
func (s *Sandbox) apiUploadMedia(c *call) any {
	data, e := c.uploaded()
	if e != nil {
		return e
	}
	kind := mediaKind(data)
	switch {
	case kind == "":
		return failMsg(40005, "invalid file type")
	case kind == "image" && len(data) > 2<<20, kind == "video" && len(data) > 10<<20:
		return failMsg(40006, "invalid meida size")
	}
	id := s.handOutMediaLocked(c, kind, false, len(data))
	return struct {
		okEnvelope
		Type    string `json:"type"`
		MediaID string `json:"mediaid"`
	}{ok(), kind, id}
}

// apiUploadTemp answers /cgi-bin/media/upload for type=image (the only
// kind feedback_stuff takes).
func (s *Sandbox) apiUploadTemp(c *call) any {
	if c.r.URL.Query().Get("type") != "image" {
		return failMsg(40004, "invalid media type")
	}
	data, e := c.uploaded()
	if e != nil {
		return e
	}
	switch {
	case mediaKind(data) != "image":
		return failMsg(40005, "invalid file type")
	case len(data) > 10<<20:
		return failMsg(40006, "invalid meida size")
	}
	id := s.handOutMediaLocked(c, "image", true, len(data))
	return struct {
		okEnvelope
		Type      string `json:"type"`
		MediaID   string `json:"media_id"`
		CreatedAt int64  `json:"created_at"`
	}{ok(), "image", id, c.now.Unix()}
}

func (s *Sandbox) handOutMediaLocked(c *call, kind string, temp bool, size int) string {
	s.nextID++
	id := "sandbox_media_upload_" + strconv.FormatInt(s.nextID, 10)
	if s.uploads == nil {
		s.uploads = map[string]uploadedMedia{}
	}
	s.uploads[id] = uploadedMedia{appID: c.app.appID, kind: kind, temp: temp, at: c.now, size: size}
	return id
}

// checkMediaLocked is submit_audit's check of the ids it was sent.
func (s *Sandbox) checkMediaLocked(c *call, ids []string, kind string, temp bool) *apiError {
	for _, id := range ids {
		m, found := s.uploads[id]
		if !found || m.appID != c.app.appID || m.kind != kind || m.temp != temp || c.now.Sub(m.at) > mediaTTL {
			return failMsg(40007, "invalid media_id: "+id)
		}
	}
	return nil
}

// uploaded reads the multipart field "media".
func (c *call) uploaded() ([]byte, *apiError) {
	_, params, err := mime.ParseMediaType(c.r.Header.Get("Content-Type"))
	if err != nil || params["boundary"] == "" {
		return nil, failMsg(41005, "media data missing")
	}
	mr := multipart.NewReader(bytes.NewReader(c.body), params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil {
			return nil, failMsg(41005, "media data missing")
		}
		if p.FormName() == "media" {
			data, err := io.ReadAll(p)
			if err != nil || len(data) == 0 {
				return nil, failMsg(41005, "media data missing")
			}
			return data, nil
		}
	}
}

// mediaKind sniffs what WeChat accepts: PNG, JPEG, GIF images and MP4
// videos (an ISO BMFF "ftyp" box).
func mediaKind(b []byte) string {
	switch http.DetectContentType(b) {
	case "image/png", "image/jpeg", "image/gif":
		return "image"
	}
	if len(b) >= 12 && string(b[4:8]) == "ftyp" && !strings.HasPrefix(string(b[8:12]), "qt") {
		return "video"
	}
	return ""
}
