package extconfig

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"
)

// Change is one difference between two configs, at a field path such as
// "shopName" or "banners.1.title". Old is nil for an added value, New for a
// removed one.
type Change struct {
	Path  string
	Label string // the schema's label for Path (Schema.LabelChanges); "" when none
	// OldText and NewText are a choice's label for Old and New, when the
	// field is a choice (Schema.LabelChanges); "" otherwise.
	OldText, NewText string
	Old              any
	New              any
}

// Diff lists what changed from a to b, by path in sorted order: what an
// approver compares against the live version and the history page shows.
func Diff(a, b map[string]any) []Change {
	fa, fb := map[string]any{}, map[string]any{}
	flatten("", a, fa)
	flatten("", b, fb)
	paths := slices.Sorted(maps.Keys(fa))
	for p := range fb {
		if _, ok := fa[p]; !ok {
			paths = append(paths, p)
		}
	}
	slices.Sort(paths)
	var out []Change
	for _, p := range paths {
		x, inA := fa[p]
		y, inB := fb[p]
		if inA && inB && same(x, y) {
			continue
		}
		out = append(out, Change{Path: p, Old: x, New: y})
	}
	return out
}

func flatten(prefix string, v any, out map[string]any) {
	join := func(k string) string {
		if prefix == "" {
			return k
		}
		return prefix + "." + k
	}
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			flatten(join(k), x, out)
		}
	case []any:
		for i, x := range v {
			flatten(join(strconv.Itoa(i)), x, out)
		}
	default:
		out[prefix] = v
	}
}

// same compares leaves by their JSON text, so json.Number("2") from a form
// equals float64(2) from an untyped decode.
func same(x, y any) bool {
	bx, errx := json.Marshal(x)
	by, erry := json.Marshal(y)
	return errx == nil && erry == nil && string(bx) == string(by)
}
