package config

import (
	"regexp"
	"time"

	"github.com/resetbot/resetbot/core/plugin"
	"github.com/resetbot/resetbot/core/secret"
)

// FanoutConfig lists the connected systems that receive a new password after
// the primary directory (docs/fanout.md). Each target checks the rest of its
// own block when the service starts (core/fanout sub-packages).
type FanoutConfig struct {
	// Window is how long a failed push is retried from the sealed outbox
	// before the help desk gets the case (5m, at most 10m: the password is
	// kept no longer).
	Window time.Duration `yaml:"window"`
	// Targets are pushed in this order after their directory's reset.
	Targets []FanoutTargetConfig `yaml:"targets"`
}

// FanoutTargetConfig is one connected system.
type FanoutTargetConfig struct {
	// Name identifies the target in audit records and the outbox.
	Name string `yaml:"name"`
	// Type is ldap, ad, webhook, kerberos or google_workspace.
	Type string `yaml:"type"`
	// Label is the name users are told, e.g. "VPN (Kerberos)".
	Label string `yaml:"label"`
	// Directory is the name of the primary directory whose resets fan out here.
	Directory string `yaml:"directory"`
	// Timeout bounds each push (10s, at most 60s).
	Timeout time.Duration `yaml:"timeout"`
	// Constraints are the target's known password rules, checked before the
	// primary changes.
	Constraints FanoutConstraints `yaml:"constraints"`

	// Plugins holds the block of a target type that is a plug-in (ldap and
	// ad: a directory's settings plus match), decoded into the plug-in's own
	// type, which validates itself.
	Plugins  map[string]plugin.Config `yaml:",inline" plugin:"fanout target"`
	Webhook  *FanoutWebhookConfig     `yaml:"webhook,omitempty"`
	Kerberos *FanoutKerberosConfig    `yaml:"kerberos,omitempty"`
	// Workspace is the block for type google_workspace.
	Workspace *FanoutWorkspaceConfig `yaml:"google_workspace,omitempty"`
}

// FanoutWorkspaceConfig is a Google Workspace domain (Admin SDK Directory API).
type FanoutWorkspaceConfig struct {
	// KeyFile is the service account's JSON key (domain-wide delegation,
	// scope admin.directory.user).
	KeyFile string `yaml:"key_file"`
	// Subject is the administrator the service account acts for.
	Subject string `yaml:"subject"`
	// Match is email, or login (then Domain is appended).
	Match  string `yaml:"match"`
	Domain string `yaml:"domain"`
}

// FanoutConstraints mirror fanout.Constraints.
type FanoutConstraints struct {
	MinLength  int    `yaml:"min_length"`
	MaxLength  int    `yaml:"max_length"`
	ASCIIOnly  bool   `yaml:"ascii_only"`
	Forbidden  string `yaml:"forbidden"`
	MinClasses int    `yaml:"min_classes"`
}

// FanoutWebhookConfig is a sealed webhook receiver.
type FanoutWebhookConfig struct {
	URL string `yaml:"url"`
	// Recipient is the receiver's age X25519 public key (age1...).
	Recipient string `yaml:"recipient"`
	// Secret signs each request (HMAC-SHA256, at least 32 characters).
	Secret secret.String `yaml:"secret"`
	// AllowLoopbackHTTP permits http:// to a loopback address (tests, demos).
	AllowLoopbackHTTP bool `yaml:"allow_loopback_http"`
}

// FanoutKerberosConfig is an MIT Kerberos realm reached with kadmin.
type FanoutKerberosConfig struct {
	Realm string `yaml:"realm"`
	// AdminServer is host[:port] of kadmind.
	AdminServer string `yaml:"admin_server"`
	// Principal is the service principal resetbot authenticates as, with
	// the change-password right on users' principals (kadm5.acl "c").
	Principal string `yaml:"principal"`
	// Keytab holds the service principal's key.
	Keytab string `yaml:"keytab"`
	// Krb5Conf is the krb5.conf to use (empty: the system's).
	Krb5Conf string `yaml:"krb5_conf"`
	// Kadmin is the kadmin binary (default kadmin from PATH).
	Kadmin string `yaml:"kadmin"`
}

// Fan-out defaults and limits.
const (
	DefaultFanoutWindow  = 5 * time.Minute
	MaxFanoutWindow      = 10 * time.Minute
	DefaultFanoutTimeout = 10 * time.Second
)

var fanoutName = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)

func fillFanoutDefaults(f *FanoutConfig) {
	if f.Window == 0 {
		f.Window = DefaultFanoutWindow
	}
	for i := range f.Targets {
		t := &f.Targets[i]
		if t.Timeout == 0 {
			t.Timeout = DefaultFanoutTimeout
		}
	}
}

func (v *validator) fanout(f *FanoutConfig, dirs []DirectoryConfig) {
	if len(f.Targets) == 0 {
		return
	}
	if f.Window <= 0 || f.Window > MaxFanoutWindow {
		v.errorf("fanout.window", "must be a duration between 1s and 10m (the password waits no longer)")
	}
	known := map[string]bool{}
	for _, d := range dirs {
		known[d.Name] = true
	}
	names := map[string]int{}
	for i := range f.Targets {
		t := &f.Targets[i]
		p := index("fanout.targets", i)
		switch j, dup := names[t.Name]; {
		case !fanoutName.MatchString(t.Name):
			v.errorf(p+".name", "must be 1-64 lower-case letters, digits, '.', '_' or '-'")
		case dup:
			v.errorf(p+".name", "%q is already used by fanout.targets[%d]", t.Name, j)
		default:
			names[t.Name] = i
		}
		if t.Label == "" {
			v.errorf(p+".label", "is required: users are told which systems have their new password")
		}
		if !known[t.Directory] {
			v.errorf(p+".directory", "must name one of the configured directories")
		}
		if t.Timeout <= 0 || t.Timeout > time.Minute {
			v.errorf(p+".timeout", "must be a duration between 1s and 60s")
		}
		v.fanoutType(p, t)
	}
}

func (v *validator) fanoutType(p string, t *FanoutTargetConfig) {
	blocks := map[string]bool{"ldap": t.Plugins["ldap"] != nil, "ad": t.Plugins["ad"] != nil, "webhook": t.Webhook != nil,
		"kerberos": t.Kerberos != nil, "google_workspace": t.Workspace != nil}
	has, ok := blocks[t.Type]
	switch {
	case !ok:
		v.errorf(p+".type", "must be one of ldap, ad, webhook, kerberos, google_workspace")
	case !has:
		v.errorf(p+"."+t.Type, "is required when type is %s", t.Type)
	}
	for b, set := range blocks {
		if set && b != t.Type {
			v.errorf(p+"."+b, "is only allowed when type is %s", b)
		}
	}
	switch {
	case t.Type == "webhook" && t.Webhook != nil:
		if t.Webhook.AllowLoopbackHTTP && v.production() {
			v.errorf(p+".webhook.allow_loopback_http", "is for tests and demos only")
		}
	case t.Type == "google_workspace" && t.Workspace != nil:
		w := t.Workspace
		if w.KeyFile == "" || w.Subject == "" {
			v.errorf(p+".google_workspace", "key_file and subject are required")
		}
		v.fileExists(p+".google_workspace.key_file", w.KeyFile)
		if w.Match != "email" && (w.Match != "login" || w.Domain == "") {
			v.errorf(p+".google_workspace.match", "must be email, or login with domain")
		}
	case t.Type == "kerberos" && t.Kerberos != nil:
		k := t.Kerberos
		if k.Realm == "" || k.Principal == "" || k.AdminServer == "" {
			v.errorf(p+".kerberos", "realm, admin_server and principal are required")
		}
		if k.Keytab == "" {
			v.errorf(p+".kerberos.keytab", "is required (the service principal's keytab)")
		}
		v.fileExists(p+".kerberos.keytab", k.Keytab)
	}
}
