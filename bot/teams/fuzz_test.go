package teams

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/resetbot/resetbot/core/token"
)

// FuzzTeamsActivity feeds arbitrary bodies to the activity parser and to
// everything that reads a parsed activity: none may panic.
func FuzzTeamsActivity(f *testing.F) {
	seeds := []string{
		`{"type":"message","id":"1","serviceUrl":"https://smba.trafficmanager.net/amer/","channelId":"msteams","text":"reset",
		  "from":{"id":"29:a","aadObjectId":"aad-a"},"conversation":{"id":"a:1","conversationType":"personal","tenantId":"t"},
		  "recipient":{"id":"28:b"},"channelData":{"tenant":{"id":"t"}},"locale":"en-US"}`,
		`{"type":"message","serviceUrl":"x","conversation":{"id":"c","isGroup":true},"text":"<at>bot</at> <at>x",
		  "entities":[{"type":"mention","mentioned":{"id":"28:b"}},{"type":"mention"}],"recipient":{"id":"28:b"}}`,
		`{"type":"invoke","name":"adaptiveCard/action","serviceUrl":"x","conversation":{"id":"c"},
		  "value":{"action":{"type":"Action.Execute","verb":"resetbot","data":{"rb_tok":"a.b","rb_text":"123456"}}}}`,
		`{"type":"message","serviceUrl":"x","conversation":{"id":"c"},"value":{"rb_tok":"x","rb_pw":1}}`,
		`{"type":"conversationUpdate","serviceUrl":"x","conversation":{"id":"c"},"membersAdded":[{"id":"28:b"}],"timestamp":"bad"}`,
		`{"type":"message","serviceUrl":"x","conversation":{"id":"c"},"value":{"action":{"data":{"action":{"data":null}}}}}`,
		`null`, `[]`, `{"type":7}`, ``,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	signer, err := token.New(make([]byte, 32), func() time.Time { return time.Unix(1e9, 0) })
	if err != nil {
		f.Fatal(err)
	}
	b := &Bot{cards: &cards{msg: stubRenderer{}, tokens: signer, ttl: time.Minute, now: time.Now}}
	f.Fuzz(func(t *testing.T, body []byte) {
		act, err := parseActivity(body)
		if err != nil {
			return
		}
		_ = act.tenant()
		_ = act.mentioned()
		_ = act.text()
		_ = act.personal()
		_ = b.botAdded(act)
		in, _, _ := b.input(act)
		if _, err := json.Marshal(in.Value); err != nil {
			t.Fatal(err)
		}
	})
}

type stubRenderer struct{}

func (stubRenderer) Text(_, id string, _ bool, _ map[string]string) string { return id }
