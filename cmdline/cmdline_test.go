package cmdline

import (
	"bytes"
	"flag"
	"io"
	"strings"
	"testing"
)

func TestWords(t *testing.T) {
	for _, tt := range []struct {
		args          []string
		sub, id, rest string
	}{
		{[]string{"show", "b1", "--json"}, "show", "b1", "--json"},
		{[]string{"list"}, "list", "", ""},
		{[]string{"--help"}, "", "", "--help"},
		{[]string{"show", "--json", "b1"}, "show", "", "--json b1"},
		{[]string{"a", "b", "c"}, "a", "b", "c"},
		{nil, "", "", ""},
	} {
		var sub, id string
		rest := Words(tt.args, &sub, &id)
		if sub != tt.sub || id != tt.id || strings.Join(rest, " ") != tt.rest {
			t.Errorf("Words(%q) = %q, %q, rest %q; want %q, %q, rest %q", tt.args, sub, id, rest, tt.sub, tt.id, tt.rest)
		}
	}
}

func TestOperands(t *testing.T) {
	ops, rest := Operands([]string{"s1", "s2", "--all", "s3"})
	if strings.Join(ops, " ") != "s1 s2" || strings.Join(rest, " ") != "--all s3" {
		t.Errorf("Operands = %q, rest %q", ops, rest)
	}
	if ops, rest := Operands([]string{"--all"}); ops != nil || len(rest) != 1 {
		t.Errorf("Operands(--all) = %q, rest %q", ops, rest)
	}
}

func TestParseFlags(t *testing.T) {
	usage := func(w io.Writer) { io.WriteString(w, "Usage: sangkien demo\n") }
	parse := func(args ...string) (string, bool, error) {
		fs := flag.NewFlagSet("demo", flag.ContinueOnError)
		fs.Bool("json", false, "")
		var out bytes.Buffer
		done, err := ParseFlags(fs, args, &out, usage)
		return out.String(), done, err
	}
	for _, help := range []string{"-h", "--help", "-help"} {
		if out, done, err := parse(help); !done || err != nil || out != "Usage: sangkien demo\n" {
			t.Errorf("%s: done %v, err %v, out %q; want the usage on stdout", help, done, err, out)
		}
	}
	if out, done, err := parse("--json"); done || err != nil || out != "" {
		t.Errorf("--json: done %v, err %v, out %q", done, err, out)
	}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--colour"}, "demo: flag provided but not defined: -colour (see sangkien demo --help)"},
		{[]string{"--json", "extra"}, `demo: unexpected argument "extra" (see sangkien demo --help)`},
	} {
		out, done, err := parse(tt.args...)
		if !done || err == nil || err.Error() != tt.want || out != "" {
			t.Errorf("%q: done %v, err %v, out %q; want %q and nothing printed", tt.args, done, err, out, tt.want)
		}
	}
}
