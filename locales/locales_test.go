package locales

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/nicksnyder/go-i18n/v2/i18n"
)

func loadFile(t *testing.T, name string) map[string]string {
	t.Helper()
	data, err := files.ReadFile(name)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	var raw map[string]any
	if err := toml.Unmarshal(data, &raw); err != nil {
		t.Fatalf("parse %s: %v", name, err)
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		s, ok := v.(string)
		if !ok {
			t.Fatalf("%s: %q is a %T, want a flat string (quote dotted keys)", name, k, v)
		}
		out[k] = s
	}
	return out
}

func TestSameKeysInBothFiles(t *testing.T) {
	vi, en := loadFile(t, "vi.toml"), loadFile(t, "en.toml")
	for k := range vi {
		if _, ok := en[k]; !ok {
			t.Errorf("en.toml lacks %q", k)
		}
	}
	for k := range en {
		if _, ok := vi[k]; !ok {
			t.Errorf("vi.toml lacks %q", k)
		}
	}
}

var placeholder = regexp.MustCompile(`\{\{\s*\.(\w+)\s*\}\}`)

func placeholders(s string) []string {
	var names []string
	for _, m := range placeholder.FindAllStringSubmatch(s, -1) {
		names = append(names, m[1])
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// Both languages must use the same template data, or one of them renders "<no value>".
func TestSamePlaceholders(t *testing.T) {
	vi, en := loadFile(t, "vi.toml"), loadFile(t, "en.toml")
	for k, v := range vi {
		if a, b := placeholders(v), placeholders(en[k]); !slices.Equal(a, b) {
			t.Errorf("%s: vi uses %v, en uses %v", k, a, b)
		}
	}
}

// notVietnamese lists vi values that rightly carry no diacritic.
var notVietnamese = map[string]bool{
	"language.en": true, // "English", written in its own language
	"choice.done": true, // "Xong" is Vietnamese without a tone mark
	// "English": the console's link to the other language, written in it
	"console.other_lang": true,
}

const vietnameseLetters = "àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ"

func TestVietnameseHasDiacritics(t *testing.T) {
	for k, v := range loadFile(t, "vi.toml") {
		if notVietnamese[k] {
			continue
		}
		if !strings.ContainsAny(strings.ToLower(v), vietnameseLetters) {
			t.Errorf("vi.toml %q = %q has no Vietnamese diacritic: untranslated?", k, v)
		}
	}
}

// moduleRoot walks up from the package directory to the directory holding go.mod.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the package directory")
		}
		dir = parent
	}
}

// templateID finds the message ids an HTML template names.
var templateID = regexp.MustCompile(`\bt "([a-z0-9_.]+)"`)

// stringLiterals collects every string literal of the module's non-test Go files, and
// the message ids of its HTML templates.
func stringLiterals(t *testing.T, root string) map[string]bool {
	t.Helper()
	lits := map[string]bool{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path != root && (name == "vendor" || name == "testdata" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_")) {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(name, ".html") {
			// A template names a message as {{t "id"}}.
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			for _, m := range templateID.FindAllStringSubmatch(string(b), -1) {
				lits[m[1]] = true
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil {
					lits[s] = true
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatalf("scan module: %v", err)
	}
	return lits
}

// Every message must be named, as a string literal, by some code: an unused key is a
// text no citizen will ever see, or a sign that code builds ids by concatenation.
func TestEveryKeyIsUsed(t *testing.T) {
	lits := stringLiterals(t, moduleRoot(t))
	var unused []string
	for k := range loadFile(t, "vi.toml") {
		if !lits[k] {
			unused = append(unused, k)
		}
	}
	slices.Sort(unused)
	if len(unused) > 0 {
		t.Errorf("%d keys are not named by any non-test Go file:\n%s", len(unused), strings.Join(unused, "\n"))
	}
}

func TestCatalog(t *testing.T) {
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	if got := len(c.IDs()); got != len(loadFile(t, "vi.toml")) {
		t.Errorf("IDs() has %d ids, vi.toml %d keys", got, len(loadFile(t, "vi.toml")))
	}
	tests := []struct {
		lang, id string
		data     map[string]any
		want     string
	}{
		{"vi", "cancel.done", nil, "Đã hủy."},
		{"en", "cancel.done", nil, "Cancelled."},
		{"fr", "cancel.done", nil, "Đã hủy."},
		{"", "choice.no", nil, "Không"},
		{"en", "status.header", map[string]any{"Count": 3}, "📋 Your submissions (3):"},
		{"vi", "no.such.key", nil, "[no.such.key]"},
		{"en", "no.such.key", nil, "[no.such.key]"},
	}
	for _, tt := range tests {
		l := c.For(tt.lang)
		var got string
		if tt.data != nil {
			got = l.T(tt.id, tt.data)
		} else {
			got = l.T(tt.id)
		}
		if got != tt.want {
			t.Errorf("For(%q).T(%q) = %q, want %q", tt.lang, tt.id, got, tt.want)
		}
	}
	if c.For("en").Lang() != EN || c.For("xx").Lang() != VI {
		t.Error("Lang() does not name the localizer's language")
	}
}

// Every message renders in both languages with its data: no "[id]", no "<no value>".
func TestEveryMessageRenders(t *testing.T) {
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	vi := loadFile(t, "vi.toml")
	for _, lang := range []string{VI, EN} {
		for _, id := range c.IDs() {
			data := map[string]any{}
			for _, p := range placeholders(vi[id]) {
				data[p] = "x"
			}
			got := c.For(lang).T(id, data)
			if got == "["+id+"]" || strings.Contains(got, "<no value>") || strings.TrimSpace(got) == "" {
				t.Errorf("%s %s renders %q", lang, id, got)
			}
		}
	}
}

func TestNormalize(t *testing.T) {
	tests := []struct{ hint, want string }{
		{"", VI},
		{"vi", VI},
		{"vi-VN", VI},
		{"en", EN},
		{"EN", EN},
		{"en-US", EN},
		{"en_GB", EN},
		{" en-gb ", EN},
		{"fr", VI},
		{"eng", VI},
		{"ru-RU", VI},
	}
	for _, tt := range tests {
		if got := Normalize(tt.hint); got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.hint, got, tt.want)
		}
	}
}

// TestPhrases: the phrases are the fixed pieces of the citizens' messages, each a piece
// of a rendered message, none holding a placeholder, none of the console's.
func TestPhrases(t *testing.T) {
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	phrases := c.Phrases(16)
	if len(phrases) < 100 {
		t.Fatalf("Phrases(16) = %d phrases, want the catalog's", len(phrases))
	}
	want := c.For(VI).T("initiative.title.ask", map[string]any{"Min": 10, "Max": 150})
	title := false
	for _, p := range phrases {
		if len(p) < 16 || strings.Contains(p, "{{") || strings.Contains(p, "<no value>") {
			t.Errorf("phrase %q: too short or holds a placeholder", p)
		}
		if p == c.For(VI).T("console.unavailable") {
			t.Errorf("phrase %q is the console's", p)
		}
		title = title || strings.HasPrefix(want, p)
	}
	if !title {
		t.Errorf("no phrase begins %q", want)
	}
}

// A message whose template only prints its data renders as go-i18n renders it, with
// strings, numbers and a field missing alike.
func TestSimpleTemplatesRenderAsGoI18n(t *testing.T) {
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	vi := loadFile(t, "vi.toml")
	n := 0
	for _, lang := range []string{VI, EN} {
		l := c.For(lang)
		for _, id := range c.IDs() {
			names := placeholders(vi[id])
			if len(names) == 0 {
				continue
			}
			if _, ok := l.simple[id]; !ok {
				t.Errorf("%s %s: not rendered without its template", lang, id)
				continue
			}
			n++
			for _, data := range []map[string]any{
				{names[0]: "Nguyễn Thị Lan <b>&</b>"},
				{names[0]: 42, names[len(names)-1]: "x"},
			} {
				want, err := l.l.Localize(&i18n.LocalizeConfig{MessageID: id, TemplateData: data})
				if err != nil {
					t.Fatal(err)
				}
				if got := l.T(id, data); got != want {
					t.Errorf("%s %s: %q, go-i18n renders %q", lang, id, got, want)
				}
			}
		}
	}
	if n == 0 {
		t.Fatal("no message with data")
	}
}
