package extconfig

import (
	"slices"
	"strconv"
	"strings"
)

// Field describes one input of the generated form in one language. Views
// render it; they never read the schema.
type Field struct {
	Name      string // property name; the form field name at the top level
	Kind      Kind
	Label     string
	Help      string
	Required  bool
	Default   any // as JSON-decoded (json.Number for numbers); nil when none
	Options   []Option
	Min, Max  string // number bounds as written in the schema; "" when none
	MinLength int    // 0 when none
	MaxLength int
	Pattern   string
	MinItems  int
	MaxItems  int
	Multiline bool
	Items     []Field     // the columns of a list
	Image     ImageLimits // KindImage: what an upload may be
	SecCheck  bool        // KindText: WeChat's text check looks at it before a commit
}

// Option is one choice.
type Option struct {
	Value string
	Label string
}

// ItemName is the form field name of item in row i of list f:
// "banners.0.title". FromForm and FormValues use the same names.
func (f Field) ItemName(i int, item Field) string {
	return f.Name + "." + strconv.Itoa(i) + "." + item.Name
}

// Fields describes the form in lang ("zh-CN" or "en"; others fall back to
// zh-CN), fields in the schema's order.
func (s *Schema) Fields(lang string) []Field {
	return fields(s.fields, lang)
}

func fields(nodes []*node, lang string) []Field {
	out := make([]Field, 0, len(nodes))
	for _, n := range nodes {
		f := Field{
			Name: n.name, Kind: n.kind, Label: pick(n.label, lang, n.name), Help: pick(n.help, lang, ""),
			Required: n.required, Min: n.min, Max: n.max, MinLength: n.minLen, MaxLength: n.maxLen,
			Pattern: n.pattern, MinItems: n.minItems, MaxItems: n.maxItems, Multiline: n.multiline,
			Image: n.image, SecCheck: n.secCheck,
		}
		if n.hasDef {
			f.Default = deepCopy(n.def)
		}
		for _, o := range n.options {
			f.Options = append(f.Options, Option{Value: o.value, Label: pick(o.label, lang, o.value)})
		}
		if n.kind == KindList {
			f.Items = fields(n.items, lang)
		}
		out = append(out, f)
	}
	return out
}

func pick(m map[string]string, lang, fallback string) string {
	if s := m[lang]; s != "" {
		return s
	}
	if s := m[Langs[0]]; s != "" {
		return s
	}
	return fallback
}

// PathLabel names a Diff path with the schema's labels in lang:
// "banners.1.title" reads "<banners' label> 2 · <title's label>". A path
// (or its "ext." form in ext_json) outside the schema gives "".
func (s *Schema) PathLabel(path, lang string) string {
	if s == nil {
		return ""
	}
	path = strings.TrimPrefix(path, "ext.")
	fs := s.Fields(lang)
	var out []string
	parts := strings.Split(path, ".")
	for i := 0; i < len(parts); i++ {
		j := slices.IndexFunc(fs, func(f Field) bool { return f.Name == parts[i] })
		if j < 0 {
			return ""
		}
		f := fs[j]
		label := f.Label
		if f.Kind == KindList && i+1 < len(parts) {
			if n, err := strconv.Atoi(parts[i+1]); err == nil {
				label += " " + strconv.Itoa(n+1)
				i++
			}
		}
		out = append(out, label)
		fs = f.Items
	}
	return strings.Join(out, " · ")
}

// LabelChanges fills each change's Label, and a choice's OldText and
// NewText, from the schema.
func (s *Schema) LabelChanges(cs []Change, lang string) {
	for i := range cs {
		cs[i].Label = s.PathLabel(cs[i].Path, lang)
		if f, ok := s.fieldAt(cs[i].Path, lang); ok && len(f.Options) > 0 {
			cs[i].OldText, cs[i].NewText = optionLabel(f, cs[i].Old), optionLabel(f, cs[i].New)
		}
	}
}

// fieldAt is the field a Diff path names ("banners.1.title" → title).
func (s *Schema) fieldAt(path, lang string) (Field, bool) {
	fs := s.Fields(lang)
	var f Field
	parts := strings.Split(strings.TrimPrefix(path, "ext."), ".")
	for i := 0; i < len(parts); i++ {
		j := slices.IndexFunc(fs, func(f Field) bool { return f.Name == parts[i] })
		if j < 0 {
			return Field{}, false
		}
		f = fs[j]
		if f.Kind == KindList && i+1 < len(parts) {
			i++
		}
		fs = f.Items
	}
	return f, true
}

func optionLabel(f Field, v any) string {
	s, ok := v.(string)
	if !ok {
		return ""
	}
	for _, o := range f.Options {
		if o.Value == s {
			return o.Label
		}
	}
	return ""
}
