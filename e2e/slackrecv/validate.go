package slackrecv

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// Slack's documented limits (https://api.slack.com/reference/block-kit/blocks).
const (
	MaxBlocks         = 50
	MaxSectionText    = 3000
	MaxSectionFields  = 10
	MaxFieldText      = 2000
	MaxHeaderText     = 150
	MaxContextElement = 10
	MaxText           = 40000
	MaxBlockID        = 255
)

// Message is an accepted payload.
type Message struct {
	Text   string  `json:"text"`
	Blocks []Block `json:"blocks"`
	Raw    []byte  `json:"-"`
}

// Block is a layout block as Slack reads it.
type Block struct {
	Type     string    `json:"type"`
	Text     *TextObj  `json:"text,omitempty"`
	Fields   []TextObj `json:"fields,omitempty"`
	Elements []TextObj `json:"elements,omitempty"`
}

// TextObj is a Block Kit text object.
type TextObj struct {
	Type string `json:"type"`
	Text string `json:"text"`
}

// payloadKeys are the top-level keys an incoming webhook accepts.
var payloadKeys = set("text", "blocks", "attachments", "username", "icon_emoji", "icon_url", "channel",
	"thread_ts", "mrkdwn", "unfurl_links", "unfurl_media", "metadata")

// blockKeys are the keys each block type may carry; types absent here are
// valid Slack blocks this validator does not inspect further.
var blockKeys = map[string]map[string]bool{
	"header":  set("type", "block_id", "text"),
	"section": set("type", "block_id", "text", "fields", "accessory", "expand"),
	"context": set("type", "block_id", "elements"),
	"divider": set("type", "block_id"),
}

var otherBlocks = set("actions", "file", "image", "input", "rich_text", "video", "markdown")

// Validate parses body as a Slack webhook payload and checks it against
// Slack's rules.
func Validate(body []byte) (*Message, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("invalid_payload: not a JSON object: %w", err)
	}
	for k := range raw {
		if !payloadKeys[k] {
			return nil, fmt.Errorf("invalid_payload: unknown key %q", k)
		}
	}
	var m Message
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("invalid_payload: %w", err)
	}
	m.Raw = body
	if m.Text == "" {
		return nil, fmt.Errorf("invalid_payload: no text fallback")
	}
	if n := utf8.RuneCountInString(m.Text); n > MaxText {
		return nil, fmt.Errorf("invalid_payload: text has %d characters, more than %d", n, MaxText)
	}
	var blocks []map[string]json.RawMessage
	if b, ok := raw["blocks"]; ok {
		if err := json.Unmarshal(b, &blocks); err != nil {
			return nil, fmt.Errorf("invalid_blocks: %w", err)
		}
	}
	if len(blocks) > MaxBlocks {
		return nil, fmt.Errorf("invalid_blocks: %d blocks, more than %d", len(blocks), MaxBlocks)
	}
	for i, b := range blocks {
		if err := validateBlock(b, m.Blocks[i]); err != nil {
			return nil, fmt.Errorf("invalid_blocks: block %d: %w", i, err)
		}
	}
	return &m, nil
}

func validateBlock(raw map[string]json.RawMessage, b Block) error {
	keys, known := blockKeys[b.Type]
	if !known {
		if otherBlocks[b.Type] {
			return nil
		}
		return fmt.Errorf("unknown block type %q", b.Type)
	}
	for k := range raw {
		if !keys[k] {
			return fmt.Errorf("%s: unknown key %q", b.Type, k)
		}
	}
	var id string
	if v, ok := raw["block_id"]; ok && (json.Unmarshal(v, &id) != nil || len(id) > MaxBlockID) {
		return fmt.Errorf("%s: block_id must be a string of at most %d characters", b.Type, MaxBlockID)
	}
	switch b.Type {
	case "header":
		return checkText(b.Text, "header text", MaxHeaderText, "plain_text")
	case "section":
		return validateSection(b)
	case "context":
		if len(b.Elements) == 0 || len(b.Elements) > MaxContextElement {
			return fmt.Errorf("context: %d elements, want 1 to %d", len(b.Elements), MaxContextElement)
		}
		for i := range b.Elements {
			if err := checkText(&b.Elements[i], "context element", MaxText, "plain_text", "mrkdwn"); err != nil {
				return err
			}
		}
	}
	return nil
}

func validateSection(b Block) error {
	if b.Text == nil && len(b.Fields) == 0 {
		return fmt.Errorf("section: needs text or fields")
	}
	if b.Text != nil {
		if err := checkText(b.Text, "section text", MaxSectionText, "plain_text", "mrkdwn"); err != nil {
			return err
		}
	}
	if len(b.Fields) > MaxSectionFields {
		return fmt.Errorf("section: %d fields, more than %d", len(b.Fields), MaxSectionFields)
	}
	for i := range b.Fields {
		if err := checkText(&b.Fields[i], "section field", MaxFieldText, "plain_text", "mrkdwn"); err != nil {
			return err
		}
	}
	return nil
}

// checkText checks a text object's type, that it is not empty, and its length.
func checkText(t *TextObj, what string, limit int, types ...string) error {
	if t == nil {
		return fmt.Errorf("%s: missing", what)
	}
	ok := false
	for _, typ := range types {
		ok = ok || t.Type == typ
	}
	if !ok {
		return fmt.Errorf("%s: type %q, want one of %v", what, t.Type, types)
	}
	n := utf8.RuneCountInString(t.Text)
	if n == 0 || n > limit {
		return fmt.Errorf("%s: %d characters, want 1 to %d", what, n, limit)
	}
	return nil
}

func set(keys ...string) map[string]bool {
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	return m
}
