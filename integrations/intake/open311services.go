package intake

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	json "github.com/go-json-experiment/json/v1"

	"github.com/sangkien/sangkien/bot"
)

// A GeoReport server says which attributes each service takes: services.json lists the
// services, and a service with "metadata": true has a definition at
// services/{code}.json. attribute[code] is only for the codes it declares.

// serviceDefinition is what the client knows of one service: the attributes it
// declares, by code. A service without metadata declares none.
type serviceDefinition struct {
	Code       string
	Attributes map[string]serviceAttribute
}

// serviceAttribute is one attribute of a service definition.
type serviceAttribute struct {
	Variable bool       `json:"variable"`
	Code     flexString `json:"code"`
	Datatype string     `json:"datatype"`
	Required bool       `json:"required"`
	Order    int        `json:"order"`
	Values   []struct {
		Key  flexString `json:"key"`
		Name string     `json:"name"`
	} `json:"values"`
}

// takes reports whether the attribute can carry v as its datatype says.
func (a serviceAttribute) takes(v string) bool {
	if !a.Variable {
		return false // shown to the user only, never answered
	}
	switch a.Datatype {
	case "string":
		return !strings.ContainsAny(v, "\r\n")
	case "text":
		return true
	case "number":
		_, err := strconv.ParseFloat(v, 64)
		return err == nil
	case "datetime":
		_, err := time.Parse(time.RFC3339, v)
		return err == nil
	case "singlevaluelist", "multivaluelist":
		for _, k := range a.Values {
			if string(k.Key) == v {
				return true
			}
		}
	}
	return false
}

// serviceCatalog fetches the service list and definitions and keeps them for TTL. A
// failed refresh keeps the last good copy (and tries again after retryFailed); without
// one, the delivery fails as the fetch did and is retried.
type serviceCatalog struct {
	base, jurisdiction string
	http               *http.Client
	log                *slog.Logger
	now                func() time.Time
	ttl                time.Duration
	classify           func(answer, string) *bot.SendError

	mu   sync.Mutex
	list cached[map[string]bool] // service code → metadata
	defs map[string]*cached[serviceDefinition]
}

// retryFailed is the pause before a failed refresh is tried again while the last good
// copy serves: a server that is down is asked once a minute, not once per submission.
const retryFailed = time.Minute

type cached[T any] struct {
	val     T
	ok      bool
	refresh time.Time // when to fetch again
}

// definition returns the definition of the service code, fetching what is stale.
func (c *serviceCatalog) definition(ctx context.Context, code string) (serviceDefinition, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	list, err := get(c, &c.list, "services.json", func() (map[string]bool, error) { return c.fetchList(ctx) })
	if err != nil {
		return serviceDefinition{}, err
	}
	metadata, ok := list[code]
	if !ok {
		return serviceDefinition{}, &bot.SendError{Failure: bot.Permanent, Code: http.StatusNotFound,
			Detail: fmt.Sprintf("service_code %q is not in the server's services.json", code)}
	}
	if !metadata {
		return serviceDefinition{Code: code}, nil
	}
	if c.defs == nil {
		c.defs = map[string]*cached[serviceDefinition]{}
	}
	d := c.defs[code]
	if d == nil {
		d = &cached[serviceDefinition]{}
		c.defs[code] = d
	}
	return get(c, d, "services/"+code+".json", func() (serviceDefinition, error) { return c.fetchDefinition(ctx, code) })
}

// get returns the cached value, fetching it when stale. A failed fetch with a good copy
// at hand logs once and keeps the copy until retryFailed.
func get[T any](c *serviceCatalog, e *cached[T], what string, fetch func() (T, error)) (T, error) {
	now := c.now()
	if e.ok && now.Before(e.refresh) {
		return e.val, nil
	}
	v, err := fetch()
	if err != nil {
		if e.ok {
			c.log.Warn("open311 refresh failed; keeping the last good copy", "what", what, "err", err,
				"next_try", retryFailed)
			e.refresh = now.Add(retryFailed)
			return e.val, nil
		}
		return v, err
	}
	e.val, e.ok, e.refresh = v, true, now.Add(c.ttl)
	return v, nil
}

// fetchList reads services.json: each service's code and whether it has a definition.
func (c *serviceCatalog) fetchList(ctx context.Context) (map[string]bool, error) {
	var services []struct {
		Code     flexString `json:"service_code"`
		Metadata flexBool   `json:"metadata"`
	}
	if err := c.get(ctx, "services.json", &services); err != nil {
		return nil, err
	}
	out := make(map[string]bool, len(services))
	for _, s := range services {
		out[string(s.Code)] = bool(s.Metadata)
	}
	return out, nil
}

// fetchDefinition reads services/{code}.json.
func (c *serviceCatalog) fetchDefinition(ctx context.Context, code string) (serviceDefinition, error) {
	var def struct {
		Code       flexString         `json:"service_code"`
		Attributes []serviceAttribute `json:"attributes"`
	}
	if err := c.get(ctx, "services/"+url.PathEscape(code)+".json", &def); err != nil {
		return serviceDefinition{}, err
	}
	out := serviceDefinition{Code: code, Attributes: make(map[string]serviceAttribute, len(def.Attributes))}
	for _, a := range def.Attributes {
		out.Attributes[string(a.Code)] = a
	}
	return out, nil
}

// get fetches path under the base URL into v; failures are *bot.SendError.
func (c *serviceCatalog) get(ctx context.Context, path string, v any) error {
	u := c.base + "/" + path
	if c.jurisdiction != "" {
		u += "?" + url.Values{"jurisdiction_id": {c.jurisdiction}}.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return fmt.Errorf("intake open311: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", userAgent)
	a, err := do(c.http, req)
	if err != nil {
		return err
	}
	if !isSuccess(a.status) {
		items, perr := parseOpen311(a.body)
		se := c.classify(a, path+": "+open311Detail(items, perr, a.body))
		return se
	}
	if err := json.Unmarshal(a.body, v); err != nil {
		// A server answering nonsense for its own catalog is down for now.
		return &bot.SendError{Failure: bot.Retryable, Code: a.status, Detail: path + ": unreadable answer", Err: err}
	}
	return nil
}

// flexBool is a boolean a server may send as true, "true" or 1.
type flexBool bool

func (b *flexBool) UnmarshalJSON(data []byte) error {
	switch string(data) {
	case "true", `"true"`, "1", `"1"`:
		*b = true
	case "false", `"false"`, "0", `"0"`, "null", `""`:
		*b = false
	default:
		return fmt.Errorf("%s is not a boolean", data)
	}
	return nil
}
