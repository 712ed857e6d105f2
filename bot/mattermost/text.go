package mattermost

import (
	"strings"
	"unicode/utf8"
)

// Catalog IDs of the widgets' words. The catalog has no channel-neutral
// names for them yet; the Slack ones say nothing Slack-specific and are
// translated in every language, so they are reused here (one place to
// change when the catalog gains chat.* names).
const (
	msgButtonCode     = "slack.button.code"
	msgButtonPassword = "slack.button.password"
	msgButtonAnswer   = "slack.button.answer"
	msgTitleCode      = "slack.modal.code_title"
	msgTitlePassword  = "slack.modal.password_title"
	msgTitleAnswer    = "slack.modal.answer_title"
	msgLabelCode      = "slack.modal.code_label"
	msgLabelConfirm   = "slack.modal.confirm_label"
	msgSubmit         = "slack.modal.submit"
	msgRefused        = "slack.refused"
	msgNotAllowed     = "slack.not_allowed"
	msgOpenSetup      = "slack.button.open_setup"
	msgBusy           = "common.busy"
	msgHandoffIntro   = "slack.handoff.intro"
	msgFallback       = "common.fallback"
	// The two texts below are this channel's own: it deletes a code or a
	// password typed into the DM, which no other chat channel can do.
	msgCodeDeleted   = "mattermost.code_deleted"
	msgSecretDeleted = "mattermost.secret_deleted"
)

// own are the English texts of this channel's own messages, used until the
// catalog carries them (a catalog entry, in any language, takes over).
var own = map[string]string{
	msgCodeDeleted: "I deleted your message with the code from this chat, so that it does not stay in the " +
		"history. Next time, use the Enter code button: it opens a masked form.",
	msgSecretDeleted: "I deleted your message from this chat and did not use it: passwords and answers are " +
		"typed only into the masked form. Please use the button below.",
}

// haser is the catalog's Has (core/messages.Catalog).
type haser interface{ Has(id string) bool }

// text renders a catalogued message in loc.
func (b *Bot) text(loc, id string, args map[string]string) string {
	if s, ok := own[id]; ok {
		if h, can := b.o.Messages.(haser); !can || !h.Has(id) {
			return s
		}
	}
	return b.o.Messages.Text(loc, id, false, args)
}

// markdown escapes a catalog text for a Mattermost post, which renders
// Markdown: the arguments of a message (a login someone typed, an address)
// must not become links, formatting or mentions. Mentions are broken with
// a zero-width space after '@'; the post also sets disable_group_highlight.
var markdown = strings.NewReplacer(
	`\`, `\\`, "*", `\*`, "_", `\_`, "~", `\~`, "`", "\\`", "[", `\[`, "]", `\]`,
	"(", `\(`, ")", `\)`, "#", `\#`, ">", `\>`, "<", `\<`, "|", `\|`, "!", `\!`,
	"@", "@\u200b", ":", `\:`,
)

func escape(s string) string { return markdown.Replace(s) }

// clip shortens s to at most n runes.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
