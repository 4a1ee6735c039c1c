package zalo

import (
	"github.com/sangkien/sangkien/locales"
)

// texts renders the adapter's own texts, which live in locales like every other text.
// The catalog is the one the gateway built at start and passes to every part that speaks.
type texts struct {
	cat *locales.Catalog
}

// text renders message id in the citizen's language ("vi", "en").
func (t texts) text(lang, id string) string {
	return t.cat.For(locales.Normalize(lang)).T(id)
}
