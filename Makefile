# mcpstore's commands. Each brings up what it needs: `make test` and
# `make bench` start a throwaway PostgreSQL (scripts/with-postgres) unless
# MCPSTORE_TEST_DATABASE_URL names one.

GO      ?= go
TOOL    := $(GO) tool -modfile=tools/go.mod
WITH_PG := scripts/with-postgres
PKG     := github.com/mcpstore/mcpstore
# The modules beside the root one: bench/ (comparison-only dependencies),
# gateway/mcpgo (mcp-go, which importers of the root never compile) and
# its example server; those with tests are in TEST_MODULES.
TEST_MODULES := gateway/mcpgo examples/mcpgoserver
MODULES      := bench $(TEST_MODULES)

.PHONY: all generate check test test-faults fuzz bench bench-short demo

all: check test

## generate: compile queries/ against schema/ into gen/ with the pinned sqlc.
generate:
	$(TOOL) sqlc generate

## check: fail when gen/ is stale, gofmt would change a file, go vet
## complains, go.mod is untidy, or an engine pulls in the other's driver.
check:
	@echo "check: gen/ is what sqlc generates from queries/ and schema/"
	@$(TOOL) sqlc diff || { echo "gen/ is stale: run 'make generate'" >&2; exit 1; }
	@echo "check: gofmt"
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
		if [ -n "$$out" ]; then echo "gofmt would change:" >&2; echo "$$out" >&2; exit 1; fi
	@echo "check: go vet"
	@$(GO) vet ./...
	@echo "check: go.mod and go.sum are tidy"
	@$(GO) mod tidy -diff >/dev/null || { echo "go.mod is not tidy: run 'go mod tidy'" >&2; exit 1; }
	@for m in $(MODULES); do \
		echo "check: $$m/ (its own module) vets and is tidy"; \
		(cd $$m && $(GO) vet ./... && { $(GO) mod tidy -diff >/dev/null || { echo "$$m/go.mod is not tidy: run 'cd $$m && go mod tidy'" >&2; exit 1; }; }) || exit 1; \
	done
	@echo "check: db/postgres does not compile SQLite, db/sqlite does not compile pgx"
	@test "$$($(GO) list -deps ./db/postgres | grep -c modernc)" = 0
	@test "$$($(GO) list -deps ./db/sqlite | grep -c jackc/pgx)" = 0
	@echo "check: gateway compiles neither engine's driver nor an MCP SDK, db no SDK (gateway/mcpsdk compiles go-sdk, gateway/mcpgo mcp-go)"
	@test "$$($(GO) list -deps ./gateway | grep -c -e modelcontextprotocol -e mark3labs -e jackc/pgx -e modernc)" = 0
	@test "$$($(GO) list -deps ./db/... | grep -c -e modelcontextprotocol -e mark3labs)" = 0
	@echo "check: mcp-go stays out of the root module (gateway/mcpgo is a module of its own)"
	@! grep -q mark3labs go.mod go.sum
	@echo "check: ok"

## test: every test, race detector on, on a real PostgreSQL and SQLite;
## the fault scenarios of tests/faults in short form (-short); then the
## tests of the other modules (TEST_MODULES) on the same server.
test:
	@out=$$(mktemp); status=0; \
	$(WITH_PG) sh -c '$(TOOL) gotestsum --format testname --jsonfile "$$1" -- -race -count=1 -short ./... || s=1; \
		for m in $(TEST_MODULES); do \
			(cd $$m && $(GO) tool -modfile=$(CURDIR)/tools/go.mod gotestsum --format testname --jsonfile "$$1.m" -- -race -count=1 -short ./...) || s=1; \
			cat "$$1.m" >> "$$1"; rm -f "$$1.m"; \
		done; exit $${s:-0}' sh $$out || status=$$?; \
	scripts/conformance-summary $$out || status=1; \
	rm -f $$out; exit $$status

## test-faults: the fault scenarios in full (100,000 audit events through
## a PostgreSQL restart, replica processes, bad input, secrets at rest),
## race detector on, then one summary line per scenario with its figures.
test-faults:
	@out=$$(mktemp); status=0; \
	$(WITH_PG) $(GO) test -race -count=1 -v -timeout 30m ./tests/faults/ >$$out 2>&1 || status=$$?; \
	if [ $$status != 0 ]; then cat $$out; fi; \
	grep -E '^(faults summary:|--- FAIL|FAIL|ok )' $$out; \
	rm -f $$out; exit $$status

## fuzz: each fuzz target (of gateway and db) for FUZZTIME executions (default 100000x), one
## after another (go test -fuzz takes one target at a time). New failing
## inputs land in <package>/testdata/fuzz/<target>/.
# A count of executions, not a duration: with a duration, go1.26's fuzz
# coordinator can report a spurious "context deadline exceeded" as the time
# runs out (golang/go#75804, fixed in go1.27).
FUZZTIME ?= 100000x
FUZZ_TARGETS := gateway:FuzzKeyFormat gateway:FuzzToolName gateway:FuzzCheckTool gateway:FuzzRedact \
	gateway:FuzzAuditRepair gateway:FuzzSpoolRecord db:FuzzScanObject
fuzz:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; f=$${t#*:}; \
		echo "fuzz: $$f ($$pkg) for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$f\$$" -fuzztime $(FUZZTIME) ./$$pkg/ || exit 1; \
	done

## bench: the Go benchmarks (the root module's, then gateway/mcpgo's), on
## both engines, on a durable PostgreSQL (MCPSTORE_PG_DURABLE=1: fsync and
## synchronous_commit on, as in production). BenchmarkAuditRecord times single calls, so it runs a fixed
## number of them; the ingestion benchmarks load 50,000 rows per round.
## Then the report (bench/cmd/report, a module of its own so that GORM
## never reaches the library's go.mod) measures mcpstore beside the seed's
## approach, GORM, hand-written pgx, pgbench and psql's \copy on the same
## server, and rewrites BENCHMARKS.md and BENCHMARKS-growth.svg.
bench:
	MCPSTORE_PG_DURABLE=1 $(WITH_PG) sh -c '$(GO) test -run "^$$" -bench . -benchmem -count=1 -timeout 20m ./... && \
		(cd gateway/mcpgo && $(GO) test -run "^$$" -bench . -benchmem -count=1 -timeout 20m ./...) && \
		cd bench && $(GO) run ./cmd/report -out ../BENCHMARKS.md -svg ../BENCHMARKS-growth.svg'

## bench-short: the report in its quick form (about a minute: shorter
## measurements, smaller tables), printed; what CI may run. It leaves
## BENCHMARKS.md alone.
bench-short:
	@d=$$(mktemp -d); status=0; \
	MCPSTORE_PG_DURABLE=1 $(WITH_PG) sh -c "cd bench && $(GO) run ./cmd/report -short -out $$d/BENCHMARKS.md -svg $$d/BENCHMARKS-growth.svg" || status=$$?; \
	rm -rf $$d; exit $$status

## demo: the example MCP server end to end, with keys, permissions and the
## audit log, on a SQLite database in a temporary folder. Needs only Go.
demo:
	$(GO) run ./cmd/mcpstore demo
