package zalo

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/sangkien/sangkien/integrations/zalo/zalotest"
)

// TestOAID: the start asks Zalo which OA the tokens belong to, refreshing a token Zalo
// refuses as a send does, and says what went wrong when Zalo does not answer.
func TestOAID(t *testing.T) {
	fresh := &Token{Access: zalotest.AccessToken, Refresh: zalotest.RefreshToken, Expires: fixedNow().Add(24 * time.Hour)}
	t.Run("valid token", func(t *testing.T) {
		c, api, _ := newTestClient(t, fresh, nil)
		if id, err := c.oaID(context.Background()); err != nil || id != zalotest.OAID {
			t.Errorf("oaID = %q, %v; want %s", id, err, zalotest.OAID)
		}
		if n := len(api.Refreshes()); n != 0 {
			t.Errorf("%d refreshes for a valid token", n)
		}
	})
	t.Run("token voided", func(t *testing.T) {
		c, api, _ := newTestClient(t, fresh, nil)
		api.ExpireAccess()
		if id, err := c.oaID(context.Background()); err != nil || id != zalotest.OAID {
			t.Errorf("oaID = %q, %v; want %s after a refresh", id, err, zalotest.OAID)
		}
		if r := api.Refreshes(); len(r) != 1 || !r[0].OK {
			t.Errorf("refreshes = %+v, want one that worked", r)
		}
	})
	t.Run("zalo down", func(t *testing.T) {
		c, api, _ := newTestClient(t, fresh, nil)
		down := http.NewServeMux() // every call answers 502, as a proxy in front of a Zalo that is down
		down.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadGateway) })
		api.Config.Handler = down
		if id, err := c.oaID(context.Background()); err == nil || id != "" {
			t.Errorf("oaID = %q, %v; want an error", id, err)
		}
	})
}
