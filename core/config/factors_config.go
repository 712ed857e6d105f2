package config

import (
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/resetbot/resetbot/core/identity"
	"github.com/resetbot/resetbot/core/plugin"
)

// Factor names as used in factors.enabled.
const (
	FactorTOTP      = "totp"
	FactorSMS       = "sms"
	FactorVoice     = "voice"
	FactorEmail     = "email"
	FactorQuestions = "questions"
)

// requireChannels are the keys allowed in a factors.require block besides
// "default": the engine names of the channels a flow runs on — every
// registered channel plug-in's (the phone's "voice" among them) and the demo
// console's — sorted.
func requireChannels(reg plugin.Registry) []string {
	names := append(channelNames(reg, nil), "console")
	slices.Sort(names)
	return slices.Compact(names)
}

// FactorsConfig configures verification factors and how many each action needs.
type FactorsConfig struct {
	// Enabled lists the factors users may verify with, strongest first.
	Enabled []string `yaml:"enabled"`
	// Require sets how many independent factors each action needs, per channel.
	Require RequireConfig `yaml:"require"`
	// Policy is what a security team signs off beyond the counts.
	Policy    FactorPolicyConfig `yaml:"policy"`
	Codes     CodesConfig        `yaml:"codes"`
	Questions QuestionsConfig    `yaml:"questions"`
	// Plugins are the factors' own blocks (factors.totp), one for every
	// enabled factor, each decoded into its plug-in's type; a factor
	// enabled without a block has its plug-in's defaults.
	Plugins map[string]plugin.Config `yaml:",inline" plugin:"factor"`
}

// grouped is a factor plug-in's block that names its independence group.
type grouped interface{ Group() identity.Group }

// fillFactorDefaults gives every enabled factor that has a plug-in and no
// block its plug-in's defaults, so that it is validated and can be opened.
func fillFactorDefaults(f *FactorsConfig, reg plugin.Registry) {
	for _, name := range f.Enabled {
		if _, ok := f.Plugins[name]; ok {
			continue
		}
		if cfg, ok := reg.New(plugin.Factor, name); ok {
			if f.Plugins == nil {
				f.Plugins = map[string]plugin.Config{}
			}
			f.Plugins[name] = cfg
		}
	}
}

// RequireConfig maps channel → required factor count for each action. The key
// "default" applies to channels without their own entry.
type RequireConfig struct {
	Reset  map[string]int `yaml:"reset"`
	Unlock map[string]int `yaml:"unlock"`
	Enroll map[string]int `yaml:"enroll"`
}

// For returns the required count for action ("reset", "unlock", "enroll") on
// channel, falling back to the action's "default" entry; 0 for an unknown action.
func (r RequireConfig) For(action, channel string) int {
	var m map[string]int
	switch action {
	case "reset":
		m = r.Reset
	case "unlock":
		m = r.Unlock
	case "enroll":
		m = r.Enroll
	}
	if n, ok := m[channel]; ok {
		return n
	}
	return m["default"]
}

// FactorPolicyConfig is the assurance policy beyond the counts.
type FactorPolicyConfig struct {
	// RequireStrongest lists the actions (reset, unlock, enroll, verify) that
	// need the strongest factor the account has of record: an authenticator
	// user is never reset without the authenticator. Default: reset, enroll.
	RequireStrongest []string `yaml:"require_strongest"`
	// PhoneAlone lets a single phone or email code satisfy a reset when the
	// count is 1. Off by default: phone codes are "restricted" in NIST SP
	// 800-63B-4 (SIM swap, number porting).
	PhoneAlone bool `yaml:"phone_alone"`
	// NotifyManager also sends notices of resets, unlocks and enrollments to
	// the manager of record (directory attributes.manager).
	NotifyManager bool `yaml:"notify_manager"`
}

// loginMailboxAttrs are attributes that hold the account's own work mailbox
// (or its sign-in name): never a destination for email codes.
var loginMailboxAttrs = []string{"mail", "userprincipalname", "proxyaddresses"}

// CodesConfig configures one-time codes sent by SMS, voice or email.
type CodesConfig struct {
	Digits         int           `yaml:"digits"`
	TTL            time.Duration `yaml:"ttl"`
	MaxAttempts    int           `yaml:"max_attempts"`
	ResendCooldown time.Duration `yaml:"resend_cooldown"`
}

// QuestionsConfig configures security questions (off by default; never a
// counted factor, only an extra step after a possession factor).
type QuestionsConfig struct {
	// Ask is how many questions a verification asks.
	Ask int `yaml:"ask"`
	// MinEnrolled is how many answers a user must enrol.
	MinEnrolled int              `yaml:"min_enrolled"`
	Catalog     []QuestionConfig `yaml:"catalog"`
	// AskIn lists the flows (reset, unlock) that ask the user's questions
	// after the counted factors, in chat, when the user has enrolled them.
	AskIn []string `yaml:"ask_in"`
}

// QuestionConfig is one question users may choose.
type QuestionConfig struct {
	// ID is the stable key stored with the answer.
	ID string `yaml:"id"`
	// MessageID is the message catalog entry holding the question text.
	MessageID string `yaml:"message_id"`
	// Numeric questions can also be asked on the phone (answered by keypad).
	Numeric bool `yaml:"numeric"`
}

func defaultFactors() FactorsConfig {
	return FactorsConfig{
		Enabled: []string{FactorTOTP, FactorSMS, FactorVoice, FactorEmail},
		Require: RequireConfig{
			Reset:  map[string]int{"default": 2, "voice": 2},
			Unlock: map[string]int{"default": 1},
			Enroll: map[string]int{"default": 1},
		},
		Policy: FactorPolicyConfig{RequireStrongest: []string{"reset", "enroll"}},
		Codes:  CodesConfig{Digits: 6, TTL: 10 * time.Minute, MaxAttempts: 5, ResendCooldown: 30 * time.Second},
		Questions: QuestionsConfig{Ask: 2, MinEnrolled: 3, Catalog: []QuestionConfig{
			{ID: "first_pet", MessageID: "question.first_pet"},
			{ID: "first_street", MessageID: "question.first_street"},
			{ID: "first_school", MessageID: "question.first_school"},
			{ID: "birth_city", MessageID: "question.birth_city"},
			{ID: "first_phone_last4", MessageID: "question.first_phone_last4", Numeric: true},
		}},
	}
}

// Has reports whether factor is enabled.
func (f FactorsConfig) Has(factor string) bool { return slices.Contains(f.Enabled, factor) }

func (v *validator) factors(f *FactorsConfig, reg plugin.Registry) {
	const p = "factors"
	seen := map[string]bool{}
	// Independent groups that can count towards a requirement: an SMS and a
	// call to the same phone are one; questions never count.
	groups := map[string]bool{}
	for i, name := range f.Enabled {
		ip := index(p+".enabled", i)
		switch {
		case name != FactorQuestions && !reg.Has(plugin.Factor, name):
			v.errorf(ip, "unknown factor %q (known: %s, questions)", name, strings.Join(reg.Types(plugin.Factor), ", "))
		case seen[name]:
			v.errorf(ip, "factor %q is listed twice", name)
		case name != FactorQuestions:
			if g, ok := f.Plugins[name].(grouped); ok {
				groups[string(g.Group())] = true
			} else {
				groups[name] = true
			}
		}
		seen[name] = true
	}
	counted := len(groups)
	if len(f.Enabled) == 0 {
		v.errorf(p+".enabled", "needs at least one factor")
	}
	if seen[FactorQuestions] {
		if counted == 0 {
			v.errorf(p+".enabled", "questions can never be the only factor; enable totp, sms, voice or email too")
		} else {
			v.warnf(p+".enabled", "security questions are enabled; they are weak (guessable, researchable) and only ever an extra step, never a counted factor")
		}
		v.questions(&f.Questions)
	}
	for _, a := range []struct {
		name string
		m    map[string]int
	}{{"reset", f.Require.Reset}, {"unlock", f.Require.Unlock}, {"enroll", f.Require.Enroll}} {
		v.require(p+".require."+a.name, a.m, counted)
	}
	if f.Require.For("reset", "default") < 2 {
		v.warnf(p+".require.reset.default", "resetting a password with a single factor is weaker than the recommended two")
	}
	for i, a := range f.Policy.RequireStrongest {
		if !slices.Contains([]string{"reset", "unlock", "enroll", "verify"}, a) {
			v.errorf(index(p+".policy.require_strongest", i), "unknown action %q (reset, unlock, enroll, verify)", a)
		}
	}
	if !slices.Contains(f.Policy.RequireStrongest, "reset") {
		v.warnf(p+".policy.require_strongest", "does not list reset: an authenticator user could be reset with weaker factors")
	}
	if f.Policy.PhoneAlone && f.Require.For("reset", "default") < 2 {
		v.warnf(p+".policy.phone_alone", "lets one phone code reset a password; phone codes are restricted in NIST SP 800-63B-4 (SIM swap)")
	}
	v.codes(p+".codes", &f.Codes)
}

func (v *validator) require(p string, m map[string]int, counted int) {
	if _, ok := m["default"]; !ok {
		v.errorf(p+".default", "is required")
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		n := m[k]
		kp := p + "." + k
		if known := requireChannels(v.reg); k != "default" && !slices.Contains(known, k) {
			v.errorf(kp, "unknown channel %q (known: default, %s)", k, strings.Join(known, ", "))
			continue
		}
		if n < 1 || n > 3 {
			v.errorf(kp, "must be between 1 and 3")
		} else if counted > 0 && n > counted {
			v.errorf(kp, "requires %d factors but only %d countable factors are enabled", n, counted)
		}
	}
}

func (v *validator) codes(p string, c *CodesConfig) {
	if c.Digits < 6 || c.Digits > 8 {
		v.errorf(p+".digits", "must be between 6 and 8")
	}
	if c.TTL <= 0 || c.TTL > 10*time.Minute {
		v.errorf(p+".ttl", "must be more than 0 and at most 10m")
	}
	if c.MaxAttempts < 1 || c.MaxAttempts > 10 {
		v.errorf(p+".max_attempts", "must be between 1 and 10")
	}
	if c.ResendCooldown < 0 {
		v.errorf(p+".resend_cooldown", "must not be negative")
	}
}

func (v *validator) questions(q *QuestionsConfig) {
	const p = "factors.questions"
	if q.Ask < 1 {
		v.errorf(p+".ask", "must be at least 1")
	}
	if q.MinEnrolled < q.Ask {
		v.errorf(p+".min_enrolled", "must be at least ask (%d)", q.Ask)
	}
	if len(q.Catalog) < q.MinEnrolled {
		v.errorf(p+".catalog", "has %d questions but users must enrol %d", len(q.Catalog), q.MinEnrolled)
	}
	for i, f := range q.AskIn {
		if f != "reset" && f != "unlock" {
			v.errorf(index(p+".ask_in", i), "unknown flow %q (reset or unlock)", f)
		}
	}
	ids := map[string]bool{}
	for i, c := range q.Catalog {
		cp := index(p+".catalog", i)
		if c.ID == "" {
			v.errorf(cp+".id", "is required")
		} else if ids[c.ID] {
			v.errorf(cp+".id", "%q is listed twice", c.ID)
		}
		ids[c.ID] = true
		if c.MessageID == "" {
			v.errorf(cp+".message_id", "is required")
		}
	}
}

// recoveryEmailer is a directory plug-in's configuration that maps a
// recovery address attribute (ldap, ad): the attribute email codes go to,
// and the login mailbox attribute it must differ from.
type recoveryEmailer interface {
	RecoveryEmailAttribute() (recovery, mailbox string)
}

// emailFactor checks where email codes would go: only to a personal or
// recovery address attribute, never the account's own work mailbox, which
// sits behind the very password being reset.
func (v *validator) emailFactor(c *Config) {
	if !c.Factors.Has(FactorEmail) {
		return
	}
	mapped := false
	for i, d := range c.Directories {
		re, ok := d.Plugin.(recoveryEmailer)
		if !ok {
			continue
		}
		recovery, mailbox := re.RecoveryEmailAttribute()
		if recovery == "" {
			continue
		}
		mapped = true
		p := index("directories", i) + "." + d.Type + ".attributes.recovery_email"
		attr := strings.ToLower(recovery)
		if slices.Contains(loginMailboxAttrs, attr) || strings.EqualFold(recovery, mailbox) {
			v.errorf(p, "%q is the account's own work mailbox; the email factor needs a personal or recovery address attribute", recovery)
		}
	}
	if !mapped && len(c.Directories) > 0 && c.Mode != ModeDemo {
		v.warnf("factors.enabled", "email is enabled but no directory maps attributes.recovery_email: nobody can verify by email")
	}
}
