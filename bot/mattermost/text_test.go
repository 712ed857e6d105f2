package mattermost

import (
	"testing"

	"github.com/resetbot/resetbot/core/messages"
)

// TestMessagesCatalogued: every text the channel shows is a catalog
// message (none is kept in this package), and the channel's own notes are
// translated in every language, not English shown to everyone.
func TestMessagesCatalogued(t *testing.T) {
	cat, err := messages.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{msgButtonCode, msgButtonPassword, msgButtonAnswer, msgTitleCode, msgTitlePassword,
		msgTitleAnswer, msgLabelCode, msgLabelConfirm, msgSubmit, msgRefused, msgNotAllowed, msgOpenSetup, msgBusy,
		msgHandoffIntro, msgFallback, msgCodeDeleted, msgSecretDeleted} {
		if !cat.Has(id) {
			t.Errorf("%s is not in the catalog", id)
		}
	}
	for _, id := range []string{msgCodeDeleted, msgSecretDeleted} {
		en, _ := cat.Template("en", id, messages.Chat)
		for _, lang := range cat.Languages()[1:] {
			if got, ok := cat.Template(lang, id, messages.Chat); !ok || got == en {
				t.Errorf("%s is not translated into %s", id, lang)
			}
		}
	}
}
