package programs_test

import (
	"os"
	"path/filepath"
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
