package render

import (
	"fmt"
	"strings"
)

// FieldError is one problem in one spec file, pointing at the line and field to fix.
type FieldError struct {
	File  string // path relative to the repository root
	Line  int    // 1-based; 0 when unknown
	Field string // dotted path, e.g. spec.training.schedule; empty for file-level problems
	Msg   string // what is wrong and what was expected
}

func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in one unit, in file and line order.
type Errors []*FieldError

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// orNil returns nil for an empty list so callers can test err != nil.
func (es Errors) orNil() error {
	if len(es) == 0 {
		return nil
	}
	return es
}
