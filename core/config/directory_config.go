package config

import (
	"fmt"
	"strings"

	"github.com/resetbot/resetbot/core/plugin"
)

// DirectoryConfig is one user directory. Users are routed to a directory by the
// domain of their login or email (Domains). Its settings are the plug-in's
// own: the block named by Type (directories[i].ldap for type ldap) is decoded
// into the configuration type the directory's registry entry returns
// (package plugins), which validates and opens itself.
type DirectoryConfig struct {
	// Name identifies the directory in logs and audit records.
	Name string `yaml:"name"`
	// Type is a registered directory type: memory (demo only), ldap
	// (OpenLDAP and friends) or ad.
	Type string `yaml:"type"`
	// Domains routes users to this directory, e.g. [corp.example].
	Domains []string `yaml:"domains"`
	// Plugin is the block of Type, decoded into the plug-in's own type
	// (nil when Type is empty or unknown).
	Plugin plugin.Config `yaml:"-" plugin:"directory"`
}

func (v *validator) directories(ds []DirectoryConfig) {
	if len(ds) == 0 {
		v.errorf("directories", "needs at least one directory")
	}
	names := map[string]int{}
	domains := map[string]int{}
	for i := range ds {
		d := &ds[i]
		p := index("directories", i)
		if d.Name == "" {
			v.errorf(p+".name", "is required")
		} else if j, dup := names[d.Name]; dup {
			v.errorf(p+".name", "%q is already used by directories[%d]", d.Name, j)
		} else {
			names[d.Name] = i
		}
		if len(d.Domains) == 0 && len(ds) > 1 {
			v.errorf(p+".domains", "is required when there is more than one directory")
		}
		for k, dom := range d.Domains {
			dp := index(p+".domains", k)
			dom = strings.ToLower(dom)
			if dom == "" || strings.ContainsAny(dom, "@ /") {
				v.errorf(dp, "must be a domain name such as corp.example")
			} else if j, dup := domains[dom]; dup {
				v.errorf(dp, "domain %q is already routed to directories[%d]", dom, j)
			} else {
				domains[dom] = i
			}
		}
		if d.Type == "" {
			v.errorf(p+".type", "is required (ldap or ad)")
		}
	}
}

func index(p string, i int) string { return fmt.Sprintf("%s[%d]", p, i) }
