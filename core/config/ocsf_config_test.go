package config_test

import (
	"strings"
	"testing"

	"github.com/resetbot/resetbot/core/config"
	"github.com/resetbot/resetbot/plugins"
)

func TestOCSFConfig(t *testing.T) {
	for _, c := range []struct {
		name, yaml, wantPath string
	}{
		{"clear text syslog in production", "audit: {ocsf: {syslog: {address: siem:514}}}", "audit.ocsf.syslog.tls"},
		{"no port", "audit: {ocsf: {syslog: {address: siem, tls: true}}}", "audit.ocsf.syslog.address"},
		{"ca without address", "audit: {ocsf: {syslog: {ca_file: /x.pem}}}", "audit.ocsf.syslog.address"},
	} {
		_, probs := config.Parse([]byte(c.yaml), nil, plugins.All())
		found := false
		for _, p := range probs {
			found = found || (p.Path == c.wantPath && !p.Warning)
		}
		if !found {
			t.Errorf("%s: no error at %s in\n%s", c.name, c.wantPath, probs.Error())
		}
	}
	cfg, probs := config.Parse([]byte("mode: demo\naudit: {ocsf: {file: \"-\", syslog: {address: \"127.0.0.1:6514\", tls: true}}}\n"), nil, plugins.All())
	for _, p := range probs {
		if strings.HasPrefix(p.Path, "audit.ocsf") {
			t.Errorf("unexpected: %s", p)
		}
	}
	if !cfg.Audit.OCSF.Enabled() {
		t.Error("OCSF not enabled")
	}
}
