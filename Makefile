# loupe — build, test, benchmark, demo. See README.md.
GO      ?= go
BIN     := bin/loupe
PKGS    := ./...
FUZZTIME ?= 5s

.PHONY: build test fuzz bench demo vet fmt clean soak

build:
	$(GO) build -o $(BIN) ./cmd/loupe

# The README's test command: race-checked tests of every package, then a
# short run of each fuzz target (longer by hand: make fuzz FUZZTIME=5m).
test:
	$(GO) vet $(PKGS)
	$(GO) test -race -count=1 $(PKGS)
	$(MAKE) --no-print-directory fuzz

fuzz:
	$(GO) test -run='^$$' -fuzz='^FuzzDecodeEvent$$' -fuzztime=$(FUZZTIME) ./loop/
	$(GO) test -run='^$$' -fuzz='^FuzzMask$$' -fuzztime=$(FUZZTIME) ./loop/pii/

# Benchmarks: Go benchmarks plus the whole-binary ingest measurement; the
# numbers are reported in BENCHMARKS.md.
bench: build
	$(GO) test -run='^$$' -bench=. -benchmem -benchtime=1x ./loop/... ./store/... ./ingest/...
	PII_REPORT=$(CURDIR)/bin/pii-report.md $(GO) test -run='^TestCorpus$$' -count=1 -v ./loop/pii/ | tail -20
	scripts/bench-ingest.sh 1000000

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
