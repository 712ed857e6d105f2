package slack

import "context"

// userInfo is the part of a users.info user that profile reads; the names
// are slack-go's User JSON tags.
type userInfo struct {
	TeamID            string `json:"team_id"`
	Deleted           bool   `json:"deleted"`
	IsBot             bool   `json:"is_bot"`
	IsAppUser         bool   `json:"is_app_user"`
	IsRestricted      bool   `json:"is_restricted"`
	IsUltraRestricted bool   `json:"is_ultra_restricted"`
	IsStranger        bool   `json:"is_stranger"`
	IsEmailConfirmed  bool   `json:"is_email_confirmed"`
	Locale            string `json:"locale"`
	Profile           struct {
		Email string `json:"email"`
	} `json:"profile"`
}

// usersInfo is users.info with include_locale, written here rather than
// through slack-go's GetUserInfoContext because a new user's first turn
// goes through it: slack-go builds a generic form and decodes the whole
// user object (dozens of fields, images, custom profile fields), 12-18% of
// serve's CPU when every turn is a new user's. The request is the one
// slack-go sends, byte for byte: its url.Values sorted by key.
func (b *Bot) usersInfo(ctx context.Context, user string) (userInfo, error) {
	// The token is revealed only to write this form (see callForm).
	token := b.o.Config.BotToken.Reveal()
	form := make([]byte, 0, len("include_locale=true&token=&user=")+escapedLen(token)+escapedLen(user))
	form = appendQueryEscape(append(form, "include_locale=true&token="...), token)
	form = appendQueryEscape(append(form, "&user="...), user)
	var out struct {
		apiStatus
		User userInfo `json:"user"`
	}
	if err := b.callForm(ctx, "users.info", form, &out); err != nil {
		return userInfo{}, err
	}
	return out.User, nil
}
