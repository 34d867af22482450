package platform

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"image"
	_ "image/gif"  // DecodeConfig of GIF screenshots
	_ "image/jpeg" // and JPEG
	_ "image/png"  // and PNG
	"net/http"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/wechat"
)

// Files for WeChat's reviewers: screenshots and recordings (preview_info)
// and images explaining a resubmission (feedback_stuff). They join the
// release's payload by content hash, so adding or removing one voids an
// approval like any other change; the bytes are uploaded to WeChat at
// submission, as WeChat keeps a media id three days and an approval may
// take longer.

// Audit media purposes: which list of the submit form a file joins.
const (
	MediaPreview  = "preview"
	MediaFeedback = "feedback"
)

// mediaFresh is how long a WeChat media id is reused: well inside its
// three days, so a submission never carries one that expires in flight.
const mediaFresh = 60 * time.Hour

// maxScreenshotSide refuses images no reviewer needs (and decompression
// bombs) before any pixel is decoded.
const maxScreenshotSide = 8000

// checkAuditMedia sniffs a file and applies WeChat's limits: PNG, JPEG or
// GIF up to 2 MB (a feedback image too), MP4 up to 10 MB as a recording.
func checkAuditMedia(purpose string, data []byte) (kind, contentType string, err error) {
	ct := http.DetectContentType(data)
	switch {
	case len(data) == 0:
		return "", "", model.FieldError("media", "release.media.err.empty")
	case ct == "image/png" || ct == "image/jpeg" || ct == "image/gif":
		if len(data) > wechat.MaxAuditImageBytes {
			return "", "", model.FieldError("media", "release.media.err.image_size")
		}
		cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
		if err != nil || cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width > maxScreenshotSide || cfg.Height > maxScreenshotSide {
			return "", "", model.FieldError("media", "release.media.err.image_bad")
		}
		return model.MediaImage, ct, nil
	case purpose == MediaPreview && isMP4(data):
		if len(data) > wechat.MaxAuditVideoBytes {
			return "", "", model.FieldError("media", "release.media.err.video_size")
		}
		return model.MediaVideo, "video/mp4", nil
	}
	return "", "", model.FieldError("media", "release.media.err.type")
}

// isMP4 reads the ISO BMFF "ftyp" box every MP4 starts with (a QuickTime
// "qt" brand is a .mov, which WeChat refuses).
func isMP4(b []byte) bool {
	return len(b) >= 12 && string(b[4:8]) == "ftyp" && !strings.HasPrefix(string(b[8:12]), "qt")
}

// AddAuditMedia checks an uploaded file, keeps it and adds it to the
// release's preview or feedback list (a file already there is not added
// twice). seenSeq is the Seq the editor saw.
func (r *Releases) AddAuditMedia(ctx context.Context, tenantID, releaseID int64, actor model.Actor, seenSeq int64, purpose, name string, data []byte) (model.Release, error) {
	rel, err := r.Store.Release(ctx, tenantID, releaseID)
	if err != nil {
		return rel, err
	}
	kind, ct, err := checkAuditMedia(purpose, data)
	if err != nil {
		return rel, err
	}
	sum := sha256.Sum256(data)
	m := model.AuditMedia{SHA256: hex.EncodeToString(sum[:]), Kind: kind, Name: cleanMediaName(name), Size: len(data)}
	ch := rel.Submit
	list := &ch.Preview
	if purpose == MediaFeedback {
		list = &ch.FeedbackStuff
	}
	if slices.ContainsFunc(*list, func(x model.AuditMedia) bool { return x.SHA256 == m.SHA256 }) {
		return rel, nil
	}
	*list = append(slices.Clone(*list), m)
	// Check the limits before keeping the bytes: a refused file is not stored.
	if err := ch.Check(); err != nil {
		return rel, err
	}
	if err := r.Store.SaveAuditMedia(ctx, tenantID, m, ct, data); err != nil {
		return rel, err
	}
	return r.AmendSubmit(ctx, tenantID, releaseID, actor, seenSeq, ch)
}

// RemoveAuditMedia takes a file off the release's lists.
func (r *Releases) RemoveAuditMedia(ctx context.Context, tenantID, releaseID int64, actor model.Actor, seenSeq int64, sha string) (model.Release, error) {
	rel, err := r.Store.Release(ctx, tenantID, releaseID)
	if err != nil {
		return rel, err
	}
	ch := rel.Submit
	named := func(m model.AuditMedia) bool { return m.SHA256 == sha }
	n := len(ch.Preview) + len(ch.FeedbackStuff)
	ch.Preview = slices.DeleteFunc(slices.Clone(ch.Preview), named)
	ch.FeedbackStuff = slices.DeleteFunc(slices.Clone(ch.FeedbackStuff), named)
	if len(ch.Preview)+len(ch.FeedbackStuff) == n {
		return rel, model.NotFound("audit_media")
	}
	return r.AmendSubmit(ctx, tenantID, releaseID, actor, seenSeq, ch)
}

// AuditMedia loads a file of a release (only one the release names).
func (r *Releases) AuditMedia(ctx context.Context, tenantID, releaseID int64, sha string) ([]byte, string, error) {
	rel, err := r.Store.Release(ctx, tenantID, releaseID)
	if err != nil {
		return nil, "", err
	}
	named := func(m model.AuditMedia) bool { return m.SHA256 == sha }
	if !slices.ContainsFunc(rel.Submit.Preview, named) && !slices.ContainsFunc(rel.Submit.FeedbackStuff, named) {
		return nil, "", model.NotFound("audit_media")
	}
	return r.Store.AuditMediaData(ctx, tenantID, sha)
}

// ResubmittingAfterRejection reports whether the app's latest audit was
// rejected: only then does WeChat read feedback_info and feedback_stuff.
func (r *Releases) ResubmittingAfterRejection(ctx context.Context, tenantID int64, appID string) (bool, error) {
	return r.Store.LastAuditRejected(ctx, tenantID, appID)
}

func cleanMediaName(name string) string {
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, name)
	if rs := []rune(name); len(rs) > 80 {
		name = string(rs[:80])
	}
	if name == "" || name == "." || name == "/" {
		name = "media"
	}
	return name
}

// submitRequest is submit_audit's body for rel, with WeChat media ids for
// its files (uploaded now unless a fresh id is known). Feedback goes only
// after a rejection, as WeChat ignores it otherwise.
func (r *Releases) submitRequest(ctx context.Context, rel model.Release) (wechat.SubmitAuditRequest, error) {
	req := submitRequest(rel)
	if u := rel.Submit.UGC; u != nil {
		d := &wechat.UGCDeclare{Scene: u.Scene, OtherSceneDesc: u.OtherSceneDesc, AuditDesc: u.AuditDesc}
		if !slices.Contains(u.Scene, model.UGCSceneNone) {
			d.Method = u.Method
			if u.HasAuditTeam {
				d.HasAuditTeam = 1
			}
		} else {
			d.OtherSceneDesc, d.AuditDesc = "", ""
		}
		req.UGCDeclare = d
	}
	for _, m := range rel.Submit.Preview {
		id, err := r.mediaID(ctx, rel, m, MediaPreview)
		if err != nil {
			return req, err
		}
		if req.PreviewInfo == nil {
			req.PreviewInfo = &wechat.PreviewInfo{}
		}
		if m.Kind == model.MediaVideo {
			req.PreviewInfo.VideoIDList = append(req.PreviewInfo.VideoIDList, id)
		} else {
			req.PreviewInfo.PicIDList = append(req.PreviewInfo.PicIDList, id)
		}
	}
	if len(rel.Submit.FeedbackStuff) > 0 {
		rejected, err := r.Store.LastAuditRejected(ctx, rel.TenantID, rel.AppID)
		if err != nil {
			return req, err
		}
		var ids []string
		for _, m := range rel.Submit.FeedbackStuff {
			if !rejected {
				break
			}
			id, err := r.mediaID(ctx, rel, m, MediaFeedback)
			if err != nil {
				return req, err
			}
			ids = append(ids, id)
		}
		req.FeedbackStuff = strings.Join(ids, "|")
	}
	return req, nil
}

// mediaID is a fresh WeChat media id for a file, uploading it when none is
// known or the known one is older than mediaFresh.
func (r *Releases) mediaID(ctx context.Context, rel model.Release, m model.AuditMedia, purpose string) (string, error) {
	id, at, ok, err := r.Store.AuditMediaID(ctx, rel.AppID, m.SHA256, purpose)
	if err != nil {
		return "", err
	}
	if ok && r.now().Sub(at) < mediaFresh {
		return id, nil
	}
	data, ct, err := r.Store.AuditMediaData(ctx, rel.TenantID, m.SHA256)
	if err != nil {
		return "", err
	}
	if purpose == MediaFeedback {
		id, err = r.WeChat.UploadTempImage(ctx, rel.AppID, m.Name, ct, data)
	} else {
		id, _, err = r.WeChat.UploadAuditMedia(ctx, rel.AppID, m.Name, ct, data)
	}
	if err != nil {
		return "", err
	}
	return id, r.Store.SaveAuditMediaID(ctx, rel.AppID, m.SHA256, purpose, id)
}
