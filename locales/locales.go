// Package locales holds every user-facing text of the bot in Vietnamese (the default)
// and English, as go-i18n v2 TOML files embedded in the binary, and a small localizer
// the flows use to render them.
//
// Message ids are flat, quoted TOML keys ("initiative.title.ask"). Code names them as
// string literals so that the test that looks for unused keys can find them.
package locales

import (
	"embed"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/BurntSushi/toml"
	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

// The languages the bot speaks.
const (
	VI = "vi"
	EN = "en"
)

//go:embed vi.toml en.toml
var files embed.FS

// Catalog is the loaded set of messages in both languages. It is safe for concurrent use.
type Catalog struct {
	vi, en *Localizer
	ids    []string
}

// New loads the embedded message files.
func New() (*Catalog, error) {
	bundle := i18n.NewBundle(language.Vietnamese)
	bundle.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	var ids []string
	simple := map[string]map[string][]string{}
	for _, name := range []string{"vi.toml", "en.toml"} {
		mf, err := bundle.LoadMessageFileFS(files, name)
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", name, err)
		}
		lang := strings.TrimSuffix(name, ".toml")
		simple[lang] = map[string][]string{}
		for _, m := range mf.Messages {
			if name == "vi.toml" {
				ids = append(ids, m.ID)
			}
			if parts, ok := simpleTemplate(m); ok {
				simple[lang][m.ID] = parts
			}
		}
	}
	slices.Sort(ids)
	return &Catalog{
		vi:  &Localizer{l: i18n.NewLocalizer(bundle, VI), lang: VI, simple: simple[VI]},
		en:  &Localizer{l: i18n.NewLocalizer(bundle, EN), lang: EN, simple: simple[EN]},
		ids: ids,
	}, nil
}

// printField is a template action that only prints a field of the data: {{.Name}}.
var printField = regexp.MustCompile(`\{\{\s*\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}`)

// simpleTemplate splits a message with one form whose template only prints fields of
// its data into text and field names, alternating (text first): T renders it by
// joining them, with what text/template would print, instead of running the template.
// Any other message (plural forms, conditions, functions) is not simple.
func simpleTemplate(m *i18n.Message) ([]string, bool) {
	if m.Zero != "" || m.One != "" || m.Two != "" || m.Few != "" || m.Many != "" || m.LeftDelim != "" || m.RightDelim != "" {
		return nil, false
	}
	var parts []string
	rest := m.Other
	for _, loc := range printField.FindAllStringSubmatchIndex(m.Other, -1) {
		parts = append(parts, m.Other[len(m.Other)-len(rest):loc[0]], m.Other[loc[2]:loc[3]])
		rest = m.Other[loc[1]:]
	}
	parts = append(parts, rest)
	for i := 0; i < len(parts); i += 2 {
		if strings.Contains(parts[i], "{{") || strings.Contains(parts[i], "}}") {
			return nil, false
		}
	}
	return parts, true
}

// plainValues reports data whose values print the same with fmt as with text/template
// (which follows pointers, for one): strings, numbers and booleans.
func plainValues(data map[string]any) bool {
	for _, v := range data {
		switch v.(type) {
		case string, int, int64, int32, uint, uint64, float64, bool:
		default:
			return false
		}
	}
	return true
}

// render is text/template's output of a simple template (simpleTemplate) with data.
func render(parts []string, data map[string]any) string {
	var b strings.Builder
	for i, p := range parts {
		if i%2 == 0 {
			b.WriteString(p)
			continue
		}
		switch v, ok := data[p]; {
		case !ok || v == nil:
			b.WriteString("<no value>")
		default:
			if s, isString := v.(string); isString {
				b.WriteString(s)
			} else {
				fmt.Fprint(&b, v)
			}
		}
	}
	return b.String()
}

// For returns the localizer of lang ("vi" or "en"); any other value gives Vietnamese.
func (c *Catalog) For(lang string) *Localizer {
	if lang == EN {
		return c.en
	}
	return c.vi
}

// IDs lists the message ids of the default (Vietnamese) file, sorted.
func (c *Catalog) IDs() []string { return slices.Clone(c.ids) }

// Localizer renders messages in one language.
type Localizer struct {
	l    *i18n.Localizer
	lang string
	// plain holds the messages rendered without data, by id: the same every time,
	// and most of a turn's texts (go-i18n parses and runs a template on each call).
	plain sync.Map
	// simple are the messages whose templates only print data (simpleTemplate), by
	// id: rendered by joining their parts, the rest of a turn's texts.
	simple map[string][]string
}

// Lang is the localizer's language, "vi" or "en".
func (l *Localizer) Lang() string { return l.lang }

// T renders message id with optional template data. A missing message or a broken
// template renders as "[id]": visible in a transcript test, never a crash in production.
func (l *Localizer) T(id string, data ...map[string]any) string {
	cfg := &i18n.LocalizeConfig{MessageID: id}
	if len(data) > 0 {
		if parts, ok := l.simple[id]; ok && plainValues(data[0]) {
			return render(parts, data[0])
		}
		cfg.TemplateData = data[0]
	} else if s, ok := l.plain.Load(id); ok {
		return s.(string)
	}
	s, err := l.l.Localize(cfg)
	if err != nil {
		return "[" + id + "]"
	}
	if len(data) == 0 {
		l.plain.Store(id, s) // ids are the catalog's: a bounded set
	}
	return s
}

// Normalize maps a channel's language hint ("en", "en-US", "vi-VN", "") to "vi" or
// "en": English hints give English, anything else the default, Vietnamese.
func Normalize(hint string) string {
	h := strings.ToLower(strings.TrimSpace(hint))
	if h == EN || strings.HasPrefix(h, "en-") || strings.HasPrefix(h, "en_") {
		return EN
	}
	return VI
}

// Phrases lists the fixed pieces of the bot's messages in both languages, each once: the
// text between a message's placeholders, at least min bytes long. A store that keeps
// what the bot said (the transcripts) keeps a reference to a phrase instead of its
// words: a phrase names nobody, whatever the placeholders held. The console's own texts
// are left out: they never reach a citizen.
func (c *Catalog) Phrases(min int) []string {
	seen := map[string]bool{}
	var out []string
	for _, id := range c.ids {
		if strings.HasPrefix(id, "console.") {
			continue
		}
		for _, l := range []*Localizer{c.vi, c.en} {
			// Rendered without data, every placeholder gives text/template's "<no value>".
			s := l.T(id, map[string]any{})
			if s == "["+id+"]" {
				continue
			}
			for _, p := range strings.Split(s, "<no value>") {
				if len(p) >= min && !seen[p] {
					seen[p] = true
					out = append(out, p)
				}
			}
		}
	}
	return out
}
