package store

import (
	"time"

	"github.com/loupe-dev/loupe/loop"
)

// Key prefixes: the first byte of every key (see doc.go for the layout of
// each). All of them live here, the reserved ones too, so that no two parts
// of loupe ever pick the same byte.
const (
	prefixMeta     = 'm' // m <name>: the store secret, the schema version, counters
	prefixEvent    = 'e' // e <ts> <id>: the event as stored (the merged view), JSON
	prefixSummary  = 's' // s <ts> <id>: the event's compact summary (the merged view)
	prefixIndex    = 'i' // i <id>: <ts> <content hash of the original> <user hash>
	prefixLabel    = 'l' // l <id> 0x00 <reviewer>: a reviewer's current label
	prefixHistory  = 'h' // h <id> 0x00 <at> <reviewer>: every label ever given
	prefixSet      = 'g' // g <kind byte> <id>: golden / red-flag set membership
	prefixQueue    = 'q' // q <id>: the review queue
	prefixSignal   = 'x' // x <event id> 0x00 <signal id>: a signal, masked, JSON
	prefixSignalID = 'k' // k <signal id>: signal idempotency: <content hash> <event id>
	prefixOriginal = 'o' // o <id>: the interaction as it arrived (masked), once it has signals
	prefixTomb     = 't' // t <keyed hash of event id>: consent withdrawn; drop later copies
	prefixPending  = 'p' // p <event id> 0x00 <signal id>: a signal waiting for its interaction

	prefixCompare     = 'c' // c <event id> 0x00 <candidate> 0x00 <reviewer>: a current blind comparison (compare.go)
	prefixCompareHist = 'C' // C <event id> 0x00 <candidate> 0x00 <at> <reviewer>: every comparison and undo

	// Reserved for other parts of loupe (declared here so none collide).
	prefixDraft      = 'd' // review: a reviewer's unsaved draft
	prefixUndo       = 'u' // review: the undo journal
	prefixAssign     = 'w' // review: assignment and lease state
	prefixAlert      = 'A' // report: alerts, posted and acknowledged state
	prefixGateResult = 'R' // report: recorded gate results
	prefixSpan       = 'y' // otlp: span assembly
	prefixAggregate  = 'Z' // Z <day> <model> 0x00 <segment> 0x00 <task>: aggregates of interactions not kept (agg.go)
	prefixStub       = 'z' // z <id>: an interaction edge sampling did not keep, reduced to what its aggregates need
	prefixKafka      = 'K' // kafka: consumer bookkeeping
)

// Keep the reserved names referenced until their owners use them.
var _ = [...]byte{prefixDraft, prefixUndo, prefixAssign,
	prefixSpan}

// sep separates an id from what follows it in a key (ids never hold NUL).
const sep = 0x00

func prefix(p byte) []byte { return []byte{p} }

// idPrefix is <p> <id> 0x00: every key of one event under p.
func idPrefix(p byte, id string) []byte {
	k := make([]byte, 0, len(id)+2)
	k = append(k, p)
	k = append(k, id...)
	return append(k, sep)
}

func metaKey(name string) []byte { return append(prefix(prefixMeta), name...) }

func eventKey(t time.Time, id string) []byte { return timeKey(prefixEvent, t, id) }

func summaryKey(t time.Time, id string) []byte { return timeKey(prefixSummary, t, id) }

// timeKey is <p> <ts 8> <id>.
func timeKey(p byte, t time.Time, id string) []byte {
	k := make([]byte, 0, 9+len(id))
	k = tsBytes(append(k, p), t)
	return append(k, id...)
}

// timedKey is <p> <ts 8> <id>, ts already encoded (see tsBytes).
func timedKey(p byte, ts []byte, id string) []byte {
	k := make([]byte, 0, 1+len(ts)+len(id))
	k = append(k, p)
	k = append(k, ts...)
	return append(k, id...)
}

func indexKey(id string) []byte { return append(prefix(prefixIndex), id...) }

func labelKey(id, reviewer string) []byte { return append(idPrefix(prefixLabel, id), reviewer...) }

func historyKey(id string, at time.Time, reviewer string) []byte {
	k := tsBytes(idPrefix(prefixHistory, id), at)
	return append(k, reviewer...)
}

func setPrefix(kind loop.SetKind) []byte { return []byte{prefixSet, setByte(kind)} }

func setKey(kind loop.SetKind, id string) []byte { return append(setPrefix(kind), id...) }

func setByte(kind loop.SetKind) byte {
	if kind == loop.SetRedFlag {
		return 'r'
	}
	return 'g'
}

func queueKey(id string) []byte { return append(prefix(prefixQueue), id...) }

func signalKey(eventID, signalID string) []byte {
	return append(idPrefix(prefixSignal, eventID), signalID...)
}

func signalIDKey(signalID string) []byte { return append(prefix(prefixSignalID), signalID...) }

func originalKey(id string) []byte { return append(prefix(prefixOriginal), id...) }

func tombKey(hash []byte) []byte { return append(prefix(prefixTomb), hash...) }

func pendingKey(eventID, signalID string) []byte {
	return append(idPrefix(prefixPending, eventID), signalID...)
}
