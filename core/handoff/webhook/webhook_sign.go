// Package webhook delivers resetbot's outgoing webhooks: the signed
// completion webhook of a handoff (Notifier) and the escalation ticket
// webhook (core/handoff/escalate), through a bounded queue with retries.
//
// Every request is a JSON POST carrying
//
//	X-Resetbot-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, t + "." + body)>
//	X-Resetbot-Delivery:  <random id, the same on every retry of one message>
//
// Receivers recompute the HMAC over the raw body with their secret, compare in
// constant time and refuse timestamps more than five minutes away (Verify does
// all three). URLs must be https; plain http is allowed only to a loopback
// address and only when Options.AllowLoopbackHTTP is set (tests, local demos).
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/resetbot/resetbot/core/secret"
)

// Headers set on every delivery.
const (
	SignatureHeader = "X-Resetbot-Signature"
	DeliveryHeader  = "X-Resetbot-Delivery"
)

// DefaultTolerance is how far a signature timestamp may be from the
// receiver's clock (replay window).
const DefaultTolerance = 5 * time.Minute

// Sign returns the X-Resetbot-Signature value for body sent at t.
func Sign(key secret.String, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + mac(key, ts, body)
}

func mac(key secret.String, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(key.Reveal()))
	m.Write([]byte(ts))
	m.Write([]byte("."))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// Verify checks a signature header against body, as a receiver should: the
// HMAC matches (constant-time) and the timestamp is within tolerance of now.
// Several v1 values (sent during a secret rotation) are accepted if any matches.
func Verify(key secret.String, header string, body []byte, now time.Time, tolerance time.Duration) bool {
	var ts string
	var sigs []string
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		switch {
		case !ok:
		case k == "t":
			ts = v
		case k == "v1":
			sigs = append(sigs, v)
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return false
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return false
	}
	want := []byte(mac(key, ts, body))
	ok := false
	for _, s := range sigs {
		ok = hmac.Equal(want, []byte(s)) || ok
	}
	return ok
}
