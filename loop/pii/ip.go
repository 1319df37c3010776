package pii

// ipv6 is called at a ':'. The address may start up to four hex digits
// before it. It returns the span of a valid IPv6 address (eight groups, or
// fewer with one "::", optionally ending in a dotted IPv4) holding at least
// one decimal digit, or e == 0. Times (12:30:45), MAC addresses (six
// groups), C++ scopes (std::vector) and a bare "::" are not addresses.
func (sc *scanner) ipv6(colon int) (st, e int) {
	s := sc.s
	n := len(s)
	st = colon
	for st > sc.lastEnd && colon-st < 4 && isHex(s[st-1]) {
		st--
	}
	p := sc.vb(st - 1)
	if isWordByte(p) || p == ':' || p == '.' || p == '-' {
		return 0, 0
	}
	if st == colon && (colon+1 >= n || s[colon+1] != ':') {
		return 0, 0
	}
	j := st
	groups := 0
	dbl := false
	digit := false
	end := -1
	maxGroup := 0
	if s[j] == ':' {
		dbl = true
		j += 2
	}
	for groups <= 8 {
		gs := j
		for j < n && j-gs < 5 && isHex(s[j]) {
			j++
		}
		gl := j - gs
		if gl == 0 {
			if j-2 >= st && s[j-1] == ':' && s[j-2] == ':' {
				end = j
				break
			}
			return 0, 0
		}
		if gl > 4 {
			return 0, 0
		}
		maxGroup = max(maxGroup, gl)
		if j+1 < n && s[j] == '.' && isDigit(s[j+1]) && allDigits(s[gs:j]) {
			v4 := parseV4(s, gs)
			if v4 < 0 || groups > 6 {
				return 0, 0
			}
			groups += 2
			digit = true
			maxGroup = 4
			end = v4
			break
		}
		for k := gs; k < j; k++ {
			if isDigit(s[k]) {
				digit = true
			}
		}
		groups++
		if j+1 < n && s[j] == ':' && s[j+1] == ':' {
			if dbl {
				return 0, 0
			}
			dbl = true
			j += 2
			if j >= n || !isHex(s[j]) {
				end = j
				break
			}
			continue
		}
		if j+1 < n && s[j] == ':' && isHex(s[j+1]) {
			j++
			continue
		}
		end = j
		break
	}
	sc.steps += j - st + 1
	if end < 0 || groups > 8 || (dbl && groups > 7) || (!dbl && groups != 8) || !digit {
		return 0, 0
	}
	if groups <= 2 && maxGroup <= 2 && s[st:end] != "::1" {
		return 0, 0 // "1::2", "::2": Python slices and the like, not addresses
	}
	if end < n {
		c := s[end]
		if isWordByte(c) || c == ':' || c == '@' || c == '[' || (c == '.' && end+1 < n && (isDigit(s[end+1]) || s[end+1] == '[')) {
			return 0, 0
		}
	}
	return st, end
}

// parseV4 parses a dotted-quad at p and returns its end, or -1.
func parseV4(s string, p int) int {
	j := p
	for k := 0; k < 4; k++ {
		if k > 0 {
			if j >= len(s) || s[j] != '.' {
				return -1
			}
			j++
		}
		gs := j
		v := 0
		for j < len(s) && isDigit(s[j]) && j-gs < 4 {
			v = v*10 + int(s[j]-'0')
			j++
		}
		l := j - gs
		if l == 0 || l > 3 || v > 255 || (l > 1 && s[gs] == '0') {
			return -1
		}
	}
	return j
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}
