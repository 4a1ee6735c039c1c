package telegram

import (
	"github.com/sangkien/sangkien/locales"
)

// texts renders the adapter's own few texts (the labels of Telegram's request keyboards,
// the group-chat notice), which live in locales like every other text. The catalog is
// the one the gateway built at start and passes to every part that speaks.
type texts struct {
	cat *locales.Catalog
}

// text renders message id in the language of a channel hint ("en", "vi", "en-US").
func (t texts) text(lang, id string) string {
	return t.cat.For(locales.Normalize(lang)).T(id)
}

// groupNotice is the one answer a group chat gets: both languages, since a group has
// no single language, with a link to the private chat when the bot's username is known.
func (t texts) groupNotice(username string) string {
	id := "telegram.private_only"
	data := map[string]any{}
	if username != "" {
		id = "telegram.private_only_link"
		data["Link"] = "https://t.me/" + username
	}
	return t.cat.For(locales.VI).T(id, data) + "\n" + t.cat.For(locales.EN).T(id, data)
}
