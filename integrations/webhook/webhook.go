// Package webhook reads a provider's webhook request the way every channel must: POST
// only, a request id for its log lines, a bounded body, and answers that tell the
// provider what went wrong (405, 413, 400) so it stops redelivering what can never be
// taken.
package webhook

import (
	"errors"
	"io"
	"net/http"

	"github.com/sangkien/sangkien/logging"
)

// RequestIDHeader names a request's id, in the request (from a proxy in front, kept
// when sane) and in the answer.
const RequestIDHeader = "X-Request-Id"

// Accept is what every webhook does first. It answers 405 to anything but a POST;
// otherwise it gives the request its id, the proxy's X-Request-Id when it is sane or a
// new one, in the answer's header and in the context of the request it returns, so that
// every line logged with that context (the channel's, the engine's, the flows') names it.
func Accept(rw http.ResponseWriter, r *http.Request) (*http.Request, bool) {
	if r.Method != http.MethodPost {
		rw.Header().Set("Allow", http.MethodPost)
		http.Error(rw, "method not allowed", http.StatusMethodNotAllowed)
		return r, false
	}
	id := r.Header.Get(RequestIDHeader)
	if !saneID(id) {
		id = logging.NewRequestID()
	}
	rw.Header().Set(RequestIDHeader, id)
	return r.WithContext(logging.WithRequestID(r.Context(), id)), true
}

// saneID reports an id fit for a log line: 1 to 64 letters, digits and -_.:, which
// covers what proxies send (UUIDs, hex, nginx's $request_id) and keeps out anything
// that could forge a field or smuggle text into the logs.
func saneID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_' || c == '.' || c == ':') {
			return false
		}
	}
	return true
}

// ReadBody reads a webhook's body of at most max bytes. When it cannot, it has already
// answered (413 for a larger body, 400 for one that cannot be read) and returns false.
func ReadBody(rw http.ResponseWriter, r *http.Request, max int64) ([]byte, bool) {
	if r.ContentLength > max {
		http.Error(rw, "body too large", http.StatusRequestEntityTooLarge)
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(rw, r.Body, max))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(rw, "body too large", http.StatusRequestEntityTooLarge)
			return nil, false
		}
		http.Error(rw, "unreadable body", http.StatusBadRequest)
		return nil, false
	}
	return body, true
}
