package slack

import (
	"encoding/json"
	"errors"
	"net/url"
	"sync"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

var errMalformed = errors.New("slack: malformed payload")

// eventBody is the part of an Events API body the bot reads: the envelope
// and the fields of the inner events it serves (message.im, app_mention
// and app_home_opened), decoded in one pass.
type eventBody struct {
	Type         string `json:"type"`
	Challenge    string `json:"challenge"`
	TeamID       string `json:"team_id"`
	EnterpriseID string `json:"enterprise_id"`
	APIAppID     string `json:"api_app_id"`
	EventID      string `json:"event_id"`
	Event        *struct {
		Type        string `json:"type"`
		User        string `json:"user"`
		Text        string `json:"text"`
		Channel     string `json:"channel"`
		ChannelType string `json:"channel_type"`
		BotID       string `json:"bot_id"`
		SubType     string `json:"subtype"`
		TimeStamp   string `json:"ts"`
		Tab         string `json:"tab"`
	} `json:"event"`
}

// parseEvent decodes an Events API body that has already been authenticated
// with the signing secret (the legacy verification token is not used). It
// decodes the JSON once, where slackevents.ParseEvent decodes the envelope
// and then the inner event again, and builds the same slackevents values the
// Socket Mode client hands over, for inner events the bot serves.
func parseEvent(body []byte) (slackevents.EventsAPIEvent, error) {
	eb := getEventBody()
	defer putEventBody(eb)
	if err := json.Unmarshal(body, eb); err != nil {
		return slackevents.EventsAPIEvent{}, errors.Join(errMalformed, err)
	}
	ev := slackevents.EventsAPIEvent{Type: eb.Type, TeamID: eb.TeamID, EnterpriseID: eb.EnterpriseID, APIAppID: eb.APIAppID}
	switch eb.Type {
	case slackevents.URLVerification:
		ev.Data = &slackevents.EventsAPIURLVerificationEvent{Type: eb.Type, Challenge: eb.Challenge}
	case slackevents.CallbackEvent:
		if eb.Event == nil {
			return slackevents.EventsAPIEvent{}, errMalformed
		}
		ev.Data = &slackevents.EventsAPICallbackEvent{Type: eb.Type, TeamID: eb.TeamID, EnterpriseID: eb.EnterpriseID,
			APIAppID: eb.APIAppID, EventID: eb.EventID}
		in := eb.Event
		ev.InnerEvent = slackevents.EventsAPIInnerEvent{Type: in.Type}
		switch in.Type {
		case string(slackevents.Message):
			ev.InnerEvent.Data = &slackevents.MessageEvent{Type: in.Type, User: in.User, Text: in.Text,
				Channel: in.Channel, ChannelType: in.ChannelType, BotID: in.BotID, SubType: in.SubType, TimeStamp: in.TimeStamp}
		case string(slackevents.AppHomeOpened):
			ev.InnerEvent.Data = &slackevents.AppHomeOpenedEvent{Type: in.Type, User: in.User, Channel: in.Channel, Tab: in.Tab}
		case string(slackevents.AppMention):
			ev.InnerEvent.Data = &slackevents.AppMentionEvent{Type: in.Type, User: in.User, Text: in.Text,
				Channel: in.Channel, BotID: in.BotID, TimeStamp: in.TimeStamp}
		}
	case "":
		return slackevents.EventsAPIEvent{}, errMalformed
	}
	return ev, nil
}

// eventBodies holds zeroed eventBody values: json.Unmarshal moves the one
// it decodes into to the heap, once per event otherwise. parseEvent copies
// the decoded fields (strings, immutable) out and keeps no pointer into it.
var eventBodies = sync.Pool{New: func() any { return new(eventBody) }}

func getEventBody() *eventBody { return eventBodies.Get().(*eventBody) } //nolint:forcetypeassert // only *eventBody is put

func putEventBody(eb *eventBody) {
	*eb = eventBody{}
	eventBodies.Put(eb)
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
	// One copy of the payload (often several KiB of blocks) for both the
	// check and the decoding.
	p := []byte(form.Get("payload"))
	if len(p) == 0 || !json.Valid(p) {
		return ic, errMalformed
	}
	if err := json.Unmarshal(p, &ic); err != nil {
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
