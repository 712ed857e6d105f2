package audit

import "strings"

// Mask is the run of dots that stands for the hidden part of a destination.
const Mask = "•••"

// MaskPhone hides all but the last four digits of a phone number:
// "+15550100101" becomes "•••0101". Numbers with fewer than eight digits show
// no digits at all, because four of seven would reveal too much.
func MaskPhone(e164 string) string {
	digits := make([]byte, 0, len(e164))
	for i := 0; i < len(e164); i++ {
		if c := e164[i]; c >= '0' && c <= '9' {
			digits = append(digits, c)
		}
	}
	if len(digits) < 8 {
		return Mask
	}
	return Mask + string(digits[len(digits)-4:])
}

// MaskEmail keeps the first character of the local part and the domain:
// "alice@corp.example" becomes "a•••@corp.example". Anything that is not an
// address is masked entirely.
func MaskEmail(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 || at == len(addr)-1 {
		return Mask
	}
	local, domain := addr[:at], addr[at+1:]
	first := []rune(local)[0]
	if strings.ContainsAny(domain, " \t\r\n<>\"") || first < ' ' {
		return Mask
	}
	return string(first) + Mask + "@" + domain
}

// MaskDestination masks an e-mail address with MaskEmail and anything else as
// a phone number with MaskPhone.
func MaskDestination(to string) string {
	if strings.Contains(to, "@") {
		return MaskEmail(to)
	}
	return MaskPhone(to)
}
