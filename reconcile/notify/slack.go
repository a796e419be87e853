package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Slack posts a batch of events to a Slack incoming webhook as one Block Kit
// message. It makes one attempt; wrap it in a Retrier.
type Slack struct {
	endpoint Endpoint
	cluster  string
	client   *http.Client
}

var _ Notifier = (*Slack)(nil)

// NewSlack returns a Slack notifier posting to the webhook at ep; cluster
// names this cluster in every message.
func NewSlack(ep Endpoint, cluster string) *Slack {
	return &Slack{endpoint: ep, cluster: cluster, client: newClient()}
}

// Notify posts the batch as one message; a batch with nothing to report
// posts nothing.
func (s *Slack) Notify(ctx context.Context, b Batch) (bool, error) {
	msg := BuildMessage(s.cluster, b)
	if msg == nil {
		return false, nil
	}
	body, err := json.Marshal(msg)
	if err != nil {
		return false, fmt.Errorf("slack: encode message: %w", err)
	}
	return post(ctx, s.client, s.endpoint, "slack", body)
}

// Slack's limits for incoming-webhook messages
// (https://api.slack.com/reference/block-kit/blocks).
const (
	maxBlocks      = 50   // blocks per message
	maxSectionText = 3000 // characters in a section's text
	maxHeaderText  = 150  // characters in a header
	maxFallback    = 3000 // characters of the text fallback we send (Slack cuts at 40,000)
)

// Message is a Slack incoming-webhook payload: Block Kit blocks, and the text
// that notifications, screen readers and old clients show instead.
type Message struct {
	Text   string  `json:"text"`
	Blocks []Block `json:"blocks,omitempty"`
}

// Block is one Block Kit layout block: header, section, context or divider.
type Block struct {
	Type     string  `json:"type"`
	Text     *Text   `json:"text,omitempty"`
	Elements []*Text `json:"elements,omitempty"`
}

// Text is a Block Kit text object.
type Text struct {
	Type  string `json:"type"` // plain_text or mrkdwn
	Text  string `json:"text"`
	Emoji bool   `json:"emoji,omitempty"`
}

func header(s string) Block {
	return Block{Type: "header", Text: &Text{Type: "plain_text", Text: truncate(s, maxHeaderText), Emoji: true}}
}

func section(s string) Block {
	return Block{Type: "section", Text: &Text{Type: "mrkdwn", Text: truncate(s, maxSectionText)}}
}

func contextBlock(s string) Block {
	return Block{Type: "context", Elements: []*Text{{Type: "mrkdwn", Text: truncate(s, maxSectionText)}}}
}

// lines joins head and items into section text that leaves reserve
// characters of maxSectionText free, ending in "+N more" when some items did
// not fit.
func lines(head string, items []string, noun string, reserve int) string {
	var b strings.Builder
	b.WriteString(head)
	for i, it := range items {
		more := moreLine(len(items)-i, noun)
		if b.Len()+1+len(it)+1+len(more)+reserve > maxSectionText {
			b.WriteString("\n" + more)
			break
		}
		b.WriteString("\n" + it)
	}
	return b.String()
}

func moreLine(n int, noun string) string {
	return "_+" + strconv.Itoa(n) + " more " + noun + "_"
}
