package pii

import (
	"unicode"
	"unicode/utf8"
)

const maxLocal = 64

// email is called at an '@'. It looks back for the local part (at most 64
// bytes, RFC 5321) and forward for a domain of at least two labels ending in
// an alphabetic top-level domain (at most 253 bytes), like Presidio's
// EmailRecognizer pattern with its TLD validation.
func (sc *scanner) email(at int) int {
	s := sc.s
	lim := max(at-maxLocal, sc.lastEnd)
	// A local part in a script written without spaces (CJK, Thai, ...) is
	// taken only when it ends in such a letter: "連絡先はtaro@" keeps the
	// words before the ASCII local part, "用户@" is one local part.
	wide := false
	if at > lim && s[at-1] >= 0x80 {
		if r, size := utf8.DecodeLastRuneInString(s[lim:at]); size >= 3 && isWideLetter(r) {
			wide = true
		}
	}
	j := at
	for j > lim {
		c := s[j-1]
		if cls[c]&cLocal != 0 || c == '\'' {
			j--
			continue
		}
		if !isCont(c) {
			break
		}
		r, size := utf8.DecodeLastRuneInString(s[lim:j])
		if size < 2 {
			break
		}
		if sc.foldHere(j - size) {
			return at + 1
		}
		if size == 2 && isLatinLead(s[j-2]) || wide && size >= 3 && isWideLetter(r) {
			j -= size
			continue
		}
		break
	}
	sc.steps += at - j + 1
	if j == at-maxLocal && j > sc.lastEnd && (cls[s[j-1]]&cLocal != 0 || s[j-1] == '\'' || isCont(s[j-1])) {
		return at + 1 // longer than a local part can be
	}
	for j < at && (s[j] == '.' || s[j] == '-' || s[j] == '\'') {
		j++ // not a local part's first character: punctuation or a quote
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
		alpha := true // ASCII letters only
		intl := true  // letters outside ASCII only (an internationalised TLD)
		ascii, wideLbl := false, false
		for j < n && j-ls <= 63 {
			c := s[j]
			if isLetter(c) {
				if wideLbl {
					break
				}
				intl, ascii = false, true
				j++
				continue
			}
			if isDigit(c) || c == '-' {
				alpha, intl = false, false
				j++
				continue
			}
			if c < 0x80 {
				break
			}
			r, size := utf8.DecodeRuneInString(s[j:])
			if size < 2 {
				break
			}
			if sc.foldHere(j) {
				return 0
			}
			if size == 2 && isLatinLead(c) {
				alpha = false
				intl = intl && (unicode.IsLetter(r) || unicode.IsMark(r))
				j += 2
				continue
			}
			// a label in a script without spaces ends where ASCII letters
			// begin or end ("example.jpです" ends at "jp")
			if size >= 3 && !ascii && isWideLetter(r) {
				alpha, wideLbl = false, true
				j += size
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
		if labels >= 2 && l >= 2 && (alpha || intl || hasPrefixFold(s[ls:j], "xn--")) && !isFileExt(s[ls:j]) {
			good = j
		}
		if j+1 < n && s[j] == '.' && (isAlnum(s[j+1]) || s[j+1] >= 0xC3) {
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

// isWideLetter reports whether r, outside the two-byte UTF-8 range, can be
// part of an internationalised local part or domain label.
func isWideLetter(r rune) bool {
	return r >= 0x800 && r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsDigit(r))
}
