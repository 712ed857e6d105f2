package main

import (
	"context"
	"strings"
	"testing"
)

// TestCheckConfigAgreesWithServe: for settings a backend refuses,
// `check-config -offline` and `serve` give the same verdict on the same
// file, and both name the setting's path and line. Each case was valid for
// check-config and refused by serve without a path before the refusal moved
// into configuration validation.
func TestCheckConfigAgreesWithServe(t *testing.T) {
	ca := otherCA(t)
	cases := []struct {
		name, body, path string
		fixed            [2]string // a replacement that makes the file valid
	}{
		{"redis ca_file without tls", strings.Replace(checkHead, "store: {type: memory}",
			`store: {type: redis, redis: {addrs: ["127.0.0.1:1"], allow_plain: true, ca_file: "`+ca+`"}}`, 1) +
			memoryBlock, "store.redis.ca_file", [2]string{`, ca_file: "` + ca + `"`, ""}},
		{"email relay beside the outbox", strings.Replace(checkHead, "notify: {outbox: true, sms: {provider: outbox}}",
			"notify: {outbox: true, sms: {provider: outbox}, email: {host: smtp.example, from: bot@example.com}}", 1) +
			memoryBlock, "notify.outbox", [2]string{", email: {host: smtp.example, from: bot@example.com}", ""}},
		{"plain ldap to AD in demo", checkHead + adBlock("ldap://dc1.ad.example:389"),
			"directories[0].ad.url", [2]string{"ldap://dc1.ad.example:389", "ldaps://dc1.ad.example:636"}},
		{"allow_plain on AD", checkHead + adBlock("ldap://dc1.ad.example:389") + "      allow_plain: true\n",
			"directories[0].ad.allow_plain", [2]string{"      allow_plain: true\n", "      start_tls: true\n"}},
		// The LDAP transport refuses ldap:// without StartTLS unless
		// allow_plain, in every mode; validation used to only warn in demo.
		{"plain ldap without allow_plain in demo", checkHead + slapdBlock("ldap://127.0.0.1:1", ca),
			"directories[0].ldap.url", [2]string{"      dial_timeout: 2s\n", "      allow_plain: true\n      dial_timeout: 2s\n"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			file := writeConfig(t, tc.body)
			var checkCode int
			checkOut := captureStdout(t, func() { checkCode = runCheckConfig(context.Background(), []string{"-config", file, "-offline"}) })
			// serve must stop at validation; a cancelled context keeps it
			// from serving should it get past.
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			t.Setenv("RESETBOT_SERVER__LISTEN", freeAddr(t))
			t.Setenv("RESETBOT_SERVER__ADMIN_LISTEN", freeAddr(t))
			var serveCode int
			serveOut := captureStderr(t, func() { serveCode = runServe(ctx, []string{"-config", file}) })
			for name, r := range map[string]struct {
				code int
				out  string
			}{"check-config -offline": {checkCode, checkOut}, "serve": {serveCode, serveOut}} {
				// "startup failed" would mean validation let the file through
				// and a backend refused it, without a path or line.
				if r.code != 1 || !errorLine(r.out, file, tc.path) || strings.Contains(r.out, "startup failed") {
					t.Errorf("%s: exit %d, want 1 with an error at %s located by file:line; output:\n%s", name, r.code, tc.path, r.out)
				}
			}
			// The corrected file passes check-config: the refusal is about
			// this setting, not the rest of the file.
			fixed := writeConfig(t, strings.Replace(tc.body, tc.fixed[0], tc.fixed[1], 1))
			if code := runCheckConfigQuiet(t, fixed); code != 0 {
				t.Errorf("corrected file: check-config -offline exit %d", code)
			}
		})
	}
}

// errorLine reports whether out holds an error (not a warning) at path,
// located as file:line.
func errorLine(out, file, path string) bool {
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, file+":") && strings.Contains(l, ": "+path+": ") {
			return true
		}
	}
	return false
}

func runCheckConfigQuiet(t *testing.T, file string) int {
	var code int
	out := captureStdout(t, func() { code = runCheckConfig(context.Background(), []string{"-config", file, "-offline"}) })
	t.Logf("check-config -offline %s: exit %d\n%s", file, code, out)
	return code
}

const memoryBlock = `  - name: demo
    type: memory
`

func adBlock(url string) string {
	return `  - name: ad
    type: ad
    ad:
      url: ` + url + `
      bind_dn: CN=svc,DC=ad,DC=example
      bind_password: not-a-real-password
      base_dn: DC=ad,DC=example
      domain: ad.example
`
}
