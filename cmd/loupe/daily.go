package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/loupe-dev/loupe/loop/trend"
	"github.com/loupe-dev/loupe/store"
)

// The daily job `loupe serve` runs by itself at schedule.daily_at (UTC):
// sample yesterday into the review queue, check the guardrails, post each
// new alert once to alerts.webhook, and expire old data.

// dailyResult is what one run did, for the log.
type dailyResult struct {
	Day     string
	Queued  int
	Alerts  int
	New     int
	Posted  int
	Expired int // events past privacy.retention_days
	Dropped int // signals pending past intake.pending_days
}

// raiseAlerts checks the guardrails on the store's data (up to its newest
// event), the aggregates of interactions not stored in full included, and
// records the alerts; it returns them and how many are new.
func raiseAlerts(st *store.Store, cfg appConfig, d *reviewData, now time.Time) ([]trend.Alert, int, error) {
	data := d.trend()
	if data.Interactions() == 0 {
		return nil, 0, nil
	}
	as := trend.Alerts(data, cfg.TrendPolicy(), data.Newest())
	m := make(map[string]json.RawMessage, len(as))
	for _, a := range as {
		b, err := json.Marshal(a)
		if err != nil {
			return nil, 0, err
		}
		m[a.ID] = b
	}
	fresh, err := st.RaiseAlerts(m, now)
	return as, len(fresh), err
}

// expirePending expires old data as `loupe forget --expired` does: events
// older than privacy.retention_days, and signals that waited longer than
// intake.pending_days for an interaction that never came.
func expirePending(st *store.Store, cfg appConfig, now time.Time) (erased, dropped int, err error) {
	if cfg.Privacy.RetentionDays > 0 {
		if erased, err = st.ForgetBefore(now.UTC().AddDate(0, 0, -cfg.Privacy.RetentionDays)); err != nil {
			return erased, 0, err
		}
	}
	dropped, err = st.ExpirePending(now.UTC().AddDate(0, 0, -cfg.Intake.PendingDays))
	return erased, dropped, err
}

// runDaily is one run of the daily job at now.
func runDaily(ctx context.Context, st *store.Store, cfg appConfig, hook *webhook, now time.Time, logf func(string, ...any)) (dailyResult, error) {
	var r dailyResult
	d, err := loadReviewData(st)
	if err != nil {
		return r, err
	}
	// Yesterday: the last whole UTC day (today's events are still coming).
	day := now.UTC().Truncate(24*time.Hour).AddDate(0, 0, -1)
	r.Day = day.Format("2006-01-02")
	if _, r.Queued, err = sampleDay(st, cfg, d, day, false); err != nil {
		return r, fmt.Errorf("sample: %w", err)
	}
	as, fresh, err := raiseAlerts(st, cfg, d, now)
	if err != nil {
		return r, fmt.Errorf("guardrails: %w", err)
	}
	r.Alerts, r.New = len(as), fresh
	if hook != nil {
		current := map[string]bool{}
		for _, a := range as {
			current[a.ID] = true
		}
		if r.Posted, err = postPending(ctx, st, hook, current, now, logf); err != nil {
			return r, err
		}
	}
	if r.Expired, r.Dropped, err = expirePending(st, cfg, now); err != nil {
		return r, fmt.Errorf("expiry: %w", err)
	}
	return r, nil
}

// postPending posts every current alert (raised by this run) not yet
// posted nor acknowledged, oldest first, and marks each posted: an alert
// that no longer holds is not posted late. A failed post is logged
// (redacted) and retried at the next run, if the alert still holds.
func postPending(ctx context.Context, st *store.Store, hook *webhook, current map[string]bool, now time.Time, logf func(string, ...any)) (int, error) {
	var todo []store.AlertRecord
	if err := st.Alerts(func(r store.AlertRecord) error {
		if current[r.ID] && r.PostedAt.IsZero() && r.AckedAt.IsZero() {
			todo = append(todo, r)
		}
		return nil
	}); err != nil {
		return 0, err
	}
	sort.Slice(todo, func(i, j int) bool { return todo[i].FirstSeen.Before(todo[j].FirstSeen) })
	n := 0
	for _, r := range todo {
		var a trend.Alert
		if err := json.Unmarshal(r.Alert, &a); err != nil {
			return n, fmt.Errorf("alert %s: %w", r.ID, err)
		}
		if err := hook.post(ctx, alertText(a)); err != nil {
			logf("alert %s not posted (will retry at the next run): %v", r.ID, err)
			continue
		}
		if err := st.MarkAlertPosted(r.ID, now); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// alertText is the message posted for an alert.
func alertText(a trend.Alert) string {
	return fmt.Sprintf("loupe: %s\n%s\nacknowledge: loupe alerts ack %s", a.Headline(), a.Message, a.ID)
}

// webhook posts Slack-compatible messages ({"text": ...}) with a timeout
// per attempt and retries with exponential backoff. Its URL is a secret:
// errors never contain it.
type webhook struct {
	url     string
	timeout time.Duration
	retries int
	backoff time.Duration // before the first retry; doubles
	client  *http.Client
}

func newWebhook(cfg appConfig) *webhook {
	u := webhookURL(cfg)
	if u == "" {
		return nil
	}
	return &webhook{url: u, timeout: time.Duration(cfg.Alerts.TimeoutSeconds) * time.Second,
		retries: cfg.Alerts.Retries, backoff: time.Second, client: &http.Client{}}
}

// webhookURL is LOUPE_ALERTS_WEBHOOK, else alerts.webhook.
func webhookURL(cfg appConfig) string {
	if env := os.Getenv("LOUPE_ALERTS_WEBHOOK"); env != "" {
		return env
	}
	return cfg.Alerts.Webhook
}

// checkWebhook rejects a webhook URL that is not http(s), without showing
// it (loupe.yaml's is checked when the config loads; this is for the
// environment variable).
func checkWebhook(cfg appConfig) error {
	u := webhookURL(cfg)
	if u == "" {
		return nil
	}
	if p, err := url.Parse(u); err != nil || (p.Scheme != "http" && p.Scheme != "https") || p.Host == "" {
		return usageErr("LOUPE_ALERTS_WEBHOOK: want an http:// or https:// URL (the value is not shown: it is a secret)")
	}
	return nil
}

func (w *webhook) post(ctx context.Context, text string) error {
	body, err := json.Marshal(map[string]string{"text": text})
	if err != nil {
		return err
	}
	var last error
	wait := w.backoff
	for attempt := 0; attempt <= w.retries; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return w.redact(ctx.Err())
			case <-time.After(wait):
			}
			wait *= 2
		}
		if last = w.once(ctx, body); last == nil {
			return nil
		}
	}
	return fmt.Errorf("webhook: %d attempts failed, last: %w", w.retries+1, last)
}

func (w *webhook) once(ctx context.Context, body []byte) error {
	ctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return w.redact(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.client.Do(req)
	if err != nil {
		return w.redact(err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("webhook answered %s", resp.Status)
	}
	return nil
}

// redact removes the URL (and its host and path) from err's message.
func (w *webhook) redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	msg := err.Error()
	msg = strings.ReplaceAll(msg, w.url, "<webhook URL>")
	if u, perr := url.Parse(w.url); perr == nil {
		if u.Path != "" && u.Path != "/" {
			msg = strings.ReplaceAll(msg, u.Path, "<path>")
		}
		if u.Host != "" {
			msg = strings.ReplaceAll(msg, u.Host, "<webhook host>")
		}
	}
	return errors.New("webhook: " + msg)
}

// nextDaily is the first time of day at (HH:MM, UTC) strictly after now.
func nextDaily(at string, now time.Time) time.Time {
	var h, m int
	fmt.Sscanf(at, "%d:%d", &h, &m)
	now = now.UTC()
	t := time.Date(now.Year(), now.Month(), now.Day(), h, m, 0, 0, time.UTC)
	if !t.After(now) {
		t = t.AddDate(0, 0, 1)
	}
	return t
}

// scheduleDaily runs the daily job at schedule.daily_at until ctx ends;
// runNow runs it once at start too (--daily-now, for tests and for a first
// run). Each run is logged; a failed run is logged and retried the next
// day.
func scheduleDaily(ctx context.Context, st *store.Store, cfg appConfig, runNow bool, logf func(string, ...any)) {
	hook := newWebhook(cfg)
	run := func() {
		r, err := runDaily(ctx, st, cfg, hook, time.Now(), logf)
		if err != nil {
			logf("daily job: %v", err)
			return
		}
		logf("daily job: sampled %s (%d queued), %d alerts (%d new), %d posted, %d expired, %d pending signals dropped", r.Day, r.Queued, r.Alerts, r.New, r.Posted, r.Expired, r.Dropped)
	}
	if runNow {
		run()
	}
	if cfg.Schedule.Off() {
		return
	}
	for {
		next := nextDaily(cfg.Schedule.DailyAt, time.Now())
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(next)):
			run()
		}
	}
}

// startDaily starts the daily job's schedule for serve and returns the
// function that stops it and waits until a run in progress ends.
func startDaily(ctx context.Context, st *store.Store, cfg appConfig, runNow bool, out io.Writer, logf func(string, ...any)) (stop func()) {
	if cfg.Schedule.Off() && !runNow {
		fmt.Fprintln(out, "daily job: off (schedule.daily_at)")
		return func() {}
	}
	hook := "no webhook: alerts are stored, see loupe alerts"
	if newWebhook(cfg) != nil {
		hook = "new alerts posted to the webhook"
	}
	if cfg.Schedule.Off() {
		fmt.Fprintf(out, "daily job: once now (%s)\n", hook)
	} else {
		fmt.Fprintf(out, "daily job: at %s UTC (%s)\n", cfg.Schedule.DailyAt, hook)
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		scheduleDaily(ctx, st, cfg, runNow, logf)
	}()
	return func() { cancel(); <-done }
}
