package plugin

// PublicURLChecker is a Checker that also knows the server's public base URL
// (server.public_url). The configuration framework's checker is one; a
// plug-in that serves webhooks or pages asks for it through PublicURL, so
// Checker itself stays the same for every plug-in and every test fake.
type PublicURLChecker interface {
	Checker
	// PublicURL is server.public_url, "" when unset.
	PublicURL() string
}

// PublicURL returns the server's public base URL as c knows it, and false
// when c cannot say (a checker outside a configuration load): checks that
// depend on it are then skipped rather than guessed.
func PublicURL(c Checker) (string, bool) {
	u, ok := c.(PublicURLChecker)
	if !ok {
		return "", false
	}
	return u.PublicURL(), true
}
