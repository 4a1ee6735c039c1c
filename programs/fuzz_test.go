package programs

import (
	"bytes"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sangkien/sangkien/bot"
)

// FuzzLoad holds the programs file's promises: Load never panics; a file it accepts,
// written again from what it read, loads again to the same programs; and each
// program's console form (EditOf) stands over it unchanged (Apply), through the store's
// encoding (MarshalEdit, UnmarshalEdit) too. The seeds are the programs files the
// gateway ships and the flows tests use (testdata/fuzz/FuzzLoad) and the shapes below.
func FuzzLoad(f *testing.F) {
	field := `fields: [{id: f, name: {vi: "Lĩnh vực", en: "Field"}}]`
	for _, s := range []string{
		`programs: [{id: a, name: {vi: "A", en: "A"}, opens: "2026-01-01", deadline: "2026-02-01 17:00", reminders: [opening, 7d, 1d12h, 30m], ` + field + `}]`,
		`programs: [{id: a, name: {vi: "A", en: "A"}, opens: "2026-01-01T08:00:00Z", deadline: "2026-02-01T17:00", reminders: [], ` + field + `}]`,
		`programs: [{id: a, name: {vi: "A", en: "A"}, opens: "2026-01-01", deadline: "2026-02-01", zns: {template: "12345", params: {p: "{{.Program}} {{.Deadline}}", n: "{{$.Name}}"}}, ` + field + `}]`,
		`programs: [{id: a, name: {vi: " ", en: "A"}, opens: "2026-01-01", deadline: "2026-02-01", ` + field + `}]`,
		`programs: [{id: a, name: {vi: "A", en: "A"}, opens: "2026-01-01", deadline: "2026-02-01", reminders: [1d, 24h], ` + field + `}]`,
		"programs:\n  - id: a\n    colour: red\n", "programs: [", "", "programs: ~",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ps, err := Load(bytes.NewReader(data))
		if err != nil {
			return
		}
		again, err := Load(bytes.NewReader(writeFile(t, ps)))
		if err != nil {
			t.Fatalf("programs %+v written again do not load: %v", ps, err)
		}
		if !samePrograms(ps, again) {
			t.Fatalf("programs %+v written again load as %+v", ps, again)
		}
		for _, p := range ps {
			e := EditOf(p)
			got, err := e.Apply(p)
			if err != nil {
				t.Fatalf("program %q: its own form does not stand: %v", p.ID, err)
			}
			if !samePrograms(bot.Programs{trimmed(p)}, bot.Programs{got}) {
				t.Fatalf("program %+v under its own form is %+v", p, got)
			}
			s, err := MarshalEdit(e)
			if err != nil {
				t.Fatal(err)
			}
			stored, err := UnmarshalEdit(s)
			if err != nil {
				t.Fatalf("edit %s does not read back: %v", s, err)
			}
			if got, err := stored.Apply(p); err != nil || !samePrograms(bot.Programs{trimmed(p)}, bot.Programs{got}) {
				t.Fatalf("program %q under its stored form %s is %+v, %v", p.ID, s, got, err)
			}
		}
	})
}

// writeFile writes programs in the file's format, times in RFC 3339.
func writeFile(t *testing.T, ps bot.Programs) []byte {
	t.Helper()
	var out file
	for _, p := range ps {
		raw := program{ID: p.ID, Name: text{VI: p.Name.VI, EN: p.Name.EN},
			Description: text{VI: p.Description.VI, EN: p.Description.EN},
			Opens:       p.Opens.Format(time.RFC3339), Deadline: p.Deadline.Format(time.RFC3339)}
		for _, fl := range p.Fields {
			raw.Fields = append(raw.Fields, field{ID: fl.ID, Name: text{VI: fl.Name.VI, EN: fl.Name.EN}, ServiceCode: fl.ServiceCode})
		}
		if p.Reminders != nil {
			rs := FormatReminders(p.Reminders)
			raw.Reminders = &rs
		}
		if p.ZNS != nil {
			raw.ZNS = &zns{Template: p.ZNS.ID, Params: p.ZNS.Params}
		}
		out.Programs = append(out.Programs, raw)
	}
	b, err := yaml.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// samePrograms compares programs with times as instants.
func samePrograms(a, b bot.Programs) bool {
	return slices.EqualFunc(a, b, func(p, q bot.Program) bool {
		if !p.Opens.Equal(q.Opens) || !p.Deadline.Equal(q.Deadline) || len(p.Reminders) != len(q.Reminders) ||
			(p.Reminders == nil) != (q.Reminders == nil) {
			return false
		}
		p.Opens, p.Deadline, q.Opens, q.Deadline = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		if len(p.Reminders) == 0 {
			p.Reminders, q.Reminders = nil, nil
		}
		if p.ZNS != nil && q.ZNS != nil && len(p.ZNS.Params) == 0 && len(q.ZNS.Params) == 0 {
			p.ZNS, q.ZNS = &bot.ZNSTemplate{ID: p.ZNS.ID}, &bot.ZNSTemplate{ID: q.ZNS.ID}
		}
		return reflect.DeepEqual(p, q)
	})
}

// trimmed is p with its names and descriptions trimmed, as the console keeps them.
func trimmed(p bot.Program) bot.Program {
	trim := func(t bot.Text) bot.Text { return bot.Text{VI: strings.TrimSpace(t.VI), EN: strings.TrimSpace(t.EN)} }
	p.Name, p.Description = trim(p.Name), trim(p.Description)
	return p
}
