package extconfig

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/minifleet/minifleet/app/model"
)

// RenderExtJSON produces the exact ext_json string wxa/commit sends for app
// appID (§8): an object with extAppid, extEnable true, ext = cfg and the
// extra keys the template allows. cfg must pass Validate; page paths in
// extra are checked against templatePages, as WeChat would (85045, 85046,
// 85047), so those errors surface before a commit is spent.
//
// Output is deterministic (keys sorted at every level, no insignificant
// space) so its hash is stable, and keeps non-ASCII text raw: WeChat
// rejects \u-escaped Chinese with 47002.
func (s *Schema) RenderExtJSON(appID string, cfg map[string]any, extra map[string]any, templatePages []string) (string, error) {
	return s.RenderExtJSONWith(appID, cfg, extra, templatePages, nil)
}

// RenderExtJSONWith is RenderExtJSON with uploaded images given their
// absolute URLs by url (nil leaves the references); validation sees the
// config as stored.
func (s *Schema) RenderExtJSONWith(appID string, cfg, extra map[string]any, templatePages []string, url func(hash string) string) (string, error) {
	if appID == "" || strings.ContainsAny(appID, " \t\r\n\"\\") {
		return "", &model.Error{Code: model.CodeInvalid, Key: "config.err.appid", Field: "extAppid"}
	}
	if cfg == nil {
		cfg = map[string]any{}
	}
	if errs := s.Validate(cfg); len(errs) > 0 {
		return "", errs
	}
	if url != nil {
		cfg = s.ResolveImages(cfg, url)
	}
	doc := make(map[string]any, len(extra)+3)
	for k, v := range extra {
		switch {
		case k == "ext" || k == "extAppid" || k == "extEnable" || k == "directCommit":
			return "", keyErr("config.err.key_reserved", k, 85013)
		case !slices.Contains(s.allowedKeys, k):
			return "", keyErr("config.err.key_not_allowed", k, 85013)
		}
		doc[k] = v
	}
	if err := checkPages(doc, templatePages); err != nil {
		return "", err
	}
	doc["extAppid"], doc["extEnable"], doc["ext"] = appID, true, cfg
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return "", &model.Error{Code: model.CodeInvalid, Key: "config.err.encode", Err: err}
	}
	return string(rawLineSeparators(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))), nil
}

func keyErr(key, field string, errcode int) error {
	return &model.Error{Code: model.CodeInvalid, Key: key, Field: field,
		Data: map[string]any{"Key": field, "Errcode": errcode}, Err: fmt.Errorf("ext_json key %q", field)}
}

func pageErr(key, field, page string, errcode int) error {
	return &model.Error{Code: model.CodeInvalid, Key: key, Field: field,
		Data: map[string]any{"Path": page, "Errcode": errcode}, Err: fmt.Errorf("%s: page %q", field, page)}
}

// checkPages applies §8's path rules to pages, extPages and tabBar.list.
func checkPages(doc map[string]any, templatePages []string) error {
	_, hasPages := doc["pages"]
	_, hasExtPages := doc["extPages"]
	tabBar, _ := doc["tabBar"].(map[string]any)
	_, hasList := tabBar["list"]
	if !hasPages && !hasExtPages && !hasList {
		return nil
	}
	if len(templatePages) == 0 {
		// Without the template's pages nothing can be checked; refuse rather than guess.
		return &model.Error{Code: model.CodeConflict, Key: "config.err.pages_unknown", Err: fmt.Errorf("template pages unknown")}
	}
	effective := templatePages
	if hasPages {
		list, ok := strs(doc["pages"])
		if !ok {
			return pageErr("config.err.pages_type", "pages", "", 85013)
		}
		if len(list) == 0 {
			return pageErr("config.err.pages_empty", "pages", "", 85047)
		}
		for i, p := range list {
			if !slices.Contains(templatePages, p) {
				return pageErr("config.err.page_not_in_template", fmt.Sprintf("pages.%d", i), p, 85045)
			}
			if slices.Contains(list[:i], p) {
				return pageErr("config.err.page_twice", fmt.Sprintf("pages.%d", i), p, 85013)
			}
		}
		effective = list
	}
	if hasExtPages {
		m, ok := doc["extPages"].(map[string]any)
		if !ok {
			return pageErr("config.err.ext_pages_type", "extPages", "", 85013)
		}
		for _, p := range slices.Sorted(maps.Keys(m)) {
			if !slices.Contains(effective, p) {
				return pageErr("config.err.page_not_in_template", "extPages."+p, p, 85045)
			}
		}
	}
	if hasList {
		list, ok := tabBar["list"].([]any)
		if !ok {
			return pageErr("config.err.tabbar_type", "tabBar.list", "", 85013)
		}
		for i, it := range list {
			item, _ := it.(map[string]any)
			p, _ := item["pagePath"].(string)
			field := fmt.Sprintf("tabBar.list.%d.pagePath", i)
			if p == "" {
				return pageErr("config.err.tabbar_no_path", field, "", 85046)
			}
			if !slices.Contains(effective, p) {
				return pageErr("config.err.page_not_in_template", field, p, 85045)
			}
		}
	}
	return nil
}

func strs(v any) ([]string, bool) {
	switch v := v.(type) {
	case []string:
		return v, true
	case []any:
		out := make([]string, len(v))
		for i, x := range v {
			s, ok := x.(string)
			if !ok {
				return nil, false
			}
			out[i] = s
		}
		return out, true
	}
	return nil, false
}

// rawLineSeparators undoes encoding/json's \u2028 and \u2029 escapes, the
// only non-ASCII it escapes with SetEscapeHTML(false), so no \u escape of
// text ever reaches WeChat. Escaped backslashes are skipped in pairs, so a
// literal `\u2028` typed by a user stays as typed.
func rawLineSeparators(b []byte) []byte {
	if !bytes.Contains(b, []byte(`\u202`)) {
		return b
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] != '\\' || i+1 >= len(b) {
			out = append(out, b[i])
			continue
		}
		if b[i+1] == 'u' && i+6 <= len(b) && (string(b[i+2:i+6]) == "2028" || string(b[i+2:i+6]) == "2029") {
			if b[i+5] == '8' {
				out = append(out, "\u2028"...)
			} else {
				out = append(out, "\u2029"...)
			}
			i += 5
			continue
		}
		out = append(out, b[i], b[i+1])
		i++
	}
	return out
}
