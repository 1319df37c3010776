package config

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Template is the commented loupe.yaml that `loupe init` writes. It says
// exactly what Default is, so a team starts from the built-in loop and
// edits from there. The taxonomy and rubric are written from the built-in
// ones in package loop, so the two cannot drift apart.
func Template() []byte {
	d := Default()
	t := templateText
	t = strings.Replace(t, "%TAXONOMY%\n", section("taxonomy", d.Taxonomy, true), 1)
	t = strings.Replace(t, "%RUBRIC%\n", section("rubric", d.Rubric, false), 1)
	return []byte(t)
}

// section renders key: v as YAML; keys marks each taxonomy code with the
// review key that toggles it.
func section(key string, v any, keys bool) string {
	n, err := encode(reflect.ValueOf(v))
	if err != nil {
		panic(err) // the built-in defaults always encode
	}
	if keys {
		for i, item := range n.Content {
			item.Content[1].LineComment = fmt.Sprintf("key %d", i+1)
		}
	}
	m := mappingNode()
	m.Content = []*yaml.Node{keyNode(key), n}
	b, err := render(m)
	if err != nil {
		panic(err)
	}
	return string(bytes.TrimSpace(b)) + "\n"
}

const templateText = `# loupe.yaml: how this product's feedback loop runs.
#
# loupe reads ./loupe.yaml (or --config FILE, env LOUPE_CONFIG). Every
# section may be left out: a missing section or key keeps the built-in
# default, which is exactly what this file says. A list you write (taxonomy,
# rules, guardrails, reviewers) replaces the default list whole. Unknown keys
# are errors, so a typo is reported with its line instead of ignored.
#
# Metric names, used by goal, guardrails, trends and ab:
#   thumbs_down_rate       thumbs-down / (up + down), events with a thumb
#   pass_rate              pass / graded
#   escalation_rate        share of events escalated to a human
#   abandon_rate           share of events the user abandoned
#   policy_violation_rate  share of events flagged by the policy check
#   resolution_rate        share of events with business.resolved true
#   latency_p50_ms         median output latency, milliseconds
#   latency_p95_ms         95th percentile output latency, milliseconds
#   reason:<code>          share of thumbs-down events with that taxonomy code
# Rates are fractions: 0.8 is 80%. pass_rate and resolution_rate are better
# higher; every other metric is better lower.

# goal: the one number this loop exists to move, and where it should be.
# op is ">=" for a metric that is better higher, "<=" for one better lower.
goal:
  metric: pass_rate
  op: ">="
  target: 0.8

# taxonomy: why an answer fails. Reviewers tag failures with these codes
# (keys 1-9 in the TUI, --reason in loupe grade); users' reason_codes should
# use them too. Keep 5 to 8 codes, at most 9, in snake_case. Each has a
# description, an example that has the problem and a counter-example, a
# near miss that does not, so that two reviewers pick the same code.
%TAXONOMY%

# rubric: what earns each grade. Write criteria a newcomer could apply, with
# examples from your own product.
%RUBRIC%

# sampling: which events "loupe sample" puts in the review queue each day.
# An event is queued once, however many rules pick it, and never twice.
# Picks are reproducible: they depend on seed, the day and the event id, not
# on chance, so re-running a day changes nothing; change seed for a new draw.
# (The share of the queue every reviewer grades is review.overlap; the old
# sampling.overlap is still read, with a warning.)
#
# Each rule has a kind, a name (shown as the reason an item was queued;
# defaults to the kind) and a share of its matches to pick (0 to 1;
# defaults to 1, every match, except for random and successes):
#   random          a share of all the day's events (share required)
#   thumbs_down     events with a thumbs-down
#   policy          events flagged policy_violation, or with toxicity at or
#                   above threshold (threshold 0: the flag only)
#   escalated       events handed to a human (implicit.escalated)
#   low_confidence  events with output confidence below threshold
#   segment         events from the listed segments, e.g. segments: [enterprise]
#   task            events of the listed task types, e.g. tasks: [transcription]
#   successes       thumbs-up or resolved events, so the queue is not all
#                   failures and pass rates mean something (share required)
sampling:
  seed: 1
  rules:
    - name: random
      kind: random
      share: 0.05
    - name: thumbs_down
      kind: thumbs_down
    - name: policy
      kind: policy
      threshold: 0.5
    - name: low_confidence
      kind: low_confidence
      threshold: 0.4
    - name: successes
      kind: successes
      share: 0.03

# guardrails: how much worse a metric may get, compared with its baseline,
# before loupe raises an alert, and before it calls for a rollback. An alert
# is raised only for a change that is statistically significant: alpha is
# the false-discovery rate across every slice compared (Benjamini-Hochberg;
# 0.05 means at most 5% of alerts are false alarms, on average), and min_n
# is how many events each side of a comparison needs before it is tested.
# Each guarded metric's alert and rollback amounts are absolute, in the
# metric's unit, in its bad direction: for rates 0.05 is 5 percentage points
# (pass_rate 0.82 -> 0.77, or thumbs_down_rate 0.10 -> 0.15); for latencies
# milliseconds. rollback must be at least alert; "roll back" is only ever
# said of a model version against the version it replaced (a drift with no
# version change is a "watch"). window_days (default 7) is how many days of
# data are compared. (A plain list of metrics, the older form, still works.)
guardrails:
  alpha: 0.05
  min_n: 30
  metrics:
    - metric: pass_rate
      alert: 0.03
      rollback: 0.05
      window_days: 7
    - metric: thumbs_down_rate
      alert: 0.03
      rollback: 0.05
      window_days: 7
    - metric: policy_violation_rate
      alert: 0.005
      rollback: 0.01
      window_days: 7
    - metric: escalation_rate
      alert: 0.03
      rollback: 0.05
      window_days: 7
    - metric: latency_p95_ms
      alert: 500
      rollback: 1000
      window_days: 7

# sets: how many items the curated sets should hold. The golden set (graded
# answers with reference outputs) measures regressions: 100 to 300 items
# covering every task and segment. The red-flag set (cases that must never
# break again, with assertions) should reach 50. max 0 means no limit.
sets:
  golden:
    min: 100
    max: 300
  redflag:
    min: 50
    max: 0

# privacy: the consent rules are not settings. An event with
# consent.analytics false is never stored; one without consent is used for
# analytics and evaluation only; training exports (sft, preference, kto)
# include only events with consent.training true. Free text is always masked
# before it is stored.
# retention_days: how long events are kept (0: no limit).
privacy:
  retention_days: 180

# intake: records that arrive in pieces. A signal (a late thumb, an edit, a
# purchase, a judge's score) whose interaction has not arrived yet is kept,
# masked, and applied when it comes. pending_days: how long it waits; then
# "loupe forget --expired" (and serve, daily) drops it and counts it.
#
# keep: edge sampling, for a firehose (Kafka, a busy collector). Rules in the
# sampling rules' language pick which interactions are stored in full; the
# others are only counted, exactly, in per-day aggregates by model version,
# segment and task, which trends, alerts and the report read, so rates and
# latency percentiles stay exact over every interaction while the store
# holds the sample. The random share depends only on the event id: every
# loupe process keeps the same ones. The decision is made when the
# interaction arrives, on what is known then (signals that came first
# included): a thumbs-down that arrives later still counts in the rates,
# but cannot bring back an interaction that was not kept. Empty: keep all.
#   keep:
#     - {name: sample, kind: random, share: 0.05}
#     - {name: thumbs_down, kind: thumbs_down}
#     - {name: policy, kind: policy}
#     - {name: escalated, kind: escalated}
intake:
  pending_days: 7
  keep: []

# review: how reviewers share the queue and see each other's grades.
#   reviewers   the team's names, e.g. [ana, bo, cy] (optional)
#   min_kappa   the agreement (Cohen's kappa) below which two reviewers
#               should recalibrate on the rubric together
#   overlap     the share of the review queue every reviewer grades, so
#               their agreement can be measured (0.2 = 20%); the rest is
#               split so each item is graded once, and an item one reviewer
#               has open is not handed to another meanwhile
#   roles       adjudicator: names who see every grade at once and own the
#               Disagreements queue. Everyone else grades blind: nobody
#               else's grade of an item shows until they have graded it.
review:
  reviewers: []
  min_kappa: 0.6
  overlap: 0.2
  roles:
    adjudicator: []

# docs: what the team has written down and checked. "loupe doctor" counts
# these in its readiness checklist; set each to true once it is done.
#   schema_documented  what each event field means for this product
#   consent_reviewed   how consent is asked for and recorded, checked
#   evaluation_plan    how a release is judged: which sets, which metrics,
#                      who signs off
docs:
  schema_documented: false
  consent_reviewed: false
  evaluation_plan: ""

# alerts: where "loupe serve" posts each new alert, once. webhook is a
# Slack-compatible incoming-webhook URL (it gets {"text": "..."}); leave it
# empty to only store alerts (list them with "loupe alerts"). The URL is a
# secret: prefer the environment variable LOUPE_ALERTS_WEBHOOK, which takes
# its place, to writing it here. Each post is tried retries more times with
# backoff, each attempt bounded by timeout_seconds.
alerts:
  webhook: ""
  timeout_seconds: 10
  retries: 3

# schedule: when "loupe serve" runs the daily job by itself: sample the
# newest day into the review queue, check the guardrails (posting new
# alerts) and expire old pending data. daily_at is a UTC time of day,
# "HH:MM", or off.
schedule:
  daily_at: "06:00"

# otlp: how OpenTelemetry GenAI traces sent to "loupe serve" (POST
# /v1/traces, /v1/logs) or read by "loupe ingest --format otlp" become
# interactions: one per trace, its event_id the trace id. attributes names,
# for each field, the span attributes it is read from, first found wins;
# each name is looked up on the span, then on its resource. model_version
# falls back to gen_ai.request.model, then "unknown". user_id values are
# stored only as a keyed hash, like any user_id.
# consent: OpenTelemetry carries none, so every OTLP interaction gets this
# one (analytics yes, training no by default). A span attribute named by
# analytics_attribute or training_attribute (true or false) overrides it
# for its trace; analytics false keeps nothing of the trace. "" turns an
# override off.
otlp:
  attributes:
    model_version: [service.version, gen_ai.response.model]
    task_type: [loupe.task_type, gen_ai.operation.name]
    user_segment: [loupe.user_segment]
    locale: [loupe.locale, user.locale]
    user_id: [user.id, enduser.id]
    session_id: [session.id, gen_ai.conversation.id]
  consent:
    analytics: true
    training: false
    analytics_attribute: loupe.consent.analytics
    training_attribute: loupe.consent.training

# kafka: "loupe serve" consumes interactions and signals from a Kafka topic
# (one JSON record per message value, or NDJSON), through the same checks
# and masking as ingest, committing offsets only once the records are on
# disk. No brokers: no Kafka source. serve's --kafka* flags override these.
#   brokers             seed brokers, e.g. [kafka-1:9092, kafka-2:9092]
#   topic, group        the topic to read (several separated by commas,
#                       e.g. otlp_spans,otlp_logs as an OpenTelemetry
#                       Collector writes them) and this store's consumer
#                       group; give each store (product, region) its own
#   rejects             the rejects file (default: kafka-rejects.jsonl in
#                       the store directory)
#   tls                 connect with TLS; tls_ca_file (default: the system's
#                       roots), tls_cert_file and tls_key_file (a client
#                       certificate, both or neither)
#   sasl_mechanism      plain, scram-sha-256 or scram-sha-512, with
#                       sasl_user; the password comes from the environment
#                       variable sasl_password_env, or from the file
#                       sasl_password_file, never from this file
kafka:
  brokers: []
  topic: ""
  group: loupe
  rejects: ""
  tls: false
  tls_ca_file: ""
  tls_cert_file: ""
  tls_key_file: ""
  sasl_mechanism: ""
  sasl_user: ""
  sasl_password_env: LOUPE_KAFKA_PASSWORD
  sasl_password_file: ""
`
