# resetbot — self-service password reset by chat and phone.
# On a fresh clone two commands are enough:
#   make run    the terminal demo (no servers, no credentials)
#   make test   every test; installs redis-server, slapd and Samba AD first when missing
#               (.ci/install-deps.sh, via sudo when not root) and fails — never skips — when a
#               server cannot run.

GO        ?= go
BIN       := bin/resetbot
PKGS      := ./...
TESTFLAGS ?= -count=1 -timeout 25m
# Go 1.27.3 fixes the standard-library vulnerabilities that Go 1.26.8 has and this code calls.
# An older go command fetches it through the module proxy; a machine's own Go ignores go.mod's
# toolchain line, so every entry point exports it.
export GOTOOLCHAIN := go1.27.3
# grpcnotrace: grpc (linked only by the OTLP trace exporter) then leaves out golang.org/x/net/trace,
# whose init runs html/template; a reachable template makes the linker keep every exported method
# of every type: resetbot goes from 48 MB to 33 MB (10 MB less text and pclntab, ~6 MB less
# resident in serve). Also set in deploy/Containerfile and internal/procrig; see cmd/resetbot/size_test.go.
export GOFLAGS     := -buildvcs=false -tags=grpcnotrace
# Tools run with `go run module@version` (pinned here, fetched through the module proxy).
GOVULNCHECK := golang.org/x/vuln/cmd/govulncheck@v1.10.0
HELM        := helm.sh/helm/v3/cmd/helm@v3.22.0

VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: help build run deps test test-short bench bench-load lint vulncheck diagrams fmt \
        static image image-check chart-check compose-check systemd-check deploy-check

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

build: ## build bin/resetbot
	$(GO) build -o $(BIN) ./cmd/resetbot

run: build ## the terminal demo: chat and keypad conversations against a demo directory (DEMO="-as amartin": a mapped chat identity)
	./$(BIN) demo $(DEMO)

deps: ## install redis-server, slapd, Samba AD and a Kerberos KDC when missing (sudo when not root)
	@bash .ci/install-deps.sh

test: deps ## all tests, with the real servers (installed by deps); a missing server fails
	$(GO) vet $(PKGS)
	TESTSERVER_REQUIRE=1 $(GO) test $(TESTFLAGS) $(PKGS)

test-short: ## unit tests only: no server process starts (those tests skip)
	$(GO) test -short -count=1 $(PKGS)

bench: ## Go benchmarks (engine turn per store, stores, verifiers, policy)
	$(GO) test -run '^$$' -bench . -benchmem -timeout 30m ./...

# serve and the reference run on CPU 0 (internal/loadtest pins them); the
# generator, redis-server and the fakes run on CPU 1 so that they do not take
# the measured server's core. LOADTEST_PROFILE=dir saves CPU and allocation
# profiles of serve under load instead of printing the table.
bench-load: ## load test: serve vs a reference handler over loopback (real redis + slapd), prints a table and a CPU profile
	$$( [ "$$(nproc)" -ge 2 ] && echo taskset -c 1 ) $(GO) test -run '^$$' -bench '^BenchmarkLoad$$' -benchtime 1x -timeout 10m ./internal/loadtest/

lint: vulncheck ## gofmt, go vet and govulncheck
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || (gofmt -l $$(git ls-files '*.go'); exit 1)
	$(GO) vet $(PKGS)

vulncheck: ## govulncheck against the Go vulnerability database (says so when unreachable)
	@GOVULNCHECK=$(GOVULNCHECK) bash .ci/vulncheck.sh

diagrams: ## regenerate the Mermaid diagrams of the flows (docs/flows/*.md)
	$(GO) test ./flows/ -run TestDiagrams -update

fmt: ## format the code
	gofmt -w $$(git ls-files '*.go')

static: ## build the static binary bin/resetbot-static (CGO_ENABLED=0) for the image
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "-s -w -X main.version=$(VERSION)" -o bin/resetbot-static ./cmd/resetbot

image: static ## OCI image layout of the static binary in bin/oci, without a container daemon
	$(GO) run ./deploy/ociimage -binary bin/resetbot-static -out bin/oci -tag resetbot:$(VERSION) -version $(VERSION)

image-check: image ## verify bin/oci and run check-config from its unpacked filesystem (chroot, user 65532)
	@bash .ci/image-check.sh bin/oci

chart-check: ## helm lint and render deploy/helm/resetbot (helm via go run) and check the manifests
	@HELM=$(HELM) bash .ci/chart-check.sh

compose-check: build ## the compose staging config against its slapd seed and a redis-server (no container runtime)
	@bash .ci/compose-check.sh $(BIN)

systemd-check: build ## systemd-analyze verify and security of deploy/systemd/resetbot.service
	@bash .ci/systemd-check.sh $(BIN)

deploy-check: image-check chart-check compose-check systemd-check ## every deployment artefact check (CI)
