package gen

import "strings"

// Slots are the named holes of text templates ("{company}"). One namespace
// serves every task; a task fills only the slots its templates use.
const (
	sCompany = iota
	sCompany2
	sPerson
	sPerson2
	sCity
	sRegion
	sAmount
	sAmount2
	sPct
	sPct2
	sQuarter
	sDate
	sDate2
	sProduct
	sCount
	sSmall
	sDays
	sCourt
	sPrice
	sCategory
	sAttr
	sPurpose
	sBudget
	sItem
	sRelation
	sHobby
	sOrder
	sPlan
	sVer
	sMonth
	sTemp
	sWrong
	sRight
	sName
	nSlots
)

var slotIndex = map[string]int{
	"company": sCompany, "company2": sCompany2, "person": sPerson, "person2": sPerson2,
	"city": sCity, "region": sRegion, "amount": sAmount, "amount2": sAmount2,
	"pct": sPct, "pct2": sPct2, "quarter": sQuarter, "date": sDate, "date2": sDate2,
	"product": sProduct, "count": sCount, "small": sSmall, "days": sDays, "court": sCourt,
	"price": sPrice, "category": sCategory, "attr": sAttr, "purpose": sPurpose,
	"budget": sBudget, "item": sItem, "relation": sRelation, "hobby": sHobby,
	"order": sOrder, "plan": sPlan, "ver": sVer, "month": sMonth, "temp": sTemp,
	"wrong": sWrong, "right": sRight, "name": sName,
}

// part is a literal, a slot, or a literal with a mis-hearing ("[said|heard]").
type part struct {
	lit   string
	alt   string
	slot  int16
	isAlt bool
}

type tmpl []part

// parseT compiles a template; it panics on a malformed one (templates are
// package constants, and the tests render every one).
func parseT(s string) tmpl {
	var t tmpl
	for len(s) > 0 {
		i := strings.IndexAny(s, "{[")
		if i < 0 {
			t = append(t, part{lit: s, slot: -1})
			break
		}
		if i > 0 {
			t = append(t, part{lit: s[:i], slot: -1})
		}
		if s[i] == '{' {
			j := strings.IndexByte(s[i:], '}')
			if j < 0 {
				panic("gen: unclosed slot in " + s)
			}
			idx, ok := slotIndex[s[i+1:i+j]]
			if !ok {
				panic("gen: unknown slot " + s[i:i+j+1])
			}
			t = append(t, part{slot: int16(idx)})
			s = s[i+j+1:]
			continue
		}
		j := strings.IndexByte(s[i:], ']')
		if j < 0 {
			panic("gen: unclosed alternative in " + s)
		}
		body := s[i+1 : i+j]
		bar := strings.IndexByte(body, '|')
		if bar < 0 {
			panic("gen: alternative without | in " + s)
		}
		t = append(t, part{lit: body[:bar], alt: body[bar+1:], slot: -1, isAlt: true})
		s = s[i+j+1:]
	}
	return t
}

func tmpls(ss ...string) []tmpl {
	out := make([]tmpl, len(ss))
	for i, s := range ss {
		out[i] = parseT(s)
	}
	return out
}

func (t tmpl) alts() int {
	n := 0
	for _, p := range t {
		if p.isAlt {
			n++
		}
	}
	return n
}

func (t tmpl) uses(slot int) bool {
	for _, p := range t {
		if int(p.slot) == slot {
			return true
		}
	}
	return false
}

// facts holds the values of the slots for the event being generated.
type facts [nSlots][]byte

func (f *facts) set(slot int, v string) { f[slot] = append(f[slot][:0], v...) }

// render appends t with the slots filled and every alternative spoken right.
func render(b []byte, t tmpl, f *facts) []byte {
	for i := range t {
		p := &t[i]
		if p.slot >= 0 {
			b = append(b, f[p.slot]...)
		} else {
			b = append(b, p.lit...)
		}
	}
	return b
}

// noisy controls renderNoisy: each alternative is misheard with probability
// p, and the one numbered force (counting across calls) always is.
type noisy struct {
	p           float64
	force, seen int
	errs        int
	heard, said string
}

func renderNoisy(b []byte, t tmpl, f *facts, n *noisy, r *rng) []byte {
	for i := range t {
		p := &t[i]
		switch {
		case p.slot >= 0:
			b = append(b, f[p.slot]...)
		case p.isAlt:
			miss := n.seen == n.force || r.chance(n.p)
			n.seen++
			if miss {
				if n.errs == 0 {
					n.heard, n.said = p.alt, p.lit
				}
				n.errs++
				b = append(b, p.alt...)
			} else {
				b = append(b, p.lit...)
			}
		default:
			b = append(b, p.lit...)
		}
	}
	return b
}
