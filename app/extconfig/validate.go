package extconfig

import (
	"errors"
	"fmt"
	"maps"
	"math/big"
	"slices"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

// Message keys of field errors; translations take the Args shown.
const (
	KeyRequired  = "config.err.required"
	KeyUnknown   = "config.err.unknown"    // a key the schema does not have
	KeyType      = "config.err.type"       // {Want}
	KeyNumber    = "config.err.number"     // not a number
	KeyInteger   = "config.err.integer"    // not a whole number
	KeyChoice    = "config.err.choice"     // not one of the options
	KeyColor     = "config.err.color"      // not #RRGGBB
	KeyImageURL  = "config.err.image_url"  // not an https URL
	KeyFormat    = "config.err.format"     // {Format}
	KeyPattern   = "config.err.pattern"    // {Pattern}
	KeyMinLength = "config.err.min_length" // {Min}
	KeyMaxLength = "config.err.max_length" // {Max}
	KeyMin       = "config.err.min"        // {Min}
	KeyMax       = "config.err.max"        // {Max}
	KeyMinItems  = "config.err.min_items"  // {Min}
	KeyMaxItems  = "config.err.max_items"  // {Max}
	KeyTooMany   = "config.err.too_many_rows"
	KeyInvalid   = "config.err.invalid"
)

// Message is a localizable message: a translation key and its arguments.
type Message struct {
	Key  string
	Args map[string]any
}

// FieldErrors maps a field path ("shopName", "banners.0.title") to its
// message. A field keeps its most basic error: required before format
// before bounds, so one message is shown and it is the one to fix first.
type FieldErrors map[string]Message

func (f FieldErrors) Error() string {
	var b strings.Builder
	b.WriteString("extconfig: invalid config:")
	for _, p := range slices.Sorted(maps.Keys(f)) {
		fmt.Fprintf(&b, " %s=%s", p, f[p].Key)
	}
	return b.String()
}

// Err returns f as an error, nil when empty.
func (f FieldErrors) Err() error {
	if len(f) == 0 {
		return nil
	}
	return f
}

var rank = map[string]int{
	KeyNumber: -1, KeyInteger: -1, KeyTooMany: -1, // what the user typed could not be read at all
	KeyRequired: 0, KeyType: 1, KeyUnknown: 1, KeyChoice: 2, KeyColor: 2, KeyImageURL: 2, KeyFormat: 2, KeyPattern: 3,
}

// Add records m for path unless the field already has a more basic error.
func (f FieldErrors) Add(path string, m Message) {
	if old, ok := f[path]; ok {
		ro, rn := rankOf(old.Key), rankOf(m.Key)
		if ro < rn || ro == rn && old.Key <= m.Key {
			return
		}
	}
	f[path] = m
}

func rankOf(key string) int {
	if r, ok := rank[key]; ok {
		return r
	}
	return 5
}

// Validate checks a config (as FromForm or DecodeConfig return it) against
// the schema and returns field-level messages; nil when valid.
func (s *Schema) Validate(cfg map[string]any) FieldErrors {
	if cfg == nil {
		cfg = map[string]any{}
	}
	err := s.compiled.Validate(cfg)
	if err == nil {
		return nil
	}
	errs := FieldErrors{}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		errs.Add("", Message{Key: KeyInvalid})
		return errs
	}
	collect(ve, errs)
	return errs
}

func collect(e *jsonschema.ValidationError, errs FieldErrors) {
	if len(e.Causes) > 0 {
		for _, c := range e.Causes {
			collect(c, errs)
		}
		return
	}
	path := strings.Join(e.InstanceLocation, ".")
	child := func(name string) string {
		if path == "" {
			return name
		}
		return path + "." + name
	}
	switch k := e.ErrorKind.(type) {
	case *kind.Required:
		for _, m := range k.Missing {
			errs.Add(child(m), Message{Key: KeyRequired})
		}
	case *kind.AdditionalProperties:
		for _, p := range k.Properties {
			errs.Add(child(p), Message{Key: KeyUnknown})
		}
	case *kind.Type:
		errs.Add(path, Message{Key: KeyType, Args: map[string]any{"Want": strings.Join(k.Want, "/")}})
	case *kind.Enum:
		errs.Add(path, Message{Key: KeyChoice})
	case *kind.Format:
		switch k.Want {
		case "color":
			errs.Add(path, Message{Key: KeyColor})
		case "image-url":
			errs.Add(path, Message{Key: KeyImageURL})
		default:
			errs.Add(path, Message{Key: KeyFormat, Args: map[string]any{"Format": k.Want}})
		}
	case *kind.Pattern:
		errs.Add(path, Message{Key: KeyPattern, Args: map[string]any{"Pattern": k.Want}})
	case *kind.MinLength:
		errs.Add(path, Message{Key: KeyMinLength, Args: map[string]any{"Min": k.Want}})
	case *kind.MaxLength:
		errs.Add(path, Message{Key: KeyMaxLength, Args: map[string]any{"Max": k.Want}})
	case *kind.Minimum:
		errs.Add(path, Message{Key: KeyMin, Args: map[string]any{"Min": ratString(k.Want)}})
	case *kind.Maximum:
		errs.Add(path, Message{Key: KeyMax, Args: map[string]any{"Max": ratString(k.Want)}})
	case *kind.MinItems:
		errs.Add(path, Message{Key: KeyMinItems, Args: map[string]any{"Min": k.Want}})
	case *kind.MaxItems:
		errs.Add(path, Message{Key: KeyMaxItems, Args: map[string]any{"Max": k.Want}})
	default:
		errs.Add(path, Message{Key: KeyInvalid})
	}
}

func ratString(r *big.Rat) string {
	if r == nil {
		return ""
	}
	if r.IsInt() {
		return r.Num().String()
	}
	f, _ := r.Float64()
	return fmt.Sprint(f)
}
