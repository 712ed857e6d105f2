package ad

import (
	"encoding/binary"
	"unicode/utf16"

	"github.com/resetbot/resetbot/core/secret"
)

// unicodePwd encodes a password for AD's unicodePwd attribute: the password
// wrapped in double quotes, as UTF-16LE (characters outside the BMP, such as
// emoji, become surrogate pairs). Nothing is trimmed or normalised.
func unicodePwd(pw secret.String) string {
	q := utf16.Encode([]rune(`"` + pw.Reveal() + `"`))
	b := make([]byte, 2*len(q))
	for i, c := range q {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
	return string(b)
}
