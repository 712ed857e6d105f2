package memory_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/directory/memory"
)

type recorder struct {
	production bool
	errs       []string
}

func (r *recorder) Errorf(path, format string, args ...any) {
	r.errs = append(r.errs, path+": "+fmt.Sprintf(format, args...))
}
func (r *recorder) Warnf(string, string, ...any) {}
func (r *recorder) Given(string) bool            { return false }
func (r *recorder) Production() bool             { return r.production }
func (r *recorder) FileExists(string, string)    {}

// TestDemoDirectoryNeverInProduction: the memory directory refuses a
// production configuration in validation (at the directory's type setting)
// and again when opened, should validation be bypassed.
func TestDemoDirectoryNeverInProduction(t *testing.T) {
	cfg := memory.NewConfig().(*memory.Config)
	r := &recorder{production: true}
	cfg.Validate(r, "directories[2].memory")
	if len(r.errs) != 1 || r.errs[0] != "directories[2].type: memory is the demo directory and can never be selected by a production config; use ldap or ad" {
		t.Errorf("production: %q", r.errs)
	}
	if _, err := cfg.Open(context.Background(), directory.Deps{Name: "demo"}); !errors.Is(err, memory.ErrProduction) {
		t.Errorf("Open in production = %v", err)
	}
	r = &recorder{}
	cfg.Validate(r, "directories[0].memory")
	d, err := cfg.Open(context.Background(), directory.Deps{Name: "demo", Demo: true})
	if len(r.errs) != 0 || err != nil {
		t.Fatalf("demo: %q, %v", r.errs, err)
	}
	if us, err := d.Find(context.Background(), directory.ByLogin, "amartin"); err != nil || len(us) != 1 {
		t.Errorf("demo company missing: %v, %v", us, err)
	}
	if got := cfg.ExtraDomains(); len(got) != 1 || got[0] != memory.DemoDomain {
		t.Errorf("ExtraDomains = %q", got)
	}
}
