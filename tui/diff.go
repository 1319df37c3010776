package tui

import (
	"strings"

	"github.com/loupe-dev/loupe/loop"
)

// diffOp is one run of a word diff: kept, deleted from the output, or
// inserted by the user's edit.
type diffOp struct {
	Kind  byte // '=', '-', '+'
	Words []string
}

// maxDiffCells bounds the LCS table (words of a × words of b); past it the
// diff is shown as a whole replacement rather than stalling a frame.
const maxDiffCells = 4_000_000

// editDiff is the word diff of an event's user edit against its output, nil
// when there is no edit. It is computed in the command that reads the event:
// the LCS table can be large, and Update does no heavy work.
func editDiff(ev *loop.Event) []diffOp {
	e := userEdit(ev)
	if e == "" {
		return nil
	}
	return diffWords(outputText(ev), e)
}

// diffWords diffs b against a word by word (longest common subsequence on
// whitespace-separated words).
func diffWords(a, b string) []diffOp {
	x, y := strings.Fields(a), strings.Fields(b)
	n, m := len(x), len(y)
	if n*m > maxDiffCells {
		return merge(nil, []diffOp{{'-', x}, {'+', y}})
	}
	// lcs[i][j] = LCS length of x[i:], y[j:], in one flat slice.
	w := m + 1
	lcs := make([]int32, (n+1)*w)
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if x[i] == y[j] {
				lcs[i*w+j] = lcs[(i+1)*w+j+1] + 1
			} else {
				lcs[i*w+j] = max(lcs[(i+1)*w+j], lcs[i*w+j+1])
			}
		}
	}
	var ops []diffOp
	i, j := 0, 0
	for i < n && j < m {
		switch {
		case x[i] == y[j]:
			ops = merge(ops, []diffOp{{'=', x[i : i+1]}})
			i++
			j++
		case lcs[(i+1)*w+j] >= lcs[i*w+j+1]:
			ops = merge(ops, []diffOp{{'-', x[i : i+1]}})
			i++
		default:
			ops = merge(ops, []diffOp{{'+', y[j : j+1]}})
			j++
		}
	}
	ops = merge(ops, []diffOp{{'-', x[i:]}, {'+', y[j:]}})
	return ops
}

// merge appends ops, joining runs of the same kind and dropping empty ones.
func merge(ops []diffOp, more []diffOp) []diffOp {
	for _, o := range more {
		if len(o.Words) == 0 {
			continue
		}
		if k := len(ops) - 1; k >= 0 && ops[k].Kind == o.Kind {
			ops[k].Words = append(ops[k].Words[:len(ops[k].Words):len(ops[k].Words)], o.Words...)
			continue
		}
		ops = append(ops, o)
	}
	return ops
}

// wordDiff renders the user's edit against the output: deletions struck
// through, insertions underlined (and coloured where colour is available).
// Brackets mark them too, so the diff reads without colour or attributes.
func wordDiff(s Styles, ops []diffOp) string {
	var parts []string
	for _, o := range ops {
		t := strings.Join(o.Words, " ")
		switch o.Kind {
		case '-':
			parts = append(parts, s.Delete.Render("[-"+t+"-]"))
		case '+':
			parts = append(parts, s.Insert.Render("{+"+t+"+}"))
		default:
			parts = append(parts, t)
		}
	}
	return strings.Join(parts, " ")
}
