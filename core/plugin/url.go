package plugin

import (
	"net"
	"net/url"
)

// CheckCredentialURL checks an API base URL that credentials are sent to (a
// bot token, an account's auth token): an absolute https URL without
// credentials, query or fragment; plain http only to a loopback address (a
// local proxy, a test fake). Empty is accepted (the platform's default).
func CheckCredentialURL(c Checker, key, raw string) {
	if raw == "" {
		return
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		c.Errorf(key, "must be an absolute URL such as https://proxy.example.com/api/ (no credentials or query)")
		return
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !Loopback(u.Hostname()) {
			c.Errorf(key, "must use https (plain http only to a loopback address): the credentials travel with every call")
		}
	default:
		c.Errorf(key, "must be an https URL")
	}
}

// Loopback reports whether host is localhost or a loopback address.
func Loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
