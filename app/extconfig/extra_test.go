package extconfig

import (
	"strings"
	"testing"
)

// Extra ext_json keys typed per app: each checked for the template's
// allowance, JSON, shape and pages; what passes renders into ext_json.
func TestParseExtra(t *testing.T) {
	s := shop(t)
	for _, tc := range []struct {
		name    string
		texts   map[string]string
		wantErr map[string]string // form field → message key
		want    string            // the rendered ext_json's extra part
	}{
		{name: "none", texts: map[string]string{"window": "  "}, want: `"extEnable":true}`},
		{name: "window", texts: map[string]string{"window": `{"navigationBarTitleText": "面馆", "backgroundColor": "#fff"}`},
			want: `"window":{"backgroundColor":"#fff","navigationBarTitleText":"面馆"}}`},
		{name: "tabBar and extPages on template pages", texts: map[string]string{
			"tabBar":   `{"list": [{"pagePath": "pages/menu/menu", "text": "菜单"}, {"pagePath": "pages/me/me", "text": "我的"}]}`,
			"extPages": `{"pages/order/order": {"navigationBarTitleText": "下单"}}`},
			want: `"extPages":{"pages/order/order":{"navigationBarTitleText":"下单"}},"tabBar":{"list":[{"pagePath":"pages/menu/menu","text":"菜单"},{"pagePath":"pages/me/me","text":"我的"}]}}`},
		{name: "not JSON", texts: map[string]string{"window": `{"navigationBarTitleText": `}, wantErr: map[string]string{"extra.window": KeyExtraJSON}},
		{name: "trailing text", texts: map[string]string{"window": `{} {}`}, wantErr: map[string]string{"extra.window": KeyExtraJSON}},
		{name: "window a list", texts: map[string]string{"window": `["x"]`}, wantErr: map[string]string{"extra.window": KeyExtraShape}},
		{name: "tabBar without a list", texts: map[string]string{"tabBar": `{"color": "#000"}`}, wantErr: map[string]string{"extra.tabBar": "config.err.tabbar_type"}},
		{name: "tab on a page not in the template", texts: map[string]string{"tabBar": `{"list": [{"pagePath": "pages/cart/cart"}]}`},
			wantErr: map[string]string{"extra.tabBar": "config.err.page_not_in_template"}},
		{name: "tab without a page", texts: map[string]string{"tabBar": `{"list": [{"text": "空"}]}`},
			wantErr: map[string]string{"extra.tabBar": "config.err.tabbar_no_path"}},
		{name: "extPages key not a template page", texts: map[string]string{"extPages": `{"pages/cart/cart": {}}`},
			wantErr: map[string]string{"extra.extPages": "config.err.page_not_in_template"}},
		{name: "extPages outside the pages chosen", texts: map[string]string{"pages": `["pages/index/index"]`, "extPages": `{"pages/menu/menu": {}}`},
			wantErr: map[string]string{"extra.extPages": "config.err.page_not_in_template"}},
		{name: "key the template does not allow", texts: map[string]string{"plugins": `{}`}, wantErr: map[string]string{"extra.plugins": "config.err.key_not_allowed"}},
		{name: "reserved key", texts: map[string]string{"extAppid": `"wx1"`}, wantErr: map[string]string{"extra.extAppid": "config.err.key_not_allowed"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			extra, errs := s.ParseExtra(tc.texts, templatePages)
			if len(tc.wantErr) > 0 || len(errs) > 0 {
				if len(errs) != len(tc.wantErr) {
					t.Fatalf("errors %v, want %v", errs, tc.wantErr)
				}
				for f, k := range tc.wantErr {
					if errs[f].Key != k {
						t.Errorf("error at %s = %q, want %q", f, errs[f].Key, k)
					}
				}
				return
			}
			ext, err := s.RenderExtJSON("wx0123456789abcdef", map[string]any{"shopName": "面馆", "theme": "light"}, extra, templatePages)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasSuffix(ext, tc.want) {
				t.Errorf("ext_json = %s, want it to end %s", ext, tc.want)
			}
			// Stored and shown again, the same values come back.
			stored, err := EncodeExtra(extra)
			if err != nil {
				t.Fatal(err)
			}
			back, err := DecodeExtra(stored)
			if err != nil {
				t.Fatal(err)
			}
			again, errs := s.ParseExtra(ExtraTexts(back), templatePages)
			if len(errs) > 0 {
				t.Fatalf("saved texts do not parse again: %v", errs)
			}
			if ext2, _ := s.RenderExtJSON("wx0123456789abcdef", map[string]any{"shopName": "面馆", "theme": "light"}, again, templatePages); ext2 != ext {
				t.Errorf("round trip changed ext_json:\n%s\n%s", ext, ext2)
			}
		})
	}
}
