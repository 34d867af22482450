package wechat

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
)

// Media for the reviewers: screenshots and screen recordings go into
// submit_audit's preview_info, images explaining a resubmission into its
// feedback_stuff. WeChat keeps either kind of media id for three days.

// WeChat's limits on audit media (uploadMediaToCodeAudit, uploadTempMedia).
const (
	MaxAuditImageBytes = 2 << 20  // PNG, JPEG, GIF
	MaxAuditVideoBytes = 10 << 20 // MP4
)

// UploadAuditMedia uploads a screenshot (PNG/JPEG/GIF ≤2 MB) or a screen
// recording (MP4 ≤10 MB) for preview_info and returns its media id and the
// type WeChat saw ("image" or "video").
// Endpoint: POST /wxa/uploadmedia (multipart field "media").
func (c *Client) UploadAuditMedia(ctx context.Context, appID, filename, contentType string, data []byte) (mediaID, kind string, err error) {
	var out struct {
		Type    string `json:"type"`
		MediaID string `json:"mediaid"`
	}
	r := request{method: http.MethodPost, path: "/wxa/uploadmedia", auth: authAuthorizer, appID: appID,
		file: &filePart{field: "media", name: filename, contentType: contentType, data: data}}
	if err := c.call(ctx, r, &out); err != nil {
		return "", "", err
	}
	if out.MediaID == "" {
		return "", "", missing(r.path, "mediaid")
	}
	return out.MediaID, out.Type, nil
}

// UploadTempImage uploads an image as temporary material, the kind of
// media id submit_audit's feedback_stuff takes.
// Endpoint: POST /cgi-bin/media/upload?type=image (multipart field "media").
func (c *Client) UploadTempImage(ctx context.Context, appID, filename, contentType string, data []byte) (mediaID string, err error) {
	var out struct {
		MediaID string `json:"media_id"`
	}
	r := request{method: http.MethodPost, path: "/cgi-bin/media/upload", query: url.Values{"type": {"image"}},
		auth: authAuthorizer, appID: appID, file: &filePart{field: "media", name: filename, contentType: contentType, data: data}}
	if err := c.call(ctx, r, &out); err != nil {
		return "", err
	}
	if out.MediaID == "" {
		return "", missing(r.path, "media_id")
	}
	return out.MediaID, nil
}

// encode writes the part as a multipart/form-data body.
func (f *filePart) encode() ([]byte, string, error) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="`+f.field+`"; filename="`+quoteName(f.name)+`"`)
	h.Set("Content-Type", f.contentType)
	part, err := w.CreatePart(h)
	if err != nil {
		return nil, "", err
	}
	if _, err := part.Write(f.data); err != nil {
		return nil, "", err
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), w.FormDataContentType(), nil
}

// quoteName keeps a file name from breaking out of its header.
func quoteName(s string) string {
	return strings.NewReplacer(`\`, `_`, `"`, `_`, "\r", "", "\n", "").Replace(s)
}
