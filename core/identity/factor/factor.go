// Package factor is the plug-in contract of verification factors: what a
// factor's configuration block (factors.<name>) must be so that the
// composition root can validate it, count it and open its identity.Method
// without knowing it by name.
//
// A factor is one package declaring a Config, plus one line in the plug-in
// registry (package plugins); factors.enabled then accepts its name, its
// block decodes into its Config, and the flows offer it (docs/extending.md).
package factor

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/resetbot/resetbot/core/crypt"
	"github.com/resetbot/resetbot/core/identity"
	"github.com/resetbot/resetbot/core/identity/code"
	"github.com/resetbot/resetbot/core/notify"
	"github.com/resetbot/resetbot/core/plugin"
	"github.com/resetbot/resetbot/core/store"
)

// Config is a factor's configuration block and how to open its method.
type Config interface {
	plugin.Config
	// Group is the independence group the method declares, known before it
	// is opened so that configuration can tell how many independent factors
	// the enabled ones add up to (an SMS and a call to one phone are one).
	Group() identity.Group
	// Open builds the method from the shared services. It returns
	// ErrUnavailable when what the method needs is not configured (an SMS
	// factor without an SMS provider): the method is then left out.
	Open(ctx context.Context, d Deps) (identity.Method, error)
}

// ErrUnavailable says a factor cannot be offered in this deployment.
var ErrUnavailable = errors.New("factor: not available in this configuration")

// Deps are the services a factor may draw on, built once by the composition
// root and shared by every factor.
type Deps struct {
	// Store keeps the factor's state (enrollments, challenges, used steps).
	Store store.Store
	// Keyring seals enrollment data at rest.
	Keyring *crypt.Keyring
	// Key derives a key of the factor's own from the configured HMAC key
	// (label it with the factor's name): challenge and throttle keys are
	// HMACs, never plain hashes of identifiers.
	Key func(label string) []byte
	// Codes issues and checks one-time codes (factors.codes), with the send
	// budgets every code shares.
	Codes *code.Codes
	// Senders deliver codes, by channel; a channel without a sender is
	// absent.
	Senders map[notify.Channel]notify.Sender
	// HTTP is the client for a factor that calls an outside service.
	HTTP  *http.Client
	Clock func() time.Time
	Rand  io.Reader
	Log   *slog.Logger
}
