package extconfig

import "testing"

// BenchmarkRenderValidate is the per-app cost of a fleet-wide render:
// validate the config and produce the ext_json string (docs/benchmarks.md).
func BenchmarkRenderValidate(b *testing.B) {
	s := shop(b)
	cfg := fullConfig()
	extra := map[string]any{
		"window": map[string]any{"navigationBarTitleText": "老王面馆"},
		"pages":  []any{"pages/index/index", "pages/menu/menu"},
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.RenderExtJSON("wx0123456789abcdef", cfg, extra, templatePages); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFromForm is one config form submission: parse and validate.
func BenchmarkFromForm(b *testing.B) {
	s := shop(b)
	v := full()
	b.ReportAllocs()
	for b.Loop() {
		if _, errs := s.FromForm(v); errs != nil {
			b.Fatal(errs)
		}
	}
}

// BenchmarkParseSchema is a template's schema compiled (on save or load).
func BenchmarkParseSchema(b *testing.B) {
	s := shop(b)
	_ = s
	b.ReportAllocs()
	for b.Loop() {
		shop(b)
	}
}
