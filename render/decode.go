package render

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	yaml "go.yaml.in/yaml/v3"
)

// maxSpecBytes bounds a model.yaml or tether.yaml; anything larger is refused unread.
const maxSpecBytes = 1 << 20

// decodeModel strictly decodes one model.yaml. It returns the model, the parsed
// node tree (for line lookups during validation) and every decoding problem.
// After unknown fields or wrong types the model is still returned, decoded as far
// as possible, so validation can report the remaining problems in the same pass.
func decodeModel(file string, data []byte) (*Model, *yaml.Node, Errors) {
	if errs := checkRaw(file, data, "a Model document"); errs != nil {
		return nil, nil, errs
	}
	var m Model
	root, errs, ok := decodeStrict(file, data, &m, "a Model document")
	if !ok {
		return nil, root, errs
	}
	return &m, root, errs
}

// decodeStrict decodes a single YAML mapping document into out, rejecting
// unknown fields. ok reports whether out holds a usable (if partial) value:
// true after unknown fields or wrong types, false after syntax errors.
func decodeStrict(file string, data []byte, out any, what string) (root *yaml.Node, errs Errors, ok bool) {
	root = &yaml.Node{}
	if err := yaml.Unmarshal(data, root); err != nil {
		return nil, Errors{yamlError(file, err)}, false
	}
	if len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return root, Errors{{File: file, Line: 1, Msg: "expected a YAML mapping (" + what + ")"}}, false
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(out); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) { // yaml.v3 decoded everything else: validate it too
			return root, typeErrors(file, root, te), true
		}
		return root, Errors{yamlError(file, err)}, false
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return root, Errors{{File: file, Line: extra.Line, Msg: "expected exactly one YAML document"}}, false
	}
	return root, nil, true
}

// checkRaw rejects files that are empty, too large or not UTF-8 before parsing.
func checkRaw(file string, data []byte, what string) Errors {
	switch {
	case len(data) > maxSpecBytes:
		return Errors{{File: file, Msg: fmt.Sprintf("file is %d bytes; at most %d bytes are allowed", len(data), maxSpecBytes)}}
	case len(bytes.TrimSpace(data)) == 0:
		return Errors{{File: file, Msg: "file is empty; expected " + what}}
	case !utf8.Valid(data):
		return Errors{{File: file, Line: invalidUTF8Line(data), Msg: "file is not valid UTF-8"}}
	}
	return nil
}

func invalidUTF8Line(data []byte) int {
	line := 1
	for len(data) > 0 {
		r, size := utf8.DecodeRune(data)
		if r == utf8.RuneError && size <= 1 {
			return line
		}
		if r == '\n' {
			line++
		}
		data = data[size:]
	}
	return line
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// yamlError turns a yaml syntax error into a FieldError with its line.
func yamlError(file string, err error) *FieldError {
	if m := yamlLine.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &FieldError{File: file, Line: line, Msg: "invalid YAML: " + m[2]}
	}
	return &FieldError{File: file, Msg: "invalid YAML: " + err.Error()}
}

var notFound = regexp.MustCompile(`^field (\S+) not found in type`)
var cannotUnmarshal = regexp.MustCompile("^cannot unmarshal !!(\\w+)(?: `(.*)`)? into (\\S+)$")

// typeErrors rewrites yaml.v3's decoding errors (unknown fields, wrong types)
// into FieldErrors naming the field path at that line.
func typeErrors(file string, root *yaml.Node, te *yaml.TypeError) Errors {
	var out Errors
	for _, msg := range te.Errors {
		fe := yamlError(file, errors.New(msg))
		msg = strings.TrimPrefix(fe.Msg, "invalid YAML: ")
		fe.Field, fe.Msg = explainTypeError(root, fe.Line, msg)
		out = append(out, fe)
	}
	return out
}

// explainTypeError returns the field a decoder error is about and a message
// in the words of a spec author rather than of Go.
func explainTypeError(root *yaml.Node, line int, msg string) (field, explained string) {
	if m := notFound.FindStringSubmatch(msg); m != nil {
		named := func(k, _ *yaml.Node) bool { return k.Value == m[1] }
		return pathAtLine(root, line, named), fmt.Sprintf("unknown field %q", m[1])
	}
	if m := cannotUnmarshal.FindStringSubmatch(msg); m != nil {
		kind := map[string]yaml.Kind{"map": yaml.MappingNode, "seq": yaml.SequenceNode}[m[1]]
		if kind == 0 {
			kind = yaml.ScalarNode
		}
		shaped := func(_, v *yaml.Node) bool { return v.Kind == kind && (m[2] == "" || v.Value == m[2]) }
		field = pathAtLine(root, line, shaped)
		if m[2] == "" {
			return field, fmt.Sprintf("is a %s; expected %s", yamlTag(m[1]), goTypeName(m[3]))
		}
		return field, fmt.Sprintf("%q is a %s; expected %s", m[2], yamlTag(m[1]), goTypeName(m[3]))
	}
	if m := alreadyDefined.FindStringSubmatch(msg); m != nil {
		return pathAtLine(root, line, func(k, _ *yaml.Node) bool { return k.Value == m[1] }), msg
	}
	return pathAtLine(root, line, nil), msg
}

var alreadyDefined = regexp.MustCompile(`^mapping key "(.*)" already defined`)

func yamlTag(t string) string {
	switch t {
	case "str":
		return "string"
	case "seq":
		return "list"
	case "map":
		return "mapping"
	case "int", "float":
		return "number"
	}
	return t
}

func goTypeName(t string) string {
	t = strings.TrimPrefix(t, "*")
	switch {
	case t == "int32" || t == "int64" || t == "int":
		return "an integer"
	case t == "bool":
		return "true or false"
	case t == "string":
		return "a string"
	case t == "[]string":
		return "a list of strings"
	case t == "map[string]string":
		return "a mapping of strings to strings"
	case strings.HasPrefix(t, "[]"):
		return "a list"
	case strings.HasPrefix(t, "map[") || strings.HasPrefix(t, "render."):
		return "a mapping"
	}
	return "a " + t
}
