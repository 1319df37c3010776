package store

import (
	"time"
)

// settleLimit bounds how long Close waits for compaction to catch up.
const settleLimit = time.Minute

// settle waits, up to limit, until Badger's compactors have no level over
// its target left (every level's compaction score under 1), while they
// keep making progress. A large ingest ends with hundreds of MB still to
// compact; left alone, the next process to open the store does it, and a
// TUI opened right after the ingest would share its two cores with that
// compaction while it loads the inbox. The writer that made the debt pays
// it on its way out instead. A store in shape returns at once.
func (s *Store) settle(limit time.Duration) {
	deadline := time.Now().Add(limit)
	last, stuck := 0.0, 0
	for time.Now().Before(deadline) {
		debt := 0.0
		for _, l := range s.db.Levels() {
			if l.Score >= 1 {
				debt += l.Score
			}
		}
		if debt == 0 {
			return
		}
		// The compactors may find nothing they can do (tables they
		// cannot pick, a level kept busy): give up after ten seconds of
		// no change rather than wait out the limit.
		if debt == last {
			if stuck++; stuck >= 100 {
				return
			}
		} else {
			last, stuck = debt, 0
		}
		time.Sleep(100 * time.Millisecond)
	}
}
