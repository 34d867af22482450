package sandbox

import (
	"bytes"
	"hash/fnv"
	"image"
	"image/color"
	"image/png"
	"strings"
)

// Audit rejections carry their screenshots as media ids (weapp_audit_fail
// ScreenShot, get_auditstatus screenshot), read with the permanent-material
// API (wechat-protocol.md §5, weapp_audit_fail: "fetch via permanent-material API").

// screenshotPrefix names the media ids the sandbox's audits hand out.
const screenshotPrefix = "sandbox_media_screenshot_"

// apiGetMaterial answers POST /cgi-bin/material/get_material {"media_id"}
// with the image's bytes, or 40007 for a media id it never handed out.
func (s *Sandbox) apiGetMaterial(c *call) any {
	var req struct {
		MediaID string `json:"media_id"`
	}
	if e := c.decode(&req); e != nil {
		return e
	}
	n, ok := strings.CutPrefix(req.MediaID, screenshotPrefix)
	if !ok || n == "" || len(n) > 8 || strings.Trim(n, "0123456789") != "" {
		return failMsg(40007, "invalid media_id")
	}
	return binary{
		contentType: "image/png",
		header:      map[string]string{"Content-Disposition": `attachment; filename="` + req.MediaID + `.png"`},
		body:        screenshotPNG(req.MediaID),
	}
}

// screenshotPNG draws a phone-shaped 270×480 "screenshot": a navigation
// bar, content blocks and a red box round the block the reviewer objected
// to, varied by id so two screenshots look different.
func screenshotPNG(id string) []byte {
	f := fnv.New32a()
	f.Write([]byte(id))
	h := f.Sum32()
	const w, ht = 270, 480
	img := image.NewRGBA(image.Rect(0, 0, w, ht))
	fill := func(x0, y0, x1, y1 int, c color.RGBA) {
		for y := max(y0, 0); y < min(y1, ht); y++ {
			for x := max(x0, 0); x < min(x1, w); x++ {
				img.SetRGBA(x, y, c)
			}
		}
	}
	fill(0, 0, w, ht, color.RGBA{248, 248, 248, 255})
	fill(0, 0, w, 56, color.RGBA{7, 193, 96, 255}) // navigation bar
	fill(16, 22, 120, 34, color.RGBA{255, 255, 255, 255})
	blocks := 4 + int(h%3)
	bad := int(h/3) % blocks
	for i := 0; i < blocks; i++ {
		y := 72 + i*96
		fill(16, y, w-16, y+80, color.RGBA{255, 255, 255, 255})
		fill(28, y+14, 28+52, y+66, color.RGBA{uint8(200 - 20*i), 210, 230, 255})
		fill(96, y+18, w-40, y+28, color.RGBA{210, 210, 210, 255})
		fill(96, y+40, w-80, y+50, color.RGBA{225, 225, 225, 255})
		if i == bad { // the reviewer's red box
			for t := 0; t < 3; t++ {
				fill(12-t, y-4-t, w-12+t, y-3-t, color.RGBA{230, 40, 40, 255})
				fill(12-t, y+84+t, w-12+t, y+85+t, color.RGBA{230, 40, 40, 255})
				fill(12-t, y-4-t, 13-t, y+85+t, color.RGBA{230, 40, 40, 255})
				fill(w-13+t, y-4-t, w-12+t, y+85+t, color.RGBA{230, 40, 40, 255})
			}
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	return buf.Bytes()
}
