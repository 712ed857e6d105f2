package config

import "net"

// OCSFConfig writes the audit trail a second time in the OCSF schema
// (docs/audit.md), for SIEMs: to a file or standard output, to a syslog
// collector, or both. Both empty (the default) writes no OCSF.
type OCSFConfig struct {
	// File is "-" for standard output or a path opened for appending.
	File string `yaml:"file"`
	// Syslog sends each event as an RFC 5424 message over TCP or TLS.
	Syslog SyslogConfig `yaml:"syslog"`
}

// SyslogConfig names a syslog collector (RFC 5424 messages, octet-counted).
type SyslogConfig struct {
	// Address is host:port; empty sends nothing.
	Address string `yaml:"address"`
	// TLS wraps the connection (RFC 5425); required in production.
	TLS bool `yaml:"tls"`
	// CAFile is a PEM bundle trusted for the collector's certificate; empty
	// uses the system roots.
	CAFile string `yaml:"ca_file"`
	// ServerName overrides the name checked in the collector's certificate.
	ServerName string `yaml:"server_name"`
}

// Enabled reports whether any OCSF output is configured.
func (o OCSFConfig) Enabled() bool { return o.File != "" || o.Syslog.Address != "" }

func (v *validator) ocsf(o *OCSFConfig) {
	const p = "audit.ocsf"
	if o.File != "" && o.File != "-" {
		v.dirExists(p+".file", o.File)
	}
	s := o.Syslog
	if s.Address == "" {
		if s.CAFile != "" || s.ServerName != "" {
			v.errorf(p+".syslog.address", "is required when other syslog settings are set")
		}
		return
	}
	if _, port, err := net.SplitHostPort(s.Address); err != nil || port == "" {
		v.errorf(p+".syslog.address", "must be host:port")
	}
	if !s.TLS {
		if v.production() {
			v.errorf(p+".syslog.tls", "must be true in production (audit records name accounts)")
		} else {
			v.warnf(p+".syslog.tls", "audit records sent to syslog in clear text")
		}
	}
	if s.CAFile != "" {
		v.fileExists(p+".syslog.ca_file", s.CAFile)
	}
}
