package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

const readme = "../../README.md"

// readmeFlag is one flag in a README table.
type readmeFlag struct {
	line       int
	command    string // the command the README section documents
	name       string
	hasDefault bool   // the table has a default column
	value      string // the documented default; "" for prose ("(required)", "none", "a temp dir")
}

var (
	sectionCommand = regexp.MustCompile("^tether ([a-z][a-z-]*)")
	backticked     = regexp.MustCompile("`(--[a-z0-9-]+)")
	singleValue    = regexp.MustCompile("^`([^`]*)`$")
)

// readmeFlags parses every table row of README.md whose first cell names
// `--flags`. The command is the one the first `tether <command>` line in a
// code block of the row's section runs.
func readmeFlags(t *testing.T) []readmeFlag {
	t.Helper()
	file, err := os.Open(readme)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	var out []readmeFlag
	command, defaultColumn, inCode := "", -1, false
	scanner := bufio.NewScanner(file)
	for line := 1; scanner.Scan(); line++ {
		text := scanner.Text()
		switch {
		case strings.HasPrefix(text, "```"):
			inCode = !inCode
		case strings.HasPrefix(text, "## "):
			command = ""
		case inCode && command == "" && sectionCommand.MatchString(text):
			command = sectionCommand.FindStringSubmatch(text)[1]
		case strings.HasPrefix(text, "|"):
			cells := tableCells(text)
			if i := indexOf(cells, "default"); i >= 0 {
				defaultColumn = i
			} else if strings.Trim(cells[0], "-: ") == "" {
				continue // the separator row
			} else if !strings.HasPrefix(cells[0], "`--") {
				defaultColumn = -1 // a header or row of another kind of table
				continue
			}
			for _, m := range backticked.FindAllStringSubmatch(cells[0], -1) {
				f := readmeFlag{line: line, command: command, name: m[1][2:], hasDefault: defaultColumn > 0}
				if f.hasDefault && defaultColumn < len(cells) {
					f.value = documentedDefault(cells[defaultColumn])
				}
				out = append(out, f)
			}
		default:
			defaultColumn = -1
		}
	}
	if err := scanner.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func tableCells(row string) []string {
	cells := strings.Split(strings.Trim(row, "|"), "|")
	for i := range cells {
		cells[i] = strings.TrimSpace(cells[i])
	}
	return cells
}

func indexOf(cells []string, s string) int {
	for i, c := range cells {
		if c == s {
			return i
		}
	}
	return -1
}

// documentedDefault is the value a default cell states: the text of a cell
// that is one backticked value, "" for prose or a reference to another flag.
func documentedDefault(cell string) string {
	m := singleValue.FindStringSubmatch(cell)
	if m == nil || strings.HasPrefix(m[1], "--") {
		return ""
	}
	return m[1]
}

// TestReadmeFlags: every flag in README.md's tables exists on the command its
// section documents, with the default the table states.
func TestReadmeFlags(t *testing.T) {
	flags := readmeFlags(t)
	if len(flags) < 30 {
		t.Fatalf("found %d flags in %s's tables; the parser lost them", len(flags), readme)
	}
	root := newRootCommand(io.Discard, io.Discard)
	for _, rf := range flags {
		cmd, _, err := root.Find([]string{rf.command})
		if err != nil || cmd == root || rf.command == "" {
			t.Errorf("README.md:%d: --%s: section documents tether %s, which does not exist", rf.line, rf.name, rf.command)
			continue
		}
		f := cmd.Flags().Lookup(rf.name)
		switch {
		case f == nil:
			t.Errorf("README.md:%d: --%s: tether %s has no such flag", rf.line, rf.name, rf.command)
		case rf.hasDefault && !sameDefault(f, rf.value):
			t.Errorf("README.md:%d: --%s: README says default %q, tether %s has %q", rf.line, rf.name, rf.value, rf.command, f.DefValue)
		}
	}
}

// sameDefault compares a documented default with a flag's: durations by
// value (10m is 10m0s), a false bool with an empty cell or `false`, an empty
// list with an empty cell.
func sameDefault(f *pflag.Flag, documented string) bool {
	switch f.Value.Type() {
	case "stringArray", "stringSlice":
		if documented == "" {
			documented = "[]"
		}
	case "duration":
		d, err := time.ParseDuration(documented)
		return err == nil && d.String() == f.DefValue
	case "bool":
		if documented == "" {
			documented = "false"
		}
	}
	return f.DefValue == documented
}

// TestReadmeMentionsEveryFlag: no flag of tether's own commands is missing
// from README.md.
func TestReadmeMentionsEveryFlag(t *testing.T) {
	text, err := os.ReadFile(readme)
	if err != nil {
		t.Fatal(err)
	}
	for _, newCommand := range commands {
		cmd := newCommand()
		cmd.Flags().VisitAll(func(f *pflag.Flag) {
			if !regexp.MustCompile(`--` + f.Name + `\b[^-]`).Match(text) {
				t.Errorf("tether %s --%s is not in README.md", cmd.Name(), f.Name)
			}
		})
	}
}

// TestDocumentedDefault: prose stands for an empty default, values are compared strictly.
func TestDocumentedDefault(t *testing.T) {
	fs := pflag.NewFlagSet("", pflag.ContinueOnError)
	n := 0
	str := func(def string) *pflag.Flag {
		n++
		name := fmt.Sprint("string", n)
		fs.String(name, def, "")
		return fs.Lookup(name)
	}
	fs.Duration("resync", 10*time.Minute, "")
	fs.Bool("prune", false, "")
	fs.StringArray("exempt-user", nil, "")
	fs.StringArray("resource", []string{"configmaps"}, "")
	fs.StringArray("model", nil, "")
	dur, boolean := fs.Lookup("resync"), fs.Lookup("prune")
	list, listed, models := fs.Lookup("exempt-user"), fs.Lookup("resource"), fs.Lookup("model")
	tests := []struct {
		cell string
		flag *pflag.Flag
		same bool
	}{
		{"`main`", str("main"), true},
		{"`main`", str("master"), false},
		{"`50%`", str("50"), false},
		{"`:8080`", str(":8080"), true},
		{"(required)", str(""), true},
		{"none", str(""), true},
		{"", str(""), true},
		{"in-cluster", str(""), true},
		{"a temp dir", str(""), true},
		{"`--default-namespace`", str(""), true},
		{"a temp dir", str("/tmp"), false},
		{"`10m`", dur, true},
		{"`10s`", dur, false},
		{"`false`", boolean, true},
		{"", boolean, true},
		{"`true`", boolean, false},
		{"", list, true},
		{"(required)", list, true},
		{"", listed, false},
		{"`[configmaps]`", listed, true},
		{"none", models, true},
		{"`a`", models, false},
	}
	for _, tt := range tests {
		if got := sameDefault(tt.flag, documentedDefault(tt.cell)); got != tt.same {
			t.Errorf("cell %q, default %q: same = %v, want %v", tt.cell, tt.flag.DefValue, got, tt.same)
		}
	}
}
