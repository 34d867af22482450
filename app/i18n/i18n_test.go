package i18n_test

import (
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/minifleet/minifleet/app/i18n"
	"github.com/minifleet/minifleet/app/model"
)

const root = "../.." // the repository, from app/i18n

func load(t *testing.T, lang string) map[string]string {
	t.Helper()
	m := map[string]string{}
	if _, err := toml.DecodeFile(filepath.Join(root, "locales", lang+".toml"), &m); err != nil {
		t.Fatalf("%s.toml: %v", lang, err)
	}
	return m
}

func TestLocalesHaveTheSameKeys(t *testing.T) {
	en, zh := load(t, "en"), load(t, "zh-CN")
	if len(en) < 100 {
		t.Fatalf("en.toml has only %d keys", len(en))
	}
	for k := range en {
		if _, ok := zh[k]; !ok {
			t.Errorf("%q is in en.toml but not in zh-CN.toml", k)
		}
	}
	for k := range zh {
		if _, ok := en[k]; !ok {
			t.Errorf("%q is in zh-CN.toml but not in en.toml", k)
		}
	}
	// Both translations of a message take the same template fields.
	field := regexp.MustCompile(`\{\{\s*\.(\w+)\s*\}\}`)
	fields := func(s string) string {
		var out []string
		for _, m := range field.FindAllStringSubmatch(s, -1) {
			out = append(out, m[1])
		}
		sort.Strings(out)
		return strings.Join(out, ",")
	}
	for k, v := range en {
		if z, ok := zh[k]; ok && fields(v) != fields(z) {
			t.Errorf("%q: en uses {%s}, zh-CN uses {%s}", k, fields(v), fields(z))
		}
		if strings.TrimSpace(v) == "" || strings.TrimSpace(zh[k]) == "" {
			t.Errorf("%q has an empty translation", k)
		}
	}
	b, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	if len(b.IDs("en")) != len(en) || len(b.IDs("zh-CN")) != len(zh) {
		t.Errorf("bundle ids = %d/%d, files = %d/%d", len(b.IDs("en")), len(b.IDs("zh-CN")), len(en), len(zh))
	}
}

var keyLike = regexp.MustCompile(`^[a-z_]+\.[a-z_.]+$`)

// notKeys are literals shaped like keys that are something else.
func notKey(s string) bool {
	if strings.HasSuffix(s, ".") {
		return true // the prefix of a dynamic family such as "role." + r, checked below
	}
	for _, ext := range []string{".db", ".key", ".csv", ".toml", ".conf", ".sql", ".go", ".js", ".css", ".json", ".html", ".txt", ".test", ".com", ".cn"} {
		if strings.HasSuffix(s, ext) {
			return true
		}
	}
	return false
}

// prefixFamilies are literals completed at run time with one of the suffixes.
var prefixFamilies = map[string][]string{
	"time.minutes": {"_ago", "_later"},
	"time.hours":   {"_ago", "_later"},
	"time.days":    {"_ago", "_later"},
}

// usedKeys collects key-shaped string literals from views/*.templ and the
// non-test Go files of app/ (the WeChat client and emulator show no
// translated text and are left out).
func usedKeys(t *testing.T) map[string][]string {
	t.Helper()
	used := map[string][]string{} // key -> where
	templLit := regexp.MustCompile(`"([a-z_]+\.[a-z_.]+)"`)
	templs, _ := filepath.Glob(filepath.Join(root, "views", "*.templ"))
	if len(templs) == 0 {
		t.Fatal("no views/*.templ found")
	}
	for _, f := range templs {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range templLit.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = append(used[m[1]], filepath.Base(f))
		}
	}
	fset := token.NewFileSet()
	err := filepath.WalkDir(filepath.Join(root, "app"), func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == "wechat" {
			return filepath.SkipDir
		}
		name := d.Name()
		if d.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") || strings.HasSuffix(name, "_templ.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.ImportSpec:
				return false // import paths are not keys
			case *ast.ValueSpec:
				// Job kinds ("wechat.authorized") and webhook event types
				// ("audit.success") are named like keys but are not shown.
				if len(x.Names) > 0 && (strings.HasPrefix(x.Names[0].Name, "Job") || strings.HasPrefix(x.Names[0].Name, "Evt")) {
					return false
				}
			}
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err == nil && keyLike.MatchString(s) {
				rel, _ := filepath.Rel(root, fset.Position(lit.Pos()).Filename)
				used[s] = append(used[s], rel)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return used
}

func TestEveryUsedKeyIsTranslated(t *testing.T) {
	locs := map[string]map[string]string{"en": load(t, "en"), "zh-CN": load(t, "zh-CN")}
	used := usedKeys(t)
	if len(used) < 50 {
		t.Fatalf("found only %d keys in the source; is the scan broken?", len(used))
	}
	for _, must := range []string{"error.csrf", "members.last_owner", "form.email_taken", "invite.already_member"} {
		if _, ok := used[must]; !ok {
			t.Errorf("the scan missed %q, which the code uses", must)
		}
	}
	var missing []string
	for key, where := range used {
		if notKey(key) {
			continue
		}
		want := []string{key}
		if sfx, ok := prefixFamilies[key]; ok {
			want = nil
			for _, s := range sfx {
				want = append(want, key+s)
			}
		}
		for _, k := range want {
			var langs []string
			for _, lang := range []string{"en", "zh-CN"} {
				if _, ok := locs[lang][k]; !ok {
					langs = append(langs, lang)
				}
			}
			if len(langs) > 0 {
				missing = append(missing, fmt.Sprintf("%s (missing in %s; used in %s)", k, strings.Join(langs, ", "), where[0]))
			}
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("%d translation keys are used but not translated:\n\t%s", len(missing), strings.Join(missing, "\n\t"))
	}
}

// actions reads every Act* constant of the store: each is written to the
// activity log and shown as "activity.<action>".
func actions(t *testing.T) []string {
	t.Helper()
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, filepath.Join(root, "app", "store"), func(fi fs.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range pkgs {
		for _, f := range p.Files {
			for _, decl := range f.Decls {
				gd, ok := decl.(*ast.GenDecl)
				if !ok || gd.Tok != token.CONST {
					continue
				}
				for _, spec := range gd.Specs {
					vs := spec.(*ast.ValueSpec)
					for i, n := range vs.Names {
						if !strings.HasPrefix(n.Name, "Act") || i >= len(vs.Values) {
							continue
						}
						if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							s, _ := strconv.Unquote(lit.Value)
							out = append(out, s)
						}
					}
				}
			}
		}
	}
	if len(out) < 10 {
		t.Fatalf("found only %d Act* constants in app/store", len(out))
	}
	return out
}

func TestDynamicKeyFamilies(t *testing.T) {
	var keys []string
	for _, r := range model.TenantRoles {
		keys = append(keys, "role."+string(r))
	}
	for _, a := range actions(t) {
		keys = append(keys, "activity."+a)
	}
	for _, s := range []string{"pending", "accepted", "revoked", "expired"} {
		keys = append(keys, "invite.state."+s)
	}
	for _, s := range []string{"accepted", "revoked", "expired"} { // invite.<state> for dead links
		keys = append(keys, "invite."+s)
	}
	for _, s := range []model.TenantStatus{model.TenantActive, model.TenantSuspended} {
		keys = append(keys, "tenant.status."+string(s))
	}
	keys = append(keys, "time.just_now")
	for _, u := range []string{"minutes", "hours", "days"} {
		keys = append(keys, "time."+u+"_ago", "time."+u+"_later")
	}
	for _, lang := range []string{"en", "zh-CN"} {
		m := load(t, lang)
		for _, k := range keys {
			if _, ok := m[k]; !ok {
				t.Errorf("%s: %q is missing", lang, k)
			}
		}
	}
}

func TestMatch(t *testing.T) {
	b, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ choice, accept, want string }{
		{"", "", "zh-CN"},
		{"", "en-US,en;q=0.9", "en"},
		{"", "zh-TW,zh;q=0.9", "zh-CN"},
		{"", "fr-FR", "zh-CN"},
		{"", "not a header;;", "zh-CN"},
		{"EN", "zh-CN", "en"},
		{"zh-CN", "en", "zh-CN"},
		{"klingon", "en", "en"},
	} {
		if got := b.Match(tc.choice, tc.accept); got != tc.want {
			t.Errorf("Match(%q, %q) = %q, want %q", tc.choice, tc.accept, got, tc.want)
		}
	}
}

func TestTranslateAndTimes(t *testing.T) {
	b, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	shanghai := time.FixedZone("CST", 8*3600)
	zh := i18n.With(context.Background(), b.Localizer("zh-CN", shanghai))
	en := i18n.With(context.Background(), b.Localizer("en", time.UTC))
	if got := i18n.T(en, "login.throttled", "Minutes", 3); got != "Too many failed sign-ins. Try again in 3 minutes" {
		t.Errorf("T with data = %q", got)
	}
	if got := i18n.T(en, "no.such_key"); got != "no.such_key" {
		t.Errorf("a missing key renders as %q, want the key", got)
	}
	if got := i18n.T(context.Background(), "login.title"); got != "login.title" {
		t.Errorf("no localizer: %q", got)
	}
	if i18n.T(zh, "login.title") == i18n.T(en, "login.title") {
		t.Error("zh-CN and en translate login.title the same")
	}
	at := time.Date(2026, 11, 21, 15, 4, 0, 0, time.UTC)
	if got := i18n.Time(zh, at); got != "2026-11-21 23:04" {
		t.Errorf("Time in Shanghai = %q", got)
	}
	if got := i18n.Time(en, time.Time{}); got != "—" {
		t.Errorf("zero time = %q", got)
	}
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{30 * time.Second, "just now"},
		{-30 * time.Second, "just now"},
		{5 * time.Minute, "5 minutes ago"},
		{-5 * time.Minute, "in 5 minutes"},
		{3 * time.Hour, "3 hours ago"},
		{49 * time.Hour, "2 days ago"},
		{-7 * 24 * time.Hour, "in 7 days"},
		{90 * 24 * time.Hour, i18n.Time(en, at.Add(-90*24*time.Hour))},
	} {
		if got := i18n.Ago(en, at.Add(-tc.d), at); got != tc.want {
			t.Errorf("Ago(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
	if got := i18n.Ago(zh, at.Add(-5*time.Minute), at); !strings.Contains(got, "5") || got == "5 minutes ago" {
		t.Errorf("zh Ago = %q", got)
	}
}

// Messages without data are translated once at load: each still reads
// exactly as its TOML says, in both languages, and one with data still
// takes it.
func TestPlainMessagesReadAsWritten(t *testing.T) {
	b, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range i18n.Languages {
		l := b.Localizer(lang, time.UTC)
		n := 0
		for id, text := range load(t, lang) {
			if strings.Contains(text, "{{") {
				continue
			}
			n++
			if got := l.T(id); got != text {
				t.Errorf("%s %s = %q, want %q", lang, id, got, text)
			}
		}
		if n < 100 {
			t.Errorf("%s: only %d plain messages checked", lang, n)
		}
	}
	if got := b.Localizer("zh-CN", time.UTC).T("login.throttled", "Minutes", 7); !strings.Contains(got, "7") {
		t.Errorf("a message with data after the plain ones: %q", got)
	}
}
