// Package programs reads the programs file (YAML), the catalog of calls for initiatives
// a gateway offers, into the domain's bot.Programs.
//
// The file format is the operators' concern, not the domain's: bot knows programs,
// this package knows how they are written down.
package programs

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sangkien/sangkien/bot"
)

// file is the programs file as written.
type file struct {
	Programs []program `yaml:"programs"`
}

type program struct {
	ID          string  `yaml:"id"`
	Name        text    `yaml:"name"`
	Description text    `yaml:"description"`
	Fields      []field `yaml:"fields"`
	// Opens and Deadline are dates in one of the layouts parseTime reads.
	Opens    string `yaml:"opens"`
	Deadline string `yaml:"deadline"`
	// Reminders is nil when the file names none (the default reminders), and an
	// empty list for none at all.
	Reminders *[]string `yaml:"reminders"`
	ZNS       *zns      `yaml:"zns"`
}

type zns struct {
	Template string            `yaml:"template"`
	Params   map[string]string `yaml:"params"`
}

type field struct {
	ID          string `yaml:"id"`
	Name        text   `yaml:"name"`
	ServiceCode string `yaml:"service_code,omitempty"`
}

type text struct {
	VI string `yaml:"vi"`
	EN string `yaml:"en"`
}

func (t text) domain() bot.Text { return bot.Text{VI: t.VI, EN: t.EN} }

// Load reads a programs file and checks it: unknown keys, missing names in either
// language, repeated or over-long ids, programs without fields, deadlines that do not
// follow the opening, reminder offsets that do not parse, are not positive or come
// twice, and ZNS parameters that are not templates of .Program, .Deadline and .Name
// are errors, so a bad file fails the start, not a conversation or a reminder.
func Load(r io.Reader) (bot.Programs, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read programs: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f file
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("parse programs: %w", err)
	}
	var ps bot.Programs
	seen := map[string]bool{}
	for i, raw := range f.Programs {
		p, err := raw.domain(i, seen)
		if err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// ReadFile reads the programs file at path, or builtIn (the sample built into the
// binary) when path is empty. Errors name PROGRAMS_FILE, the variable path comes from.
func ReadFile(path string, builtIn []byte) (bot.Programs, error) {
	data := builtIn
	if path != "" {
		var err error
		if data, err = os.ReadFile(path); err != nil {
			return nil, fmt.Errorf("PROGRAMS_FILE: %w", err)
		}
	}
	ps, err := Load(bytes.NewReader(data))
	if err != nil {
		if path == "" {
			return nil, fmt.Errorf("built-in programs.yaml: %w", err)
		}
		return nil, fmt.Errorf("PROGRAMS_FILE %s: %w", path, err)
	}
	return ps, nil
}

// domain checks the i-th program of the file and converts it; seen holds the ids of
// the programs before it.
func (raw program) domain(i int, seen map[string]bool) (bot.Program, error) {
	p := bot.Program{ID: raw.ID, Name: raw.Name.domain(), Description: raw.Description.domain()}
	if p.ID == "" || blank(p.Name.VI) || blank(p.Name.EN) {
		return bot.Program{}, fmt.Errorf("program %d: id and name in vi and en are required", i+1)
	}
	if seen[p.ID] {
		return bot.Program{}, fmt.Errorf("program %q: listed twice", p.ID)
	}
	seen[p.ID] = true
	if len(p.ID) > 32 {
		return bot.Program{}, fmt.Errorf("program %q: id longer than 32 characters", p.ID)
	}
	if len(raw.Fields) == 0 {
		return bot.Program{}, fmt.Errorf("program %q: no fields", p.ID)
	}
	for _, fl := range raw.Fields {
		if fl.ID == "" || blank(fl.Name.VI) || blank(fl.Name.EN) || len(fl.ID) > 32 {
			return bot.Program{}, fmt.Errorf("program %q: field %q needs an id of at most 32 characters and names in vi and en", p.ID, fl.ID)
		}
		p.Fields = append(p.Fields, bot.Field{ID: fl.ID, Name: fl.Name.domain(), ServiceCode: fl.ServiceCode})
	}
	var err error
	if p.Opens, err = parseTime(raw.Opens); err != nil {
		return bot.Program{}, fmt.Errorf("program %q: opens: %w", p.ID, err)
	}
	if p.Deadline, err = parseTime(raw.Deadline); err != nil {
		return bot.Program{}, fmt.Errorf("program %q: deadline: %w", p.ID, err)
	}
	if !p.Deadline.After(p.Opens) {
		return bot.Program{}, fmt.Errorf("program %q: deadline is not after opening", p.ID)
	}
	if raw.Reminders != nil {
		if p.Reminders, err = ParseReminders(*raw.Reminders); err != nil {
			return bot.Program{}, fmt.Errorf("program %q: reminders: %w", p.ID, err)
		}
	}
	if raw.ZNS != nil {
		if p.ZNS, err = raw.ZNS.domain(); err != nil {
			return bot.Program{}, fmt.Errorf("program %q: zns: %w", p.ID, err)
		}
	}
	return p, nil
}

// blank reports a name of nothing but spaces, which a citizen would see as an empty
// button and the console refuses (Edit.Apply): the file is refused too.
func blank(s string) bool { return strings.TrimSpace(s) == "" }

// parseTime reads "2026-12-31", "2026-12-31 17:00" or RFC 3339; a time without a zone
// is the city's.
func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, "2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, bot.HoChiMinh()); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date (2006-01-02, 2006-01-02 15:04 or RFC 3339)", s)
}
