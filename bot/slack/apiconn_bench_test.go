package slack

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/slack-go/slack"

	"github.com/resetbot/resetbot/core/server"
)

// BenchmarkWebAPICall compares the Web API calls on a turn's path
// (users.info with a full answer, chat.postMessage of a reply with
// buttons) through the HTTP client ("net-http", as before apiConns, and
// still for a client given in Options) and over apiConns ("conns"), against
// a loopback server that allocates nothing per request: B/op and allocs/op
// are the client's. Run it with -cpu 1, as serve runs under the load test.
func BenchmarkWebAPICall(b *testing.B) {
	blocks := benchReply()
	bj, err := appendBlocks(nil, blocks)
	if err != nil {
		b.Fatal(err)
	}
	userAns := rawAnswer("200 OK", "", realUser(b, func(u, p map[string]any) {}))
	postAns := rawAnswer("200 OK", "", `{"ok":true,"channel":"D0123ABCD","ts":"1712345678.000100","message":{"type":"message",`+
		`"subtype":"bot_message","text":"Choose how to reset your password","ts":"1712345678.000100","bot_id":"B0123ABCD","blocks":`+string(bj)+`}}`)
	srv := newRawServer(b, func(r *rawReq) bool {
		a := postAns
		if bytes.HasPrefix(r.head, []byte("POST /api/users.info ")) {
			a = userAns
		}
		_, err := r.conn.Write(a)
		return err == nil
	})
	for _, path := range []string{"net-http", "conns"} {
		bot := connBot(b, srv.base())
		if path == "net-http" {
			bot = tokenBot(strings.TrimSuffix(srv.base(), "/api/"), &http.Client{Timeout: apiTimeout, Transport: server.Transport(4)})
		}
		ctx := context.Background()
		b.Run(path+"/users.info", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := bot.usersInfo(ctx, "U04ALICE"); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(path+"/chat.postMessage", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := bot.postMessage(ctx, "D0123ABCD", blocks, "Choose how to reset your password"); err != nil {
					b.Fatal(err)
				}
			}
		})
		// A turn's calls have a context that may be cancelled (the worker's,
		// with the turn's deadline): the call watches it.
		b.Run(path+"/chat.postMessage/turn-context", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				tctx, cancel := context.WithTimeout(ctx, time.Minute)
				if err := bot.postMessage(tctx, "D0123ABCD", blocks, "Choose how to reset your password"); err != nil {
					b.Fatal(err)
				}
				cancel()
			}
		})
	}
}

// benchReply is a turn's typical reply: a prompt and two buttons whose
// values are signed tokens.
func benchReply() []slack.Block {
	tok := strings.Repeat("eyJ2IjoxLCJwIjoic2xhY2suY2hvaWNlIiwidSI6IlQxOlUxIn0", 4)
	return []slack.Block{
		section("To reset your password, choose how to prove it is you. *The code expires in 10 minutes.*"),
		slack.NewActionBlock("choice",
			slack.NewButtonBlockElement("c1", tok+".1", slack.NewTextBlockObject("plain_text", "Text me a code", false, false)),
			slack.NewButtonBlockElement("c2", tok+".2", slack.NewTextBlockObject("plain_text", "Use my authenticator", false, false))),
	}
}
