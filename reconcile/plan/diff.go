package plan

import (
	"fmt"
	"strings"
)

// contextLines is how many unchanged lines a hunk shows around a change.
const contextLines = 3

// maxCells bounds the table of the line diff (lines × lines after the common
// head and tail are trimmed): beyond it the middle is shown as replaced.
const maxCells = 1 << 22

// opKind is one line's fate in a diff.
type opKind byte

const (
	opKeep opKind = ' '
	opDel  opKind = '-'
	opAdd  opKind = '+'
)

type lineOp struct {
	kind opKind
	text string
	a, b int // line numbers (0-based) in old and new; -1 where absent
}

// unifiedDiff is a unified diff of old and new, labelled fromName and
// toName, with three lines of context; "" when they are equal.
func unifiedDiff(fromName, toName, old, new string) string {
	if old == new {
		return ""
	}
	ops := diffLines(splitLines(old), splitLines(new))
	var b strings.Builder
	fmt.Fprintf(&b, "--- %s\n+++ %s\n", fromName, toName)
	for _, h := range hunks(ops) {
		writeHunk(&b, ops[h[0]:h[1]])
	}
	return b.String()
}

// splitLines splits text into lines without their newlines.
func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// diffLines returns the edit script from a to b: the longest common
// subsequence of the lines between a common head and tail.
func diffLines(a, b []string) []lineOp {
	head := 0
	for head < len(a) && head < len(b) && a[head] == b[head] {
		head++
	}
	tail := 0
	for tail < len(a)-head && tail < len(b)-head && a[len(a)-1-tail] == b[len(b)-1-tail] {
		tail++
	}
	var ops []lineOp
	for i := range head {
		ops = append(ops, lineOp{opKeep, a[i], i, i})
	}
	ops = append(ops, middle(a[head:len(a)-tail], b[head:len(b)-tail], head, head)...)
	for i := range tail {
		ai, bi := len(a)-tail+i, len(b)-tail+i
		ops = append(ops, lineOp{opKeep, a[ai], ai, bi})
	}
	return ops
}

// middle diffs the differing middles of two texts (offsets into the full
// texts for line numbers) by dynamic programming over their common
// subsequence; too large a table shows the middle as replaced.
func middle(a, b []string, offA, offB int) []lineOp {
	n, m := len(a), len(b)
	if n*m > maxCells {
		return replaced(a, b, offA, offB)
	}
	// lcs[i][j] is the length of the common subsequence of a[i:] and b[j:].
	lcs := make([][]int32, n+1)
	for i := range lcs {
		lcs[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var ops []lineOp
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i] == b[j]:
			ops = append(ops, lineOp{opKeep, a[i], offA + i, offB + j})
			i, j = i+1, j+1
		case j < m && (i == n || lcs[i][j+1] > lcs[i+1][j]):
			ops = append(ops, lineOp{opAdd, b[j], -1, offB + j})
			j++
		default:
			ops = append(ops, lineOp{opDel, a[i], offA + i, -1})
			i++
		}
	}
	return ops
}

func replaced(a, b []string, offA, offB int) []lineOp {
	ops := make([]lineOp, 0, len(a)+len(b))
	for i, l := range a {
		ops = append(ops, lineOp{opDel, l, offA + i, -1})
	}
	for j, l := range b {
		ops = append(ops, lineOp{opAdd, l, -1, offB + j})
	}
	return ops
}

// hunks groups the changes of ops with their context: [start, end) ranges
// into ops, merged where their context would overlap.
func hunks(ops []lineOp) [][2]int {
	var out [][2]int
	for i, op := range ops {
		if op.kind == opKeep {
			continue
		}
		start, end := max(i-contextLines, 0), min(i+contextLines+1, len(ops))
		if n := len(out); n > 0 && start <= out[n-1][1] {
			out[n-1][1] = end
		} else {
			out = append(out, [2]int{start, end})
		}
	}
	return out
}

// writeHunk writes one hunk with its @@ -a,n +b,m @@ header.
func writeHunk(b *strings.Builder, ops []lineOp) {
	aStart, bStart, aLen, bLen := -1, -1, 0, 0
	for _, op := range ops {
		if op.a >= 0 {
			aLen++
			if aStart < 0 {
				aStart = op.a
			}
		}
		if op.b >= 0 {
			bLen++
			if bStart < 0 {
				bStart = op.b
			}
		}
	}
	fmt.Fprintf(b, "@@ -%s +%s @@\n", hunkRange(aStart, aLen), hunkRange(bStart, bLen))
	for _, op := range ops {
		b.WriteByte(byte(op.kind))
		b.WriteString(op.text)
		b.WriteByte('\n')
	}
}

// hunkRange is a unified diff range: 1-based start and length; an empty
// range names the line before it, as diff -u does.
func hunkRange(start, n int) string {
	if n == 0 {
		return fmt.Sprintf("%d,0", max(start, 0))
	}
	if n == 1 {
		return fmt.Sprint(start + 1)
	}
	return fmt.Sprintf("%d,%d", start+1, n)
}
