package testserver

import (
	"os"
	"testing"
)

// RequireEnv names the environment variable that makes a missing server a
// failure instead of a skip. (Not RESETBOT_*: that prefix belongs to
// configuration overrides, and an unknown one is a configuration error.) `make test` sets it (after installing the
// servers with .ci/install-deps.sh), so a newcomer's run never passes by
// silently testing nothing; CI=true has the same effect.
const RequireEnv = "TESTSERVER_REQUIRE"

// Required reports whether a missing server must fail the test.
func Required() bool {
	return os.Getenv("CI") == "true" || os.Getenv(RequireEnv) == "1"
}

// skipShort skips t under `go test -short`: -short promises that no server
// process starts, so every starter calls this first.
func skipShort(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("testserver: -short runs no server processes")
	}
}

// missing fails t when servers are required (CI=true or TESTSERVER_REQUIRE=1)
// and skips it otherwise.
func missing(t testing.TB, msg string) {
	t.Helper()
	if Required() {
		t.Fatalf("%s (servers are required here: CI=true or %s=1; install them with .ci/install-deps.sh)", msg, RequireEnv)
	}
	t.Skip(msg)
}
