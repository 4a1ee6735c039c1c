// Package console is the operator console: the staff accounts and their login, and (as
// it grows) the pages and JSON API under /console/ where city staff (cán bộ) answer
// citizens, take conversations over and hand them back.
package console
