// Package enrollpage delivers an authenticator enrollment (the QR code and the
// text setup key, both of which carry the TOTP seed) on a page served by
// resetbot instead of in the chat, so that no seed is left in the chat
// platform's storage, retention or eDiscovery exports.
//
// The chat gets a link to /enroll with a one-time token in the URL fragment
// (#…): browsers never send a fragment to a server, so the token reaches no
// access log, proxy log or Referer. The page behaves so:
//
//   - GET /enroll shows only a button: link previews, unfurlers and URL
//     scanners that fetch the link consume nothing.
//   - Pressing the button POSTs the token (copied from the fragment by a
//     hash-pinned inline script); the first POST takes the record from the
//     shared store (single use, atomic on every backend) and shows the QR code
//     and the setup key once. Every later POST, and any after TTL (at most ten
//     minutes), gets "this link has expired or was already used".
//   - Every answer has Cache-Control: no-store, a strict Content-Security-
//     Policy (no script or style but the pinned ones, images only as data:
//     URIs, no framing, forms only to itself), Referrer-Policy: no-referrer
//     and X-Frame-Options: DENY.
//
// In the store the token exists only as an HMAC under the server key (the
// record's name), and the QR code and setup key are sealed with AES-256-GCM
// under a key derived from the token itself: a dump of the store, even with
// the server key, opens no page and reveals no seed.
//
// A page is bound to the chat conversation that asked for it: it tells the
// person to go back there and type the app's code (the enrollment continues
// in that conversation), and Revoke, called when the conversation leaves the
// enrollment step, kills a page not yet opened.
package enrollpage

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/core/store"
)

// Path is where the page is served (GET and POST).
const Path = "/enroll"

// MaxTTL is the longest a page may live: a pending enrollment expires by
// then anyway.
const MaxTTL = 10 * time.Minute

// Audit event names.
const (
	NameIssued   = "enroll.page_issued"
	NameRedeemed = "enroll.page_redeemed"
	NameRefused  = "enroll.page_refused"
)

// Texts renders catalogued messages (core/messages.Catalog implements it).
type Texts interface {
	Text(locale, id string, voice bool, args map[string]string) string
}

// Options are the Pages' dependencies. Store, Key, PublicURL and Texts are
// required.
type Options struct {
	// Store is the shared store: any replica may serve the page.
	Store store.Store
	// Key is the server HMAC key (keys.hmac or a key derived from it).
	Key []byte
	// PublicURL is the externally visible base URL (server.public_url).
	PublicURL string
	// TTL is the life of a page (MaxTTL when zero; never more).
	TTL   time.Duration
	Texts Texts
	Audit audit.Sink
	Log   *slog.Logger
	Clock func() time.Time
	Rand  io.Reader
}

// Pages issues and serves enrollment pages. It is safe for concurrent use.
type Pages struct {
	o Options
}

// New returns Pages.
func New(o Options) (*Pages, error) {
	if o.Store == nil || len(o.Key) < 32 || o.Texts == nil {
		return nil, errors.New("enrollpage: store, a key of at least 32 bytes and texts are required")
	}
	base := strings.TrimRight(o.PublicURL, "/")
	if !strings.HasPrefix(base, "https://") && !strings.HasPrefix(base, "http://") {
		return nil, errors.New("enrollpage: server.public_url must be an absolute URL")
	}
	o.PublicURL = base
	if o.TTL <= 0 || o.TTL > MaxTTL {
		o.TTL = MaxTTL
	}
	if o.Audit == nil {
		o.Audit = audit.Discard
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	return &Pages{o: o}, nil
}

// Grant is what one page shows, and to whom it belongs.
type Grant struct {
	// Conversation identifies the chat conversation the enrollment continues
	// in (e.g. "slack:T1:U1"); Revoke uses it.
	Conversation string
	// Channel is the channel's engine name ("slack"), for the audit trail.
	Channel string
	// Platform is the chat platform's name as people know it ("Slack"),
	// for the page's way back; empty says "the chat".
	Platform string
	Locale   string
	// PNG is the QR code image; Key the text setup key. Both carry the seed.
	PNG []byte
	Key secret.String
}

// Link is an issued page: its URL carries the token and is a secret.
type Link struct {
	URL     secret.String
	Expires time.Time
}

// sealed is what the store holds for a page, inside the AES-GCM box.
type sealed struct {
	PNG     []byte `json:"p"`
	Key     string `json:"k"`
	Channel string `json:"c"`
	// Platform is Grant.Platform; pages sealed before it existed have none.
	Platform string `json:"n,omitempty"`
	Locale   string `json:"l"`
}

const (
	pagePrefix = "enroll:page:"
	convPrefix = "enroll:conv:"
	tokenBytes = 32
)

// Issue stores g for one redemption within the TTL and returns its link. A
// page the conversation had and did not open is revoked first.
func (p *Pages) Issue(ctx context.Context, g Grant) (Link, error) {
	var raw [tokenBytes]byte
	if _, err := io.ReadFull(p.o.Rand, raw[:]); err != nil {
		return Link{}, fmt.Errorf("enrollpage: random: %w", err)
	}
	tok := base64.RawURLEncoding.EncodeToString(raw[:])
	plain, err := json.Marshal(sealed{PNG: g.PNG, Key: g.Key.Reveal(), Channel: g.Channel, Platform: g.Platform, Locale: g.Locale})
	if err != nil {
		return Link{}, fmt.Errorf("enrollpage: encode: %w", err)
	}
	box, err := p.seal(tok, plain)
	if err != nil {
		return Link{}, err
	}
	if err := p.Revoke(ctx, g.Conversation); err != nil {
		return Link{}, err
	}
	id := p.id(tok)
	if _, err := p.o.Store.Set(ctx, pagePrefix+id, box, p.o.TTL); err != nil {
		return Link{}, fmt.Errorf("enrollpage: store page: %w", err)
	}
	if g.Conversation != "" {
		if _, err := p.o.Store.Set(ctx, convPrefix+g.Conversation, []byte(id), p.o.TTL); err != nil {
			_ = p.o.Store.Delete(ctx, pagePrefix+id)
			return Link{}, fmt.Errorf("enrollpage: store conversation: %w", err)
		}
	}
	p.audit(ctx, audit.Event{Name: NameIssued, Channel: g.Channel, Outcome: audit.OutcomeSuccess})
	return Link{URL: secret.New(p.o.PublicURL + Path + "#" + tok), Expires: p.o.Clock().Add(p.o.TTL).UTC()}, nil
}

// Revoke kills the conversation's page if it was not opened yet. Revoking
// when there is none is not an error.
func (p *Pages) Revoke(ctx context.Context, conversation string) error {
	if conversation == "" {
		return nil
	}
	rec, err := p.o.Store.Take(ctx, convPrefix+conversation)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("enrollpage: revoke: %w", err)
	}
	if err := p.o.Store.Delete(ctx, pagePrefix+string(rec.Value)); err != nil {
		return fmt.Errorf("enrollpage: revoke: %w", err)
	}
	return nil
}

// redeem takes the page of tok (single use) and opens it. ok is false for an
// unknown, expired, used or revoked token, or one that does not open.
func (p *Pages) redeem(ctx context.Context, tok string) (sealed, bool, error) {
	if len(tok) != base64.RawURLEncoding.EncodedLen(tokenBytes) {
		return sealed{}, false, nil
	}
	rec, err := p.o.Store.Take(ctx, pagePrefix+p.id(tok))
	if errors.Is(err, store.ErrNotFound) {
		return sealed{}, false, nil
	}
	if err != nil {
		return sealed{}, false, fmt.Errorf("enrollpage: take page: %w", err)
	}
	plain, err := p.open(tok, rec.Value)
	if err != nil {
		return sealed{}, false, nil
	}
	var s sealed
	if err := json.Unmarshal(plain, &s); err != nil {
		return sealed{}, false, nil
	}
	return s, true, nil
}

// id names a page in the store: an HMAC of its token, never the token.
func (p *Pages) id(tok string) string {
	m := hmac.New(sha256.New, p.o.Key)
	m.Write([]byte("resetbot enroll page id\x00"))
	m.Write([]byte(tok))
	return hex.EncodeToString(m.Sum(nil))
}

// boxKey derives the page's sealing key from its token: without the token the
// record does not open.
func (p *Pages) boxKey(tok string) cipher.AEAD {
	m := hmac.New(sha256.New, p.o.Key)
	m.Write([]byte("resetbot enroll page seal\x00"))
	m.Write([]byte(tok))
	blk, _ := aes.NewCipher(m.Sum(nil)) // 32 bytes: AES-256 never fails
	aead, _ := cipher.NewGCM(blk)
	return aead
}

func (p *Pages) seal(tok string, plain []byte) ([]byte, error) {
	aead := p.boxKey(tok)
	nonce := make([]byte, aead.NonceSize())
	if _, err := io.ReadFull(p.o.Rand, nonce); err != nil {
		return nil, fmt.Errorf("enrollpage: random: %w", err)
	}
	return aead.Seal(nonce, nonce, plain, []byte(Path)), nil
}

func (p *Pages) open(tok string, box []byte) ([]byte, error) {
	aead := p.boxKey(tok)
	if len(box) < aead.NonceSize() {
		return nil, errors.New("enrollpage: short record")
	}
	return aead.Open(nil, box[:aead.NonceSize()], box[aead.NonceSize():], []byte(Path))
}

func (p *Pages) audit(ctx context.Context, e audit.Event) {
	if e.Channel == "" {
		e.Channel = "web"
	}
	if err := p.o.Audit.Write(ctx, e); err != nil {
		p.o.Log.Error("enroll page audit not recorded", "event", e.Name, "err", err)
	}
}
