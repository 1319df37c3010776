// Package store keeps loupe's events, labels and sets in an embedded Badger
// v4 database, behind domain-shaped methods. Everything it is handed has
// already been validated, consent-checked and masked by package loop: the
// store never sees raw PII.
//
// # Key layout
//
// Every key starts with a one-byte prefix; all prefixes, those reserved for
// work in progress too, are named constants in keys.go, with the key
// builders. Timestamps are 8-byte big-endian
// nanoseconds since the Unix epoch with the sign bit flipped, so that a
// prefix scan returns events in time order (before-1970 events included).
// Event ids are at most 128 bytes and never contain NUL (validated), so a NUL
// byte separates an id from what follows it.
//
//	m <name>                      meta: "secret" (32 random bytes, the HMAC key
//	                              for user ids), "schema" (version byte),
//	                              "inbox_snap" (the inbox snapshot's read
//	                              timestamp, size and crc32c: see snapshot.go),
//	                              "summary_deleted" (empty; its version is the
//	                              last deletion of a summary)
//	e <ts> <id>                   the event, masked, as JSON (loop.Event),
//	                              compressed (see body.go)
//	s <ts> <id>                   its summary (compact binary, see summary.go):
//	                              what the inbox lists, small enough to stay in
//	                              the LSM tree so a million load in a scan
//	i <id>                        index: <ts 8> <content sha256 first 16>
//	                              <user hash 16 or nothing>; the idempotency
//	                              check, and how forget finds a user's events
//	                              (a scan of these small records: erasure is
//	                              rare, ingest is not, so no per-user key)
//	l <id> 0x00 <reviewer>        a reviewer's current label (JSON loop.Label)
//	h <id> 0x00 <at> <reviewer>   label history, every label ever given
//	g <kind byte> <id>            set membership (JSON loop.SetEntry);
//	                              kind 'g' golden, 'r' red-flag
//	q <id>                        the review queue (JSON loop.QueueItem): why
//	                              sampling picked the event, and for whom
//	d <reviewer> 0x00 <id>        a reviewer's draft on an event (JSON Draft):
//	                              reasons, note and reference not yet graded
//	u <reviewer> 0x00 <seq 8>     a reviewer's undo journal (JSON UndoEntry),
//	                              seq big-endian so a scan is oldest first
//	w <id>                        a lease (JSON Lease): who has the queue item
//	                              open, until when (see drafts.go)
//	x <id> 0x00 <signal id>       a signal about the event, masked (JSON)
//	k <signal id>                 signal idempotency: <content sha256 first 16>
//	                              <event id>
//	o <id>                        the interaction as it arrived (masked JSON,
//	                              compressed like e), kept once it has
//	                              signals so that the merged view in e/s can
//	                              be recomputed
//	t <keyed hash of id>          consent withdrawn (HMAC-SHA256 with the
//	                              store secret): later copies are dropped
//	p <id> 0x00 <signal id>       a signal whose interaction has not arrived:
//	                              <arrival ts 8>
//	y <trace id> 0x00 <span id>   OTLP span assembly: one span of a GenAI
//	                              trace, masked and reduced to what the
//	                              mapping needs (JSON genai.Span); the
//	                              trace's interaction is derived from all
//	                              of them (see otlp.go)
//	y <trace id> 0x00             marker: that interaction is derived from
//	                              spans, so a new version may replace it
//	c <id> 0x00 <candidate> 0x00 <reviewer>
//	                              a reviewer's current blind comparison of a
//	                              candidate's answer with the event's output
//	                              (JSON compare.Judgment, see compare.go)
//	C <id> 0x00 <candidate> 0x00 <at> <reviewer>
//	                              comparison history: every judgment and
//	                              every undo (a Deleted judgment)
//	A <alert id>                  a guardrail alert (JSON AlertRecord): the
//	                              alert, first/last raised, posted, acknowledged
//	R <ts>                        a recorded `loupe gate` result (its JSON)
//	K <name>                      Kafka bookkeeping (JSON): "state", the Kafka
//	                              source's last known counters and offsets,
//	                              saved by serve for doctor
//
//	Z <day 8> <model> 0x00 <segment> 0x00 <task>
//	                              aggregates (agg.Cell) of the interactions
//	                              edge sampling did not keep (agg.go)
//	z <id>                        such an interaction's stub: <ts 8>, it and
//	                              its signals reduced to what the aggregates
//	                              need, no text (unkept.go); its index value
//	                              ends in an extra flag byte 'z'. Stubs with
//	                              a keyed content hash of the interaction as
//	                              it arrived (reduced.go) have no z key: the
//	                              stub is folded into the index value,
//	                              which ends in 'F' (foldStub)
//
// Values of at most 256 bytes (summaries, index, labels, the bodies that
// compress that far) stay in the LSM tree; other event bodies (1–3 KB of
// JSON, a third of that compressed) go to the value log, which a goroutine
// garbage-collects while the store is open.
//
// All keys of one event are written in one transaction, so a crash leaves an
// event either fully stored or absent.
package store
