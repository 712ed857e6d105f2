package twilio

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // Twilio's webhook signature is HMAC-SHA1 by definition
	"encoding/base64"
	"hash"
	"net/url"
	"slices"
	"sync"
)

// signer checks X-Twilio-Signature: base64(HMAC-SHA1(auth token, URL + the
// POST parameters sorted by name, each name followed by its first value)),
// as Twilio documents it and as twilio-go's RequestValidator checks it. It
// accepts the signature made over the public URL with the default port
// written out or left out (Twilio signs whichever form it was configured
// with), like RequestValidator; it differs only in cost: the body is parsed
// once, the two URL forms are computed once at start-up and the HMAC states
// are reused.
type signer struct {
	// bases are the public URL as configured and with its default port
	// added or removed (one entry when they are the same).
	bases []string
	macs  sync.Pool
}

func newSigner(publicURL, token string) *signer {
	s := &signer{bases: []string{publicURL}}
	if alt := otherPortForm(publicURL); alt != "" && alt != publicURL {
		s.bases = append(s.bases, alt)
	}
	key := []byte(token)
	s.macs.New = func() any { return hmac.New(sha1.New, key) }
	return s
}

// otherPortForm returns u with its scheme's default port added when it has
// no port, or removed when it has one; "" when u does not parse.
func otherPortForm(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.Host == "" {
		return ""
	}
	if p.Port() != "" {
		p.Host = p.Hostname()
		return p.String()
	}
	port := "80"
	if p.Scheme == "https" {
		port = "443"
	}
	p.Host += ":" + port
	return p.String()
}

// valid reports, in constant time per candidate, whether sig signs the
// request URI (path and query) with form as its parameters.
func (s *signer) valid(requestURI string, form url.Values, sig string) bool {
	want, err := base64.StdEncoding.DecodeString(sig)
	if err != nil || len(want) != sha1.Size {
		return false
	}
	var keysBuf [16]string
	keys := keysBuf[:0]
	for k := range form {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	m := s.macs.Get().(hash.Hash)
	defer s.macs.Put(m)
	var sum [sha1.Size]byte
	ok := false
	for _, base := range s.bases {
		m.Reset()
		_, _ = m.Write([]byte(base))
		_, _ = m.Write([]byte(requestURI))
		for _, k := range keys {
			_, _ = m.Write([]byte(k))
			_, _ = m.Write([]byte(form[k][0]))
		}
		if hmac.Equal(m.Sum(sum[:0]), want) {
			ok = true
		}
	}
	return ok
}
