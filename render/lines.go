package render

import (
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// lineOf returns the line of the node at a dotted path ("spec.training.schedule"),
// or of its nearest existing parent, so errors point where the user should look.
func lineOf(root *yaml.Node, path string) int {
	if root == nil || len(root.Content) == 0 {
		return 0
	}
	n := root.Content[0]
	line := n.Line
	for _, key := range strings.Split(path, ".") {
		next, keyLine := child(n, key)
		if next == nil {
			return line
		}
		n, line = next, keyLine
	}
	return line
}

// child finds key in a mapping node and returns its value and the key's line.
func child(n *yaml.Node, key string) (*yaml.Node, int) {
	if n.Kind != yaml.MappingNode {
		return nil, 0
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1], n.Content[i].Line
		}
	}
	return nil, 0
}

// pathAtLine returns the dotted path of the deepest mapping key on line.
func pathAtLine(root *yaml.Node, line int) string {
	if root == nil || len(root.Content) == 0 {
		return ""
	}
	var walk func(n *yaml.Node, prefix string) string
	walk = func(n *yaml.Node, prefix string) string {
		if n.Kind != yaml.MappingNode {
			return ""
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := join(prefix, k.Value)
			if k.Line == line {
				return p
			}
			if v.Line <= line && lastLine(v) >= line {
				if found := walk(v, p); found != "" {
					return found
				}
				return p
			}
		}
		return ""
	}
	return walk(root.Content[0], "")
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

func lastLine(n *yaml.Node) int {
	last := n.Line
	for _, c := range n.Content {
		if l := lastLine(c); l > last {
			last = l
		}
	}
	return last
}
