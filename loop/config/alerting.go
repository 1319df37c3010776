package config

import (
	"net/url"
	"regexp"
)

// The alerts and schedule sections: where alerts go, and when `loupe serve`
// runs the daily job (sample, guardrails, expiry).

// Alerts is where new guardrail alerts are posted. Webhook is a
// Slack-compatible incoming-webhook URL (a JSON {"text": ...} is POSTed to
// it); empty means alerts are only stored and listed (loupe alerts). The
// URL is a secret: loupe never prints it, and the environment variable
// LOUPE_ALERTS_WEBHOOK, when set, takes its place so it need not be in the
// file. TimeoutSeconds bounds each attempt; Retries is how many more
// attempts follow a failed one, with backoff.
type Alerts struct {
	Webhook        string `yaml:"webhook"`
	TimeoutSeconds int    `yaml:"timeout_seconds"`
	Retries        int    `yaml:"retries"`
}

// Schedule is when `loupe serve` runs the daily job by itself: DailyAt is
// a UTC time of day, "HH:MM"; "off" (or empty) turns it off.
type Schedule struct {
	DailyAt string `yaml:"daily_at"`
}

var hhmm = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)

// Off reports whether the daily job is turned off.
func (s Schedule) Off() bool { return s.DailyAt == "" || s.DailyAt == "off" }

func (c Config) validateAlerting(p *problems) {
	if w := c.Alerts.Webhook; w != "" {
		// Never echo the value: a webhook URL is a credential.
		u, err := url.Parse(w)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			p.add("alerts.webhook", "want an http:// or https:// URL (the value is not shown: it is a secret)")
		}
	}
	if t := c.Alerts.TimeoutSeconds; t < 1 || t > 300 {
		p.add("alerts.timeout_seconds", "%d: want 1 to 300 seconds", t)
	}
	if r := c.Alerts.Retries; r < 0 || r > 10 {
		p.add("alerts.retries", "%d: want 0 to 10", r)
	}
	if s := c.Schedule; !s.Off() && !hhmm.MatchString(s.DailyAt) {
		p.add("schedule.daily_at", "%q: want a UTC time of day as HH:MM, e.g. \"06:00\", or off", s.DailyAt)
	}
}
