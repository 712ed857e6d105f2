package twilio

// ConfigOf exposes configOf to the external tests, which may import the
// plug-in registry (package plugins imports this one).
var ConfigOf = configOf
