package mattermost

import (
	"strings"
	"unicode/utf8"
)

// Catalog IDs of the widgets' words and notes: the chat.* ones are shared
// with the other chat channels that show buttons and forms (bot/slack);
// the mattermost.* ones are this channel's own.
const (
	msgButtonCode     = "chat.button.code"
	msgButtonPassword = "chat.button.password"
	msgButtonAnswer   = "chat.button.answer"
	msgTitleCode      = "chat.form.code_title"
	msgTitlePassword  = "chat.form.password_title"
	msgTitleAnswer    = "chat.form.answer_title"
	msgLabelCode      = "chat.form.code_label"
	msgLabelConfirm   = "chat.form.confirm_label"
	msgSubmit         = "chat.form.submit"
	msgRefused        = "chat.refused"
	msgNotAllowed     = "chat.not_allowed"
	msgOpenSetup      = "chat.button.open_setup"
	msgBusy           = "common.busy"
	msgHandoffIntro   = "chat.handoff.intro"
	msgFallback       = "common.fallback"
	// This channel deletes a code or a password typed into the DM, which
	// no other chat channel can do; these two say so.
	msgCodeDeleted   = "mattermost.code_deleted"
	msgSecretDeleted = "mattermost.secret_deleted"
)

// text renders a catalogued message in loc.
func (b *Bot) text(loc, id string, args map[string]string) string {
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
