// Package slackrecv is a stand-in for a Slack incoming webhook: an HTTP
// server on loopback that checks every payload against Slack's rules
// (valid JSON, a text fallback, known block types and keys, at most 50
// blocks, 3000 characters per section, 150 per header) and keeps the
// messages it accepted. Tests script its answers (429 with Retry-After, 503,
// a receiver that hangs, an Outage of 429s and 500s) with Respond; History
// lists every request with its answer.
//
// Unit tests, e2e tests and the demo (cmd/slackrecv) share it.
//
//	r := slackrecv.New(t)          // r.URL is the webhook URL; invalid payloads fail t
//	... point tether at r.URL ...
//	msgs := r.Messages()           // each with Text, Blocks and Render()
package slackrecv
