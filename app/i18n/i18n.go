// Package i18n translates with go-i18n over the TOML files in locales/ and
// carries the viewer's localizer (language and time zone) in the context.
package i18n

import (
	"context"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"

	"github.com/minifleet/minifleet/locales"
)

// Languages Minifleet speaks; the first is the default.
var Languages = []string{"zh-CN", "en"}

// Bundle holds every translation.
type Bundle struct {
	b       *goi18n.Bundle
	matcher language.Matcher
	ids     map[string]map[string]bool // lang -> message ids, for the completeness test
	// plain holds each language's messages that take no data, translated
	// once: go-i18n parses and executes a message on every call, and a
	// list page asks for the same few labels on every row.
	plain map[string]map[string]string
}

// New loads locales/*.toml.
func New() (*Bundle, error) {
	b := goi18n.NewBundle(language.SimplifiedChinese)
	b.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	ids := map[string]map[string]bool{}
	plain := map[string]map[string]string{}
	var tags []language.Tag
	for _, lang := range Languages {
		raw, err := fs.ReadFile(locales.FS, lang+".toml")
		if err != nil {
			return nil, err
		}
		mf, err := b.ParseMessageFileBytes(raw, lang+".toml")
		if err != nil {
			return nil, fmt.Errorf("%s.toml: %w", lang, err)
		}
		ids[lang] = map[string]bool{}
		plain[lang] = map[string]string{}
		l := goi18n.NewLocalizer(b, lang)
		for _, m := range mf.Messages {
			ids[lang][m.ID] = true
			if m.Zero+m.One+m.Two+m.Few+m.Many != "" || strings.Contains(m.Other, "{{") {
				continue
			}
			if s, err := l.Localize(&goi18n.LocalizeConfig{MessageID: m.ID}); err == nil {
				plain[lang][m.ID] = s
			}
		}
		tags = append(tags, language.MustParse(lang))
	}
	return &Bundle{b: b, matcher: language.NewMatcher(tags), ids: ids, plain: plain}, nil
}

// IDs returns the message ids of one language.
func (b *Bundle) IDs(lang string) map[string]bool { return b.ids[lang] }

// Match picks the supported language for a user's choice, then Accept-Language.
func (b *Bundle) Match(choice, acceptLanguage string) string {
	if choice != "" {
		for _, l := range Languages {
			if strings.EqualFold(l, choice) {
				return l
			}
		}
	}
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return Languages[0]
	}
	_, i, conf := b.matcher.Match(tags...)
	if conf == language.No {
		return Languages[0]
	}
	return Languages[i]
}

// Localizer translates into one language and shows times in one zone.
type Localizer struct {
	Lang string
	Loc  *time.Location
	l    *goi18n.Localizer
	b    *Bundle
}

// Localizer returns a localizer for lang in time zone loc.
func (b *Bundle) Localizer(lang string, loc *time.Location) *Localizer {
	if loc == nil {
		loc = time.UTC
	}
	return &Localizer{Lang: lang, Loc: loc, l: goi18n.NewLocalizer(b.b, lang), b: b}
}

// T translates id; args are key, value pairs for the template ({{.Name}}).
// A missing id renders as the id itself, so it is visible, never blank.
func (l *Localizer) T(id string, args ...any) string {
	if l == nil {
		return id
	}
	if len(args) == 0 {
		if s, ok := l.b.plain[l.Lang][id]; ok {
			return s
		}
	}
	var data map[string]any
	if len(args) == 1 {
		if m, ok := args[0].(map[string]any); ok {
			data = m
		}
	} else if len(args) > 1 {
		data = make(map[string]any, len(args)/2)
		for i := 0; i+1 < len(args); i += 2 {
			data[fmt.Sprint(args[i])] = args[i+1]
		}
	}
	s, err := l.l.Localize(&goi18n.LocalizeConfig{MessageID: id, TemplateData: data})
	if err != nil {
		return id
	}
	return s
}

// Has reports whether id exists in the localizer's language.
func (l *Localizer) Has(id string) bool { return l.b.ids[l.Lang][id] }

type ctxKey struct{}

// With stores l in ctx.
func With(ctx context.Context, l *Localizer) context.Context {
	return context.WithValue(ctx, ctxKey{}, l)
}

// From returns the localizer in ctx (nil when none: T then echoes ids).
func From(ctx context.Context) *Localizer {
	l, _ := ctx.Value(ctxKey{}).(*Localizer)
	return l
}

// T translates with the localizer in ctx.
func T(ctx context.Context, id string, args ...any) string { return From(ctx).T(id, args...) }
