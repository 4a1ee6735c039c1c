package programs_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/programs"
)

const programsYAML = `
programs:
  - id: xanh
    name: {vi: "Thủ đô xanh", en: "Green capital"}
    description: {vi: "Cây xanh", en: "Trees"}
    opens: "2026-01-01"
    deadline: "2026-12-31 23:59"
    fields:
      - {id: cay-xanh, name: {vi: "Cây xanh", en: "Trees"}, service_code: "101"}
  - id: so
    name: {vi: "Chuyển đổi số", en: "Digital"}
    opens: "2027-01-01T00:00:00+07:00"
    deadline: "2027-06-30"
    fields:
      - {id: dich-vu, name: {vi: "Dịch vụ công", en: "Public services"}}
`

func TestLoad(t *testing.T) {
	ps, err := programs.Load(strings.NewReader(programsYAML))
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 2 {
		t.Fatalf("loaded %d programs", len(ps))
	}
	xanh, ok := ps.Get("xanh")
	if !ok || xanh.Name.In("en") != "Green capital" || xanh.Name.In("vi") != "Thủ đô xanh" || xanh.Name.In("fr") != "Thủ đô xanh" {
		t.Fatalf("program xanh = %+v", xanh)
	}
	if want := time.Date(2026, 12, 31, 23, 59, 0, 0, bot.HoChiMinh()); !xanh.Deadline.Equal(want) {
		t.Errorf("deadline = %v, want %v (Hanoi time)", xanh.Deadline, want)
	}
	if f, ok := xanh.Field("cay-xanh"); !ok || f.ServiceCode != "101" {
		t.Errorf("field = %+v, %v", f, ok)
	}
	if _, ok := xanh.Field("none"); ok {
		t.Error("found a field that is not there")
	}
	if _, ok := ps.Get("none"); ok {
		t.Error("found a program that is not there")
	}
	nov := time.Date(2026, 11, 28, 9, 0, 0, 0, bot.HoChiMinh())
	if open := ps.OpenAt(nov); len(open) != 1 || open[0].ID != "xanh" {
		t.Errorf("open in November 2026 = %v", open)
	}
	if open := ps.OpenAt(time.Date(2027, 7, 1, 0, 0, 0, 0, bot.HoChiMinh())); len(open) != 0 {
		t.Errorf("open after every deadline = %v", open)
	}
}

func TestLoadRefusesBadFiles(t *testing.T) {
	field := `fields: [{id: f, name: {vi: "Lĩnh vực", en: "Field"}}]`
	for name, body := range map[string]string{
		"not yaml":        "programs: [",
		"unknown key":     "programs:\n  - id: a\n    colour: red\n",
		"no id":           `programs: [{name: {vi: "A", en: "A"}, opens: "2026-01-01", deadline: "2026-02-01", ` + field + `}]`,
		"no english name": `programs: [{id: a, name: {vi: "A"}, opens: "2026-01-01", deadline: "2026-02-01", ` + field + `}]`,
		"twice":           `programs: [{id: a, name: {vi: "A", en: "A"}, opens: "2026-01-01", deadline: "2026-02-01", ` + field + `}, {id: a, name: {vi: "A", en: "A"}, opens: "2026-01-01", deadline: "2026-02-01", ` + field + `}]`,
		"long id":         `programs: [{id: ` + strings.Repeat("a", 33) + `, name: {vi: "A", en: "A"}, opens: "2026-01-01", deadline: "2026-02-01", ` + field + `}]`,
		"no fields":       `programs: [{id: a, name: {vi: "A", en: "A"}, opens: "2026-01-01", deadline: "2026-02-01"}]`,
		"unnamed field":   `programs: [{id: a, name: {vi: "A", en: "A"}, opens: "2026-01-01", deadline: "2026-02-01", fields: [{id: f}]}]`,
		"bad opening":     `programs: [{id: a, name: {vi: "A", en: "A"}, opens: "soon", deadline: "2026-02-01", ` + field + `}]`,
		"bad deadline":    `programs: [{id: a, name: {vi: "A", en: "A"}, opens: "2026-01-01", deadline: "31/12/2026", ` + field + `}]`,
		"deadline first":  `programs: [{id: a, name: {vi: "A", en: "A"}, opens: "2026-03-01", deadline: "2026-02-01", ` + field + `}]`,
	} {
		if _, err := programs.Load(strings.NewReader(body)); err == nil {
			t.Errorf("%s: loaded without error", name)
		}
	}
}

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "programs.yaml")
	if err := os.WriteFile(good, []byte(programsYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(bad, []byte("programs: [{id: x}]\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if ps, err := programs.ReadFile("", []byte(programsYAML)); err != nil || len(ps) == 0 {
		t.Errorf("built in: %d programs, %v; want the built-in catalog", len(ps), err)
	}
	if ps, err := programs.ReadFile(good, []byte("not yaml: [")); err != nil || len(ps) == 0 {
		t.Errorf("file: %d programs, %v; want the file's catalog, not the built-in one", len(ps), err)
	}
	for _, tt := range []struct {
		name, path string
		builtIn    []byte
		want       string
	}{
		{"missing file", filepath.Join(dir, "nope.yaml"), nil, "PROGRAMS_FILE: "},
		{"bad file", bad, nil, "PROGRAMS_FILE " + bad + ": "},
		{"bad built-in", "", []byte("programs: [{id: x}]\n"), "built-in programs.yaml: "},
	} {
		if _, err := programs.ReadFile(tt.path, tt.builtIn); err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want one starting %q", tt.name, err, tt.want)
		}
	}
}

func TestLoadReminders(t *testing.T) {
	const head = `programs: [{id: a, name: {vi: "A", en: "A"}, opens: "2026-01-01", deadline: "2026-02-01", fields: [{id: f, name: {vi: "Lĩnh vực", en: "Field"}}]`
	day := 24 * time.Hour
	for _, tt := range []struct {
		name, extra string
		want        []bot.Reminder // nil: the default ones
	}{
		{"none given", ``, nil},
		{"null", `, reminders: null`, nil},
		{"empty", `, reminders: []`, []bot.Reminder{}},
		{"listed", `, reminders: [opening, 7d, 1d, 12h, 30m, 1m, 1d12h]`, []bot.Reminder{{AtOpening: true},
			{Before: 7 * day}, {Before: day}, {Before: 12 * time.Hour}, {Before: 30 * time.Minute}, {Before: time.Minute},
			{Before: day + 12*time.Hour}}},
	} {
		ps, err := programs.Load(strings.NewReader(head + tt.extra + `}]`))
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		got := ps[0].Reminders
		if (got == nil) != (tt.want == nil) || !slices.Equal(got, tt.want) {
			t.Errorf("%s: reminders = %#v, want %#v", tt.name, got, tt.want)
		}
	}
	for _, tt := range []struct{ name, extra, want string }{
		{"bad offset", `, reminders: [opening, 7x]`, `program "a": reminders: reminder "7x": not "opening" or a time before the deadline`},
		{"bad days", `, reminders: [1.5d]`, `reminder "1.5d": not "opening"`},
		{"zero", `, reminders: [0m]`, `reminder "0m": the time before the deadline is not positive`},
		{"zero days", `, reminders: [0d]`, `reminder "0d": the time before the deadline is not positive`},
		{"no unit", `, reminders: [7]`, `reminder "7": not "opening"`},
		{"negative", `, reminders: [-1d]`, `reminder "-1d": the time before the deadline is not positive`},
		{"twice", `, reminders: [1d, 1d]`, `reminder "1d": listed twice`},
		{"twice in other words", `, reminders: [1d, 24h]`, `reminder "24h": listed twice (also as "1d")`},
		{"opening twice", `, reminders: [opening, opening]`, `reminder "opening": listed twice`},
		{"not a list", `, reminders: 7d`, `parse programs`},
		{"no template id", `, zns: {params: {a: "{{.Program}}"}}`, `program "a": zns: template: an approved template's id is required`},
		{"param does not parse", `, zns: {template: "123", params: {deadline: "{{.Deadline"}}`, `program "a": zns: params: deadline: not a template`},
		{"param names another", `, zns: {template: "123", params: {phone: "{{.Phone}}"}}`, `zns: params: phone: .Phone: only .Program, .Deadline and .Name may be named`},
		{"param names a chain", `, zns: {template: "123", params: {p: "{{.Program.X}}"}}`, `only .Program, .Deadline and .Name may be named`},
		{"param prints dot", `, zns: {template: "123", params: {p: "{{.}}"}}`, `only .Program, .Deadline and .Name may be named`},
		{"param in a branch", `, zns: {template: "123", params: {p: "{{if .Name}}{{.Name}}{{else}}{{.Nom}}{{end}}"}}`, `.Nom: only`},
		{"unknown zns key", `, zns: {template: "123", parameters: {}}`, `parse programs`},
	} {
		_, err := programs.Load(strings.NewReader(head + tt.extra + `}]`))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want one with %q", tt.name, err, tt.want)
		}
	}
}

func TestLoadZNS(t *testing.T) {
	ps, err := programs.Load(strings.NewReader(`programs: [{id: a, name: {vi: "A", en: "A"}, opens: "2026-01-01", deadline: "2026-02-01",
  fields: [{id: f, name: {vi: "Lĩnh vực", en: "Field"}}],
  zns: {template: "12345", params: {program_name: "{{.Program}}", deadline: "{{.Deadline}}", customer: "{{with $.Name}}{{$.Name}}{{else}}bạn{{end}}"}}}]`))
	if err != nil {
		t.Fatal(err)
	}
	z := ps[0].ZNS
	if z == nil || z.ID != "12345" || len(z.Params) != 3 || z.Params["program_name"] != "{{.Program}}" {
		t.Errorf("zns = %+v", z)
	}
	if ps, err := programs.Load(strings.NewReader(programsYAML)); err != nil || ps[0].ZNS != nil {
		t.Errorf("a program without zns: %+v, %v", ps[0].ZNS, err)
	}
}

func TestReminderOffsetsRoundTrip(t *testing.T) {
	in := []string{"opening", "7d", "1d12h", "12h", "1h30m", "30m", "1m", "90s"}
	rs, err := programs.ParseReminders(in)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"opening", "7d", "1d12h", "12h", "1h30m", "30m", "1m", "1m30s"}
	if got := programs.FormatReminders(rs); !slices.Equal(got, want) {
		t.Errorf("formatted %q, want %q", got, want)
	}
	again, err := programs.ParseReminders(want)
	if err != nil || !slices.Equal(again, rs) {
		t.Errorf("read back %v, %v; want %v", again, err, rs)
	}
	if got := programs.FormatReminders(bot.DefaultReminders); !slices.Equal(got, []string{"opening", "7d", "1d"}) {
		t.Errorf("default reminders formatted %q", got)
	}
}
