# resetbot — self-service password reset by chat and phone.
# `make run` starts the demo (no servers, no credentials); `make test` runs every test,
# starting throwaway redis-server, slapd and Samba AD instances as the tests need them.

GO        ?= go
BIN       := bin/resetbot
PKGS      := ./...
TESTFLAGS ?= -count=1 -timeout 25m
export GOTOOLCHAIN := local
export GOFLAGS     := -buildvcs=false

.PHONY: help build run test test-short bench bench-load lint diagrams fmt

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build bin/resetbot
	$(GO) build -o $(BIN) ./cmd/resetbot

run: build ## the terminal demo: chat and keypad conversations against a demo directory
	./$(BIN) demo

test: ## all tests, with real redis-server, slapd and Samba AD (installed by .ci/install-deps.sh)
	$(GO) vet $(PKGS)
	$(GO) test $(TESTFLAGS) $(PKGS)

test-short: ## unit tests only, no server processes
	$(GO) test -short -count=1 $(PKGS)

bench: ## Go benchmarks (engine turn per store, stores, verifiers, policy) and the load test
	$(GO) test -run '^$$' -bench . -benchmem -timeout 30m ./...

bench-load: ## load test: serve vs a reference handler over loopback (real redis + slapd), prints a table and a CPU profile
	$(GO) test -run '^$$' -bench '^BenchmarkLoad$$' -benchtime 1x -timeout 10m ./internal/loadtest/

lint: ## gofmt and go vet
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet $(PKGS)

diagrams: ## regenerate the Mermaid diagrams of the flows (docs/flows/*.md)
	$(GO) test ./flows/ -run TestDiagrams -update

fmt: ## format the code
	gofmt -w $$(git ls-files '*.go')
