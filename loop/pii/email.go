package pii

const maxLocal = 64

// email is called at an '@'. It looks back for the local part (at most 64
// bytes, RFC 5321) and forward for a domain of at least two labels ending in
// an alphabetic top-level domain (at most 253 bytes), like Presidio's
// EmailRecognizer pattern with its TLD validation.
func (sc *scanner) email(at int) int {
	s := sc.s
	lim := max(at-maxLocal, sc.lastEnd)
	j := at
	for j > lim {
		c := s[j-1]
		if cls[c]&cLocal != 0 {
			j--
			continue
		}
		if isCont(c) && j-2 >= lim && isLatinLead(s[j-2]) {
			j -= 2
			continue
		}
		break
	}
	sc.steps += at - j + 1
	if j == at-maxLocal && j > sc.lastEnd && (cls[s[j-1]]&cLocal != 0 || isCont(s[j-1])) {
		return at + 1 // longer than a local part can be
	}
	for j < at && (s[j] == '.' || s[j] == '-') {
		j++
	}
	if j == at || s[at-1] == '.' {
		return at + 1
	}
	// credentials in a URL: scheme://user:password@host
	if j > sc.lastEnd && s[j-1] == ':' && at+1 < len(s) && isAlnum(s[at+1]) {
		u := j - 1
		for u > sc.lastEnd && j-1-u < maxLocal && cls[s[u-1]]&cLocal != 0 {
			u--
		}
		if u < j-1 && u >= 2 && s[u-1] == '/' && s[u-2] == '/' {
			sc.emit(j, at, Secret)
			return at + 1
		}
	}
	e := sc.domain(at + 1)
	if e == 0 {
		return at + 1
	}
	sc.emit(j, e, Email)
	return e
}

// domain returns the end of a domain name starting at p, or 0.
func (sc *scanner) domain(p int) int {
	s := sc.s
	n := len(s)
	j := p
	good := 0
	labels := 0
	for j-p <= 253 {
		ls := j
		alpha := true
		for j < n && j-ls <= 63 {
			c := s[j]
			if isLetter(c) {
				j++
				continue
			}
			if isDigit(c) || c == '-' {
				alpha = false
				j++
				continue
			}
			if isLatinLead(c) && j+1 < n && isCont(s[j+1]) {
				alpha = false
				j += 2
				continue
			}
			break
		}
		for j > ls && s[j-1] == '-' {
			j--
		}
		l := j - ls
		if l == 0 || l > 63 || s[ls] == '-' {
			break
		}
		labels++
		if labels >= 2 && l >= 2 && (alpha || hasPrefixFold(s[ls:j], "xn--")) && !isFileExt(s[ls:j]) {
			good = j
		}
		if j+1 < n && s[j] == '.' && (isAlnum(s[j+1]) || isLatinLead(s[j+1])) {
			j++
			continue
		}
		break
	}
	sc.steps += j - p + 1
	if good > 0 && good < n {
		c := s[good]
		if c == '@' || c == '_' || c == '[' || ((c == '-' || c == '.') && good+1 < n && s[good+1] == '[') {
			return 0
		}
	}
	return good
}

// isFileExt reports whether a would-be top-level domain is a common file
// extension, as in "icon@2x.png".
func isFileExt(tld string) bool {
	if len(tld) > 4 {
		return false
	}
	var b [4]byte
	for i := 0; i < len(tld); i++ {
		c := tld[i]
		if isUpper(c) {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	switch string(b[:len(tld)]) {
	case "png", "jpg", "jpeg", "gif", "svg", "webp", "bmp", "ico", "tif", "tiff", "pdf", "txt",
		"json", "yaml", "yml", "toml", "html", "htm", "css", "js", "jsx", "tsx", "mjs", "csv",
		"xml", "log", "mp3", "mp4", "wav", "mov", "zip", "gz", "tgz", "tar", "exe", "dll",
		"lock", "woff", "ttf", "heic":
		return true
	}
	return false
}
