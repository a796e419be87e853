package render

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	yaml "go.yaml.in/yaml/v3"
	"sigs.k8s.io/kustomize/kyaml/filesys"
)

// YAML aliases are refused in everything kustomize parses. kyaml expands
// every alias of a file it reads (kio.ByteReader's AnchorsAweigh ->
// RNode.DeAnchor) before kustomize looks at the content, so a few hundred bytes
// of nested aliases ("billion laughs") grow into gigabytes: 306 bytes ran the
// daemon out of memory (issue 11). Anchors alone are harmless and allowed.
// model.yaml and tether.yaml may use aliases: they decode into typed structs
// (no value of type any), and yaml.v3 limits alias expansion there.

// aliasesMsg explains the refusal; where is the alias' name and position.
func aliasesMsg(where string) string {
	return "YAML aliases are not allowed (" + where + "); write the value out in full: kustomize expands every alias, so a few hundred bytes could grow to gigabytes"
}

// checkAliases returns an error at the first YAML alias in data, or at the
// YAML syntax error that ends the check early; file names data in it.
func checkAliases(file string, data []byte) *FieldError {
	alias, err := firstAlias(data)
	switch {
	case err != nil:
		return yamlError(file, err)
	case alias != nil:
		return &FieldError{File: file, Line: alias.Line, Msg: aliasesMsg("*" + alias.Value)}
	}
	return nil
}

// firstAlias returns the first alias node in the YAML stream data, or nil.
// Files with no byte sequence that could start an alias (most of them) are
// not parsed at all; the others are parsed into nodes, which never expands an
// alias, so memory stays proportional to the file's size.
func firstAlias(data []byte) (*yaml.Node, error) {
	if !mayHaveAlias(data) {
		return nil, nil
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
			return nil, nil
		} else if err != nil {
			return nil, err
		}
		if a := findAlias(&doc); a != nil {
			return a, nil
		}
	}
}

// findAlias walks n in document order without following aliases.
func findAlias(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.AliasNode {
		return n
	}
	for _, c := range n.Content {
		if a := findAlias(c); a != nil {
			return a
		}
	}
	return nil
}

// mayHaveAlias reports whether data could hold an alias token: '*' followed by
// an anchor name character ([0-9A-Za-z_-], as yaml.v3 scans them) and not
// preceded by a letter, digit or quote (after those, '*' is part of a plain
// scalar, a tag or a quoted string, or a syntax error, never an alias). It
// errs on the side of yes; UTF-16 input (a byte order mark) always says yes.
func mayHaveAlias(data []byte) bool {
	if bytes.HasPrefix(data, []byte{0xFF, 0xFE}) || bytes.HasPrefix(data, []byte{0xFE, 0xFF}) {
		return true
	}
	for i := 0; i < len(data)-1; i++ {
		j := bytes.IndexByte(data[i:len(data)-1], '*')
		if j < 0 {
			return false
		}
		i += j
		if isAnchorByte(data[i+1]) && (i == 0 || !(isAlnum(data[i-1]) || data[i-1] == '"' || data[i-1] == '\'')) {
			return true
		}
	}
	return false
}

func isAnchorByte(b byte) bool { return isAlnum(b) || b == '_' || b == '-' }

func isAlnum(b byte) bool {
	return b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z'
}

// readYAML reads tree file rel, which kustomize will parse as YAML, and
// refuses it if it holds an alias.
func (t *tree) readYAML(rel string) ([]byte, error) {
	data, err := t.fs.ReadFile(memPath(rel))
	if err != nil {
		return nil, &FieldError{File: rel, Msg: err.Error()}
	}
	if fe := checkAliases(rel, data); fe != nil {
		return nil, fe
	}
	t.checked[rel] = true
	return data, nil
}

// guardedFS is the tree as kustomize sees it. Every file kustomize reads that
// the scanner did not check already (e.g. one named in a builtin plugin's
// configuration) is checked for aliases first; generator sources, which
// kustomize reads as data, are exempt.
type guardedFS struct {
	filesys.FileSystem
	t *tree
}

func (g guardedFS) ReadFile(name string) ([]byte, error) {
	data, err := g.FileSystem.ReadFile(name)
	rel := strings.TrimPrefix(path.Clean(name), "/")
	if err != nil || g.t.checked[rel] || g.t.data[rel] {
		return data, err
	}
	if fe := checkAliases(rel, data); fe != nil {
		return nil, fe
	}
	g.t.checked[rel] = true // builds run one at a time (kustomizeMu)
	return data, nil
}

// inlineAliases records an error when the inline YAML value of field (a patch
// or plugin configuration written into the kustomization) holds an alias.
func (c *kcheck) inlineAliases(field, value string) {
	alias, err := firstAlias([]byte(value))
	switch {
	case err != nil:
		c.v.fail(field, "invalid YAML: %v", err)
	case alias != nil:
		c.v.fail(field, "%s", aliasesMsg(fmt.Sprintf("*%s at line %d of this value", alias.Value, alias.Line)))
	}
}
