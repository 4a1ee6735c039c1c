// Package webhook reads a provider's webhook request the way every channel must: POST
// only, a bounded body, and answers that tell the provider what went wrong (405, 413,
// 400) so it stops redelivering what can never be taken.
package webhook

import (
	"errors"
	"io"
	"net/http"
)

// IsPost reports whether r is a POST, and answers 405 when it is not.
func IsPost(rw http.ResponseWriter, r *http.Request) bool {
	if r.Method == http.MethodPost {
		return true
	}
	rw.Header().Set("Allow", http.MethodPost)
	http.Error(rw, "method not allowed", http.StatusMethodNotAllowed)
	return false
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
