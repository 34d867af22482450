package extconfig

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestDiff(t *testing.T) {
	a := fullConfig()
	raw, _ := json.Marshal(a)
	var b map[string]any
	json.Unmarshal(raw, &b) // float64 numbers: equal values must not show as changes
	if d := Diff(a, b); len(d) != 0 {
		t.Fatalf("equal configs differ: %+v", d)
	}
	b["shopName"] = "新名字"
	delete(b, "logo")
	b["intro"] = nil
	b["banners"] = append(b["banners"].([]any), map[string]any{"image": "https://c.example/c.jpg"})
	b["banners"].([]any)[0].(map[string]any)["weight"] = 3.0
	want := []Change{
		{Path: "banners.0.weight", Old: json.Number("2"), New: 3.0},
		{Path: "banners.2.image", New: "https://c.example/c.jpg"},
		{Path: "intro", Old: "手工拉面\n第二行", New: nil},
		{Path: "logo", Old: "https://cdn.example.com/logo.png"},
		{Path: "shopName", Old: "老王面馆", New: "新名字"},
	}
	if got := Diff(a, b); !reflect.DeepEqual(got, want) {
		t.Errorf("Diff:\n got %#v\nwant %#v", got, want)
	}
	if got := Diff(nil, map[string]any{"x": true}); !reflect.DeepEqual(got, []Change{{Path: "x", New: true}}) {
		t.Errorf("Diff from nothing = %#v", got)
	}
}
