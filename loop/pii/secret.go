package pii

import "strings"

// Secrets: API keys and tokens with a known prefix, JWTs, bearer tokens,
// private-key PEM blocks and the values of password/token/secret/api-key
// assignments.

// runOf returns the end of the run of bytes of class m starting at j.
func (sc *scanner) runOf(j int, m uint8) int {
	s := sc.s
	k := j
	for k < len(s) && cls[s[k]]&m != 0 {
		k++
	}
	sc.steps += k - j
	return k
}

// wordBefore returns the start of the run of lower-case letters (at most
// max) that ends at i, or -1 when there is none, it is longer, or it does
// not start on a boundary.
func (sc *scanner) wordBefore(i, max int) int {
	s := sc.s
	ws := i
	for ws > sc.lastEnd && i-ws <= max && isLower(s[ws-1]) {
		ws--
	}
	if ws == i || i-ws > max {
		return -1
	}
	if sc.vb(ws-1) == '-' || !sc.tokenStart(ws) {
		return -1
	}
	return ws
}

func hasDigitAndLetter(t string) bool {
	d, l := false, false
	for i := 0; i < len(t); i++ {
		c := t[i]
		d = d || isDigit(c)
		l = l || isLetter(c)
	}
	return d && l
}

// underscore handles a '_' after a token prefix: GitHub (ghp_ gho_ ghu_ ghs_
// ghr_ github_pat_), Stripe (sk_live_ sk_test_ pk_live_ pk_test_ rk_live_
// rk_test_), npm (npm_), Hugging Face (hf_) and Stripe webhook (whsec_).
func (sc *scanner) underscore(i int) int {
	s := sc.s
	ws := sc.wordBefore(i, 6)
	if ws < 0 {
		return i + 1
	}
	w := s[ws:i]
	min, from := 0, i+1
	switch w {
	case "ghp", "gho", "ghu", "ghs", "ghr":
		min = 30
	case "github":
		if !strings.HasPrefix(s[i+1:], "pat_") {
			return i + 1
		}
		min, from = 22, i+5
	case "sk", "pk", "rk":
		if !strings.HasPrefix(s[i+1:], "live_") && !strings.HasPrefix(s[i+1:], "test_") {
			return i + 1
		}
		min, from = 10, i+6
	case "npm":
		min = 30
	case "hf":
		min = 30
	case "whsec":
		min = 20
	default:
		return i + 1
	}
	e := sc.runOf(from, cB64url)
	if e-from < min || !hasDigitAndLetter(s[from:e]) || !sc.endOK(e) {
		return i + 1
	}
	sc.emit(ws, e, Secret)
	return e
}

// dash handles a '-': private-key PEM blocks, Slack tokens (xoxb- xoxp-
// xoxa- xoxr- xoxs- xoxe- xapp-), OpenAI/Anthropic keys (sk-, sk-proj-,
// sk-ant-) and GitLab tokens (glpat-).
func (sc *scanner) dash(i int) int {
	s := sc.s
	if s[i:min(i+5, len(s))] == "-----" {
		return sc.pem(i)
	}
	ws := sc.wordBefore(i, 5)
	if ws < 0 {
		return i + 1
	}
	min := 0
	switch s[ws:i] {
	case "xoxb", "xoxp", "xoxa", "xoxr", "xoxs", "xoxe", "xoxo":
		min = 10
	case "xapp", "glpat":
		min = 20
	case "sk":
		min = 20
	default:
		return i + 1
	}
	e := sc.runOf(i+1, cB64url)
	if e-(i+1) < min || !hasDigitAndLetter(s[i+1:e]) || !sc.endOK(e) {
		return i + 1
	}
	sc.emit(ws, e, Secret)
	return e
}

var awsPrefixes = []string{"AKIA", "ASIA", "AGPA", "AIDA", "AROA", "AIPA", "ANPA", "ANVA", "ASCA", "ABIA", "ACCA"}

// upper handles an upper-case letter: JWTs (at the 'J' of "eyJ"), IBANs,
// AWS access key ids, Google API keys (AIza) and "Bearer" tokens.
func (sc *scanner) upper(i int) int {
	s := sc.s
	n := len(s)
	c := s[i]
	if c == 'J' && i-2 >= sc.lastEnd && s[i-1] == 'y' && s[i-2] == 'e' {
		if e := sc.jwt(i - 2); e > 0 {
			sc.emit(i-2, e, Secret)
			return e
		}
		return i + 1
	}
	if !sc.tokenStart(i) {
		return i + 1
	}
	if i+3 < n && isUpper(s[i+1]) && isDigit(s[i+2]) && isDigit(s[i+3]) {
		if e := sc.iban(i); e > 0 {
			sc.emit(i, e, IBAN)
			return e
		}
	}
	switch c {
	case 'A':
		if i+1 >= n || !isUpper(s[i+1]) {
			break
		}
		if i+20 <= n {
			for _, p := range awsPrefixes {
				if s[i:i+4] != p {
					continue
				}
				ok := true
				for j := i + 4; j < i+20; j++ {
					if !isUpper(s[j]) && !isDigit(s[j]) {
						ok = false
						break
					}
				}
				if ok && (i+20 == n || !isWordByte(s[i+20]) && s[i+20] != '[') {
					sc.emit(i, i+20, Secret)
					return i + 20
				}
			}
		}
		if strings.HasPrefix(s[i:], "AIza") {
			e := sc.runOf(i+4, cB64url)
			if e-(i+4) == 35 && sc.endOK(e) {
				sc.emit(i, e, Secret)
				return e
			}
		}
	case 'B':
		return sc.bearer(i)
	}
	return i + 1
}

// jwt returns the end of a JSON Web Token starting at st ("eyJ" header,
// "eyJ" payload, signature, all base64url, dot-separated), or 0.
func (sc *scanner) jwt(st int) int {
	s := sc.s
	if cls[sc.vb(st-1)]&cB64url != 0 || !sc.tokenStart(st) {
		return 0
	}
	j := sc.runOf(st, cB64url)
	if j-st < 10 || j+1 >= len(s) || s[j] != '.' || !strings.HasPrefix(s[j+1:], "eyJ") {
		return 0
	}
	k := sc.runOf(j+1, cB64url)
	if k-(j+1) < 10 || k >= len(s) || s[k] != '.' {
		return 0
	}
	e := sc.runOf(k+1, cB64url)
	if !sc.endOK(e) {
		return 0
	}
	return e
}

// bearer masks the token after "Bearer " (any case): at least 16 token
// characters holding a digit or both cases.
func (sc *scanner) bearer(i int) int {
	s := sc.s
	n := len(s)
	if !hasPrefixFold(s[i:], "bearer") || !sc.tokenStart(i) {
		return i + 1
	}
	j := i + 6
	sp := j
	for j < n && j-sp < 4 && (s[j] == ' ' || s[j] == '\t') {
		j++
	}
	if j == sp {
		return i + 1
	}
	ts := j
	e := sc.runOf(ts, cTok)
	for e > ts && s[e-1] == '.' {
		e--
	}
	if e-ts < 16 || !sc.endOK(e) {
		return i + 1
	}
	d, lo, up := false, false, false
	for k := ts; k < e; k++ {
		c := s[k]
		d = d || isDigit(c)
		lo = lo || isLower(c)
		up = up || isUpper(c)
	}
	if !d && !(lo && up) {
		return i + 1
	}
	sc.emit(ts, e, Secret)
	return e
}

// pem masks a private-key PEM block from "-----BEGIN ... PRIVATE KEY-----"
// through its body and "-----END ...-----" (or as far as the body goes).
func (sc *scanner) pem(i int) int {
	s := sc.s
	n := len(s)
	if !strings.HasPrefix(s[i:], "-----BEGIN ") || !sc.tokenStart(i) || sc.vb(i-1) == '-' {
		return i + 5
	}
	j := i + 11
	ls := j
	for j < n && j-ls < 48 && (isUpper(s[j]) || isDigit(s[j]) || s[j] == ' ') {
		j++
	}
	sc.steps += j - i
	if !strings.HasPrefix(s[j:], "-----") {
		return i + 5
	}
	if !strings.Contains(s[ls:j], "PRIVATE KEY") {
		return j + 5
	}
	hdr := j + 5
	b := hdr
	for b < n {
		c := s[b]
		if isAlnum(c) || c == '+' || c == '/' || c == '=' || c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == ':' || c == ',' {
			b++
			continue
		}
		if c == '-' && !strings.HasPrefix(s[b:], "-----") {
			b++
			continue
		}
		break
	}
	sc.steps += b - hdr
	end := b
	if strings.HasPrefix(s[b:], "-----END ") {
		k := b + 9
		for k < n && k-b < 60 && (isUpper(s[k]) || isDigit(s[k]) || s[k] == ' ') {
			k++
		}
		if strings.HasPrefix(s[k:], "-----") {
			end = k + 5
		}
	}
	if end == b {
		for end > hdr && (s[end-1] == ' ' || s[end-1] == '\n' || s[end-1] == '\r' || s[end-1] == '\t') {
			end--
		}
	}
	sc.emit(i, end, Secret)
	return end
}

// secretKeys are the key names whose assigned values are masked. A key
// matches when it ends in one of them at a word boundary (db_password,
// GITHUB_TOKEN, x-api-key, clientSecret).
var secretKeys = []string{
	"password", "passwort", "passwd", "passphrase", "passcode", "pwd", "secret", "token",
	"apikey", "api_key", "api-key", "accesskey", "access_key", "secretkey", "secret_key",
	"privatekey", "private_key", "auth", "authorization", "credential", "credentials",
	"senha", "kennwort", "contrasena",
}

// secretKeysUTF8 are non-ASCII key names matched as suffixes of the text
// before the separator.
var secretKeysUTF8 = []string{"contraseña", "mot de passe", "パスワード", "密码", "密碼", "暗証番号"}

func isSecretKey(key string) bool {
	if len(key) == 0 || len(key) > 48 {
		return false
	}
	switch key[len(key)-1] | 0x20 {
	case 'd', 't', 'n', 'y', 'h', 'l', 's', 'a', 'e':
	default:
		return false
	}
	if hasPrefixFold(key, "pass") && len(key) == 4 {
		return true
	}
	var buf [48]byte
	for i := 0; i < len(key); i++ {
		c := key[i]
		if isUpper(c) {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	lk := string(buf[:len(key)])
	for _, w := range secretKeys {
		if !strings.HasSuffix(lk, w) {
			continue
		}
		p := len(key) - len(w)
		if p == 0 {
			return true
		}
		b := key[p-1]
		if b == '_' || b == '-' || b == '.' {
			return true
		}
		if isUpper(key[p]) && (isLower(b) || isDigit(b)) {
			return true // camelCase
		}
	}
	return false
}

// assign is called at a ':' or '='. When the key before it names a secret
// (password=..., "api_key": "...", Authorization: Bearer ...), the value is
// masked.
func (sc *scanner) assign(sep int) int {
	s := sc.s
	n := len(s)
	v := sep + 1
	if v < n && (s[v] == '=' || (s[sep] == ':' && s[v] == ':')) {
		return sep + 1 // ==, :=, ::
	}
	k := sep
	if s[sep] == '=' && k > sc.lastEnd && s[k-1] == ':' {
		k-- // :=
	}
	for c := 0; c < 3 && k > sc.lastEnd && (s[k-1] == ' ' || s[k-1] == '\t'); c++ {
		k--
	}
	if k > sc.lastEnd && (s[k-1] == '"' || s[k-1] == '\'') {
		k--
	}
	e := k
	for k > sc.lastEnd && e-k < 48 && cls[s[k-1]]&cIdent != 0 {
		k--
	}
	sc.steps += sep - k + 1
	key := s[k:e]
	if !isSecretKey(key) && !(k > sc.lastEnd && (s[k-1] == '?' || s[k-1] == '&') && isQueryKey(key)) {
		ok := false
		if !(k > sc.lastEnd && s[k-1] >= 0x80) && !hasPrefixFold(key, "passe") {
			return sep + 1
		}
		for _, w := range secretKeysUTF8 {
			if e-len(w) >= sc.lastEnd && strings.HasSuffix(s[:e], w) {
				ok = true
				break
			}
		}
		if !ok {
			return sep + 1
		}
	}
	// value
	for c := 0; c < 4 && v < n && (s[v] == ' ' || s[v] == '\t'); c++ {
		v++
	}
	if v >= n {
		return sep + 1
	}
	vs, ve := v, v
	quoted := false
	if q := s[v]; q == '"' || q == '\'' || q == '`' {
		w := s[v+1 : min(n, v+1+1024)]
		c := strings.IndexByte(w, q)
		vs = v + 1
		if c < 0 {
			sc.steps += len(w)
		} else {
			sc.steps += c
		}
		if c >= 0 && strings.IndexByte(w[:c], '\n') < 0 {
			ve = vs + c
			quoted = true
		} else {
			ve = sc.unquotedEnd(vs)
		}
	} else {
		ve = sc.unquotedEnd(vs)
	}
	if ve <= vs || placeholderLen(s[vs:]) > 0 || isNonValue(s[vs:ve]) {
		return sep + 1
	}
	// an auth scheme is kept and its credentials masked
	for _, scheme := range authSchemes {
		ts := -1
		if quoted && hasPrefixFold(s[vs:ve], scheme+" ") {
			ts = vs + len(scheme) + 1
		} else if !quoted && ve-vs == len(scheme) && hasPrefixFold(s[vs:ve], scheme) && ve+1 < n && s[ve] == ' ' {
			ts = ve + 1
		}
		if ts < 0 {
			continue
		}
		te := ve
		if !quoted {
			te = sc.unquotedEnd(ts)
		}
		if te <= ts || placeholderLen(s[ts:]) > 0 {
			return ts
		}
		sc.emit(ts, te, Secret)
		return te
	}
	sc.emit(vs, ve, Secret)
	return ve
}

// isQueryKey reports whether key, as a URL query parameter, holds a secret
// (https://...?key=..., Azure SAS and Power Automate sig=...).
func isQueryKey(key string) bool {
	switch lowerASCII(key) {
	case "key", "sig", "signature", "x-amz-signature", "hmac":
		return true
	}
	return false
}

var authSchemes = []string{"bearer", "basic", "token", "bot", "digest"}

// unquotedEnd returns the end of an unquoted value starting at v: up to
// white space, a quote, a delimiter or non-ASCII text, without trailing
// sentence punctuation.
func (sc *scanner) unquotedEnd(v int) int {
	s := sc.s
	j := v
	for j < len(s) {
		c := s[j]
		if c <= ' ' || c >= 0x80 {
			break
		}
		switch c {
		case '"', '\'', '`', ',', ';', '&', '<', '>', ')', ']', '}', '|':
		default:
			j++
			continue
		}
		break
	}
	sc.steps += j - v
	for j > v && (s[j-1] == '.' || s[j-1] == ':') {
		j--
	}
	return j
}

// isNonValue reports whether an assigned value is a literal that holds no
// secret (true, null, ...).
func isNonValue(v string) bool {
	if len(v) > 9 {
		return false
	}
	var b [9]byte
	for i := 0; i < len(v); i++ {
		c := v[i]
		if isUpper(c) {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	switch string(b[:len(v)]) {
	case "true", "false", "null", "none", "nil", "undefined":
		return true
	}
	return false
}
