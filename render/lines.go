package render

import (
	"strconv"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// Field paths name a value in a YAML document the way error messages show it:
// mapping keys joined by dots, sequence items as [i], e.g.
// "syncWindows[0].schedule" or "metadata.labels.app.kubernetes.io/name" (keys
// may contain dots; the longest key that matches wins).

// lineOf returns the line of the value at path, or of its nearest existing
// parent, so errors point where the user should look.
func lineOf(root *yaml.Node, path string) int {
	n := documentBody(root)
	if n == nil {
		return 0
	}
	line := n.Line
	for path != "" {
		next, keyLine, rest := step(n, path)
		if next == nil {
			return line
		}
		n, line, path = next, keyLine, rest
	}
	return line
}

// documentBody returns the top-level node of a parsed document, or nil.
func documentBody(root *yaml.Node) *yaml.Node {
	if root == nil || root.Kind != yaml.DocumentNode || len(root.Content) == 0 {
		return root
	}
	return root.Content[0]
}

// step consumes the first segment of path below n. It returns the child node,
// the line that names it (a mapping key's line) and the rest of the path.
func step(n *yaml.Node, path string) (*yaml.Node, int, string) {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	path = strings.TrimPrefix(path, ".")
	switch n.Kind {
	case yaml.SequenceNode:
		end := strings.IndexByte(path, ']')
		if !strings.HasPrefix(path, "[") || end < 0 {
			return nil, 0, ""
		}
		i, err := strconv.Atoi(path[1:end])
		if err != nil || i < 0 || i >= len(n.Content) {
			return nil, 0, ""
		}
		return n.Content[i], n.Content[i].Line, path[end+1:]
	case yaml.MappingNode:
		best := -1
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i].Value
			if segmentMatches(path, key) && (best < 0 || len(key) > len(n.Content[best].Value)) {
				best = i
			}
		}
		if best >= 0 {
			return n.Content[best+1], n.Content[best].Line, path[len(n.Content[best].Value):]
		}
	}
	return nil, 0, ""
}

// segmentMatches reports whether path starts with the whole key.
func segmentMatches(path, key string) bool {
	if !strings.HasPrefix(path, key) {
		return false
	}
	return len(path) == len(key) || path[len(key)] == '.' || path[len(key)] == '['
}

// pathAtLine returns the path of the deepest mapping key on line whose key and
// value satisfy match (nil matches any), for decoder errors that only know
// their line. Without such a key it returns the deepest path enclosing line.
func pathAtLine(root *yaml.Node, line int, match func(key, value *yaml.Node) bool) string {
	var best, enclosing string
	var visit func(n *yaml.Node, prefix string)
	visit = func(n *yaml.Node, prefix string) {
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				p := join(prefix, k.Value)
				if k.Line == line && (match == nil || match(k, v)) {
					best = p
				}
				if covers(v, line) {
					enclosing = p
					visit(v, p)
				}
			}
		case yaml.SequenceNode:
			for i, item := range n.Content {
				if covers(item, line) {
					p := prefix + "[" + strconv.Itoa(i) + "]"
					enclosing = p
					visit(item, p)
				}
			}
		}
	}
	if body := documentBody(root); body != nil {
		visit(body, "")
	}
	if best != "" {
		return best
	}
	return enclosing
}

func covers(n *yaml.Node, line int) bool {
	return n.Line <= line && lastLine(n) >= line
}

func join(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// lastLine is the last line n spans. Alias nodes are not followed, so an alias
// bomb costs no more than its text.
func lastLine(n *yaml.Node) int {
	last := n.Line
	for _, c := range n.Content {
		if l := lastLine(c); l > last {
			last = l
		}
	}
	return last
}

// child finds key in a mapping node and returns its value and the key's line.
func child(n *yaml.Node, key string) (*yaml.Node, int) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1], n.Content[i].Line
		}
	}
	return nil, 0
}
