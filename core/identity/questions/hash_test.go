package questions

import (
	"bytes"
	"strings"
	"testing"
)

func TestNormalise(t *testing.T) {
	tests := []struct {
		name    string
		a, b    string
		numeric bool
	}{
		{"trim and case", "  Fluffy ", "fluffy", false},
		{"upper", "FLUFFY", "fluffy", false},
		{"inner spaces", "Mr \t  Fluffy", "mr fluffy", false},
		{"full width", "Ｆｌｕｆｆｙ", "fluffy", false},
		{"fold sharp s", "Straße", "STRASSE", false},
		{"composed accent", "Caf\u00e9", "CAFE\u0301", false},
		{"ligature", "ﬁdo", "fido", false},
		{"numeric separators", "12-05 1984", "12051984", true},
		{"numeric full width", "１９８４", "1984", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if a, b := normalise(tt.a, tt.numeric), normalise(tt.b, tt.numeric); a != b {
				t.Errorf("normalise: %q != %q", a, b)
			}
		})
	}
	if normalise("fluffy", false) == normalise("fluffy2", false) {
		t.Error("different answers normalise alike")
	}
}

func TestPHC(t *testing.T) {
	p := Argon2Params{Time: 1, MemoryKiB: 64, Threads: 1, KeyLen: 32, SaltLen: 16}
	phc, err := hash([]byte("fluffy"), p, bytes.NewReader(bytes.Repeat([]byte{1}, 16)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(phc, "$argon2id$v=19$m=64,t=1,p=1$AQEBAQEBAQEBAQEBAQEBAQ$") {
		t.Fatalf("PHC = %q", phc)
	}
	if ok, err := matches([]byte("fluffy"), phc); !ok || err != nil {
		t.Errorf("right answer: %v, %v", ok, err)
	}
	if ok, err := matches([]byte("fluffz"), phc); ok || err != nil {
		t.Errorf("wrong answer: %v, %v", ok, err)
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=64,t=1,p=1$AQ$AQ", strings.Replace(phc, "v=19", "v=16", 1),
		strings.Replace(phc, "m=64", "m=99999999", 1), strings.Replace(phc, "p=1", "p=0", 1), phc + "$x"} {
		if _, err := matches([]byte("fluffy"), bad); err == nil {
			t.Errorf("malformed PHC %q accepted", bad)
		}
	}
}
