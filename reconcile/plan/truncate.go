package plan

import (
	"slices"
	"strings"
)

// noteReserve is room kept for the truncation note; the note names at most
// maxNamedCuts sections (units are DNS labels of at most 63 characters).
const (
	noteReserve  = 1200
	maxNamedCuts = 8
)

// doc is a document built from pieces. Each piece remembers what closes
// everything open after it (code fences, <details>), so the document can be
// cut after any piece and stay valid markdown.
type doc struct {
	pieces []piece
	open   []string // closers of what is open, innermost last
	where  string   // the section pieces now belong to
}

type piece struct {
	text    string
	closers string // closes everything open after this piece
	section string // the unit it belongs to; "" for the head of the document
}

func (d *doc) closers() string {
	var b strings.Builder
	for i := len(d.open) - 1; i >= 0; i-- {
		b.WriteString(d.open[i])
	}
	return b.String()
}

// write adds text as one piece: the document is never cut inside it.
func (d *doc) write(text string) {
	d.pieces = append(d.pieces, piece{text: text, closers: d.closers(), section: d.where})
}

// push writes text that opens something closed by closer.
func (d *doc) push(text, closer string) {
	d.open = append(d.open, closer)
	d.write(text)
}

// pop writes the closer of the innermost open thing.
func (d *doc) pop() {
	closer := d.open[len(d.open)-1]
	d.open = d.open[:len(d.open)-1]
	d.write(closer)
}

// section starts the pieces of a named part (a unit) of the document.
func (d *doc) section(name string) { d.where = name }

func (d *doc) String() string {
	var b strings.Builder
	for _, p := range d.pieces {
		b.WriteString(p.text)
	}
	return b.String()
}

// cut returns the document in at most maxBytes (0: unlimited): as many
// pieces as fit, what they leave open closed, and note(sections) saying which
// sections lost pieces (overview: pieces outside any section too). The first
// piece is always kept.
func (d *doc) cut(maxBytes int, note func(overview bool, cut []string, partial string) string) string {
	full := d.String()
	if maxBytes <= 0 || len(full) <= maxBytes {
		return full
	}
	budget := maxBytes - noteReserve
	size, keep := 0, 1
	for i, p := range d.pieces {
		size += len(p.text)
		if i > 0 && size+len(p.closers) > budget {
			break
		}
		keep = i + 1
	}
	if keep == len(d.pieces) {
		return full
	}
	var b strings.Builder
	for _, p := range d.pieces[:keep] {
		b.WriteString(p.text)
	}
	last := d.pieces[keep-1]
	b.WriteString(last.closers)
	partial := ""
	if next := d.pieces[keep].section; next != "" && next == last.section {
		partial = next
	}
	overview := d.pieces[keep].section == "" && !d.onlyClosersFrom(keep)
	b.WriteString(note(overview, d.sectionsFrom(keep, partial), partial))
	return b.String()
}

// sectionsFrom lists the sections of pieces[from:] in order, leaving out
// one cut only partly (named separately).
func (d *doc) sectionsFrom(from int, partial string) []string {
	var out []string
	for _, p := range d.pieces[from:] {
		if p.section != "" && p.section != partial && !slices.Contains(out, p.section) {
			out = append(out, p.section)
		}
	}
	return out
}

// onlyClosersFrom reports whether the pieces outside sections from index
// from on are all structure (headings of sections cut anyway, closers).
func (d *doc) onlyClosersFrom(from int) bool {
	for _, p := range d.pieces[from:] {
		if p.section == "" && strings.TrimSpace(p.text) != "" && !strings.HasPrefix(strings.TrimSpace(p.text), "#### Changes") {
			return false
		}
	}
	return true
}

// fence is a code fence longer than any run of backticks in text.
func fence(text string) string {
	return strings.Repeat("`", max(3, longestBackticks(text)+1))
}

func longestBackticks(text string) int {
	longest, run := 0, 0
	for _, r := range text {
		if r == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	return longest
}
