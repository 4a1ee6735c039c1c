package telegram

import "strings"

// textKey names one of the few texts the adapter writes itself. The design keeps
// locales out of channel adapters' imports, and these are channel furniture (button
// labels of Telegram's request keyboards, the group-chat notice), not conversation.
type textKey int

const (
	shareContact textKey = iota
	shareLocation
	privateOnly
)

var texts = map[textKey][2]string{ // [Vietnamese, English]
	shareContact:  {"📱 Gửi số điện thoại của tôi", "📱 Share my phone number"},
	shareLocation: {"📍 Gửi vị trí của tôi", "📍 Share my location"},
	privateOnly: {
		"Xin chào! Để gửi sáng kiến hoặc góp ý, vui lòng nhắn riêng cho bot",
		"Hello! To send an initiative or feedback, please message the bot in a private chat",
	},
}

// text picks the English text for "en…" languages and Vietnamese otherwise.
func text(lang string, k textKey) string {
	t := texts[k]
	if strings.HasPrefix(strings.ToLower(lang), "en") {
		return t[1]
	}
	return t[0]
}

// groupNotice is the one answer a group chat gets: both languages, since a group has
// no single language, and a link to the private chat when the bot's username is known.
func groupNotice(username string) string {
	vi, en := texts[privateOnly][0], texts[privateOnly][1]
	if username == "" {
		return vi + ".\n" + en + "."
	}
	link := "https://t.me/" + username
	return vi + ": " + link + "\n" + en + ": " + link
}
