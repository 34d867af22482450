package main

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/minifleet/minifleet/"

// TestImportsFollowTheMap fails when a package imports a project package
// that docs/architecture.md's import map does not allow, or when a package
// is missing from the map (a new package gets its row first).
func TestImportsFollowTheMap(t *testing.T) {
	allowed := importMap(t)
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "node_modules" || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		pkg := filepath.ToSlash(rel)
		seen[pkg] = true
		may, ok := allowed[pkg]
		if !ok {
			t.Errorf("%s is not in the import map of docs/architecture.md", pkg)
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			dep, ok := strings.CutPrefix(strings.Trim(imp.Path.Value, `"`), module)
			if ok && !slices.Contains(may, "*") && !slices.Contains(may, dep) {
				t.Errorf("%s imports %s, which the import map does not allow (%s may import: %s)",
					strings.TrimPrefix(path, root+"/"), dep, pkg, strings.Join(may, ", "))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for pkg := range allowed {
		if !seen[pkg] {
			t.Errorf("the import map lists %s, which has no Go files", pkg)
		}
	}
}

// importMap reads the "Import map" table: a row per package, `pkg` | the
// packages it may import (backticked; "anything" is *).
func importMap(t *testing.T) map[string][]string {
	t.Helper()
	doc, err := os.ReadFile("../docs/architecture.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "## Import map")
	if !ok {
		t.Fatal(`docs/architecture.md has no "## Import map" section`)
	}
	section, _, _ = strings.Cut(section, "\n## ")
	ticks := regexp.MustCompile("`([^`]+)`")
	m := map[string][]string{}
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 || !strings.Contains(cells[1], "`") {
			continue
		}
		pkg := ticks.FindStringSubmatch(cells[1])[1]
		m[pkg] = []string{}
		if strings.Contains(cells[2], "anything") {
			m[pkg] = []string{"*"}
			continue
		}
		for _, d := range ticks.FindAllStringSubmatch(cells[2], -1) {
			m[pkg] = append(m[pkg], d[1])
		}
	}
	if len(m) < 10 {
		t.Fatalf("import map has %d rows; is the table's format intact?", len(m))
	}
	return m
}
