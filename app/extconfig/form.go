package extconfig

import (
	"encoding/json"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// maxRows bounds list rows read from a form, whatever the schema says, so a
// forged form cannot make us allocate without limit.
const maxRows = 200

// FromForm reads a submitted form into a config and validates it. Errors
// are keyed like the form fields. Nothing typed is lost: a number that does
// not parse stays in the config as the string typed, so FormValues(cfg)
// shows it again next to its error. Such a config is for redisplay only;
// save it only when errs is empty.
//
// Empty text is "not set"; an unchecked switch is false; list rows may have
// any indices (rows added and removed in the browser) and are renumbered in
// order, rows left entirely empty are dropped.
func (s *Schema) FromForm(v url.Values) (cfg map[string]any, errs FieldErrors) {
	cfg, errs = map[string]any{}, FieldErrors{}
	for _, n := range s.fields {
		if n.kind != KindList {
			if val, ok := n.parse(v.Get(n.name), n.name, errs); ok {
				cfg[n.name] = val
			}
			continue
		}
		idx, tooMany := rowIndices(v, n.name)
		if tooMany {
			errs.Add(n.name, Message{Key: KeyTooMany, Args: map[string]any{"Max": maxRows}})
		}
		var rows []any
		for _, i := range idx {
			row, rowErrs := map[string]any{}, FieldErrors{}
			set := false
			for _, it := range n.items {
				raw := v.Get(n.name + "." + strconv.Itoa(i) + "." + it.name)
				val, ok := it.parse(raw, it.name, rowErrs)
				if ok {
					row[it.name] = val
				}
				if ok && val != false { // an unchecked box alone does not make a row
					set = true
				}
			}
			if !set {
				continue
			}
			prefix := n.name + "." + strconv.Itoa(len(rows)) + "."
			for p, m := range rowErrs {
				errs.Add(prefix+p, m)
			}
			rows = append(rows, row)
		}
		if rows != nil {
			cfg[n.name] = rows
		}
	}
	for p, m := range s.Validate(cfg) {
		errs.Add(p, m)
	}
	if len(errs) == 0 {
		errs = nil
	}
	return cfg, errs
}

// rowIndices returns the row numbers present for list name, sorted.
func rowIndices(v url.Values, name string) (idx []int, tooMany bool) {
	seen := map[int]bool{}
	for k := range v {
		rest, ok := strings.CutPrefix(k, name+".")
		if !ok {
			continue
		}
		num, _, ok := strings.Cut(rest, ".")
		i, err := strconv.Atoi(num)
		if !ok || err != nil || i < 0 || num != strconv.Itoa(i) {
			continue
		}
		if !seen[i] {
			if len(seen) == maxRows {
				tooMany = true
				continue
			}
			seen[i] = true
			idx = append(idx, i)
		}
	}
	sort.Ints(idx)
	return idx, tooMany
}

// parse converts one submitted value; ok is false when the field is not set.
func (n *node) parse(raw, path string, errs FieldErrors) (any, bool) {
	if n.kind == KindSwitch {
		switch raw {
		case "true", "on", "1":
			return true, true
		}
		return false, true
	}
	s := strings.TrimSpace(raw)
	if s == "" {
		return nil, false
	}
	switch n.kind {
	case KindNumber:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			errs.Add(path, Message{Key: KeyNumber})
			return s, true
		}
		return json.Number(strconv.FormatFloat(f, 'f', -1, 64)), true
	case KindInteger:
		i, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			errs.Add(path, Message{Key: KeyInteger})
			return s, true
		}
		return json.Number(strconv.FormatInt(i, 10)), true
	}
	return s, true
}

// FormValues is the form for a config: the values FromForm reads back into
// the same config. Views render inputs from it, on first display and after
// an error alike.
func (s *Schema) FormValues(cfg map[string]any) url.Values {
	v := url.Values{}
	for _, n := range s.fields {
		val, ok := cfg[n.name]
		if !ok {
			continue
		}
		if n.kind != KindList {
			putValue(v, n.name, val)
			continue
		}
		rows, _ := val.([]any)
		for i, r := range rows {
			row, _ := r.(map[string]any)
			for _, it := range n.items {
				if x, ok := row[it.name]; ok {
					putValue(v, n.name+"."+strconv.Itoa(i)+"."+it.name, x)
				}
			}
		}
	}
	return v
}

func putValue(v url.Values, name string, x any) {
	switch x := x.(type) {
	case nil:
	case bool:
		if x { // an unchecked box sends nothing
			v.Set(name, "true")
		}
	case string:
		v.Set(name, x)
	case json.Number:
		v.Set(name, x.String())
	case float64:
		v.Set(name, strconv.FormatFloat(x, 'f', -1, 64))
	case int:
		v.Set(name, strconv.Itoa(x))
	case int64:
		v.Set(name, strconv.FormatInt(x, 10))
	default:
		b, _ := json.Marshal(x)
		v.Set(name, string(b))
	}
}
