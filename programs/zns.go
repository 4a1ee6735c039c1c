package programs

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"text/template"
	"text/template/parse"

	"github.com/sangkien/sangkien/bot"
)

// ZNSNames are what a ZNS parameter's template may name: the program's name and
// deadline, and the citizen's name as they gave it.
var ZNSNames = []string{"Program", "Deadline", "Name"}

func (z zns) domain() (*bot.ZNSTemplate, error) {
	if strings.TrimSpace(z.Template) == "" || strings.ContainsAny(z.Template, " \t\n") {
		return nil, errors.New("template: an approved template's id is required, without spaces")
	}
	for name, value := range z.Params {
		if strings.TrimSpace(name) == "" {
			return nil, errors.New("params: a parameter without a name")
		}
		if err := CheckZNSParam(value); err != nil {
			return nil, fmt.Errorf("params: %s: %w", name, err)
		}
	}
	return &bot.ZNSTemplate{ID: z.Template, Params: z.Params}, nil
}

// CheckZNSParam reports whether a ZNS parameter's value is a text template that
// parses and names nothing but {{.Program}}, {{.Deadline}} and {{.Name}}, so that a
// mistyped name fails the start rather than every reminder sent through ZNS.
func CheckZNSParam(value string) error {
	t, err := template.New("param").Parse(value)
	if err != nil {
		return fmt.Errorf("not a template: %w", err)
	}
	var bad error
	walk(t.Root, func(n parse.Node) {
		if bad != nil {
			return
		}
		switch n := n.(type) {
		case *parse.FieldNode:
			if len(n.Ident) != 1 || !slices.Contains(ZNSNames, n.Ident[0]) {
				bad = fmt.Errorf("%s: only .Program, .Deadline and .Name may be named", n)
			}
		case *parse.VariableNode:
			if len(n.Ident) > 1 && (n.Ident[0] != "$" || len(n.Ident) != 2 || !slices.Contains(ZNSNames, n.Ident[1])) {
				bad = fmt.Errorf("%s: only .Program, .Deadline and .Name may be named", n)
			}
		case *parse.ChainNode, *parse.DotNode, *parse.TemplateNode:
			bad = fmt.Errorf("%s: only .Program, .Deadline and .Name may be named", n)
		}
	})
	return bad
}

// walk calls f on n and every node under it.
func walk(n parse.Node, f func(parse.Node)) {
	if n == nil {
		return
	}
	f(n)
	switch n := n.(type) {
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			walk(c, f)
		}
	case *parse.ActionNode:
		walk(n.Pipe, f)
	case *parse.PipeNode:
		if n == nil {
			return
		}
		for _, c := range n.Cmds {
			walk(c, f)
		}
	case *parse.CommandNode:
		for _, c := range n.Args {
			walk(c, f)
		}
	case *parse.IfNode:
		walkBranch(&n.BranchNode, f)
	case *parse.RangeNode:
		walkBranch(&n.BranchNode, f)
	case *parse.WithNode:
		walkBranch(&n.BranchNode, f)
	case *parse.TemplateNode:
		walk(n.Pipe, f)
	}
}

func walkBranch(b *parse.BranchNode, f func(parse.Node)) {
	walk(b.Pipe, f)
	walk(b.List, f)
	walk(b.ElseList, f)
}
