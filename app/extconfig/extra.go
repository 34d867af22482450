package extconfig

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"

	"github.com/minifleet/minifleet/app/model"
)

// Messages of the per-app extra ext_json keys (form fields "extra.<key>").
const (
	KeyExtraJSON  = "config.err.extra_json"  // not JSON
	KeyExtraShape = "config.err.extra_shape" // {Want}
)

// extraShapes is the JSON type each extra key must have in ext_json (the
// app.json fields of the same names).
var extraShapes = map[string]string{
	"extPages": "object", "window": "object", "tabBar": "object", "networkTimeout": "object", "plugins": "object",
	"pages": "array", "subPackages": "array", "navigateToMiniProgramAppIdList": "array", "requiredPrivateInfos": "array",
	"functionPages": "boolean", "lazyCodeLoading": "string",
}

// ExtraField is the form name of an extra key's JSON textarea.
func ExtraField(key string) string { return "extra." + key }

// ParseExtra reads the extra ext_json keys typed for one app, one JSON text
// per key the template allows (an empty text: the key is not set), and
// checks them as RenderExtJSON and WeChat will: a key the template does not
// allow, text that is not JSON, a value of the wrong shape (window an object,
// tabBar an object with a list, pages a list …), and page paths not in the
// template's pages (extPages keys, tabBar.list pagePaths, pages). Errors are
// keyed by form field (ExtraField). Numbers stay exact (json.Number).
func (s *Schema) ParseExtra(texts map[string]string, templatePages []string) (map[string]any, FieldErrors) {
	extra, errs := map[string]any{}, FieldErrors{}
	for _, k := range slices.Sorted(maps.Keys(texts)) {
		text := strings.TrimSpace(texts[k])
		if text == "" {
			continue
		}
		field := ExtraField(k)
		if !slices.Contains(s.allowedKeys, k) {
			errs.Add(field, Message{Key: "config.err.key_not_allowed", Args: map[string]any{"Key": k}})
			continue
		}
		dec := json.NewDecoder(strings.NewReader(text))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil || dec.More() {
			errs.Add(field, Message{Key: KeyExtraJSON})
			continue
		}
		if want := extraShapes[k]; jsonKind(v) != want {
			errs.Add(field, Message{Key: KeyExtraShape, Args: map[string]any{"Want": want}})
			continue
		}
		if k == "tabBar" {
			if _, ok := v.(map[string]any)["list"].([]any); !ok {
				errs.Add(field, Message{Key: "config.err.tabbar_type"})
				continue
			}
		}
		extra[k] = v
	}
	if len(errs) == 0 {
		// Page paths, with every key in place (pages narrows what extPages
		// and tabBar may name); the error names the key it is in.
		var me *model.Error
		if err := checkPages(extra, templatePages); errors.As(err, &me) {
			top, _, _ := strings.Cut(me.Field, ".")
			if top == "" {
				top = "pages"
			}
			errs.Add(ExtraField(top), Message{Key: me.Key, Args: me.Data})
		}
	}
	if len(errs) == 0 {
		errs = nil
	}
	return extra, errs
}

func jsonKind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case bool:
		return "boolean"
	case string:
		return "string"
	case json.Number:
		return "number"
	}
	return "null"
}

// ExtraTexts is the form for saved extra keys: each value as indented JSON
// (keys sorted), what ParseExtra reads back into the same values.
func ExtraTexts(extra map[string]any) map[string]string {
	out := make(map[string]string, len(extra))
	for k, v := range extra {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(v); err == nil {
			out[k] = strings.TrimSuffix(buf.String(), "\n")
		}
	}
	return out
}

// EncodeExtra is the stored form of extra keys: deterministic JSON.
func EncodeExtra(extra map[string]any) (string, error) {
	if len(extra) == 0 {
		return "{}", nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(extra); err != nil {
		return "", err
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

// DecodeExtra reads stored extra keys ("" or "{}": none).
func DecodeExtra(raw string) (map[string]any, error) {
	if raw == "" {
		return map[string]any{}, nil
	}
	return DecodeConfig([]byte(raw))
}
