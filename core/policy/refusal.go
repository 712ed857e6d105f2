package policy

import (
	"fmt"
	"strings"
)

// Reasons a new password is refused by the policy. Each maps to the catalogued
// message "password.rejected.<reason>" (see Refusal.MessageID).
const (
	ReasonTooShort          = "too_short"          // fewer code points than MinLength
	ReasonTooLong           = "too_long"           // more code points than MaxLength
	ReasonContainsLogin     = "contains_login"     // contains the login or the email local part
	ReasonContainsName      = "contains_name"      // contains the given name or surname
	ReasonBannedWord        = "banned_word"        // contains a banned word, leetspeak included
	ReasonCommon            = "common"             // a most-common password, or one with digits or symbols added
	ReasonWeak              = "weak"               // a zxcvbn score below MinStrength
	ReasonBreached          = "breached"           // listed in the breached-password file
	ReasonRepetitive        = "repetitive"         // mostly repeated or sequential characters
	ReasonInvalidCharacters = "invalid_characters" // control characters or invalid UTF-8
)

// Refusal says why a password was not accepted. It never holds the password
// or any part of it: Args carry only limits and field names, so a Refusal is
// safe to log and to show.
type Refusal struct {
	// Reason is one of the Reason* constants.
	Reason string
	// Args are the message arguments: "min" for too_short, "max" for
	// too_long, "field" (login, email, given_name, surname) for the
	// contains_* reasons.
	Args map[string]string
}

// MessageID returns the catalogued message ID, "password.rejected.<reason>".
func (r Refusal) MessageID() string { return "password.rejected." + r.Reason }

// Explain returns a plain-language English sentence for logs and docs. Users
// see the catalogued message for MessageID instead.
func (r Refusal) Explain() string {
	switch r.Reason {
	case ReasonTooShort:
		return fmt.Sprintf("The password is too short: use at least %s characters.", r.arg("min", "more"))
	case ReasonTooLong:
		return fmt.Sprintf("The password is too long: use at most %s characters.", r.arg("max", "fewer"))
	case ReasonContainsLogin:
		return "The password contains your user name or email address."
	case ReasonContainsName:
		return "The password contains your name."
	case ReasonBannedWord:
		return "The password contains a word that is not allowed (such as the company name or a very common password), even when letters are swapped for digits or symbols."
	case ReasonCommon:
		return "The password is one of the most common passwords, or one with a few digits or symbols added, so attackers try it first."
	case ReasonWeak:
		return "The password follows a pattern that is quick to guess (common words, names, dates, keyboard runs or repeats)."
	case ReasonBreached:
		return "The password appears in a list of passwords exposed in data breaches, so attackers will try it."
	case ReasonRepetitive:
		return "The password is mostly repeated or sequential characters (like aaaa, abcd or qwerty)."
	case ReasonInvalidCharacters:
		return "The password contains control characters (such as a tab or line break), which cannot be used."
	default:
		return "The password does not meet the password policy (" + strings.ReplaceAll(r.Reason, "_", " ") + ")."
	}
}

func (r Refusal) arg(k, def string) string {
	if v, ok := r.Args[k]; ok && v != "" {
		return v
	}
	return def
}

func refuse(reason string, kv ...string) *Refusal {
	r := &Refusal{Reason: reason}
	if len(kv) > 0 {
		r.Args = make(map[string]string, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			r.Args[kv[i]] = kv[i+1]
		}
	}
	return r
}
