package extconfig

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// Images and checked texts (issue #16). An image field's value is either an
// https URL typed by hand or a reference to an image uploaded into
// Minifleet, "upload:<sha256 hex>", which the stored config keeps and
// RenderExtJSONWith turns into its absolute URL. "x-image" gives an image
// field's upload limits; "x-sec-check": true marks a text field for
// WeChat's text check before a commit.

// ImageRefPrefix starts the value of an uploaded image.
const ImageRefPrefix = "upload:"

// Upload limits: the defaults, and the largest a schema may allow (WeChat's
// media check downloads at most 10 MB).
const (
	DefaultImageBytes = 1 << 20
	MaxImageBytes     = 10 << 20
	DefaultImageSide  = 2048
	MaxImageSide      = 4096 // 16.7 M pixels: at most 64 MiB decoded
)

// ImageLimits is what an uploaded image may be.
type ImageLimits struct {
	MaxBytes  int `json:"maxBytes,omitempty"`
	MaxWidth  int `json:"maxWidth,omitempty"`
	MaxHeight int `json:"maxHeight,omitempty"`
}

// ImageRef is the value naming an uploaded image.
func ImageRef(hash string) string { return ImageRefPrefix + hash }

// IsImageRef tells whether v names an uploaded image.
func IsImageRef(v string) bool {
	_, ok := ImageHash(v)
	return ok
}

// ImageHash is the hash an image reference names.
func ImageHash(v string) (string, bool) {
	h, ok := strings.CutPrefix(v, ImageRefPrefix)
	if !ok || len(h) != 64 || strings.ToLower(h) != h {
		return "", false
	}
	if _, err := hex.DecodeString(h); err != nil {
		return "", false
	}
	return h, true
}

func (n *node) parseContent(o *obj, path string) error {
	if _, ok := o.raw["x-image"]; ok {
		if n.kind != KindImage {
			return &SchemaError{Path: path + "/x-image", Msg: `x-image is for image fields ("format": "image-url")`}
		}
		io, err := decodeObj(o.raw["x-image"], path+"/x-image")
		if err != nil {
			return err
		}
		if err := io.only([]string{"maxBytes", "maxWidth", "maxHeight"}, path+"/x-image"); err != nil {
			return err
		}
		if _, err := o.get("x-image", &n.image, path); err != nil {
			return err
		}
	}
	if n.kind == KindImage {
		for _, b := range []struct {
			v        *int
			def, max int
			key      string
		}{{&n.image.MaxBytes, DefaultImageBytes, MaxImageBytes, "maxBytes"}, {&n.image.MaxWidth, DefaultImageSide, MaxImageSide, "maxWidth"},
			{&n.image.MaxHeight, DefaultImageSide, MaxImageSide, "maxHeight"}} {
			switch {
			case *b.v == 0:
				*b.v = b.def
			case *b.v < 1 || *b.v > b.max:
				return &SchemaError{Path: path + "/x-image/" + b.key, Msg: fmt.Sprintf("must be between 1 and %d", b.max)}
			}
		}
	}
	if has, err := o.get("x-sec-check", &n.secCheck, path); err != nil {
		return err
	} else if has && n.kind != KindText {
		return &SchemaError{Path: path + "/x-sec-check", Msg: "x-sec-check is for text fields"}
	}
	return nil
}

// Content is one image or checked text in a config: Path is its field path
// ("logo", "banners.1.image"), Value the image's hash or the text.
type Content struct {
	Path  string
	Image bool
	Value string
}

// Contents lists the uploaded images and the checked texts of cfg, in the
// schema's order.
func (s *Schema) Contents(cfg map[string]any) []Content {
	var out []Content
	var walk func(nodes []*node, m map[string]any, prefix string)
	walk = func(nodes []*node, m map[string]any, prefix string) {
		for _, n := range nodes {
			v := m[n.name]
			switch n.kind {
			case KindImage:
				if str, ok := v.(string); ok {
					if h, ok := ImageHash(str); ok {
						out = append(out, Content{Path: prefix + n.name, Image: true, Value: h})
					}
				}
			case KindText:
				if str, ok := v.(string); ok && n.secCheck && strings.TrimSpace(str) != "" {
					out = append(out, Content{Path: prefix + n.name, Value: str})
				}
			case KindList:
				rows, _ := v.([]any)
				for i, r := range rows {
					if rm, ok := r.(map[string]any); ok {
						walk(n.items, rm, prefix+n.name+"."+strconv.Itoa(i)+".")
					}
				}
			}
		}
	}
	walk(s.fields, cfg, "")
	return out
}

// ResolveImages returns a copy of cfg whose image references are replaced
// by url(hash).
func (s *Schema) ResolveImages(cfg map[string]any, url func(hash string) string) map[string]any {
	var walk func(nodes []*node, m map[string]any) map[string]any
	walk = func(nodes []*node, m map[string]any) map[string]any {
		out := make(map[string]any, len(m))
		for k, v := range m {
			out[k] = v
		}
		for _, n := range nodes {
			switch v := m[n.name].(type) {
			case string:
				if h, ok := ImageHash(v); ok && n.kind == KindImage {
					out[n.name] = url(h)
				}
			case []any:
				if n.kind == KindList {
					rows := make([]any, len(v))
					for i, r := range v {
						if rm, ok := r.(map[string]any); ok {
							rows[i] = walk(n.items, rm)
						} else {
							rows[i] = r
						}
					}
					out[n.name] = rows
				}
			}
		}
		return out
	}
	return walk(s.fields, cfg)
}
