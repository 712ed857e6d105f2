package enrollpage_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/enrollpage"
	"github.com/resetbot/resetbot/core/messages"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/core/store/memory"
)

// BenchmarkIssueAndReveal issues a page and redeems it through the handler
// (seal, store, take, open, render), on the memory store.
func BenchmarkIssueAndReveal(b *testing.B) {
	cat, err := messages.Load()
	if err != nil {
		b.Fatal(err)
	}
	p, err := enrollpage.New(enrollpage.Options{Store: memory.New(), Key: bytes.Repeat([]byte{7}, 32),
		PublicURL: base, Texts: cat, Clock: time.Now})
	if err != nil {
		b.Fatal(err)
	}
	qr := bytes.Repeat([]byte{0x89}, 1200) // a typical 256×256 QR PNG is about 1 KB
	b.ReportAllocs()
	for b.Loop() {
		l, err := p.Issue(b.Context(), enrollpage.Grant{Conversation: "c", Channel: "slack", PNG: qr, Key: secret.New(seed)})
		if err != nil {
			b.Fatal(err)
		}
		tok := l.URL.Reveal()[strings.Index(l.URL.Reveal(), "#")+1:]
		req := httptest.NewRequest(http.MethodPost, enrollpage.Path, strings.NewReader(url.Values{"t": {tok}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		p.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatal(w.Code)
		}
	}
}
