package telegram

import (
	"sync"

	"github.com/sangkien/sangkien/locales"
)

// catalog holds the adapter's own few texts (the labels of Telegram's request
// keyboards, the group-chat notice), which live in locales like every other text.
// The message files are embedded and checked by their tests, so loading cannot fail
// at run time unless the build itself is broken.
var catalog = sync.OnceValue(func() *locales.Catalog {
	c, err := locales.New()
	if err != nil {
		panic("telegram: embedded locales: " + err.Error())
	}
	return c
})

// text renders message id in the language of a channel hint ("en", "vi", "en-US").
func text(lang, id string) string {
	return catalog().For(locales.Normalize(lang)).T(id)
}

// groupNotice is the one answer a group chat gets: both languages, since a group has
// no single language, with a link to the private chat when the bot's username is known.
func groupNotice(username string) string {
	id := "telegram.private_only"
	data := map[string]any{}
	if username != "" {
		id = "telegram.private_only_link"
		data["Link"] = "https://t.me/" + username
	}
	c := catalog()
	return c.For(locales.VI).T(id, data) + "\n" + c.For(locales.EN).T(id, data)
}
