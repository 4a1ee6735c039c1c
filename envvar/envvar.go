// Package envvar reads a program's configuration from environment variables: each
// variable documented once (name, default, whether it is a secret), read with its
// default, a secret also from the file named by NAME_FILE (as Docker and Kubernetes
// mount secrets), and the same list printed as help.
package envvar

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// Var documents one environment variable for help and the README.
type Var struct {
	Name    string
	Default string
	Secret  bool // also readable from the file named by NAME_FILE
	Later   bool // accepted and ignored until its channel or intake is built
	Help    string
}

// Reader looks variables of a list up with their defaults. It keeps the first error, so
// that a caller reads every variable top-down and checks Err once.
type Reader struct {
	env  func(string) string
	vars []Var
	err  error
}

// NewReader reads vars from env (os.Getenv, or a test's map).
func NewReader(env func(string) string, vars []Var) *Reader {
	return &Reader{env: env, vars: vars}
}

// Get returns the variable's value, trimmed, from NAME_FILE for a secret when that is
// set, else its default when empty. A name missing from the list has no default.
func (r *Reader) Get(name string) string {
	var v Var
	for _, e := range r.vars {
		if e.Name == name {
			v = e
		}
	}
	val := strings.TrimSpace(r.env(name))
	if v.Secret {
		file := strings.TrimSpace(r.env(name + "_FILE"))
		switch {
		case file != "" && val != "":
			r.Fail(fmt.Errorf("%s and %s_FILE are both set: keep one", name, name))
		case file != "":
			b, err := readSecret(file)
			if err != nil {
				r.Fail(fmt.Errorf("%s_FILE: %w", name, err))
			}
			val = b
		}
	}
	if val == "" {
		val = v.Default
	}
	return val
}

// IsSet reports whether the variable is given, not left to its default.
func (r *Reader) IsSet(name string) bool { return strings.TrimSpace(r.env(name)) != "" }

// Fail records err unless an earlier error is already recorded.
func (r *Reader) Fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

// Err is the first error met.
func (r *Reader) Err() error { return r.err }

// readSecret reads a secret file (a Docker or Kubernetes secret), without its final newline.
func readSecret(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 64<<10))
	if err != nil {
		return "", err
	}
	s := strings.TrimRight(string(b), "\r\n")
	if s == "" {
		return "", errors.New("file is empty")
	}
	return s, nil
}

// WriteHelp prints vars for --help: each with its help text and default, those used
// later listed apart, and how secrets may come from files.
func WriteHelp(w io.Writer, vars []Var) {
	fmt.Fprintln(w, "Environment:")
	width := 0
	for _, v := range vars {
		width = max(width, len(v.Name))
	}
	var later []string
	for _, v := range vars {
		if v.Later {
			later = append(later, v.Name)
			continue
		}
		def := ""
		if v.Default != "" {
			def = " (default " + v.Default + ")"
		}
		fmt.Fprintf(w, "  %-*s %s\n", width, v.Name, wrap(v.Help+def, 76-width, strings.Repeat(" ", width+3)))
	}
	if len(later) > 0 {
		fmt.Fprintln(w, "\n  Used by later channels and intakes; accepted now and ignored:")
		for i := 0; i < len(later); i += 3 {
			fmt.Fprintf(w, "    %s\n", strings.Join(later[i:min(i+3, len(later))], "  "))
		}
	}
	fmt.Fprintln(w, "\n  Each secret (REDIS_URL and every *_TOKEN, *_SECRET, *_API_KEY) may instead be read")
	fmt.Fprintln(w, "  from a file named by NAME_FILE, e.g. REDIS_URL_FILE=/run/secrets/redis_url.")
}

// wrap breaks text into lines of at most width characters, indenting all but the first.
func wrap(text string, width int, indent string) string {
	var b strings.Builder
	n := 0
	for i, word := range strings.Fields(text) {
		if i > 0 && n+1+len([]rune(word)) > width {
			b.WriteString("\n" + indent)
			n = 0
		} else if i > 0 {
			b.WriteByte(' ')
			n++
		}
		b.WriteString(word)
		n += len([]rune(word))
	}
	return b.String()
}
