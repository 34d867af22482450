package extconfig

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/minifleet/minifleet/app/model"
)

var templatePages = []string{"pages/index/index", "pages/menu/menu", "pages/order/order", "pages/me/me"}

func TestRenderGolden(t *testing.T) {
	s := shop(t)
	for _, tc := range []struct {
		name  string
		cfg   map[string]any
		extra map[string]any
		want  string
	}{
		{"minimal", map[string]any{"shopName": "面馆", "theme": "light"}, nil,
			`{"ext":{"shopName":"面馆","theme":"light"},"extAppid":"wx0123456789abcdef","extEnable":true}`},
		{"every kind", fullConfig(), nil,
			`{"ext":{"banners":[{"image":"https://cdn.example.com/a.jpg","title":"新品","visible":true,"weight":2},{"image":"https://cdn.example.com/b.jpg","visible":false}],` +
				`"brandColor":"#FF6600","deliveryFee":3.5,"intro":"手工拉面\n第二行","logo":"https://cdn.example.com/logo.png","open":true,` +
				`"shopName":"老王面馆","tables":12,"theme":"dark"},"extAppid":"wx0123456789abcdef","extEnable":true}`},
		{"allowed keys", map[string]any{"shopName": "面馆", "theme": "light"}, map[string]any{
			"window":   map[string]any{"navigationBarTitleText": "面馆", "navigationBarBackgroundColor": "#ffffff"},
			"pages":    []any{"pages/menu/menu", "pages/index/index"},
			"extPages": map[string]any{"pages/menu/menu": map[string]any{"navigationBarTitleText": "菜单"}},
			"tabBar":   map[string]any{"list": []any{map[string]any{"pagePath": "pages/menu/menu", "text": "菜单"}}},
		}, `{"ext":{"shopName":"面馆","theme":"light"},"extAppid":"wx0123456789abcdef","extEnable":true,` +
			`"extPages":{"pages/menu/menu":{"navigationBarTitleText":"菜单"}},"pages":["pages/menu/menu","pages/index/index"],` +
			`"tabBar":{"list":[{"pagePath":"pages/menu/menu","text":"菜单"}]},` +
			`"window":{"navigationBarBackgroundColor":"#ffffff","navigationBarTitleText":"面馆"}}`},
		// Raw text, never \u escapes: WeChat answers 47002 to escaped Chinese,
		// and encoding/json would escape <, >, & and U+2028 by default.
		{"raw text", map[string]any{"shopName": "<b>A&B</b> 面馆\u2028新\u2029", "theme": "light", "intro": `a\u2028b "q"`}, nil,
			"{\"ext\":{\"intro\":\"a\\\\u2028b \\\"q\\\"\",\"shopName\":\"<b>A&B</b> 面馆\u2028新\u2029\",\"theme\":\"light\"},\"extAppid\":\"wx0123456789abcdef\",\"extEnable\":true}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.RenderExtJSON("wx0123456789abcdef", tc.cfg, tc.extra, templatePages)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got\n%s\nwant\n%s", got, tc.want)
			}
			if strings.Contains(strings.ReplaceAll(got, `\\u`, ""), `\u`) {
				t.Errorf("output has a \\u escape: %s", got)
			}
			// It is one JSON object that decodes back to the same config.
			var doc map[string]any
			if err := json.Unmarshal([]byte(got), &doc); err != nil {
				t.Fatalf("not JSON: %v", err)
			}
			if doc["extAppid"] != "wx0123456789abcdef" || doc["extEnable"] != true {
				t.Errorf("extAppid/extEnable: %v", doc)
			}
			// wxa/commit carries it as a string field, as §8's example shows.
			body, _ := json.Marshal(map[string]any{"template_id": 12, "ext_json": got})
			var back struct {
				ExtJSON string `json:"ext_json"`
			}
			if json.Unmarshal(body, &back); back.ExtJSON != got {
				t.Error("ext_json does not survive being a string field")
			}
		})
	}
}

func TestRenderDeterministic(t *testing.T) {
	s := shop(t)
	extra := map[string]any{"window": map[string]any{"b": 1, "a": 2, "c": map[string]any{"z": 1, "y": 2}}}
	first, err := s.RenderExtJSON("wx1", fullConfig(), extra, templatePages)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		if got, _ := s.RenderExtJSON("wx1", fullConfig(), extra, templatePages); got != first {
			t.Fatalf("render %d differs:\n%s\n%s", i, got, first)
		}
	}
	// A config read back from storage renders the same bytes as the one from the form.
	raw, _ := json.Marshal(fullConfig())
	stored, _ := DecodeConfig(raw)
	if got, _ := s.RenderExtJSON("wx1", stored, extra, templatePages); got != first {
		t.Errorf("stored config renders differently:\n%s\n%s", got, first)
	}
}

func TestRenderRefuses(t *testing.T) {
	s := shop(t)
	ok := map[string]any{"shopName": "面馆", "theme": "light"}
	for _, tc := range []struct {
		name    string
		appID   string
		cfg     map[string]any
		extra   map[string]any
		pages   []string
		key     string
		field   string
		errcode int
	}{
		{"no appid", "", ok, nil, templatePages, "config.err.appid", "extAppid", 0},
		{"appid with quote", `wx"1`, ok, nil, templatePages, "config.err.appid", "extAppid", 0},
		{"reserved ext", "wx1", ok, map[string]any{"ext": map[string]any{}}, templatePages, "config.err.key_reserved", "ext", 85013},
		{"reserved extAppid", "wx1", ok, map[string]any{"extAppid": "wx2"}, templatePages, "config.err.key_reserved", "extAppid", 85013},
		{"reserved directCommit", "wx1", ok, map[string]any{"directCommit": true}, templatePages, "config.err.key_reserved", "directCommit", 85013},
		{"not allowed", "wx1", ok, map[string]any{"plugins": map[string]any{}}, templatePages, "config.err.key_not_allowed", "plugins", 85013},
		{"page not in template", "wx1", ok, map[string]any{"pages": []any{"pages/index/index", "pages/admin/admin"}}, templatePages, "config.err.page_not_in_template", "pages.1", 85045},
		{"empty pages", "wx1", ok, map[string]any{"pages": []any{}}, templatePages, "config.err.pages_empty", "pages", 85047},
		{"pages not strings", "wx1", ok, map[string]any{"pages": []any{1}}, templatePages, "config.err.pages_type", "pages", 85013},
		{"page twice", "wx1", ok, map[string]any{"pages": []string{"pages/me/me", "pages/me/me"}}, templatePages, "config.err.page_twice", "pages.1", 85013},
		{"extPages unknown page", "wx1", ok, map[string]any{"extPages": map[string]any{"pages/x/x": map[string]any{}}}, templatePages, "config.err.page_not_in_template", "extPages.pages/x/x", 85045},
		{"extPages outside chosen pages", "wx1", ok, map[string]any{"pages": []any{"pages/index/index"}, "extPages": map[string]any{"pages/me/me": map[string]any{}}}, templatePages, "config.err.page_not_in_template", "extPages.pages/me/me", 85045},
		{"tabBar item without path", "wx1", ok, map[string]any{"tabBar": map[string]any{"list": []any{map[string]any{"text": "x"}}}}, templatePages, "config.err.tabbar_no_path", "tabBar.list.0.pagePath", 85046},
		{"tabBar unknown page", "wx1", ok, map[string]any{"tabBar": map[string]any{"list": []any{map[string]any{"pagePath": "pages/x/x"}}}}, templatePages, "config.err.page_not_in_template", "tabBar.list.0.pagePath", 85045},
		{"pages unknown", "wx1", ok, map[string]any{"pages": []any{"pages/index/index"}}, nil, "config.err.pages_unknown", "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.RenderExtJSON(tc.appID, tc.cfg, tc.extra, tc.pages)
			var e *model.Error
			if !errors.As(err, &e) {
				t.Fatalf("got %q, %v; want a coded error", got, err)
			}
			if e.Key != tc.key || e.Field != tc.field {
				t.Errorf("error %s at %q, want %s at %q", e.Key, e.Field, tc.key, tc.field)
			}
			if tc.errcode != 0 && e.Data["Errcode"] != tc.errcode {
				t.Errorf("errcode %v, want %d", e.Data["Errcode"], tc.errcode)
			}
		})
	}
	// An invalid config never renders.
	_, err := s.RenderExtJSON("wx1", map[string]any{"theme": "neon"}, nil, templatePages)
	var fe FieldErrors
	if !errors.As(err, &fe) || fe["shopName"].Key != KeyRequired || fe["theme"].Key != KeyChoice {
		t.Errorf("invalid config: %v", err)
	}
	// Window-only extras need no page list.
	if _, err := s.RenderExtJSON("wx1", ok, map[string]any{"window": map[string]any{}}, nil); err != nil {
		t.Errorf("window without pages: %v", err)
	}
}

func TestStandardTemplateKeys(t *testing.T) {
	s, err := ParseSchema([]byte(`{"type": "object", "x-minifleet": {"allowedKeys": ["window"], "standardTemplate": true},
		"properties": {"a": {"type": "string", ` + label + `}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.RenderExtJSON("wx1", nil, map[string]any{"pages": []any{"p"}}, []string{"p"}); model.ErrorCode(err) != model.CodeInvalid {
		t.Errorf("standard template with pages: %v", err)
	}
	got, err := s.RenderExtJSON("wx1", nil, map[string]any{"window": map[string]any{"t": "x"}}, nil)
	if want := `{"ext":{},"extAppid":"wx1","extEnable":true,"window":{"t":"x"}}`; err != nil || got != want {
		t.Errorf("got %s, %v; want %s", got, err, want)
	}
}

func TestRawLineSeparators(t *testing.T) {
	for in, want := range map[string]string{
		`"a\u2028b"`:  "\"a\u2028b\"",
		`"a\u2029"`:   "\"a\u2029\"",
		`"a\\u2028"`:  `"a\\u2028"`, // an escaped backslash, then text
		`"a\\\u2028"`: "\"a\\\\\u2028\"",
		`"\u2027\n"`:  `"\u2027\n"`,
		`"tail\u202"`: `"tail\u202"`,
		`"plain"`:     `"plain"`,
	} {
		if got := string(rawLineSeparators([]byte(in))); got != want {
			t.Errorf("rawLineSeparators(%s) = %s, want %s", in, got, want)
		}
	}
}
