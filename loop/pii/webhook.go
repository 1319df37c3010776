package pii

import "strings"

// Webhook URLs: whoever knows one can post as the integration, so the URL
// is a secret. Known services (Slack, Discord, Microsoft Teams and Power
// Automate, Zapier, IFTTT, Google Chat, Telegram bots) are recognised by
// host and path, and any URL whose path has a "hooks"/"webhook(s)" segment
// followed by a token-like segment is taken as well. The whole URL, scheme
// included, becomes [SECRET].

// webhook is called at a ':' followed by "//". It returns the span of a
// webhook URL whose scheme ends at colon, or e == 0.
func (sc *scanner) webhook(colon int) (st, e int) {
	s := sc.s
	n := len(s)
	st = colon
	for st > sc.lastEnd && colon-st < 5 && isLetter(s[st-1]) {
		st--
	}
	if !hasPrefixFold(s[st:colon], "http") || colon-st > 5 || !sc.tokenStart(st) {
		return 0, 0
	}
	if colon-st == 5 && s[colon-1]|0x20 != 's' {
		return 0, 0
	}
	hs := colon + 3
	he := hs
	for he < n && he-hs < 253 && (isAlnum(s[he]) || s[he] == '.' || s[he] == '-') {
		he++
	}
	host := s[hs:he]
	if he+1 < n && s[he] == ':' && isDigit(s[he+1]) { // a port
		he++
		for he < n && he-hs < 260 && isDigit(s[he]) {
			he++
		}
	}
	sc.steps += he - st
	if len(host) == 0 || he >= n || s[he] != '/' {
		return 0, 0
	}
	end := sc.urlEnd(he)
	if end <= he || !sc.endOK(end) {
		return 0, 0
	}
	// the decision looks at the start of the path only, so that many URLs
	// run together cost no more than their length
	path := s[he:min(end, he+webhookWindow)]
	sc.steps += len(path)
	if !webhookPath(lowerASCII(host), path) {
		return 0, 0
	}
	return st, end
}

const webhookWindow = 192

// webhookPath reports whether path (from its first '/', with the query)
// on host makes a webhook URL.
func webhookPath(host, path string) bool {
	switch {
	case host == "hooks.slack.com":
		for _, p := range []string{"/services/", "/workflows/", "/triggers/"} {
			if strings.HasPrefix(path, p) {
				return tokenish(path[len(p):], 20)
			}
		}
		return false
	case host == "discord.com" || host == "discordapp.com" || strings.HasSuffix(host, ".discord.com"):
		if i := strings.Index(path, "/webhooks/"); i >= 0 && strings.HasPrefix(path, "/api/") {
			return tokenish(path[i+len("/webhooks/"):], 20)
		}
		return false
	case strings.HasSuffix(host, ".webhook.office.com"):
		return strings.HasPrefix(path, "/webhookb2/") && len(path) > len("/webhookb2/")+20
	case host == "outlook.office.com" || host == "outlook.office365.com":
		return strings.HasPrefix(path, "/webhook/") && len(path) > len("/webhook/")+20
	case strings.HasSuffix(host, ".logic.azure.com") || strings.HasSuffix(host, ".environment.api.powerplatform.com"):
		return strings.Contains(path, "sig=")
	case host == "hooks.zapier.com":
		return strings.HasPrefix(path, "/hooks/catch/") && tokenish(path[len("/hooks/catch/"):], 8)
	case host == "maker.ifttt.com":
		if i := strings.Index(path, "/with/key/"); i >= 0 {
			return tokenish(path[i+len("/with/key/"):], 16)
		}
		return false
	case host == "chat.googleapis.com":
		return strings.Contains(path, "key=") && strings.Contains(path, "token=")
	case host == "api.telegram.org":
		if strings.HasPrefix(path, "/bot") {
			i := strings.IndexByte(path, ':')
			return i > 5 && allDigits(path[4:i]) && tokenish(path[i+1:], 30)
		}
		return false
	}
	// any host: .../hooks/<token>, .../webhook/<token>, .../webhooks/<id>/<token>
	path = segmentsOf(path)
	after := 0 // segments seen since a hooks segment, 0 if none
	for i := 1; i <= len(path); {
		j := i
		for j < len(path) && path[j] != '/' {
			j++
		}
		seg := path[i:j]
		switch {
		case len(seg) >= 5 && len(seg) <= 8 && isHookWord(seg):
			after = 1
		case after > 0 && after <= 2:
			if len(seg) >= 16 && hasDigitAndLetter(seg) && strings.Trim(seg, alnumDash) == "" {
				return true
			}
			after++
		}
		i = j + 1
	}
	return false
}

func isHookWord(seg string) bool {
	switch lowerASCII(seg) {
	case "hooks", "webhook", "webhooks":
		return true
	}
	return false
}

const alnumDash = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// segmentsOf returns the path part of p (up to a query or fragment).
func segmentsOf(p string) string {
	if i := strings.IndexAny(p, "?#"); i >= 0 {
		return p[:i]
	}
	return p
}

// tokenish reports whether the path p (up to a query) holds at least min
// token characters and both a letter or digit kind mix typical of keys.
func tokenish(p string, min int) bool {
	p = segmentsOf(p)
	k := 0
	for i := 0; i < len(p); i++ {
		c := p[i]
		if cls[c]&cB64url != 0 {
			k++
		} else if c != '/' && c != '+' && c != ':' {
			return false
		}
	}
	return k >= min && hasDigitOrUpper(p)
}

func hasDigitOrUpper(t string) bool {
	for i := 0; i < len(t); i++ {
		if isDigit(t[i]) || isUpper(t[i]) {
			return true
		}
	}
	return false
}

// urlEnd returns the end of the URL text starting at j: up to white space,
// a quote, a bracket or non-ASCII text, without trailing sentence
// punctuation. The end of the last run scanned is kept, so that URLs
// within one run of URL text are scanned once.
func (sc *scanner) urlEnd(j int) int {
	s := sc.s
	v := j
	if j >= sc.urlFrom && j <= sc.urlTo && sc.urlTo > 0 {
		j = sc.urlTo
	} else {
		sc.urlFrom = j
		for j < len(s) {
			c := s[j]
			if c <= ' ' || c >= 0x7F {
				break
			}
			switch c {
			case '"', '\'', '`', '<', '>', '[', ']', '{', '}', '|', '\\', '^', '(', ')':
			default:
				j++
				continue
			}
			break
		}
		sc.steps += j - v
		sc.urlTo = j
	}
	for j > v && strings.IndexByte(".,;:!?", s[j-1]) >= 0 {
		j--
	}
	return j
}

func lowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if isUpper(s[i]) {
			return strings.ToLower(s)
		}
	}
	return s
}
