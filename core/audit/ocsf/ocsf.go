// Package ocsf writes resetbot's audit events in the Open Cybersecurity
// Schema Framework (OCSF 1.3.0, https://schema.ocsf.io/1.3.0), the format
// SIEMs such as Splunk, Amazon Security Lake and Google SecOps ingest.
//
// It is an output format beside the JSON lines of package audit, fed by the
// same audit.Event records: Map turns one event into one OCSF event, Writer is
// an audit.Sink that writes them one JSON object per line to a file or
// standard output, and Syslog sends them as RFC 5424 messages over TCP or TLS.
//
// The mapping (docs/audit.md has the table):
//
//   - reset.done, unlock.done, enroll.done, a bot-side lockout: Account Change
//     (class 3001), activities Password Reset, Other ("Unlock"), MFA Factor
//     Enable and Lock.
//   - verify.attempt, totp.replay, authn.rejected: Authentication (3002),
//     one event per factor check, activity Other ("Verify Factor") because
//     a factor check is not a logon.
//   - regulation.denied, regulation.notice and other abuse signals:
//     Detection Finding (2004).
//   - everything else (flow progress, codes sent, escalations): Base Event
//     (class 0, activity Other) with the resetbot event name kept in
//     metadata.event_code and the details in unmapped.
//
// Every event carries the reference id the user saw in metadata.correlation_uid
// and metadata.uid. Nothing here adds data: an audit.Event holds no secret, and
// Fields whose key names a secret are dropped, as the JSON form redacts them.
package ocsf

import (
	"strings"

	"github.com/resetbot/resetbot/core/audit"
	"github.com/resetbot/resetbot/core/logging"
)

// SchemaVersion is the OCSF version the events claim in metadata.version.
const SchemaVersion = "1.3.0"

// OCSF category, class and activity ids used here (OCSF 1.3.0).
const (
	CategoryFindings = 2
	CategoryIAM      = 3

	ClassBase             = 0
	ClassDetectionFinding = 2004
	ClassAccountChange    = 3001
	ClassAuthentication   = 3002

	ActivityOther = 99

	AccountPasswordChange  = 3
	AccountPasswordReset   = 4
	AccountLock            = 9
	AccountMFAFactorEnable = 10
	FindingCreate          = 1

	StatusSuccess = 1
	StatusFailure = 2
	StatusOther   = 99

	SeverityInformational = 1
	SeverityLow           = 2
	SeverityMedium        = 3
)

// Product names resetbot in metadata.product.
type Product struct {
	Name    string `json:"name"`
	Vendor  string `json:"vendor_name"`
	Version string `json:"version,omitempty"`
}

// Metadata is the OCSF metadata object.
type Metadata struct {
	Version        string  `json:"version"`
	Product        Product `json:"product"`
	UID            string  `json:"uid,omitempty"`
	CorrelationUID string  `json:"correlation_uid,omitempty"`
	EventCode      string  `json:"event_code,omitempty"`
	LogName        string  `json:"log_name,omitempty"`
}

// User is the OCSF user object (the account acted on or authenticated).
type User struct {
	Name string `json:"name,omitempty"`
	UID  string `json:"uid,omitempty"`
}

// Actor is the OCSF actor object.
type Actor struct {
	User    *User    `json:"user,omitempty"`
	AppName string   `json:"app_name,omitempty"`
	Session *Session `json:"session,omitempty"`
}

// Session is the OCSF session object; UID is the hashed session id.
type Session struct {
	UID string `json:"uid"`
}

// Service is the OCSF service object: the channel the request came through.
type Service struct {
	Name string `json:"name"`
}

// FindingInfo is the OCSF finding_info object of a Detection Finding.
type FindingInfo struct {
	UID   string   `json:"uid"`
	Title string   `json:"title"`
	Types []string `json:"types,omitempty"`
}

// Event is one OCSF event. Only the attributes resetbot fills are declared.
type Event struct {
	ActivityID   int               `json:"activity_id"`
	ActivityName string            `json:"activity_name,omitempty"`
	CategoryUID  int               `json:"category_uid"`
	CategoryName string            `json:"category_name,omitempty"`
	ClassUID     int               `json:"class_uid"`
	ClassName    string            `json:"class_name,omitempty"`
	TypeUID      int               `json:"type_uid"`
	SeverityID   int               `json:"severity_id"`
	Time         int64             `json:"time"`
	TimeDT       string            `json:"time_dt,omitempty"`
	Message      string            `json:"message,omitempty"`
	StatusID     int               `json:"status_id,omitempty"`
	Status       string            `json:"status,omitempty"`
	StatusDetail string            `json:"status_detail,omitempty"`
	Metadata     Metadata          `json:"metadata"`
	User         *User             `json:"user,omitempty"`
	Actor        *Actor            `json:"actor,omitempty"`
	Service      *Service          `json:"service,omitempty"`
	IsMFA        *bool             `json:"is_mfa,omitempty"`
	FindingInfo  *FindingInfo      `json:"finding_info,omitempty"`
	Unmapped     map[string]string `json:"unmapped,omitempty"`
}

// class describes how one audit event name maps.
type class struct {
	category, class, activity int
	activityName              string
	severity                  int
}

var (
	categoryNames = map[int]string{0: "Uncategorized", CategoryFindings: "Findings", CategoryIAM: "Identity & Access Management"}
	classNames    = map[int]string{ClassBase: "Base Event", ClassDetectionFinding: "Detection Finding",
		ClassAccountChange: "Account Change", ClassAuthentication: "Authentication"}
)

// classes maps audit event names; names not listed become Base Events.
var classes = map[string]class{
	audit.NameResetDone:  {CategoryIAM, ClassAccountChange, AccountPasswordReset, "Password Reset", SeverityInformational},
	audit.NameUnlockDone: {CategoryIAM, ClassAccountChange, ActivityOther, "Unlock", SeverityInformational},
	// The change flow: the user's own new password (flows/steps_change.go).
	"change.done":              {CategoryIAM, ClassAccountChange, AccountPasswordChange, "Password Change", SeverityInformational},
	"enroll.done":              {CategoryIAM, ClassAccountChange, AccountMFAFactorEnable, "MFA Factor Enable", SeverityInformational},
	audit.NameVerifyAttempt:    {CategoryIAM, ClassAuthentication, ActivityOther, "Verify Factor", SeverityInformational},
	"totp.replay":              {CategoryIAM, ClassAuthentication, ActivityOther, "Verify Factor", SeverityMedium},
	audit.NameAuthnRejected:    {CategoryIAM, ClassAuthentication, ActivityOther, "Authenticate Request", SeverityLow},
	audit.NameRegulationDenied: {CategoryFindings, ClassDetectionFinding, FindingCreate, "Create", SeverityLow},
	"regulation.notice":        {CategoryFindings, ClassDetectionFinding, FindingCreate, "Create", SeverityMedium},
	"abuse.alarm":              {CategoryFindings, ClassDetectionFinding, FindingCreate, "Create", SeverityMedium},
	"assist.not_me":            {CategoryFindings, ClassDetectionFinding, FindingCreate, "Create", SeverityMedium},
	"outreach.spray":           {CategoryFindings, ClassDetectionFinding, FindingCreate, "Create", SeverityMedium},
	// OCSF has no feedback class: a satisfaction rating is a Base Event
	// named "Rating", its answer (up, down) in status_detail.
	"flow.rating": {0, ClassBase, ActivityOther, "Rating", SeverityInformational},
}

// lockout is the flow end state recorded when the bot locks a session out;
// it maps to Account Change / Lock.
const lockout = "locked_out"

// Map converts one audit event into an OCSF event. p names the product
// (resetbot and its version).
func Map(e audit.Event, p Product) Event {
	c, ok := classes[e.Name]
	if !ok {
		c = class{0, ClassBase, ActivityOther, "Other", SeverityInformational}
	}
	if e.Name == "flow.end" && e.Outcome == lockout {
		c = class{CategoryIAM, ClassAccountChange, AccountLock, "Lock", SeverityLow}
	}
	t := e.Time.UTC()
	o := Event{
		ActivityID: c.activity, ActivityName: c.activityName,
		CategoryUID: c.category, CategoryName: categoryNames[c.category],
		ClassUID: c.class, ClassName: classNames[c.class],
		TypeUID: c.class*100 + c.activity, SeverityID: c.severity,
		Time: t.UnixMilli(), TimeDT: audit.FormatTime(t),
		Message:  e.Name,
		Metadata: Metadata{Version: SchemaVersion, Product: p, UID: e.Ref, CorrelationUID: e.Ref, EventCode: e.Name, LogName: "audit"},
	}
	o.StatusID, o.Status = status(e.Outcome)
	o.StatusDetail = e.Reason
	if e.Channel != "" {
		o.Service = &Service{Name: e.Channel}
	}
	if e.Actor != "" || e.Session != "" {
		o.Actor = &Actor{AppName: "resetbot"}
		if e.Session != "" {
			o.Actor.Session = &Session{UID: e.Session}
		}
	}
	switch c.class {
	case ClassAccountChange, ClassAuthentication:
		// user is required in both classes: the account acted on, or the
		// channel identity when none was identified yet.
		o.User = &User{Name: nonEmpty(e.Actor, "unknown")}
		if c.class == ClassAuthentication {
			mfa := e.Factor != ""
			o.IsMFA = &mfa
			if o.Service == nil {
				o.Service = &Service{Name: "resetbot"}
			}
		}
	case ClassDetectionFinding:
		o.FindingInfo = &FindingInfo{UID: nonEmpty(e.Ref, e.Session, e.Name), Title: e.Name, Types: nonEmptyList(e.Reason)}
		if e.Actor != "" {
			o.Actor.User = &User{Name: e.Actor}
		}
	default:
		if e.Actor != "" {
			o.Actor.User = &User{Name: e.Actor}
		}
	}
	o.Unmapped = unmapped(e)
	return o
}

func status(outcome string) (int, string) {
	switch outcome {
	case "":
		return 0, ""
	case audit.OutcomeSuccess, "done":
		return StatusSuccess, "Success"
	case audit.OutcomeFailure, audit.OutcomeDenied, audit.OutcomeError:
		return StatusFailure, "Failure"
	default:
		return StatusOther, outcome
	}
}

// unmapped keeps the resetbot fields that have no OCSF attribute, dropping
// Fields entries whose key names a secret.
func unmapped(e audit.Event) map[string]string {
	m := map[string]string{}
	put := func(k, v string) {
		if v != "" {
			m[k] = v
		}
	}
	put("flow", e.Flow)
	put("from", e.From)
	put("to", e.To)
	put("flow_event", e.Event)
	put("factor", e.Factor)
	put("outcome", e.Outcome)
	put("destination", e.Destination)
	for k, v := range e.Fields {
		if !logging.Sensitive(k) {
			put("fields."+k, v)
		}
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

func nonEmpty(vs ...string) string {
	for _, v := range vs {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}

func nonEmptyList(v string) []string {
	if v == "" {
		return nil
	}
	return []string{v}
}
