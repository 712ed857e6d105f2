package app_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/resetbot/resetbot/app"
	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/plugins"
)

// TestAuditSurvivesClientHangUp: a turn whose request context is already
// cancelled (the client hung up) still has its audit records in the
// configured file once the app flushes its audit queue on shutdown. Before
// the queue, the file writer refused them with "audit: context canceled".
func TestAuditSurvivesClientHangUp(t *testing.T) {
	cfg := config.Default(plugins.All())
	cfg.Audit.File = filepath.Join(t.TempDir(), "audit.jsonl")
	a, err := app.Build(context.Background(), cfg, app.Options{Floor: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rep := a.Engine.Handle(ctx, engine.Turn{Channel: "slack", ChannelUser: "T1:U1", DeliveryID: "Ev1",
		Input: engine.Input{Kind: engine.InputText, Value: secret.New("reset")}})
	if err := a.FlushAudit(context.Background()); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(cfg.Audit.File)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Ref == "" || !strings.Contains(string(b), `"ref":"`+rep.Ref+`"`) {
		t.Fatalf("no audit record of the hung-up turn (ref %q) in:\n%s", rep.Ref, b)
	}
}
