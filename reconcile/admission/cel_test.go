package admission

import (
	"strings"
	"testing"
)

// TestCELString: names end up in CEL literals intact, whatever they contain.
func TestCELString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"system:serviceaccount:ns:tether", `'system:serviceaccount:ns:tether'`},
		{`CN=Jane "JJ" Doe,O=ml`, `'CN=Jane "JJ" Doe,O=ml'`},
		{"o'brien", `"o'brien"`},
		{`back\slash`, `"back\\slash"`},
		{"tab\there", `"tab\there"`},
		{"zoë", `'zoë'`},
		{"bad\xffbyte", `"bad\xffbyte"`},
	}
	for _, tt := range tests {
		if got := celString(tt.in); got != tt.want {
			t.Errorf("celString(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
	if got := celList([]string{"a", "o'b"}); got != `['a', "o'b"]` {
		t.Errorf("celList = %s", got)
	}
}

// TestExemptVariable: without exempt users or groups nobody is exempt; the
// break-glass message names the groups there are.
func TestExemptVariable(t *testing.T) {
	tests := []struct {
		users, groups []string
		want          string
	}{
		{nil, nil, "false"},
		{[]string{"alice"}, nil, "request.userInfo.username in ['alice']"},
		{nil, []string{"g1", "g2"}, "(has(request.userInfo.groups) && request.userInfo.groups.exists(g, g in ['g1', 'g2']))"},
	}
	for _, tt := range tests {
		var got string
		for _, v := range variables([]string{"system:serviceaccount:a:b"}, tt.users, tt.groups) {
			if v.Name == "exempt" {
				got = v.Expression
			}
		}
		if got != tt.want {
			t.Errorf("users %v groups %v: exempt = %q, want %q", tt.users, tt.groups, got, tt.want)
		}
	}
	if msg := breakGlass([]string{"g1", "g2"}); !strings.Contains(msg, "member of group g1 or g2") {
		t.Errorf("break-glass %q does not name the groups", msg)
	}
}
