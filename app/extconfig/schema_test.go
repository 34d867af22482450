package extconfig

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

func shop(t testing.TB) *Schema {
	t.Helper()
	raw, err := os.ReadFile("testdata/shop.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseSchema(raw)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestFieldsEveryKind(t *testing.T) {
	s := shop(t)
	got := s.Fields("en")
	var names []string
	for _, f := range got {
		names = append(names, f.Name)
	}
	// Document order, not map order: the form shows fields as staff wrote them.
	if want := "shopName intro tables deliveryFee open theme brandColor logo banners"; strings.Join(names, " ") != want {
		t.Fatalf("order = %v", names)
	}
	byName := map[string]Field{}
	for _, f := range got {
		byName[f.Name] = f
	}
	want := map[string]Field{
		"shopName":    {Name: "shopName", Kind: KindText, Label: "Shop name", Help: "Shown at the top of the home page", Required: true, MinLength: 2, MaxLength: 20},
		"intro":       {Name: "intro", Kind: KindText, Label: "Introduction", MaxLength: 200, Multiline: true},
		"tables":      {Name: "tables", Kind: KindInteger, Label: "Tables", Default: json.Number("10"), Min: "1", Max: "200"},
		"deliveryFee": {Name: "deliveryFee", Kind: KindNumber, Label: "Delivery fee", Min: "0", Max: "99.5"},
		"open":        {Name: "open", Kind: KindSwitch, Label: "Open", Default: true},
		"theme": {Name: "theme", Kind: KindChoice, Label: "Theme", Required: true, Default: "light",
			Options: []Option{{"light", "Light"}, {"dark", "Dark"}}},
		"brandColor": {Name: "brandColor", Kind: KindColor, Label: "Brand color", Default: "#07C160"},
		"logo":       {Name: "logo", Kind: KindImage, Label: "Logo", Image: ImageLimits{MaxBytes: DefaultImageBytes, MaxWidth: DefaultImageSide, MaxHeight: DefaultImageSide}},
		"banners": {Name: "banners", Kind: KindList, Label: "Banners", MaxItems: 3, Items: []Field{
			{Name: "image", Kind: KindImage, Label: "Image", Required: true, Image: ImageLimits{MaxBytes: DefaultImageBytes, MaxWidth: DefaultImageSide, MaxHeight: DefaultImageSide}},
			{Name: "title", Kind: KindText, Label: "Title", MaxLength: 10},
			{Name: "weight", Kind: KindInteger, Label: "Weight", Min: "0"},
			{Name: "visible", Kind: KindSwitch, Label: "Visible"},
		}},
	}
	for name, w := range want {
		if !reflect.DeepEqual(byName[name], w) {
			t.Errorf("%s:\n got %+v\nwant %+v", name, byName[name], w)
		}
	}
	zh := s.Fields("zh-CN")
	if zh[0].Label != "店铺名称" || zh[0].Help != "显示在首页顶部" || zh[5].Options[1].Label != "深色" || zh[8].Items[0].Label != "图片" {
		t.Errorf("zh-CN labels: %+v", zh[0])
	}
	if fr := s.Fields("fr"); fr[0].Label != "店铺名称" {
		t.Errorf("unknown language should fall back to zh-CN, got %q", fr[0].Label)
	}
	if n := byName["banners"].ItemName(2, byName["banners"].Items[1]); n != "banners.2.title" {
		t.Errorf("ItemName = %q", n)
	}
	if got := s.AllowedKeys(); !reflect.DeepEqual(got, []string{"extPages", "pages", "tabBar", "window"}) {
		t.Errorf("AllowedKeys = %v", got)
	}
	wantDefaults := map[string]any{"tables": json.Number("10"), "open": true, "theme": "light", "brandColor": "#07C160"}
	if d := s.Defaults(); !reflect.DeepEqual(d, wantDefaults) {
		t.Errorf("Defaults = %#v", d)
	}
}

const label = `"x-label": {"zh-CN": "名", "en": "Name"}`

func TestBadSchemas(t *testing.T) {
	for _, tc := range []struct {
		name, schema, path, msg string
	}{
		{"not json", `{"type":`, "", "not JSON"},
		{"not object", `[1]`, "", "must be a JSON object"},
		{"root not object", `{"type": "string"}`, "/type", "root must be"},
		{"no properties", `{"type": "object"}`, "", "needs properties"},
		{"unknown type", `{"type": "object", "properties": {"a": {"type": "strin", ` + label + `}}}`, "/properties/a/type", `type "strin" not supported`},
		{"bad regexp", `{"type": "object", "properties": {"a": {"type": "string", "pattern": "(", ` + label + `}}}`, "/properties/a/pattern", "not valid regex"},
		{"bad format", `{"type": "object", "properties": {"a": {"type": "string", "format": 5, ` + label + `}}}`, "/properties/a/format", "not a valid JSON Schema"},
		{"bad minLength", `{"type": "object", "properties": {"a": {"type": "string", "minLength": -1, ` + label + `}}}`, "/properties/a/minLength", "minimum: got -1"},
		{"missing label", `{"type": "object", "properties": {"a": {"type": "string"}}}`, "/properties/a/x-label", "every language"},
		{"label one language", `{"type": "object", "properties": {"a": {"type": "string", "x-label": {"zh-CN": "名"}}}}`, "/properties/a/x-label", `missing "en"`},
		{"label unknown language", `{"type": "object", "properties": {"a": {"type": "string", "x-label": {"zh-CN": "名", "en": "N", "fr": "N"}}}}`, "/properties/a/x-label/fr", "unknown language"},
		{"help one language", `{"type": "object", "properties": {"a": {"type": "string", ` + label + `, "x-help": {"en": "h"}}}}`, "/properties/a/x-help", "every language"},
		{"nested object", `{"type": "object", "properties": {"a": {"type": "object", ` + label + `}}}`, "/properties/a", "nested objects"},
		{"list of lists", `{"type": "object", "properties": {"a": {"type": "array", ` + label + `, "items": {"type": "object", "properties": {"b": {"type": "array", ` + label + `}}}}}}`, "/properties/a/items/properties/b", "lists cannot contain lists"},
		{"list of strings", `{"type": "object", "properties": {"a": {"type": "array", ` + label + `, "items": {"type": "string"}}}}`, "/properties/a/items/type", "must be objects"},
		{"list without items", `{"type": "object", "properties": {"a": {"type": "array", ` + label + `}}}`, "/properties/a", "needs items"},
		{"type list", `{"type": "object", "properties": {"a": {"type": ["string", "null"], ` + label + `}}}`, "/properties/a/type", "one type name"},
		{"oneOf", `{"type": "object", "properties": {"a": {"oneOf": [], ` + label + `}}}`, "/properties/a/oneOf", "not supported"},
		{"ref", `{"type": "object", "properties": {"a": {"$ref": "#", ` + label + `}}}`, "/properties/a/$ref", "not supported"},
		{"numeric enum", `{"type": "object", "properties": {"a": {"type": "integer", "enum": [1, 2], ` + label + `}}}`, "/properties/a/enum", "choices must be strings"},
		{"duplicate choice", `{"type": "object", "properties": {"a": {"type": "string", "enum": ["x", "x"], ` + label + `}}}`, "/properties/a/enum/1", "twice"},
		{"label for no choice", `{"type": "object", "properties": {"a": {"type": "string", "enum": ["x"], "x-enum-labels": {"y": {"zh-CN": "y", "en": "y"}}, ` + label + `}}}`, "/properties/a/x-enum-labels/y", "not in enum"},
		{"bad name", `{"type": "object", "properties": {"a.b": {"type": "string", ` + label + `}}}`, "/properties/a.b", "property names"},
		{"required not property", `{"type": "object", "required": ["b"], "properties": {"a": {"type": "string", ` + label + `}}}`, "/required", `"b" is required`},
		{"min on text", `{"type": "object", "properties": {"a": {"type": "string", "minimum": 1, ` + label + `}}}`, "/properties/a/minimum", "only numbers"},
		{"maxItems on text", `{"type": "object", "properties": {"a": {"type": "string", "maxItems": 1, ` + label + `}}}`, "/properties/a/maxItems", "not for text"},
		{"widget", `{"type": "object", "properties": {"a": {"type": "integer", "x-widget": "textarea", ` + label + `}}}`, "/properties/a/x-widget", "for text fields"},
		{"unknown widget", `{"type": "object", "properties": {"a": {"type": "string", "x-widget": "slider", ` + label + `}}}`, "/properties/a/x-widget", "unknown widget"},
		{"additional true", `{"type": "object", "additionalProperties": true, "properties": {"a": {"type": "string", ` + label + `}}}`, "/additionalProperties", "only false"},
		{"bad default", `{"type": "object", "properties": {"a": {"type": "string", "format": "color", "default": "red", ` + label + `}}}`, "/a", "default is invalid"},
		{"bad default bound", `{"type": "object", "properties": {"a": {"type": "integer", "maximum": 3, "default": 4, ` + label + `}}}`, "/a", "default is invalid"},
		{"unknown allowed key", `{"type": "object", "x-minifleet": {"allowedKeys": ["window", "ext"]}, "properties": {"a": {"type": "string", ` + label + `}}}`, "/x-minifleet/allowedKeys/1", "not an ext_json key"},
		{"directCommit not allowed", `{"type": "object", "x-minifleet": {"allowedKeys": ["directCommit"]}, "properties": {"a": {"type": "string", ` + label + `}}}`, "/x-minifleet/allowedKeys/0", "not an ext_json key"},
		{"standard template", `{"type": "object", "x-minifleet": {"allowedKeys": ["window", "pages"], "standardTemplate": true}, "properties": {"a": {"type": "string", ` + label + `}}}`, "/x-minifleet/allowedKeys/1", "standard templates"},
		{"x-minifleet typo", `{"type": "object", "x-minifleet": {"allowKeys": ["window"]}, "properties": {"a": {"type": "string", ` + label + `}}}`, "/x-minifleet/allowKeys", "not supported"},
		{"duplicate key", `{"type": "object", "properties": {"a": {"type": "string", ` + label + `}, "a": {"type": "string", ` + label + `}}}`, "/properties", "appears twice"},
		{"no fields", `{"type": "object", "properties": {}}`, "/properties", "no fields"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseSchema([]byte(tc.schema))
			var se *SchemaError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v, want a SchemaError", err)
			}
			if se.Path != tc.path || !strings.Contains(se.Msg, tc.msg) {
				t.Errorf("got %q at %q, want %q at %q", se.Msg, se.Path, tc.msg, tc.path)
			}
		})
	}
}

func TestMinimalSchema(t *testing.T) {
	s, err := ParseSchema([]byte(`{"type": "object", "properties": {"shopId": {"type": "string", ` + label + `}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.AllowedKeys()) != 0 || len(s.Fields("en")) != 1 || len(s.Defaults()) != 0 {
		t.Errorf("minimal schema: %v %v", s.AllowedKeys(), s.Fields("en"))
	}
}

func TestDecodeConfig(t *testing.T) {
	m, err := DecodeConfig([]byte(`{"tables": 12, "n": 1.50}`))
	if err != nil || m["tables"] != json.Number("12") || m["n"] != json.Number("1.50") {
		t.Errorf("DecodeConfig = %#v, %v", m, err)
	}
	for _, bad := range []string{``, `[]`, `{} {}`, `{"a":`} {
		if _, err := DecodeConfig([]byte(bad)); err == nil {
			t.Errorf("DecodeConfig(%q) accepted", bad)
		}
	}
	if m, err := DecodeConfig([]byte(`null`)); err != nil || m == nil {
		t.Errorf("null config = %v, %v", m, err)
	}
}

// A schema may not make the server load anything: an unknown $schema or any
// $ref is refused by name before the compiler runs, and the compiler's
// loader refuses every URL anyway. The supported drafts still compile from
// the library's embedded metaschemas.
func TestSchemaLoadsNothing(t *testing.T) {
	dir := t.TempDir()
	// A file that would compile as a metaschema: if it were read, the schema would pass.
	meta := dir + "/meta.json"
	if err := os.WriteFile(meta, []byte(`{"$schema": "https://json-schema.org/draft/2020-12/schema"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	field := `"properties": {"a": {"type": "string", ` + label + `}}`
	for _, tc := range []struct{ name, schema, path, keyword string }{
		{"file schema", `{"$schema": "file:///etc/passwd", "type": "object", ` + field + `}`, "/$schema", "$schema"},
		{"readable file schema", `{"$schema": "file://` + meta + `", "type": "object", ` + field + `}`, "/$schema", "$schema"},
		{"bare passwd", `{"$schema":"file:///etc/passwd"}`, "/$schema", "$schema"},
		{"http schema", `{"$schema": "http://example.com/schema", "type": "object", ` + field + `}`, "/$schema", "$schema"},
		{"unknown draft", `{"$schema": "https://json-schema.org/draft-03/schema", "type": "object", ` + field + `}`, "/$schema", "$schema"},
		{"schema without scheme", `{"$schema": "json-schema.org/draft-07/schema#", "type": "object", ` + field + `}`, "/$schema", "$schema"},
		{"schema not a string", `{"$schema": 7, "type": "object", ` + field + `}`, "/$schema", "$schema"},
		{"fd ref", `{"$ref":"file:///proc/self/fd/1"}`, "/$ref", "$ref"},
		{"stdin ref in a field", `{"type": "object", "properties": {"a": {"$ref": "file:///dev/stdin", ` + label + `}}}`, "/properties/a/$ref", "$ref"},
		{"http ref", `{"type": "object", "properties": {"a": {"$ref": "http://127.0.0.1:1/x.json", ` + label + `}}}`, "/properties/a/$ref", "$ref"},
		{"https ref in a list", `{"type": "object", "properties": {"a": {"type": "array", ` + label + `, "items": {"type": "object", "properties": {"b": {"$ref": "https://example.com/s.json"}}}}}}`, "/properties/a/items/properties/b/$ref", "$ref"},
		{"dynamic ref", `{"$dynamicRef": "file:///etc/passwd", "type": "object", ` + field + `}`, "/$dynamicRef", "$dynamicRef"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() { _, err := ParseSchema([]byte(tc.schema)); done <- err }()
			var err error
			select {
			case err = <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("ParseSchema hangs")
			}
			var se *SchemaError
			if !errors.As(err, &se) || !se.Refused || se.Keyword != tc.keyword || se.Path != tc.path || se.Key == "" {
				t.Fatalf("err = %#v, want a refusal of %s at %s", err, tc.keyword, tc.path)
			}
			if !strings.Contains(se.Msg, tc.keyword) {
				t.Errorf("message %q does not name %s", se.Msg, tc.keyword)
			}
		})
	}
	for _, d := range []string{"https://json-schema.org/draft/2020-12/schema", "http://json-schema.org/draft/2019-09/schema",
		"http://json-schema.org/draft-07/schema#", "http://json-schema.org/draft-06/schema#", "http://json-schema.org/draft-04/schema#"} {
		if _, err := ParseSchema([]byte(`{"$schema": "` + d + `", "type": "object", ` + field + `}`)); err != nil {
			t.Errorf("%s: %v", d, err)
		}
	}
}

// The compiler's own loader (the backstop behind parseRoot) loads no file:
// a $ref straight to it fails with a load error, and quickly.
func TestCompilerLoaderRefuses(t *testing.T) {
	dir := t.TempDir()
	other := dir + "/other.json"
	if err := os.WriteFile(other, []byte(`{"type": "string"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"file://" + other, "file:///proc/self/fd/1", "http://127.0.0.1:1/x.json"} {
		c := newCompiler()
		if err := c.AddResource("minifleet:///t.json", map[string]any{"$ref": ref}); err != nil {
			t.Fatal(err)
		}
		_, err := c.Compile("minifleet:///t.json")
		var le *jsonschema.LoadURLError
		if !errors.As(err, &le) {
			t.Errorf("%s: err = %v, want a load refusal", ref, err)
		}
	}
}
