package ldap

import (
	"context"
	"errors"
	"fmt"
	"strings"

	ber "github.com/go-asn1-ber/asn1-ber"
	"github.com/go-ldap/ldap/v3"

	"github.com/resetbot/resetbot/core/directory"
	"github.com/resetbot/resetbot/core/secret"
)

// passwordModifyOID is the RFC 3062 Password Modify extended operation.
const passwordModifyOID = "1.3.6.1.4.1.4203.1.11.1"

// ResetPassword implements directory.Directory with the Password Modify
// extended operation, sent with the ppolicy request control so a refusal
// comes back with its reason. With opts.MustChange it then sets pwdReset
// (effective when the policy has pwdMustChange TRUE); otherwise it clears it.
func (d *Directory) ResetPassword(ctx context.Context, u directory.User, password secret.String, opts directory.ResetOptions) error {
	if password.Empty() {
		// An empty newPasswd asks the server to generate one: never that.
		return &directory.RefusedError{Reason: directory.ReasonTooShort, Detail: "the password is empty"}
	}
	return d.op(ctx, "reset", func(c *ldap.Conn, sent *bool) error {
		e, err := d.entry(c, u, d.holdAttrs(attrReset)...)
		if err != nil {
			return err
		}
		if err := d.refuseProtected(c, e.DN); err != nil {
			return err
		}
		// ppolicy deletes pwdAccountLockedTime when the password changes,
		// an administrator's lock included: a held account is not touched.
		if err := d.refuseHeld(e); err != nil {
			return err
		}
		*sent = true
		if err := passwordModify(c, e.DN, password); err != nil {
			return err
		}
		m := ldap.NewModifyRequest(e.DN, nil)
		switch {
		case opts.MustChange:
			m.Replace(attrReset, []string{"TRUE"})
		case e.GetAttributeValue(attrReset) != "":
			m.Delete(attrReset, nil) // an old flag; the user chose this password
		default:
			return nil
		}
		err = c.Modify(m)
		if err != nil && !ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchAttribute) {
			// The password did change; the flag did not. Say so rather than
			// pretend nothing happened.
			return fmt.Errorf("ldap reset: the password changed but pwdReset could not be set (%s): %w",
				describe(err), directory.ErrAmbiguous)
		}
		return nil
	})
}

// refuseProtected returns ErrProtected for a protected account.
func (d *Directory) refuseProtected(c *ldap.Conn, dn string) error {
	p, err := d.protected(c, dn)
	if err == nil && p {
		err = directory.ErrProtected
	}
	return err
}

// passwordModify sends the RFC 3062 request with the ppolicy control.
// go-ldap's PasswordModify sends no controls, hence the hand-built request.
func passwordModify(c *ldap.Conn, dn string, password secret.String) error {
	_, err := c.Extended(passwordModifyRequest(dn, password))
	if err == nil {
		return nil
	}
	var le *ldap.Error
	if !errors.As(err, &le) || le.ResultCode == ldap.ErrorNetwork {
		return err
	}
	if re := refusal(le); re != nil {
		return re
	}
	return err
}

// passwordModifyRequest builds the request: user identity, no old
// password, the new password, and the ppolicy request control.
func passwordModifyRequest(dn string, password secret.String) *ldap.ExtendedRequest {
	value := ber.Encode(ber.ClassContext, ber.TypePrimitive, 1, nil, "Password Modify Request")
	seq := ber.Encode(ber.ClassUniversal, ber.TypeConstructed, ber.TagSequence, nil, "Password Modify Request")
	seq.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, 0, dn, "User Identity"))
	seq.AppendChild(ber.NewString(ber.ClassContext, ber.TypePrimitive, 2, password.Reveal(), "New Password"))
	value.AppendChild(seq)
	req := ldap.NewExtendedRequest(passwordModifyOID, value)
	req.Controls = []ldap.Control{ldap.NewControlBeheraPasswordPolicy()}
	return req
}

// ppolicy error codes (draft-behera-ldap-password-policy, PasswordPolicyResponseValue).
var ppolicyReasons = map[int8]directory.Reason{
	5: directory.ReasonQuality,  // insufficientPasswordQuality
	6: directory.ReasonTooShort, // passwordTooShort
	7: directory.ReasonTooYoung, // passwordTooYoung
	8: directory.ReasonHistory,  // passwordInHistory
}

var reasonDetail = map[directory.Reason]string{
	directory.ReasonTooShort: "the password is shorter than the directory's minimum length",
	directory.ReasonHistory:  "the password was used before",
	directory.ReasonTooYoung: "the password was changed too recently to change again",
	directory.ReasonQuality:  "the password does not meet the directory's quality rules",
	directory.ReasonPolicy:   "the directory's password policy refused the password",
}

// refusal turns a policy refusal into a *RefusedError, from the ppolicy
// response control when the server sent one, else from the result code.
// It returns nil for errors that are not policy refusals.
func refusal(le *ldap.Error) *directory.RefusedError {
	if pc := ppolicyControl(le.Packet); pc != nil && pc.Error >= 0 {
		r, ok := ppolicyReasons[pc.Error]
		if !ok {
			r = directory.ReasonPolicy
		}
		return &directory.RefusedError{Reason: r, Detail: reasonDetail[r] + serverSaid(le)}
	}
	if le.ResultCode != ldap.LDAPResultConstraintViolation && le.ResultCode != ldap.LDAPResultUnwillingToPerform {
		return nil
	}
	// No control (a server without ppolicy, or a proxy that drops it): the
	// diagnostic text is the only clue left.
	diag := strings.ToLower(le.Err.Error())
	r := directory.ReasonPolicy
	switch {
	case strings.Contains(diag, "too short"):
		r = directory.ReasonTooShort
	case strings.Contains(diag, "history"):
		r = directory.ReasonHistory
	case strings.Contains(diag, "too young"):
		r = directory.ReasonTooYoung
	case strings.Contains(diag, "quality"):
		r = directory.ReasonQuality
	}
	return &directory.RefusedError{Reason: r, Detail: reasonDetail[r] + serverSaid(le)}
}

// serverSaid quotes the server's diagnostic message, which names the rule
// and never the password.
func serverSaid(le *ldap.Error) string {
	if le.Err == nil || le.Err.Error() == "" {
		return ""
	}
	return fmt.Sprintf(" (server: %q)", le.Err.Error())
}

// ppolicyControl finds the ppolicy response control in an LDAP message.
func ppolicyControl(packet *ber.Packet) *ldap.ControlBeheraPasswordPolicy {
	if packet == nil || len(packet.Children) < 3 {
		return nil
	}
	ctrls := packet.Children[2]
	if ctrls.ClassType != ber.ClassContext || ctrls.Tag != 0 {
		return nil
	}
	for _, child := range ctrls.Children {
		c, err := ldap.DecodeControl(child)
		if err != nil {
			continue
		}
		if pc, ok := c.(*ldap.ControlBeheraPasswordPolicy); ok {
			return pc
		}
	}
	return nil
}

// Unlock implements directory.Directory: it deletes pwdAccountLockedTime
// and pwdFailureTime (so the next wrong password does not lock again). An
// administrator's lock (000001010000Z), a disabled or an expired account is
// refused with *directory.HeldError.
func (d *Directory) Unlock(ctx context.Context, u directory.User) error {
	return d.op(ctx, "unlock", func(c *ldap.Conn, sent *bool) error {
		e, err := d.entry(c, u, d.holdAttrs(attrFailureTime)...)
		if err != nil {
			return err
		}
		if err := d.refuseProtected(c, e.DN); err != nil {
			return err
		}
		if err := d.refuseHeld(e); err != nil {
			return err
		}
		for _, attr := range []string{attrLockedTime, attrFailureTime} {
			if len(e.GetAttributeValues(attr)) == 0 {
				continue
			}
			*sent = true
			m := ldap.NewModifyRequest(e.DN, nil)
			m.Delete(attr, nil)
			err := c.Modify(m)
			switch {
			case err == nil, ldap.IsErrorWithCode(err, ldap.LDAPResultNoSuchAttribute):
			case attr == attrFailureTime && ldap.IsErrorWithCode(err, ldap.LDAPResultConstraintViolation):
				// slapd 2.5 marks pwdFailureTime "no user modification";
				// clearing pwdAccountLockedTime already unlocked the account.
			default:
				return err
			}
		}
		return nil
	})
}
