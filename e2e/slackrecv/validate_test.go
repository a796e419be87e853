package slackrecv_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tether-ml/tether/e2e/slackrecv"
)

// TestValidate checks the receiver rejects what Slack rejects, so tests that
// pass against it would pass against Slack.
func TestValidate(t *testing.T) {
	section := func(text string) string {
		return fmt.Sprintf(`{"type":"section","text":{"type":"mrkdwn","text":%q}}`, text)
	}
	blocks := func(n int) string { return strings.TrimSuffix(strings.Repeat(section("x")+",", n), ",") }
	tests := []struct {
		name, body, err string
	}{
		{"minimal", `{"text":"hi"}`, ""},
		{"full", `{"text":"hi","blocks":[{"type":"header","text":{"type":"plain_text","text":"h","emoji":true}},` + section("s") +
			`,{"type":"context","elements":[{"type":"mrkdwn","text":"c"}]},{"type":"divider"}]}`, ""},
		{"50 blocks", `{"text":"hi","blocks":[` + blocks(50) + `]}`, ""},
		{"not JSON", `{"text":`, "invalid_payload: not a JSON object"},
		{"no text fallback", `{"blocks":[` + section("s") + `]}`, "invalid_payload: no text fallback"},
		{"unknown top-level key", `{"text":"hi","colour":"red"}`, `unknown key "colour"`},
		{"51 blocks", `{"text":"hi","blocks":[` + blocks(51) + `]}`, "51 blocks, more than 50"},
		{"unknown block type", `{"text":"hi","blocks":[{"type":"banner"}]}`, `unknown block type "banner"`},
		{"unknown key in a block", `{"text":"hi","blocks":[{"type":"divider","text":{"type":"mrkdwn","text":"x"}}]}`, `divider: unknown key "text"`},
		{"header too long", `{"text":"hi","blocks":[{"type":"header","text":{"type":"plain_text","text":"` + strings.Repeat("h", 151) + `"}}]}`, "header text: 151 characters"},
		{"header in mrkdwn", `{"text":"hi","blocks":[{"type":"header","text":{"type":"mrkdwn","text":"h"}}]}`, `header text: type "mrkdwn"`},
		{"section too long", `{"text":"hi","blocks":[` + section(strings.Repeat("é", 3001)) + `]}`, "section text: 3001 characters"},
		{"empty section", `{"text":"hi","blocks":[{"type":"section"}]}`, "section: needs text or fields"},
		{"empty text", `{"text":"hi","blocks":[` + section("") + `]}`, "section text: 0 characters"},
		{"context without elements", `{"text":"hi","blocks":[{"type":"context","elements":[]}]}`, "context: 0 elements"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := slackrecv.Validate([]byte(tt.body))
			switch {
			case tt.err == "" && err != nil:
				t.Errorf("rejected a valid payload: %v", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Errorf("err = %v, want one containing %q", err, tt.err)
			}
		})
	}
}

func TestRender(t *testing.T) {
	m, err := slackrecv.Validate([]byte(`{"text":"t","blocks":[{"type":"header","text":{"type":"plain_text","text":"Drift"}},` +
		`{"type":"section","text":{"type":"mrkdwn","text":"at <!date^1762162200^{time}|2025-11-03T09:30:00Z> &lt;removed&gt;"}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := m.Render(), "Drift\nat 2025-11-03T09:30:00Z <removed>\n"; got != want {
		t.Errorf("Render() = %q, want %q", got, want)
	}
}
