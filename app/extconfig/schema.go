// Package extconfig turns a template's config schema into forms, typed
// configs and the ext_json string wxa/commit sends. It is pure: no I/O, no
// SQL, no HTTP. Staff write one JSON Schema per template; merchants fill the
// form it generates; RenderExtJSON produces the exact, deterministic string
// whose hash an approver approves.
//
// The schema is a JSON Schema (draft 2020-12 unless "$schema" says otherwise)
// restricted to what a form can show: an object whose properties are text,
// numbers, switches, choices, colors, image URLs and lists of objects made of
// those. Minifleet keywords: x-label and x-help ({"zh-CN": …, "en": …}),
// x-enum-labels ({value: {"zh-CN": …, "en": …}}), x-widget ("textarea"), and
// at the root x-minifleet {"allowedKeys": [...], "standardTemplate": bool}.
package extconfig

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// Kind is what a field is, and so which input a form shows for it.
type Kind string

const (
	KindText    Kind = "text"    // string
	KindNumber  Kind = "number"  // number
	KindInteger Kind = "integer" // integer
	KindSwitch  Kind = "switch"  // boolean
	KindChoice  Kind = "choice"  // string with enum
	KindColor   Kind = "color"   // string, format "color": #RRGGBB
	KindImage   Kind = "image"   // string, format "image-url": an https URL
	KindList    Kind = "list"    // array of objects of the kinds above
)

// Keys besides ext that ext_json may carry (wechat-protocol.md §8), and so
// that x-minifleet.allowedKeys may name. extAppid, extEnable, ext and
// directCommit are Minifleet's to set, never a template's.
var knownKeys = []string{
	"extPages", "pages", "window", "tabBar", "networkTimeout", "subPackages", "plugins",
	"navigateToMiniProgramAppIdList", "functionPages", "requiredPrivateInfos", "lazyCodeLoading",
}

// Langs are the languages labels must be given in.
var Langs = []string{"zh-CN", "en"}

// SchemaError is a schema staff must fix; Path is a JSON pointer into it.
// A schema that asks to load something (an unknown "$schema", any "$ref")
// is Refused: Keyword names the keyword and Key is the translation key
// (with data Keyword and Value) that explains it to staff.
type SchemaError struct {
	Path    string
	Msg     string
	Refused bool
	Keyword string
	Value   string
	Key     string
}

func (e *SchemaError) Error() string {
	if e.Path == "" {
		return "extconfig: schema: " + e.Msg
	}
	return "extconfig: schema at " + e.Path + ": " + e.Msg
}

// Schema is a parsed, compiled config schema. It is safe for concurrent use.
type Schema struct {
	fields      []*node
	allowedKeys []string
	standard    bool
	compiled    *jsonschema.Schema
}

// node is one field as parsed, with every language's text.
type node struct {
	name      string
	kind      Kind
	label     map[string]string
	help      map[string]string
	required  bool
	def       any
	hasDef    bool
	options   []option
	min, max  string // as written in the schema
	minLen    int
	maxLen    int
	pattern   string
	minItems  int
	maxItems  int
	multiline bool
	items     []*node
	image     ImageLimits // KindImage: the upload's limits
	secCheck  bool        // KindText: checked by WeChat's text check
}

type option struct {
	value string
	label map[string]string
}

var english = message.NewPrinter(language.English)

var (
	nameRE  = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,63}$`)
	colorRE = regexp.MustCompile(`^#[0-9A-Fa-f]{6}$`)
)

// Keywords a field may use; anything else (oneOf, $ref, if/then …) could not
// be rendered as a form, so it is refused rather than silently ignored.
var fieldKeywords = []string{
	"type", "title", "description", "$comment", "default", "examples", "enum", "format", "pattern",
	"minLength", "maxLength", "minimum", "maximum", "minItems", "maxItems", "items",
	"properties", "required", "additionalProperties",
	"x-label", "x-help", "x-enum-labels", "x-widget", "x-image", "x-sec-check",
}

var rootKeywords = append([]string{"$schema", "$id", "x-minifleet"}, fieldKeywords...)

// ParseSchema checks raw as a JSON Schema (with the library's metaschema) and
// as a form description, and compiles it for validation.
func ParseSchema(raw []byte) (*Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return nil, &SchemaError{Msg: "not JSON: " + err.Error()}
	}
	root, ok := doc.(map[string]any)
	if !ok {
		return nil, &SchemaError{Msg: "must be a JSON object"}
	}
	s := &Schema{}
	if err := s.parseRoot(raw); err != nil {
		return nil, err
	}
	// Unknown keys in a config are errors: they would reach WeChat unseen.
	closeObjects(root)
	c := newCompiler()
	const loc = "minifleet:///config-schema.json"
	if err := c.AddResource(loc, root); err != nil {
		return nil, &SchemaError{Msg: err.Error()}
	}
	if s.compiled, err = c.Compile(loc); err != nil {
		var le *jsonschema.LoadURLError
		if errors.As(err, &le) {
			// parseRoot refuses what would load; this is the loader's backstop.
			return nil, &SchemaError{Msg: "refused to load " + le.URL, Refused: true, Keyword: "$ref", Value: le.URL, Key: "schema.err.refused_ref"}
		}
		var ve *jsonschema.SchemaValidationError
		var leaf *jsonschema.ValidationError
		if errors.As(err, &ve) && errors.As(ve.Err, &leaf) {
			for len(leaf.Causes) > 0 {
				leaf = leaf.Causes[0]
			}
			return nil, &SchemaError{Path: "/" + strings.Join(leaf.InstanceLocation, "/"),
				Msg: "not a valid JSON Schema: " + leaf.ErrorKind.LocalizedString(english)}
		}
		return nil, &SchemaError{Msg: err.Error()}
	}
	// Defaults are shown in every new form: they must pass validation themselves.
	for path, m := range s.Validate(s.Defaults()) {
		if m.Key != KeyRequired {
			return nil, &SchemaError{Path: "/" + strings.ReplaceAll(path, ".", "/"), Msg: "default is invalid (" + m.Key + ")"}
		}
	}
	return s, nil
}

// refKeywords load another schema by URL; a config schema may use none.
var refKeywords = []string{"$ref", "$dynamicRef", "$recursiveRef"}

// metaSchemas are the "$schema" values accepted: the drafts whose
// metaschemas the library ships (compiled from its embedded copies, never
// fetched), with or without the empty fragment, over http or https.
var metaSchemas = []string{
	"json-schema.org/draft/2020-12/schema", "json-schema.org/draft/2019-09/schema",
	"json-schema.org/draft-07/schema", "json-schema.org/draft-06/schema", "json-schema.org/draft-04/schema",
}

// checkMetaSchema refuses a "$schema" that is not one of metaSchemas: any
// other would make the compiler load it (a file, a URL).
func checkMetaSchema(o *obj) error {
	raw, ok := o.raw["$schema"]
	if !ok {
		return nil
	}
	var v string
	if err := json.Unmarshal(raw, &v); err == nil {
		u, https := strings.CutPrefix(strings.TrimSuffix(v, "#"), "https://")
		u, http := strings.CutPrefix(u, "http://")
		if (https || http) && slices.Contains(metaSchemas, u) {
			return nil
		}
	}
	return &SchemaError{Path: "/$schema", Msg: fmt.Sprintf("$schema %q is not a supported draft (2020-12, 2019-09, draft-07, draft-06, draft-04); nothing is loaded from files or the network", v),
		Refused: true, Keyword: "$schema", Value: v, Key: "schema.err.refused_schema"}
}

// newCompiler is the one compiler set-up: draft 2020-12 by default, formats
// asserted, and a loader that refuses every URL, so that only the
// metaschemas embedded in the library resolve (no file, no network).
func newCompiler() *jsonschema.Compiler {
	c := jsonschema.NewCompiler()
	c.UseLoader(refuseLoader{})
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	c.RegisterFormat(&jsonschema.Format{Name: "color", Validate: validateColor})
	c.RegisterFormat(&jsonschema.Format{Name: "image-url", Validate: validateImageURL})
	return c
}

// refuseLoader is the compiler's URL loader: it loads nothing.
type refuseLoader struct{}

func (refuseLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("extconfig: loading %s refused: config schemas load no files or URLs", url)
}

func closeObjects(m map[string]any) {
	if _, ok := m["additionalProperties"]; !ok {
		m["additionalProperties"] = false
	}
	if props, ok := m["properties"].(map[string]any); ok {
		for _, p := range props {
			if pm, ok := p.(map[string]any); ok {
				if items, ok := pm["items"].(map[string]any); ok {
					closeObjects(items)
				}
			}
		}
	}
}

func validateColor(v any) error {
	if s, ok := v.(string); ok && !colorRE.MatchString(s) {
		return errors.New("not a #RRGGBB color")
	}
	return nil
}

// validateImageURL accepts https URLs only: Mini Programs load http images
// nowhere, and a merchant's typo should fail here, not in review.
func validateImageURL(v any) error {
	s, ok := v.(string)
	if !ok {
		return nil
	}
	if IsImageRef(s) {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" || u.User != nil || strings.ContainsAny(s, " \t\r\n") {
		return errors.New("not an https URL")
	}
	return nil
}

// obj is one JSON object with its keys in document order.
type obj struct {
	keys []string
	raw  map[string]json.RawMessage
}

func decodeObj(raw json.RawMessage, path string) (*obj, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil || tok != json.Delim('{') {
		return nil, &SchemaError{Path: path, Msg: "must be an object"}
	}
	o := &obj{raw: map[string]json.RawMessage{}}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, &SchemaError{Path: path, Msg: err.Error()}
		}
		k := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, &SchemaError{Path: path, Msg: err.Error()}
		}
		if _, dup := o.raw[k]; dup {
			return nil, &SchemaError{Path: path, Msg: fmt.Sprintf("key %q appears twice", k)}
		}
		o.keys = append(o.keys, k)
		o.raw[k] = v
	}
	return o, nil
}

func (o *obj) get(key string, dst any, path string) (bool, error) {
	r, ok := o.raw[key]
	if !ok {
		return false, nil
	}
	dec := json.NewDecoder(bytes.NewReader(r))
	dec.UseNumber()
	if err := dec.Decode(dst); err != nil {
		return true, &SchemaError{Path: path + "/" + key, Msg: "has the wrong type: " + err.Error()}
	}
	return true, nil
}

func (o *obj) only(allowed []string, path string) error {
	for _, k := range o.keys {
		if slices.Contains(refKeywords, k) {
			var v string
			_ = json.Unmarshal(o.raw[k], &v)
			return &SchemaError{Path: path + "/" + k, Msg: k + " is not supported in a config schema: it may not load other schemas (files or network)",
				Refused: true, Keyword: k, Value: v, Key: "schema.err.refused_ref"}
		}
		if !slices.Contains(allowed, k) {
			return &SchemaError{Path: path + "/" + k, Msg: "keyword not supported in a config schema"}
		}
	}
	return nil
}

func (s *Schema) parseRoot(raw []byte) error {
	o, err := decodeObj(raw, "")
	if err != nil {
		return err
	}
	if err := o.only(rootKeywords, ""); err != nil {
		return err
	}
	if err := checkMetaSchema(o); err != nil {
		return err
	}
	var mf struct {
		AllowedKeys      []string `json:"allowedKeys"`
		StandardTemplate bool     `json:"standardTemplate"`
	}
	if has, err := o.get("x-minifleet", &mf, ""); err != nil {
		return err
	} else if has {
		xo, err := decodeObj(o.raw["x-minifleet"], "/x-minifleet")
		if err != nil {
			return err
		}
		if err := xo.only([]string{"allowedKeys", "standardTemplate"}, "/x-minifleet"); err != nil {
			return err
		}
	}
	for i, k := range mf.AllowedKeys {
		p := fmt.Sprintf("/x-minifleet/allowedKeys/%d", i)
		switch {
		case !slices.Contains(knownKeys, k):
			return &SchemaError{Path: p, Msg: fmt.Sprintf("%q is not an ext_json key a template may allow (one of %s)", k, strings.Join(knownKeys, ", "))}
		case mf.StandardTemplate && k != "window":
			return &SchemaError{Path: p, Msg: "standard templates accept only extAppid, ext and window"}
		case slices.Contains(mf.AllowedKeys[:i], k):
			return &SchemaError{Path: p, Msg: fmt.Sprintf("%q listed twice", k)}
		}
	}
	s.allowedKeys, s.standard = slices.Sorted(slices.Values(mf.AllowedKeys)), mf.StandardTemplate
	var typ string
	if _, err := o.get("type", &typ, ""); err != nil || typ != "object" {
		return &SchemaError{Path: "/type", Msg: `the root must be {"type": "object", "properties": {…}}`}
	}
	s.fields, err = parseProps(o, "", false)
	return err
}

// parseProps reads an object's properties in document order.
func parseProps(o *obj, path string, inList bool) ([]*node, error) {
	if err := checkAdditional(o, path); err != nil {
		return nil, err
	}
	praw, ok := o.raw["properties"]
	if !ok {
		return nil, &SchemaError{Path: path, Msg: "an object needs properties"}
	}
	props, err := decodeObj(praw, path+"/properties")
	if err != nil {
		return nil, err
	}
	var required []string
	if _, err := o.get("required", &required, path); err != nil {
		return nil, err
	}
	for _, r := range required {
		if _, ok := props.raw[r]; !ok {
			return nil, &SchemaError{Path: path + "/required", Msg: fmt.Sprintf("%q is required but not a property", r)}
		}
	}
	var out []*node
	for _, name := range props.keys {
		p := path + "/properties/" + name
		if !nameRE.MatchString(name) {
			return nil, &SchemaError{Path: p, Msg: "property names are letters, digits and _ (starting with a letter, ≤64)"}
		}
		n, err := parseField(props.raw[name], p, inList)
		if err != nil {
			return nil, err
		}
		n.name, n.required = name, slices.Contains(required, name)
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, &SchemaError{Path: path + "/properties", Msg: "no fields"}
	}
	return out, nil
}

func checkAdditional(o *obj, path string) error {
	var add any
	if has, err := o.get("additionalProperties", &add, path); err != nil {
		return err
	} else if has && add != false {
		return &SchemaError{Path: path + "/additionalProperties", Msg: "only false is supported: a form cannot show unknown keys"}
	}
	return nil
}

func parseField(raw json.RawMessage, path string, inList bool) (*node, error) {
	o, err := decodeObj(raw, path)
	if err != nil {
		return nil, err
	}
	if err := o.only(fieldKeywords, path); err != nil {
		return nil, err
	}
	n := &node{}
	var typ, format, widget string
	if _, err := o.get("type", &typ, path); err != nil {
		return nil, &SchemaError{Path: path + "/type", Msg: "must be one type name (string, number, integer, boolean, array)"}
	}
	o.get("format", &format, path)
	if _, err := o.get("x-widget", &widget, path); err != nil {
		return nil, err
	}
	var enum []any
	hasEnum, err := o.get("enum", &enum, path)
	if err != nil {
		return nil, err
	}
	switch {
	case typ == "string" && hasEnum:
		n.kind = KindChoice
	case typ == "string" && format == "color":
		n.kind = KindColor
	case typ == "string" && format == "image-url":
		n.kind = KindImage
	case typ == "string":
		n.kind = KindText
	case typ == "number":
		n.kind = KindNumber
	case typ == "integer":
		n.kind = KindInteger
	case typ == "boolean":
		n.kind = KindSwitch
	case typ == "array" && !inList:
		n.kind = KindList
	case typ == "array":
		return nil, &SchemaError{Path: path, Msg: "lists cannot contain lists"}
	case typ == "object":
		return nil, &SchemaError{Path: path, Msg: "nested objects are not supported; use a list of objects or flat fields"}
	default:
		return nil, &SchemaError{Path: path + "/type", Msg: fmt.Sprintf("type %q not supported (string, number, integer, boolean, array)", typ)}
	}
	if hasEnum && typ != "string" {
		return nil, &SchemaError{Path: path + "/enum", Msg: "choices must be strings"}
	}
	switch widget {
	case "":
	case "textarea":
		if n.kind != KindText {
			return nil, &SchemaError{Path: path + "/x-widget", Msg: "textarea is for text fields"}
		}
		n.multiline = true
	default:
		return nil, &SchemaError{Path: path + "/x-widget", Msg: fmt.Sprintf("unknown widget %q (textarea)", widget)}
	}
	if n.label, err = langText(o, "x-label", path, true); err != nil {
		return nil, err
	}
	if n.help, err = langText(o, "x-help", path, false); err != nil {
		return nil, err
	}
	if err := n.parseBounds(o, path); err != nil {
		return nil, err
	}
	if err := n.parseContent(o, path); err != nil {
		return nil, err
	}
	if n.kind == KindChoice {
		if err := n.parseOptions(o, enum, path); err != nil {
			return nil, err
		}
	}
	if n.kind == KindList {
		iraw, ok := o.raw["items"]
		if !ok {
			return nil, &SchemaError{Path: path, Msg: "a list needs items"}
		}
		io, err := decodeObj(iraw, path+"/items")
		if err != nil {
			return nil, err
		}
		if err := io.only([]string{"type", "properties", "required", "additionalProperties", "title", "description", "$comment"}, path+"/items"); err != nil {
			return nil, err
		}
		var ityp string
		if io.get("type", &ityp, path+"/items"); ityp != "object" {
			return nil, &SchemaError{Path: path + "/items/type", Msg: "list items must be objects"}
		}
		if n.items, err = parseProps(io, path+"/items", true); err != nil {
			return nil, err
		}
	} else {
		for _, k := range []string{"items", "properties", "required", "additionalProperties"} {
			if _, ok := o.raw[k]; ok {
				return nil, &SchemaError{Path: path + "/" + k, Msg: "only lists have " + k}
			}
		}
	}
	if n.hasDef, err = o.get("default", &n.def, path); err != nil {
		return nil, err
	}
	return n, nil
}

func (n *node) parseBounds(o *obj, path string) error {
	var num json.Number
	for _, b := range []struct {
		key   string
		dst   *string
		kinds []Kind
	}{{"minimum", &n.min, []Kind{KindNumber, KindInteger}}, {"maximum", &n.max, []Kind{KindNumber, KindInteger}}} {
		if has, err := o.get(b.key, &num, path); err != nil {
			return err
		} else if has {
			if !slices.Contains(b.kinds, n.kind) {
				return &SchemaError{Path: path + "/" + b.key, Msg: "only numbers have " + b.key}
			}
			*b.dst = num.String()
		}
	}
	for _, b := range []struct {
		key   string
		dst   *int
		kinds []Kind
	}{
		{"minLength", &n.minLen, []Kind{KindText}}, {"maxLength", &n.maxLen, []Kind{KindText}},
		{"minItems", &n.minItems, []Kind{KindList}}, {"maxItems", &n.maxItems, []Kind{KindList}},
	} {
		if has, err := o.get(b.key, b.dst, path); err != nil {
			return err
		} else if has && !slices.Contains(b.kinds, n.kind) {
			return &SchemaError{Path: path + "/" + b.key, Msg: fmt.Sprintf("%s is not for %s fields", b.key, n.kind)}
		}
	}
	if has, err := o.get("pattern", &n.pattern, path); err != nil {
		return err
	} else if has && n.kind != KindText && n.kind != KindColor {
		return &SchemaError{Path: path + "/pattern", Msg: "pattern is for text fields"}
	}
	if _, ok := o.raw["format"]; ok && n.kind != KindColor && n.kind != KindImage && n.kind != KindText {
		return &SchemaError{Path: path + "/format", Msg: "format is for text fields"}
	}
	return nil
}

func (n *node) parseOptions(o *obj, enum []any, path string) error {
	labels := map[string]map[string]string{}
	if _, err := o.get("x-enum-labels", &labels, path); err != nil {
		return err
	}
	seen := map[string]bool{}
	for i, v := range enum {
		s, ok := v.(string)
		if !ok || s == "" {
			return &SchemaError{Path: fmt.Sprintf("%s/enum/%d", path, i), Msg: "choices are non-empty strings"}
		}
		if seen[s] {
			return &SchemaError{Path: fmt.Sprintf("%s/enum/%d", path, i), Msg: fmt.Sprintf("%q listed twice", s)}
		}
		seen[s] = true
		n.options = append(n.options, option{value: s, label: labels[s]})
	}
	for v := range labels {
		if !seen[v] {
			return &SchemaError{Path: path + "/x-enum-labels/" + v, Msg: "label for a value not in enum"}
		}
	}
	if len(n.options) == 0 {
		return &SchemaError{Path: path + "/enum", Msg: "no choices"}
	}
	return nil
}

// langText reads {"zh-CN": …, "en": …}; labels must come in every language.
func langText(o *obj, key, path string, required bool) (map[string]string, error) {
	var m map[string]string
	has, err := o.get(key, &m, path)
	if err != nil {
		return nil, err
	}
	if !has && !required {
		return nil, nil
	}
	for _, l := range Langs {
		if strings.TrimSpace(m[l]) == "" {
			return nil, &SchemaError{Path: path + "/" + key, Msg: fmt.Sprintf(`needs text in every language (%s): missing %q`, strings.Join(Langs, ", "), l)}
		}
	}
	for l := range m {
		if !slices.Contains(Langs, l) {
			return nil, &SchemaError{Path: path + "/" + key + "/" + l, Msg: "unknown language"}
		}
	}
	return m, nil
}

// AllowedKeys are the ext_json keys besides ext this template lets apps set.
func (s *Schema) AllowedKeys() []string { return slices.Clone(s.allowedKeys) }

// Defaults returns a new app's config: every field with a default.
func (s *Schema) Defaults() map[string]any {
	out := map[string]any{}
	for _, n := range s.fields {
		if n.hasDef {
			out[n.name] = deepCopy(n.def)
		}
	}
	return out
}

func deepCopy(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, x := range v {
			m[k] = deepCopy(x)
		}
		return m
	case []any:
		a := make([]any, len(v))
		for i, x := range v {
			a[i] = deepCopy(x)
		}
		return a
	}
	return v
}

// DecodeConfig decodes a stored config, keeping numbers exact (json.Number)
// as FromForm does, so stored and submitted configs compare equal.
func DecodeConfig(raw []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("extconfig: config: %w", err)
	}
	if dec.More() {
		return nil, errors.New("extconfig: config: trailing data")
	}
	if m == nil {
		m = map[string]any{}
	}
	return m, nil
}
