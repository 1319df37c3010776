# loupe — build, test, benchmark, demo. See README.md.
GO      ?= go
BIN     := bin/loupe
PKGS    := ./...
# Fuzz runs are counted in executions, not seconds: a timed -fuzztime can
# fail with "context deadline exceeded" on a loaded machine (golang/go#75804).
# Minimising each new interesting input is capped at 5 s (default 60 s,
# which made short runs stall for a minute on the config loader's inputs).
FUZZTIME ?= 20000x

.PHONY: build test fuzz bench cost-curve demo vet fmt clean soak

# loupe --version prints these: the nearest tag (or the commit) and the commit.
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo devel)
COMMIT  ?= $(shell git rev-parse HEAD 2>/dev/null)
LDFLAGS := -X main.version=$(VERSION) -X main.commit=$(COMMIT)

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/loupe

# The README's test command: race-checked tests of every package, then a
# short run of each fuzz target (longer by hand: make fuzz FUZZTIME=5m).
test:
	$(GO) vet $(PKGS)
	$(GO) test -race -count=1 -timeout 14m $(PKGS)
	$(MAKE) --no-print-directory fuzz

FUZZ_TARGETS := FuzzDecodeEvent:./loop/ FuzzUnmarshalLeaf:./loop/ FuzzMask:./loop/pii/ FuzzLoad:./loop/config/ \
	FuzzParse:./loop/filter/ FuzzReadCandidates:./loop/eval/ FuzzReadSet:./loop/gate/

fuzz:
	@for t in $(FUZZ_TARGETS); do \
		name=$${t%%:*}; pkg=$${t#*:}; \
		echo "fuzz $$name ($(FUZZTIME))"; \
		$(GO) test -run='^$$' -fuzz="^$$name\$$" -fuzztime=$(FUZZTIME) -fuzzminimizetime=5s $$pkg || exit 1; \
	done

# Benchmarks: Go benchmarks plus the whole-binary ingest measurement; the
# numbers are reported in BENCHMARKS.md.
bench: build
	$(GO) test -run='^$$' -bench='Filter100k|Filter1M|Build1M' -benchtime=3x ./loop/filter/
	$(GO) test -run='^$$' -bench='GradeDurable|GradeKeyToScreen' -benchtime=200x ./tui/
	$(GO) test -run='^$$' -bench='Collector' -benchtime=20x ./ingest/
	$(GO) test -run='^$$' -bench='^BenchmarkIngest$$|IngestSignals' -benchtime=3x ./ingest/
	$(GO) test -run='^$$' -bench='PrepareUnkept' -benchmem ./ingest/
	$(GO) test -run='^$$' -bench='Mask|DecodeEvent|AppendJSON|Generate|Trends1M' -benchmem ./loop/ ./loop/pii/ ./loop/gen/ ./loop/trend/
	PII_REPORT=$(CURDIR)/bin/pii-report.md $(GO) test -run='^TestCorpus$$' -count=1 ./loop/pii/ && cat bin/pii-report.md
	scripts/bench-ingest.sh 1000000
	$(GO) test -run='^$$' -bench='OTLPServe' -benchtime=20x ./cmd/loupe/
	LOUPE_BENCH_STORE=$(CURDIR)/bin/bench-store $(GO) test -run='^$$' -bench='TUIStartup' -benchtime=3x ./cmd/loupe/
	$(GO) test -run='^$$' -bench='KafkaServe' -benchtime=5x -timeout 30m ./cmd/loupe/

# How cost grows with the number of events (issue 17): ingest, store size,
# start-up, memory, filter and trends at 100k, 1M and 3M events through the
# real binary (scripts/cost-curve.sh; SIZES="..." for others). Not part of
# bench: it took 26 minutes on the loaded 2 cores, and needs ~8 GB free under
# /tmp for the 3M size; results in bin/cost-curve/table.md.
SIZES ?= 100000 1000000 3000000
cost-curve:
	scripts/cost-curve.sh $(SIZES)

# Builds the binary, makes a demo store from generated events in its own
# directory and opens the TUI on it.
demo: build
	$(BIN) demo

vet:
	$(GO) vet $(PKGS)

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin

# The long forms: 20 kill -9s during ingest, 10 of serve mid-batch and a
# minute of collector load with bounded memory, long fuzz runs.
soak: build
	LOUPE_CRASH_ROUNDS=20 $(GO) test -count=1 -timeout 60m -run 'TestKill9' -v ./cmd/loupe/
	LOUPE_SOAK=1 $(GO) test -count=1 -timeout 60m -run 'TestProveSoak' -v ./cmd/loupe/
	$(MAKE) --no-print-directory fuzz FUZZTIME=1000000x
