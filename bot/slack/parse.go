package slack

import (
	"encoding/json"
	"errors"
	"net/url"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

var errMalformed = errors.New("slack: malformed payload")

// parseEvent decodes an Events API body that has already been authenticated
// with the signing secret (hence OptionNoVerifyToken: the legacy verification
// token is not used).
func parseEvent(body []byte) (slackevents.EventsAPIEvent, error) {
	if !json.Valid(body) {
		return slackevents.EventsAPIEvent{}, errMalformed
	}
	ev, err := slackevents.ParseEvent(json.RawMessage(body), slackevents.OptionNoVerifyToken())
	if err != nil {
		return slackevents.EventsAPIEvent{}, errors.Join(errMalformed, err)
	}
	return ev, nil
}

// challenge returns the url_verification challenge, if ev is one.
func challenge(ev slackevents.EventsAPIEvent) (string, bool) {
	if ev.Type != slackevents.URLVerification {
		return "", false
	}
	v, ok := ev.Data.(*slackevents.EventsAPIURLVerificationEvent)
	if !ok || v == nil {
		return "", false
	}
	return v.Challenge, true
}

// parseInteraction decodes the form body of an interactivity request
// (payload=<json>). It reads only the body: the query string is ignored.
func parseInteraction(body []byte) (slack.InteractionCallback, error) {
	var ic slack.InteractionCallback
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return ic, errMalformed
	}
	p := form.Get("payload")
	if p == "" || !json.Valid([]byte(p)) {
		return ic, errMalformed
	}
	if err := json.Unmarshal([]byte(p), &ic); err != nil {
		return ic, errors.Join(errMalformed, err)
	}
	if ic.User.ID == "" || ic.Type == "" {
		return ic, errMalformed
	}
	return ic, nil
}

// parseCommand decodes a slash command's form body.
func parseCommand(body []byte) (slack.SlashCommand, error) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return slack.SlashCommand{}, errMalformed
	}
	c := slack.SlashCommand{TeamID: form.Get("team_id"), ChannelID: form.Get("channel_id"),
		ChannelName: form.Get("channel_name"), UserID: form.Get("user_id"), Command: form.Get("command"),
		Text: form.Get("text"), TriggerID: form.Get("trigger_id"), APIAppID: form.Get("api_app_id"),
		EnterpriseID: form.Get("enterprise_id")}
	if c.UserID == "" || c.Command == "" {
		return c, errMalformed
	}
	return c, nil
}
