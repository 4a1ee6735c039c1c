package bottest

import (
	"testing"

	"github.com/sangkien/sangkien/locales"
)

// Catalog builds the locales catalog, as the gateway does once at start.
func Catalog(t testing.TB) *locales.Catalog {
	t.Helper()
	cat, err := locales.New()
	if err != nil {
		t.Fatalf("bottest: locales: %v", err)
	}
	return cat
}
