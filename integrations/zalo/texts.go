package zalo

import (
	"sync"

	"github.com/sangkien/sangkien/locales"
)

// catalog holds the adapter's own texts, which live in locales like every other text.
// The message files are embedded and checked by their tests, so loading cannot fail at
// run time unless the build itself is broken.
var catalog = sync.OnceValue(func() *locales.Catalog {
	c, err := locales.New()
	if err != nil {
		panic("zalo: embedded locales: " + err.Error())
	}
	return c
})

// text renders message id in the citizen's language ("vi", "en").
func text(lang, id string) string {
	return catalog().For(locales.Normalize(lang)).T(id)
}
