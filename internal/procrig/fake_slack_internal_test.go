package procrig

import (
	"net/url"
	"testing"
)

// TestFormValuesIsParseQuery holds the fake's lazy form lookup to what
// url.ParseQuery(...).Get returns for the fields it reads.
func TestFormValuesIsParseQuery(t *testing.T) {
	form := "token=xoxb-1&channel=D%20U1&text=hello+there%21&blocks=%5B%7B%22type%22%3A%22section%22%7D%5D&channel=second"
	want, err := url.ParseQuery(form)
	if err != nil {
		t.Fatal(err)
	}
	get := formValues(form)
	for _, k := range []string{"token", "channel", "text", "blocks", "user", ""} {
		if got := get(k); got != want.Get(k) {
			t.Errorf("%q: got %q, want %q", k, got, want.Get(k))
		}
	}
}
