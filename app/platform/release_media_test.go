package platform_test

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/minifleet/minifleet/app/model"
	"github.com/minifleet/minifleet/app/platform"
	"github.com/minifleet/minifleet/app/wechat/sandbox"
)

// testPNG draws a w×h PNG; noisy ones do not compress (to make big files).
func testPNG(t *testing.T, w, h int, noisy bool) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	rnd := rand.New(rand.NewPCG(uint64(w), uint64(h)))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.RGBA{uint8(x), uint8(y), 90, 255}
			if noisy {
				c = color.RGBA{uint8(rnd.Uint32()), uint8(rnd.Uint32()), uint8(rnd.Uint32()), 255}
			}
			img.SetRGBA(x, y, c)
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// bombPNG is a small PNG whose header claims 100000×100000 pixels.
func bombPNG(t *testing.T) []byte {
	b := testPNG(t, 4, 4, false)
	ihdr := b[8+8 : 8+8+13] // after the signature, the chunk's length and type
	binary.BigEndian.PutUint32(ihdr[0:4], 100000)
	binary.BigEndian.PutUint32(ihdr[4:8], 100000)
	binary.BigEndian.PutUint32(b[8+8+13:], crc32.ChecksumIEEE(b[8+4:8+8+13]))
	return b
}

// testMP4 is the start of an MP4 file: an ftyp box with the isom brand.
func testMP4(n int) []byte {
	b := make([]byte, n)
	copy(b, []byte{0, 0, 0, 0x18, 'f', 't', 'y', 'p', 'i', 's', 'o', 'm', 0, 0, 2, 0})
	return b
}

// The whole submit form reaches WeChat: items, version description, the
// UGC declaration, screenshots and recordings as fresh media ids, and
// after a rejection the feedback and its images. Media ids are reused
// while fresh and uploaded again before WeChat's three days are up.
func TestSubmitFormReachesWeChat(t *testing.T) {
	rr := newRelRig(t, 1)
	ctx := rr.ctx
	rel := rr.prepareToApproval(t, "1.0.0", "first")

	shot := testPNG(t, 90, 160, false)
	rel, err := rr.rel.AddAuditMedia(ctx, rr.tenantID, rel.ID, rr.dev, rel.Seq, platform.MediaPreview, `C:\shots\首页.png`, shot)
	if err != nil {
		t.Fatal(err)
	}
	rel, err = rr.rel.AddAuditMedia(ctx, rr.tenantID, rel.ID, rr.dev, rel.Seq, platform.MediaPreview, "tour.mp4", testMP4(4096))
	if err != nil {
		t.Fatal(err)
	}
	// The same file again is not added twice.
	if rel, err = rr.rel.AddAuditMedia(ctx, rr.tenantID, rel.ID, rr.dev, rel.Seq, platform.MediaPreview, "again.png", shot); err != nil || len(rel.Submit.Preview) != 2 {
		t.Fatalf("preview = %+v, %v", rel.Submit.Preview, err)
	}
	if rel.Submit.Preview[0].Name != "首页.png" || rel.Submit.Preview[0].Kind != model.MediaImage || rel.Submit.Preview[1].Kind != model.MediaVideo {
		t.Errorf("preview = %+v", rel.Submit.Preview)
	}
	ch := rel.Submit
	ch.VersionDesc = "新增会员卡页面"
	ch.UGC = &model.UGCDeclare{Scene: []int{model.UGCScenePicture, model.UGCSceneText}, Method: []int{model.UGCMethodAPI, model.UGCMethodManual}, HasAuditTeam: true, AuditDesc: "先审后发"}
	if rel, err = rr.rel.AmendSubmit(ctx, rr.tenantID, rel.ID, rr.dev, rel.Seq, ch); err != nil {
		t.Fatal(err)
	}
	rr.runJobs(t)
	rel = rr.approve(t, rr.want(t, rel.ID, model.RelAwaitingApproval))

	sub, ok := rr.sb.LastSubmission(rr.appID)
	if !ok || len(sub.PreviewPics) != 1 || len(sub.PreviewVideos) != 1 || sub.VersionDesc != "新增会员卡页面" ||
		!slices.Equal(sub.UGCScene, []int{2, 4}) || len(sub.FeedbackStuff) != 0 {
		t.Fatalf("submission = %+v", sub)
	}
	firstPic := sub.PreviewPics[0]

	// Rejected: resubmit with feedback and an image explaining the fix.
	rr.decide(t, sandbox.AuditDecision{Outcome: sandbox.AuditReject, Reason: "页面存在测试内容"})
	rel = rr.want(t, rel.ID, model.RelRejected)
	if again, err := rr.rel.ResubmittingAfterRejection(ctx, rr.tenantID, rr.appID); err != nil || !again {
		t.Fatalf("after a rejection: %v, %v", again, err)
	}
	if _, err := rr.rel.Recheck(ctx, rr.tenantID, rel.ID, rr.dev, rel.Seq); err != nil {
		t.Fatal(err)
	}
	rr.runJobs(t)
	rel = rr.want(t, rel.ID, model.RelAwaitingApproval)
	if rel, err = rr.rel.AddAuditMedia(ctx, rr.tenantID, rel.ID, rr.dev, rel.Seq, platform.MediaFeedback, "fixed.png", testPNG(t, 60, 60, false)); err != nil {
		t.Fatal(err)
	}
	ch = rel.Submit
	ch.FeedbackInfo = "已删除测试内容"
	if rel, err = rr.rel.AmendSubmit(ctx, rr.tenantID, rel.ID, rr.dev, rel.Seq, ch); err != nil {
		t.Fatal(err)
	}
	rr.runJobs(t)
	rel = rr.approve(t, rr.want(t, rel.ID, model.RelAwaitingApproval))
	sub, _ = rr.sb.LastSubmission(rr.appID)
	if sub.FeedbackInfo != "已删除测试内容" || len(sub.FeedbackStuff) != 1 || len(sub.PreviewPics) != 1 || sub.PreviewPics[0] != firstPic {
		t.Fatalf("resubmission = %+v (first pic %s)", sub, firstPic)
	}
	if up, temp := rr.sb.CallCount("uploadmedia"), rr.sb.CallCount("media_upload"); up != 2 || temp != 1 {
		t.Errorf("uploads = %d preview, %d feedback; want 2 and 1 (fresh ids reused)", up, temp)
	}

	// Rejected again, resubmitted after WeChat's ids are stale: uploaded anew.
	rr.clock.Advance(2 * time.Second) // (a push at the same second as the last would be a retry of it)
	rr.decide(t, sandbox.AuditDecision{Outcome: sandbox.AuditReject, Reason: "仍有测试内容"})
	rel = rr.want(t, rel.ID, model.RelRejected)
	rr.clock.Advance(61 * time.Hour)
	rr.sb.PushTicket() // WeChat pushes a ticket every 10 minutes; the old one has expired
	rr.sb.WaitPushes()
	if _, err := rr.rel.Recheck(ctx, rr.tenantID, rel.ID, rr.dev, rel.Seq); err != nil {
		t.Fatal(err)
	}
	rr.runJobs(t)
	rr.approve(t, rr.want(t, rel.ID, model.RelAwaitingApproval))
	sub, _ = rr.sb.LastSubmission(rr.appID)
	if len(sub.PreviewPics) != 1 || sub.PreviewPics[0] == firstPic || len(sub.FeedbackStuff) != 1 {
		t.Fatalf("after 61 h = %+v", sub)
	}
	if up := rr.sb.CallCount("uploadmedia"); up != 4 {
		t.Errorf("uploadmedia = %d, want 4", up)
	}
}

// Files WeChat would refuse are refused here, with words, and nothing is
// kept or changed.
func TestAuditMediaRefused(t *testing.T) {
	rr := newRelRig(t, 1)
	rel := rr.prepareToApproval(t, "1.0.0", "first")
	zip := append([]byte("PK\x03\x04"), make([]byte, 200)...)
	mov := testMP4(256)
	copy(mov[8:12], "qt  ")
	cases := []struct {
		name, purpose string
		data          []byte
		key           string
	}{
		{"empty", platform.MediaPreview, nil, "release.media.err.empty"},
		{"zip named .png", platform.MediaPreview, zip, "release.media.err.type"},
		{"QuickTime movie", platform.MediaPreview, mov, "release.media.err.type"},
		{"recording as feedback", platform.MediaFeedback, testMP4(256), "release.media.err.type"},
		{"screenshot over 2 MB", platform.MediaPreview, testPNG(t, 900, 900, true), "release.media.err.image_size"},
		{"decompression bomb", platform.MediaPreview, bombPNG(t), "release.media.err.image_bad"},
		{"truncated PNG", platform.MediaPreview, testPNG(t, 20, 20, false)[:30], "release.media.err.image_bad"},
		{"recording over 10 MB", platform.MediaPreview, testMP4(10<<20 + 1), "release.media.err.video_size"},
	}
	for _, c := range cases {
		_, err := rr.rel.AddAuditMedia(rr.ctx, rr.tenantID, rel.ID, rr.dev, rel.Seq, c.purpose, "x", c.data)
		var e *model.Error
		if !asModelError(err, &e) || e.Key != c.key || e.Field != "media" {
			t.Errorf("%s: err = %v, want %s", c.name, err, c.key)
		}
	}
	if n := rr.count(`SELECT COUNT(*) FROM audit_media`); n != 0 {
		t.Errorf("%d files kept", n)
	}
	if after := rr.get(t, rel.ID); after.Seq != rel.Seq || after.PayloadHash != rel.PayloadHash {
		t.Errorf("release changed: seq %d → %d", rel.Seq, after.Seq)
	}
}
