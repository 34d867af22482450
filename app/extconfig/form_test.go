package extconfig

import (
	"encoding/json"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// full is a form with every kind set, in canonical form.
func full() url.Values {
	return url.Values{
		"shopName":          {"老王面馆"},
		"intro":             {"手工拉面\n第二行"},
		"tables":            {"12"},
		"deliveryFee":       {"3.5"},
		"open":              {"true"},
		"theme":             {"dark"},
		"brandColor":        {"#FF6600"},
		"logo":              {"https://cdn.example.com/logo.png"},
		"banners.0.image":   {"https://cdn.example.com/a.jpg"},
		"banners.0.title":   {"新品"},
		"banners.0.weight":  {"2"},
		"banners.0.visible": {"true"},
		"banners.1.image":   {"https://cdn.example.com/b.jpg"},
	}
}

func fullConfig() map[string]any {
	return map[string]any{
		"shopName": "老王面馆", "intro": "手工拉面\n第二行", "tables": json.Number("12"), "deliveryFee": json.Number("3.5"),
		"open": true, "theme": "dark", "brandColor": "#FF6600", "logo": "https://cdn.example.com/logo.png",
		"banners": []any{
			map[string]any{"image": "https://cdn.example.com/a.jpg", "title": "新品", "weight": json.Number("2"), "visible": true},
			map[string]any{"image": "https://cdn.example.com/b.jpg", "visible": false},
		},
	}
}

func TestFromFormEveryKind(t *testing.T) {
	s := shop(t)
	cfg, errs := s.FromForm(full())
	if errs != nil {
		t.Fatalf("errors: %v", errs)
	}
	if !reflect.DeepEqual(cfg, fullConfig()) {
		t.Errorf("config:\n got %#v\nwant %#v", cfg, fullConfig())
	}
}

func TestRoundTrips(t *testing.T) {
	s := shop(t)
	// form → config → form
	cfg, errs := s.FromForm(full())
	if errs != nil {
		t.Fatal(errs)
	}
	if back := s.FormValues(cfg); !reflect.DeepEqual(back, full()) {
		t.Errorf("form → config → form:\n got %v\nwant %v", back, full())
	}
	// config → form → config, with a config as stored (decoded from JSON).
	raw, _ := json.Marshal(fullConfig())
	stored, err := DecodeConfig(raw)
	if err != nil {
		t.Fatal(err)
	}
	again, errs := s.FromForm(s.FormValues(stored))
	if errs != nil || !reflect.DeepEqual(again, stored) {
		t.Errorf("config → form → config:\n got %#v (%v)\nwant %#v", again, errs, stored)
	}
	// Untyped decodes (float64) render the same form.
	var untyped map[string]any
	json.Unmarshal(raw, &untyped)
	if !reflect.DeepEqual(s.FormValues(untyped), s.FormValues(stored)) {
		t.Errorf("float64 config renders %v", s.FormValues(untyped))
	}
}

func TestFromFormNormalizes(t *testing.T) {
	s := shop(t)
	v := url.Values{
		"shopName":          {"  面馆  "},
		"theme":             {"light"},
		"tables":            {"012"},
		"deliveryFee":       {"1e1"},
		"open":              {"on"},
		"intro":             {"   "}, // blank: not set
		"banners.7.image":   {"https://x.example/7.jpg"},
		"banners.3.image":   {"https://x.example/3.jpg"},
		"banners.5.title":   {""},      // an empty row from the browser: dropped
		"banners.5.visible": {"false"}, // an unchecked box does not make a row
		"banners.x.image":   {"https://x.example/x.jpg"},
		"banners.01.image":  {"https://x.example/01.jpg"},
		"unrelated":         {"ignored"},
	}
	cfg, errs := s.FromForm(v)
	if errs != nil {
		t.Fatal(errs)
	}
	want := map[string]any{
		"shopName": "面馆", "theme": "light", "tables": json.Number("12"), "deliveryFee": json.Number("10"), "open": true,
		"banners": []any{
			map[string]any{"image": "https://x.example/3.jpg", "visible": false},
			map[string]any{"image": "https://x.example/7.jpg", "visible": false},
		},
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("got %#v\nwant %#v", cfg, want)
	}
	// An unchecked switch is false, not missing.
	cfg, _ = s.FromForm(url.Values{"shopName": {"ab"}, "theme": {"light"}})
	if cfg["open"] != false {
		t.Errorf("unchecked open = %#v", cfg["open"])
	}
}

func TestValidationMessages(t *testing.T) {
	s := shop(t)
	for _, tc := range []struct {
		name string
		set  url.Values
		path string
		want Message
	}{
		{"required", url.Values{"shopName": {""}}, "shopName", Message{Key: KeyRequired}},
		{"min length", url.Values{"shopName": {"面"}}, "shopName", Message{Key: KeyMinLength, Args: map[string]any{"Min": 2}}},
		{"max length counts characters", url.Values{"shopName": {strings.Repeat("面", 21)}}, "shopName", Message{Key: KeyMaxLength, Args: map[string]any{"Max": 20}}},
		{"not a number", url.Values{"deliveryFee": {"3,5"}}, "deliveryFee", Message{Key: KeyNumber}},
		{"NaN", url.Values{"deliveryFee": {"NaN"}}, "deliveryFee", Message{Key: KeyNumber}},
		{"not an integer", url.Values{"tables": {"2.5"}}, "tables", Message{Key: KeyInteger}},
		{"min", url.Values{"tables": {"0"}}, "tables", Message{Key: KeyMin, Args: map[string]any{"Min": "1"}}},
		{"max", url.Values{"tables": {"201"}}, "tables", Message{Key: KeyMax, Args: map[string]any{"Max": "200"}}},
		{"max decimal", url.Values{"deliveryFee": {"99.6"}}, "deliveryFee", Message{Key: KeyMax, Args: map[string]any{"Max": "99.5"}}},
		{"choice", url.Values{"theme": {"neon"}}, "theme", Message{Key: KeyChoice}},
		{"color", url.Values{"brandColor": {"#FFF"}}, "brandColor", Message{Key: KeyColor}},
		{"color name", url.Values{"brandColor": {"red"}}, "brandColor", Message{Key: KeyColor}},
		{"http image", url.Values{"logo": {"http://cdn.example.com/a.png"}}, "logo", Message{Key: KeyImageURL}},
		{"relative image", url.Values{"logo": {"/a.png"}}, "logo", Message{Key: KeyImageURL}},
		{"row required", url.Values{"banners.0.title": {"无图"}}, "banners.0.image", Message{Key: KeyRequired}},
		{"row max length", url.Values{"banners.0.image": {"https://a.example/x"}, "banners.0.title": {"12345678901"}}, "banners.0.title", Message{Key: KeyMaxLength, Args: map[string]any{"Max": 10}}},
		{"row integer", url.Values{"banners.4.image": {"https://a.example/x"}, "banners.4.weight": {"x"}}, "banners.0.weight", Message{Key: KeyInteger}},
		{"max items", url.Values{"banners.0.image": {"https://a.example/0"}, "banners.1.image": {"https://a.example/1"}, "banners.2.image": {"https://a.example/2"}, "banners.3.image": {"https://a.example/3"}}, "banners", Message{Key: KeyMaxItems, Args: map[string]any{"Max": 3}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := url.Values{"shopName": {"面馆"}, "theme": {"light"}}
			for k, x := range tc.set {
				v[k] = x
			}
			cfg, errs := s.FromForm(v)
			if len(errs) != 1 {
				t.Fatalf("errors = %v, want exactly one at %s", errs, tc.path)
			}
			if got := errs[tc.path]; !reflect.DeepEqual(got, tc.want) {
				t.Errorf("errs[%s] = %#v, want %#v", tc.path, got, tc.want)
			}
			// Nothing typed is lost: the form shown again carries every value.
			back := s.FormValues(cfg)
			for k, x := range tc.set {
				if strings.TrimSpace(x[0]) == "" || strings.HasPrefix(k, "banners.") {
					continue
				}
				if back.Get(k) != strings.TrimSpace(x[0]) {
					t.Errorf("redisplay %s = %q, typed %q", k, back.Get(k), x[0])
				}
			}
		})
	}
}

func TestValidateStoredConfig(t *testing.T) {
	s := shop(t)
	cfg := fullConfig()
	cfg["removedField"] = "x" // a field the template no longer has
	cfg["tables"] = "twelve"  // wrong type
	delete(cfg, "theme")      // required
	cfg["banners"].([]any)[1].(map[string]any)["extra"] = 1
	errs := s.Validate(cfg)
	want := FieldErrors{
		"removedField":    {Key: KeyUnknown},
		"tables":          {Key: KeyType, Args: map[string]any{"Want": "integer"}},
		"theme":           {Key: KeyRequired},
		"banners.1.extra": {Key: KeyUnknown},
	}
	if !reflect.DeepEqual(errs, want) {
		t.Errorf("Validate:\n got %#v\nwant %#v", errs, want)
	}
	if errs.Err() == nil || !strings.Contains(errs.Error(), "removedField=config.err.unknown") {
		t.Errorf("Error() = %q", errs.Error())
	}
	if s.Validate(fullConfig()) != nil || FieldErrors(nil).Err() != nil {
		t.Error("valid config reported errors")
	}
	if errs := s.Validate(nil); errs["shopName"].Key != KeyRequired {
		t.Errorf("nil config: %v", errs)
	}
}

func TestFieldErrorsKeepMostBasic(t *testing.T) {
	f := FieldErrors{}
	f.Add("a", Message{Key: KeyMaxLength})
	f.Add("a", Message{Key: KeyRequired})
	f.Add("a", Message{Key: KeyPattern})
	if f["a"].Key != KeyRequired {
		t.Errorf("kept %s", f["a"].Key)
	}
	f.Add("b", Message{Key: KeyType})
	f.Add("b", Message{Key: KeyNumber})
	if f["b"].Key != KeyNumber {
		t.Errorf("a parse error must win over the type error it causes, kept %s", f["b"].Key)
	}
}

func TestTooManyRows(t *testing.T) {
	s := shop(t)
	v := url.Values{"shopName": {"面馆"}, "theme": {"light"}}
	for i := 0; i < maxRows+5; i++ {
		v.Set("banners."+strconv.Itoa(i)+".image", "https://a.example/x")
	}
	cfg, errs := s.FromForm(v)
	if errs["banners"].Key != KeyTooMany || len(cfg["banners"].([]any)) != maxRows {
		t.Errorf("errs %v rows %d", errs, len(cfg["banners"].([]any)))
	}
}
