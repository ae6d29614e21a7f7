# policyflow: common tasks for developers and CI.

GO ?= go

# Where `go install` puts binaries (temporal, mailpit). It goes first in PATH
# so that recipes find them even if the shell's PATH lacks it.
GOBIN_DIR := $(shell $(GO) env GOBIN)
ifeq ($(GOBIN_DIR),)
GOBIN_DIR := $(firstword $(subst :, ,$(shell $(GO) env GOPATH)))/bin
endif
export PATH := $(GOBIN_DIR):$(PATH)

# Test packages run in parallel and each starts its own Temporal, MariaDB and
# Mailpit (about 300 MB together), so use at most 4 at once.
TEST_P ?= $(shell n=$$(nproc 2>/dev/null || echo 2); [ $$n -gt 4 ] && n=4; echo $$n)
TEST_TIMEOUT ?= 45m

.PHONY: tools tools-temporal test dev build lint bench

# Install what tests and the dev server need: temporal CLI, mailpit, MariaDB,
# Chromium, workflowcheck, and temporal-server on PostgreSQL 15 (see scripts/tools.sh).
tools:
	scripts/tools.sh

# Install only the temporal CLI (enough for `make dev`).
tools-temporal:
	scripts/tools.sh temporal

# Vet, then run all tests, integration tests included, against real services.
test: tools
	$(GO) vet ./...
	workflowcheck ./workflows/...
	$(GO) test -count=1 -p $(TEST_P) -timeout $(TEST_TIMEOUT) ./...

# Run policyflow locally with a Temporal dev server.
dev: tools-temporal
	$(GO) run ./cmd/policyflow dev

# Build the policyflow binary into bin/.
build:
	$(GO) build -o bin/policyflow ./cmd/policyflow

# Fail if any Go file is not gofmt-ed, then vet.
lint:
	@unformatted=$$(find . -name '*.go' -not -path './vendor/*' -not -path './var/*' -not -path '*/testdata/*' -exec gofmt -l {} +); \
	if [ -n "$$unformatted" ]; then echo "gofmt needed on:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	workflowcheck ./workflows/...

# The benchmark suite (bench/, issue 7): starts a Temporal dev server and MariaDB itself (or
# uses TEMPORAL_ADDRESS and POLICYFLOW_TEST_MYSQL_DSN), runs the API and the worker in-process,
# prints progress and a table, and writes BENCHMARKS.md. BENCH_SCALE=0.1 for a quick run,
# BENCH_DB=sqlite for the SQLite register, BENCH_ONLY=1,6 for some scenarios.
# Then the committee's yearly report and the CSV registers over 10,000 processes
# (report/bench_test.go, issue 16), on SQLite and MariaDB, printed as Go benchmark lines;
# BENCH_REPORT=0 leaves them out.
BENCH_REPORT ?= 1
bench:
	scripts/tools.sh temporal mariadb
	$(GO) test -run '^$$' -bench . -benchtime=1x -timeout 60m ./bench/
	@if [ "$(BENCH_REPORT)" != 0 ]; then \
		echo "== the committee's report and the registers over 10,000 processes (report/bench_test.go)"; \
		$(GO) test -run '^$$' -bench 'FiscalYearReport10k|ExceptionCSV|InspectionCSV' -benchtime 5x -benchmem -timeout 30m ./report/; \
	fi
