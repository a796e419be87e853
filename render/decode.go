package render

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"unicode/utf8"

	yaml "go.yaml.in/yaml/v3"
)

// maxSpecBytes bounds a model.yaml; anything larger is refused unread.
const maxSpecBytes = 1 << 20

// decodeModel strictly decodes one model.yaml. It returns the model, the parsed
// node tree (for line lookups during validation) and every decoding problem.
// After unknown fields or wrong types the model is still returned, decoded as far
// as possible, so validation can report the remaining problems in the same pass.
func decodeModel(file string, data []byte) (*Model, *yaml.Node, Errors) {
	if errs := checkRaw(file, data); errs != nil {
		return nil, nil, errs
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, nil, Errors{yamlError(file, err)}
	}
	if len(root.Content) == 0 || root.Content[0].Kind != yaml.MappingNode {
		return nil, nil, Errors{{File: file, Line: 1, Msg: "expected a YAML mapping (a Model document)"}}
	}
	var m Model
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&m); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) { // yaml.v3 decoded everything else: validate it too
			return &m, &root, typeErrors(file, &root, err)
		}
		return nil, &root, Errors{yamlError(file, err)}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &root, Errors{{File: file, Line: extra.Line, Msg: "expected exactly one YAML document"}}
	}
	return &m, &root, nil
}

// checkRaw rejects files that are empty, too large or not UTF-8 before parsing.
func checkRaw(file string, data []byte) Errors {
	switch {
	case len(data) > maxSpecBytes:
		return Errors{{File: file, Msg: fmt.Sprintf("file is %d bytes; at most %d bytes are allowed", len(data), maxSpecBytes)}}
	case len(bytes.TrimSpace(data)) == 0:
		return Errors{{File: file, Msg: "file is empty; expected a Model document"}}
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
var cannotUnmarshal = regexp.MustCompile("^cannot unmarshal !!(\\w+) `(.*)` into (\\S+)$")

// typeErrors rewrites yaml.v3's decoding errors (unknown fields, wrong types)
// into FieldErrors naming the field path at that line.
func typeErrors(file string, root *yaml.Node, err error) Errors {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return Errors{yamlError(file, err)}
	}
	var out Errors
	for _, msg := range te.Errors {
		fe := yamlError(file, errors.New(msg))
		fe.Field = pathAtLine(root, fe.Line)
		fe.Msg = explainTypeError(fe.Msg)
		out = append(out, fe)
	}
	return out
}

func explainTypeError(msg string) string {
	msg = trimPrefix(msg, "invalid YAML: ")
	if m := notFound.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("unknown field %q", m[1])
	}
	if m := cannotUnmarshal.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("%q is a %s; expected %s", m[2], yamlTag(m[1]), goTypeName(m[3]))
	}
	return msg
}

func trimPrefix(s, p string) string {
	if len(s) >= len(p) && s[:len(p)] == p {
		return s[len(p):]
	}
	return s
}

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
	switch t {
	case "int32", "int64", "int":
		return "an integer"
	case "bool":
		return "true or false"
	case "string":
		return "a string"
	case "[]string":
		return "a list of strings"
	case "map[string]string":
		return "a mapping of strings to strings"
	}
	return "a " + t
}
