package teams

import (
	"encoding/base64"
	"errors"
	"strings"
	"time"

	"github.com/infracloudio/msbotbuilder-go/schema"

	"github.com/resetbot/resetbot/core/engine"
	"github.com/resetbot/resetbot/core/secret"
	"github.com/resetbot/resetbot/core/token"
)

// Card field and data names. Every button carries a signed token in tokenKey;
// typed answers come back in the input fields.
const (
	tokenKey    = "rb_tok"
	fieldText   = "rb_text"
	fieldPass   = "rb_pw"
	fieldPass2  = "rb_pw2"
	executeVerb = "resetbot"
	// tokenPurpose binds card tokens to this channel's cards.
	tokenPurpose = "teams.card"
	// Token values: a choice ID after "c:", or the kind of form.
	valueChoice = "c:"
	valueText   = "f:text"
	valueSecret = "f:secret"

	contentTypeCard = "application/vnd.microsoft.card.adaptive"
)

// errCardToken means a submitted card's token is missing, forged, expired or
// another user's; the input is ignored.
var errCardToken = errors.New("teams: card token refused")

// Renderer renders catalogued messages.
type Renderer interface {
	Text(locale, id string, voice bool, args map[string]string) string
}

// Signer signs and verifies card tokens (core/token).
type Signer interface {
	Sign(c token.Claims) string
	Verify(tok, purpose, user string) (token.Claims, error)
}

// cards renders neutral replies as Adaptive Cards.
type cards struct {
	msg    Renderer
	tokens Signer
	style  string // ActionsSubmit or ActionsExecute
	ttl    time.Duration
	now    func() time.Time
}

// card renders a reply for user. With live false the card is "frozen": texts
// only, no inputs, no buttons and no image (what stays in the chat history).
func (c *cards) card(r engine.Reply, locale, user string, live bool) map[string]any {
	if r.Locale != "" {
		// The conversation's language (a language word, the directory's
		// preferred language) wins over the Teams client locale.
		locale = r.Locale
	}
	body := []any{}
	for _, o := range r.Outputs {
		tb := map[string]any{"type": "TextBlock", "wrap": true, "text": c.msg.Text(locale, o.MessageID, false, o.Args)}
		if o.Error {
			tb["color"] = "attention"
		}
		body = append(body, tb)
		if a := o.Attachment; a != nil && live {
			body = append(body, c.attachment(a, locale)...)
		}
	}
	card := map[string]any{
		"type":    "AdaptiveCard",
		"$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
		"version": "1.4",
		"body":    body,
	}
	if !live || r.Ended {
		return card
	}
	ex := r.Last().Expect
	var actions []any
	switch ex.Kind {
	case engine.ExpectChoice:
		for _, ch := range ex.Choices {
			actions = append(actions, c.action(c.msg.Text(locale, ch.MessageID, false, nil), user, r.Step, valueChoice+ch.ID))
		}
	case engine.ExpectText, engine.ExpectDigits:
		in := map[string]any{"type": "Input.Text", "id": fieldText, "isRequired": true,
			"label": c.label(locale, ex.FieldID, "teams.answer_field"), "maxLength": 256}
		if ex.Kind == engine.ExpectDigits && ex.MaxDigits > 0 {
			in["maxLength"] = ex.MaxDigits
		}
		body = append(body, in)
		actions = append(actions, c.action(c.msg.Text(locale, "teams.send", false, nil), user, r.Step, valueText))
	case engine.ExpectSecret:
		// Masked entry: the password never appears in the chat history, and
		// the card is replaced after the submit.
		body = append(body, map[string]any{"type": "Input.Text", "id": fieldPass, "style": "password", "isRequired": true,
			"label": c.label(locale, ex.FieldID, "password.field"), "maxLength": 512})
		if ex.Confirm {
			body = append(body, map[string]any{"type": "Input.Text", "id": fieldPass2, "style": "password", "isRequired": true,
				"label": c.msg.Text(locale, "teams.password_again", false, nil), "maxLength": 512})
		}
		actions = append(actions, c.action(c.msg.Text(locale, "teams.send", false, nil), user, r.Step, valueSecret))
	}
	if ex.Kind != engine.ExpectChoice {
		// Side choices next to a field ("use a text message instead",
		// "different account") are buttons beside its Send button.
		for _, ch := range ex.Choices {
			actions = append(actions, c.action(c.msg.Text(locale, ch.MessageID, false, nil), user, r.Step, valueChoice+ch.ID))
		}
	}
	if r.Flow != "" && r.Last().MessageID != engine.MsgRateAsk { // the flow is done: nothing to cancel
		actions = append(actions, c.action(c.msg.Text(locale, "teams.cancel", false, nil), user, r.Step, valueChoice+engine.ChoiceCancel))
	}
	card["body"] = body
	if len(actions) > 0 {
		card["actions"] = actions
	}
	return card
}

func (c *cards) label(locale, id, def string) string {
	if id == "" {
		id = def
	}
	return c.msg.Text(locale, id, false, nil)
}

// attachment shows an enrollment page link, or (chat delivery) an enrollment
// QR as a data: URI image (it never touches a URL that could be fetched or
// logged), which disappears when the card is replaced. A setup key is shown
// only if one is left in the attachment (prepareEnroll removes it).
func (c *cards) attachment(a *engine.Attachment, locale string) []any {
	var out []any
	if a.Kind == attachmentLink {
		// The enrollment page: a plain link, opened in the browser. The page
		// consumes nothing on GET, so link checkers cannot spend it.
		return append(out, map[string]any{"type": "ActionSet", "actions": []any{map[string]any{
			"type": "Action.OpenUrl", "title": c.msg.Text(locale, "teams.open_setup", false, nil), "url": a.Text.Reveal()}}})
	}
	if len(a.PNG) > 0 {
		out = append(out, map[string]any{"type": "Image", "size": "Large",
			"altText": c.msg.Text(locale, "teams.qr_alt", false, nil),
			"url":     "data:image/png;base64," + base64.StdEncoding.EncodeToString(a.PNG)})
	}
	if !a.Text.Empty() {
		out = append(out, map[string]any{"type": "TextBlock", "wrap": true, "fontType": "Monospace",
			"text": c.msg.Text(locale, "teams.setup_key", false, map[string]string{"key": a.Text.Reveal()})})
	}
	return out
}

// action is a button whose data carries a token signed for (user, state,
// value): a forged, replayed-late or foreign click is refused.
func (c *cards) action(title, user, state, value string) map[string]any {
	tok := c.tokens.Sign(token.Claims{Purpose: tokenPurpose, User: user, State: state, Value: value,
		Expires: c.now().Add(c.ttl)})
	data := map[string]any{tokenKey: tok}
	if c.style == ActionsExecute {
		return map[string]any{"type": "Action.Execute", "title": title, "verb": executeVerb, "data": data}
	}
	return map[string]any{"type": "Action.Submit", "title": title, "data": data}
}

// attachmentOf wraps a card for an activity.
func attachmentOf(card map[string]any) []schema.Attachment {
	return []schema.Attachment{{ContentType: contentTypeCard, Content: card}}
}

// submitData is what a card sends back: the token and any inputs. With
// Action.Execute it is nested in action.data.
type submitData struct {
	Token  string        `json:"rb_tok"`
	Text   secret.String `json:"rb_text"`
	Pass   secret.String `json:"rb_pw"`
	Pass2  secret.String `json:"rb_pw2"`
	Action *struct {
		Verb string      `json:"verb"`
		Data *submitData `json:"data"`
	} `json:"action"`
}

// input turns submitted card data into an engine input after checking its
// token for this user.
func (c *cards) input(d submitData, user string) (engine.Input, error) {
	if d.Action != nil && d.Action.Data != nil {
		d = *d.Action.Data
	}
	if d.Token == "" {
		return engine.Input{}, errCardToken
	}
	cl, err := c.tokens.Verify(d.Token, tokenPurpose, user)
	if err != nil {
		return engine.Input{}, errors.Join(errCardToken, err)
	}
	switch {
	case strings.HasPrefix(cl.Value, valueChoice):
		return engine.Input{Kind: engine.InputChoice, Choice: strings.TrimPrefix(cl.Value, valueChoice), State: cl.State}, nil
	case cl.Value == valueText:
		return engine.Input{Kind: engine.InputText, Value: d.Text, State: cl.State}, nil
	case cl.Value == valueSecret:
		return engine.Input{Kind: engine.InputSecret, Value: d.Pass, Confirm: d.Pass2, State: cl.State}, nil
	}
	return engine.Input{}, errCardToken
}

// menu is the greeting: the flows on buttons, with no session yet.
func menu(flows []*engine.Flow) engine.Reply {
	choices := make([]engine.Choice, 0, len(flows))
	for _, f := range flows {
		choices = append(choices, engine.Choice{ID: "flow:" + f.Name, MessageID: f.MessageID})
	}
	return engine.Reply{Outputs: []engine.Output{{MessageID: engine.MsgMenu,
		Expect: engine.Expect{Kind: engine.ExpectChoice, Choices: choices}}}}
}
