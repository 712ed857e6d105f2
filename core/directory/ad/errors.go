package ad

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/go-ldap/ldap/v3"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/directory/internal/ldapconn"
)

// AD puts a Win32 error code in the first 8 hex digits of the diagnostic
// message ("0000052D: Constraint violation - ..."), and failed binds carry a
// sub-code after "data" ("... AcceptSecurityContext error, data 775, v1db1").
var (
	adCodeRE   = regexp.MustCompile(`^([0-9A-Fa-f]{8}):`)
	bindDataRE = regexp.MustCompile(`data ([0-9A-Fa-f]+)`)
)

// Win32 / directory service error codes seen in AD diagnostics.
const (
	winAccessDenied       = 0x00000005 // ERROR_ACCESS_DENIED
	winGenFailure         = 0x0000001F // ERROR_GEN_FAILURE: AD "will not perform" (e.g. no TLS)
	winInvalidParameter   = 0x00000057 // ERROR_INVALID_PARAMETER: bad unicodePwd encoding
	winPasswordRestrict   = 0x0000052D // ERROR_PASSWORD_RESTRICTION: length, history, complexity, age
	winAccountLockedOut   = 0x00000775 // ERROR_ACCOUNT_LOCKED_OUT
	dsNoSuchObject        = 0x00002030 // ERROR_DS_OBJ_NOT_FOUND
	dsIllegalModOperation = 0x00002077 // ERROR_DS_ILLEGAL_MOD_OPERATION
	dsInsuffAccessRights  = 0x00002098 // ERROR_DS_INSUFF_ACCESS_RIGHTS
)

// adCode extracts the Win32 code from an AD diagnostic message; 0 if none.
func adCode(diag string) uint32 {
	m := adCodeRE.FindStringSubmatch(diag)
	if m == nil {
		return 0
	}
	var v uint32
	fmt.Sscanf(m[1], "%x", &v) //nolint:errcheck // the regexp guarantees hex
	return v
}

// bindReasons explain the sub-code of a failed bind in plain words.
var bindReasons = map[string]string{
	"525": "user not found", "52e": "invalid credentials", "530": "logon not permitted at this time",
	"531": "logon not permitted from this workstation", "532": "password expired",
	"533": "account disabled", "701": "account expired", "773": "password must be changed",
	"775": "account locked out",
}

// bindError translates a failed service-account bind: the bot cannot work,
// so it is ErrUnavailable whatever the cause, with the cause in words.
func bindError(err error) error {
	var le *ldap.Error
	if !errors.As(err, &le) || le.ResultCode == ldap.ErrorNetwork {
		return unavailable("bind", err)
	}
	why := "bind refused"
	if le.ResultCode == ldap.LDAPResultInvalidCredentials {
		why = "invalid credentials"
		if m := bindDataRE.FindStringSubmatch(le.Err.Error()); m != nil {
			if r, ok := bindReasons[strings.ToLower(m[1])]; ok {
				why = r
			}
		}
	}
	if le.ResultCode == ldap.LDAPResultStrongAuthRequired || le.ResultCode == ldap.LDAPResultConfidentialityRequired {
		why = "server requires an encrypted connection"
	}
	return fmt.Errorf("%w: ad: service account bind failed (%s): %w", directory.ErrUnavailable, why, err)
}

// unavailable wraps a transport failure with a reason an operator can act on.
func unavailable(op string, err error) error {
	return fmt.Errorf("%w: ad: %s: %s: %w", directory.ErrUnavailable, op, transportReason(err), err)
}

// transportReason words a transport failure (ldapconn.Reason), "network
// error" when nothing more precise is known.
func transportReason(err error) string {
	if r := ldapconn.Reason(err); r != "" {
		return r
	}
	return "network error"
}

// translate maps the error of a read or write on a user to the directory
// contract. The raw LDAP error stays wrapped for logs; callers never show
// err.Error() to users.
func translate(op string, err error) error {
	if err == nil || errors.Is(err, directory.ErrUnavailable) || errors.Is(err, directory.ErrAmbiguous) ||
		errors.Is(err, directory.ErrNotFound) || errors.Is(err, directory.ErrProtected) || errors.Is(err, directory.ErrHeld) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("ad: %s: %w", op, err)
	}
	var le *ldap.Error
	if !errors.As(err, &le) {
		return fmt.Errorf("ad: %s: %w", op, err)
	}
	if le.ResultCode == ldap.ErrorNetwork {
		return unavailable(op, err)
	}
	diag := ""
	if le.Err != nil {
		diag = le.Err.Error()
	}
	code := adCode(diag)
	switch {
	case code == winPasswordRestrict:
		return refused(diag)
	case le.ResultCode == ldap.LDAPResultNoSuchObject || code == dsNoSuchObject:
		return fmt.Errorf("%w: ad: %s: %w", directory.ErrNotFound, op, err)
	case le.ResultCode == ldap.LDAPResultInsufficientAccessRights || code == winAccessDenied || code == dsInsuffAccessRights:
		// The service account is only delegated on some OUs: an account
		// outside them is one the bot must not touch.
		return fmt.Errorf("%w: ad: %s: the service account has no right to change this account: %w",
			directory.ErrProtected, op, err)
	case code == winAccountLockedOut:
		return fmt.Errorf("%w: ad: %s: account locked out: %w", directory.ErrUnavailable, op, err)
	case code == winGenFailure || le.ResultCode == ldap.LDAPResultConfidentialityRequired ||
		le.ResultCode == ldap.LDAPResultStrongAuthRequired:
		return fmt.Errorf("%w: ad: %s: the server will not perform the change (AD needs an encrypted connection for passwords): %w",
			directory.ErrUnavailable, op, err)
	case le.ResultCode == ldap.LDAPResultBusy || le.ResultCode == ldap.LDAPResultUnavailable ||
		le.ResultCode == ldap.LDAPResultTimeLimitExceeded || le.ResultCode == ldap.LDAPResultAdminLimitExceeded:
		return fmt.Errorf("%w: ad: %s: server busy or unavailable: %w", directory.ErrUnavailable, op, err)
	case code == winInvalidParameter || code == dsIllegalModOperation:
		return fmt.Errorf("ad: %s: the server rejected the request as malformed: %w", op, err)
	case le.ResultCode == ldap.LDAPResultConstraintViolation || le.ResultCode == ldap.LDAPResultUnwillingToPerform:
		return refusedWith(directory.ReasonPolicy, "the directory refused the change", err)
	}
	return fmt.Errorf("ad: %s: %w", op, err)
}

// refusedError is a *directory.RefusedError that also keeps the server's
// diagnostic for logs (errors.As finds the RefusedError; Unwrap gives the cause).
type refusedError struct {
	*directory.RefusedError
	cause error
}

func (e *refusedError) Unwrap() []error { return []error{e.RefusedError, e.cause} }

// refused reads why AD refused a password. Real Windows DCs say only
// "0000052D: Constraint violation" (→ ReasonPolicy); Samba names the check.
func refused(diag string) error {
	d := strings.ToLower(diag)
	cause := errors.New(diag)
	switch {
	case strings.Contains(d, "too short"):
		return refusedWith(directory.ReasonTooShort, "the password is shorter than the domain's minimum length", cause)
	case strings.Contains(d, "history"):
		return refusedWith(directory.ReasonHistory, "the password was used before", cause)
	case strings.Contains(d, "too young"):
		return refusedWith(directory.ReasonTooYoung, "the password was changed too recently", cause)
	case strings.Contains(d, "complexity"):
		return refusedWith(directory.ReasonQuality, "the password does not meet the domain's complexity rules", cause)
	}
	return refusedWith(directory.ReasonPolicy,
		"the password does not meet the domain's policy (length, complexity or history)", cause)
}

func refusedWith(r directory.Reason, detail string, cause error) error {
	return &refusedError{RefusedError: &directory.RefusedError{Reason: r, Detail: detail}, cause: cause}
}
