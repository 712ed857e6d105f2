package procrig

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/resetbot/resetbot/core/notify/twilio/twiliotest"
)

// Client sends signed webhooks to one replica (or any server speaking the
// same paths, such as the reference handler).
type Client struct {
	// Base is http://host:port of the target.
	Base string
	HTTP *http.Client
}

// NewClient returns a client with enough idle connections for conc
// concurrent senders.
func NewClient(base string, conc int) *Client {
	tr := &http.Transport{MaxIdleConns: conc * 2, MaxIdleConnsPerHost: conc * 2, IdleConnTimeout: time.Minute}
	return &Client{Base: base, HTTP: &http.Client{Transport: tr, Timeout: 20 * time.Second}}
}

// SlackEvent builds the Events API body of a DM from user in channel.
func SlackEvent(eventID, user, channel, text string) []byte {
	b, _ := json.Marshal(map[string]any{"token": "legacy", "team_id": SlackTeam, "api_app_id": "A0PROCRIG",
		"type": "event_callback", "event_id": eventID, "event_time": time.Now().Unix(),
		"event": map[string]any{"type": "message", "channel_type": "im", "channel": channel, "user": user,
			"text": text, "ts": "1.1"}})
	return b
}

// SignSlack returns the X-Slack-Signature of body at ts.
func SignSlack(ts int64, body []byte) string {
	m := hmac.New(sha256.New, []byte(SlackSigningSecret))
	fmt.Fprintf(m, "v0:%d:", ts)
	m.Write(body)
	return "v0=" + hex.EncodeToString(m.Sum(nil))
}

// PostSlack sends a signed Events API delivery; retry > 0 sets Slack's
// X-Slack-Retry-Num header as a redelivery would. It returns the status.
func (c *Client) PostSlack(body []byte, retry int) (int, error) {
	req, _ := http.NewRequest(http.MethodPost, c.Base+"/slack/events", bytes.NewReader(body))
	ts := time.Now().Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Slack-Request-Timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("X-Slack-Signature", SignSlack(ts, body))
	if retry > 0 {
		req.Header.Set("X-Slack-Retry-Num", strconv.Itoa(retry))
		req.Header.Set("X-Slack-Retry-Reason", "http_timeout")
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode, nil
}

// CallParams are the form fields of a Twilio voice webhook for one call.
func CallParams(callSid, digits string) url.Values {
	v := url.Values{"AccountSid": {TwilioAccountSID}, "CallSid": {callSid}, "From": {"+15555550142"},
		"To": {"+15555550100"}, "CallStatus": {"in-progress"}, "Direction": {"inbound"}}
	if digits != "" {
		v.Set("Digits", digits)
	}
	return v
}

// PostTwilio sends a signed voice webhook to pathAndQuery (as found in a
// TwiML action: the public URL's path plus query) and returns the status
// and the TwiML body.
func (c *Client) PostTwilio(pathAndQuery string, params url.Values) (int, string, error) {
	body := params.Encode()
	req, _ := http.NewRequest(http.MethodPost, c.Base+pathAndQuery, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", twiliotest.Sign(TwilioAuthToken, PublicURL+pathAndQuery, params))
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return 0, "", err
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	_ = resp.Body.Close()
	return resp.StatusCode, string(b), nil
}

// TwiMLAction returns the path and query of the first <Gather> or
// <Redirect> action in a TwiML document, relative to the public URL; ""
// when the call ends (no action).
func TwiMLAction(doc string) string {
	d := xml.NewDecoder(strings.NewReader(doc))
	for {
		tok, err := d.Token()
		if err != nil {
			return ""
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch se.Name.Local {
		case "Gather":
			for _, a := range se.Attr {
				if a.Name.Local == "action" {
					return strings.TrimPrefix(a.Value, PublicURL)
				}
			}
		case "Redirect":
			var s string
			if d.DecodeElement(&s, &se) == nil {
				return strings.TrimPrefix(strings.TrimSpace(s), PublicURL)
			}
		}
	}
}

// ProcStats are a process's counters from /proc.
type ProcStats struct {
	// CPU is user + system time.
	CPU time.Duration
	// PeakRSS is VmHWM, RSS is VmRSS, in bytes.
	PeakRSS, RSS int64
	// Reads and Writes are the read and write system calls made so far
	// (/proc/pid/io syscr and syscw; sockets included), 0 where unreadable.
	Reads, Writes int64
}

// ReadProc reads pid's CPU time and memory from /proc.
func ReadProc(pid int) (ProcStats, error) {
	var st ProcStats
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return st, err
	}
	// Fields after the command name (which may hold spaces) start at ")".
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	if len(f) < 13 {
		return st, fmt.Errorf("procrig: short /proc/%d/stat", pid)
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	stt, _ := strconv.ParseInt(f[12], 10, 64)
	const hz = 100 // USER_HZ on Linux
	st.CPU = time.Duration(ut+stt) * time.Second / hz
	s, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return st, err
	}
	for _, line := range strings.Split(string(s), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmHWM":
			st.PeakRSS = n << 10
		case "VmRSS":
			st.RSS = n << 10
		}
	}
	if io, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid)); err == nil {
		for _, line := range strings.Split(string(io), "\n") {
			k, v, _ := strings.Cut(line, ": ")
			n, _ := strconv.ParseInt(v, 10, 64)
			switch k {
			case "syscr":
				st.Reads = n
			case "syscw":
				st.Writes = n
			}
		}
	}
	return st, nil
}
