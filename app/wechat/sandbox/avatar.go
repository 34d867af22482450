package sandbox

import (
	"bytes"
	"hash/fnv"
	"image"
	"image/color"
	"image/png"
	"net/http"
)

// headImgURL is the head_img the sandbox reports for an authorizer: a small
// generated PNG it serves itself under AssetBase, so avatars show offline.
func (s *Sandbox) headImgURL(appID string) string {
	return s.opts.AssetBase + "/mmopen/" + appID + "/0"
}

// serveHeadImg answers GET /mmopen/{appid}/0 with appID's generated avatar.
func (s *Sandbox) serveHeadImg(w http.ResponseWriter, r *http.Request) {
	appID := r.PathValue("appid")
	if !validAvatarID(appID) {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	_, _ = w.Write(avatarPNG(appID))
}

func validAvatarID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, c := range []byte(id) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// avatarPNG draws a 64×64 symmetric 5×5 identicon whose colour and pattern
// come from a hash of id: the same app always gets the same picture.
func avatarPNG(id string) []byte {
	f := fnv.New64a()
	f.Write([]byte(id))
	h := f.Sum64()
	fg := color.RGBA{R: 60 + uint8(h>>8)%140, G: 60 + uint8(h>>16)%140, B: 60 + uint8(h>>24)%140, A: 255}
	bg := color.RGBA{R: 241, G: 245, B: 249, A: 255}
	const size, cells, margin = 64, 5, 7
	cell := (size - 2*margin) / cells
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			img.SetRGBA(x, y, bg)
		}
	}
	bits := h >> 32
	for row := 0; row < cells; row++ {
		for col := 0; col < 3; col++ {
			if bits&1 == 1 {
				for _, c := range []int{col, cells - 1 - col} {
					for y := margin + row*cell; y < margin+(row+1)*cell; y++ {
						for x := margin + c*cell; x < margin+(c+1)*cell; x++ {
							img.SetRGBA(x, y, fg)
						}
					}
				}
			}
			bits >>= 1
		}
	}
	var buf bytes.Buffer
	_ = png.Encode(&buf, img)
	return buf.Bytes()
}
