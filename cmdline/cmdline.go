// Package cmdline is the shape every sangkien command's arguments share: a
// sub-command and its operands before the flags, --help printed to stdout, and mistakes
// that point to --help. cmd/sangkien and the packages whose operator commands it runs
// (console, broadcast, intake) parse with it, so that the commands read alike.
package cmdline

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// Stdio is a command's terminal: what it reads (a password) and where it writes its
// output and its usage after a mistake.
type Stdio struct {
	In       io.Reader
	Out, Err io.Writer
}

// Words moves the leading words of args that are not flags into names, one each in
// order, and returns the rest: `broadcast show ID --json` gives the sub-command and the
// id, and leaves --json to the flags.
func Words(args []string, names ...*string) []string {
	for _, name := range names {
		if len(args) == 0 || strings.HasPrefix(args[0], "-") {
			break
		}
		*name, args = args[0], args[1:]
	}
	return args
}

// Operands takes every leading word of args that is not a flag: `intake retry ID ID`'s
// ids. The rest are flags.
func Operands(args []string) (operands, rest []string) {
	for len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		operands, args = append(operands, args[0]), args[1:]
	}
	return operands, args
}

// ParseFlags parses a command's flags. On -h or --help it prints the usage to stdout
// and reports done: the command has nothing more to do.
func ParseFlags(fs *flag.FlagSet, args []string, stdout io.Writer, usage func(io.Writer)) (done bool, err error) {
	fs.SetOutput(io.Discard)
	err = fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		usage(stdout)
		return true, nil
	case err != nil:
		return true, fmt.Errorf("%s: %w (see sangkien %s --help)", fs.Name(), err, fs.Name())
	case fs.NArg() > 0:
		return true, fmt.Errorf("%s: unexpected argument %q (see sangkien %s --help)", fs.Name(), fs.Arg(0), fs.Name())
	}
	return false, nil
}
