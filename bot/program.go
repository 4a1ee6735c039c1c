package bot

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"time"

	"gopkg.in/yaml.v3"
)

// Program is a call for initiatives: open from Opens until Deadline (Asia/Ho_Chi_Minh).
type Program struct {
	ID          string    `yaml:"id"`
	Name        Text      `yaml:"name"`
	Description Text      `yaml:"description"`
	Fields      []Field   `yaml:"fields"`
	Opens       time.Time `yaml:"-"` // read by LoadPrograms from the raw string
	Deadline    time.Time `yaml:"-"`
}

// Field is a domain (lĩnh vực) a program accepts initiatives in.
type Field struct {
	ID   string `yaml:"id"`
	Name Text   `yaml:"name"`
	// ServiceCode maps the field to an Open311 service_code.
	ServiceCode string `yaml:"service_code,omitempty"`
}

// Text is a string in both languages.
type Text struct {
	VI string `yaml:"vi" json:"vi,omitempty"`
	EN string `yaml:"en" json:"en,omitempty"`
}

// In returns the text in lang ("vi" or "en"), falling back to Vietnamese.
func (t Text) In(lang string) string {
	if lang == "en" && t.EN != "" {
		return t.EN
	}
	return t.VI
}

// OpenAt reports whether the program accepts initiatives at t.
func (p Program) OpenAt(t time.Time) bool {
	return !t.Before(p.Opens) && t.Before(p.Deadline)
}

// Field returns the program's field with the given id.
func (p Program) Field(id string) (Field, bool) {
	i := slices.IndexFunc(p.Fields, func(f Field) bool { return f.ID == id })
	if i < 0 {
		return Field{}, false
	}
	return p.Fields[i], true
}

// Programs is the catalog of programs, in the order the file lists them.
type Programs []Program

// Get returns the program with the given id.
func (ps Programs) Get(id string) (Program, bool) {
	i := slices.IndexFunc(ps, func(p Program) bool { return p.ID == id })
	if i < 0 {
		return Program{}, false
	}
	return ps[i], true
}

// OpenAt lists the programs open at t.
func (ps Programs) OpenAt(t time.Time) Programs {
	var open Programs
	for _, p := range ps {
		if p.OpenAt(t) {
			open = append(open, p)
		}
	}
	return open
}

// HoChiMinh is the city's time zone; times without a zone in the programs file are read in it.
var HoChiMinh = func() *time.Location {
	loc, err := time.LoadLocation("Asia/Ho_Chi_Minh")
	if err != nil {
		return time.FixedZone("ICT", 7*3600)
	}
	return loc
}()

type programsFile struct {
	Programs []struct {
		Program  `yaml:",inline"`
		Opens    string `yaml:"opens"`
		Deadline string `yaml:"deadline"`
	} `yaml:"programs"`
}

// LoadPrograms reads a programs file (YAML) and checks it.
func LoadPrograms(r io.Reader) (Programs, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read programs: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f programsFile
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("parse programs: %w", err)
	}
	var ps Programs
	seen := map[string]bool{}
	for i, raw := range f.Programs {
		p := raw.Program
		if p.ID == "" || p.Name.VI == "" || p.Name.EN == "" {
			return nil, fmt.Errorf("program %d: id and name in vi and en are required", i+1)
		}
		if seen[p.ID] {
			return nil, fmt.Errorf("program %q: listed twice", p.ID)
		}
		seen[p.ID] = true
		if len(p.ID) > 32 {
			return nil, fmt.Errorf("program %q: id longer than 32 characters", p.ID)
		}
		if len(p.Fields) == 0 {
			return nil, fmt.Errorf("program %q: no fields", p.ID)
		}
		for _, fl := range p.Fields {
			if fl.ID == "" || fl.Name.VI == "" || fl.Name.EN == "" || len(fl.ID) > 32 {
				return nil, fmt.Errorf("program %q: field %q needs an id of at most 32 characters and names in vi and en", p.ID, fl.ID)
			}
		}
		if p.Opens, err = parseProgramTime(raw.Opens); err != nil {
			return nil, fmt.Errorf("program %q: opens: %w", p.ID, err)
		}
		if p.Deadline, err = parseProgramTime(raw.Deadline); err != nil {
			return nil, fmt.Errorf("program %q: deadline: %w", p.ID, err)
		}
		if !p.Deadline.After(p.Opens) {
			return nil, fmt.Errorf("program %q: deadline is not after opening", p.ID)
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// parseProgramTime reads "2026-12-31", "2026-12-31 17:00" or RFC 3339.
func parseProgramTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339, "2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, HoChiMinh); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a date (2006-01-02, 2006-01-02 15:04 or RFC 3339)", s)
}
