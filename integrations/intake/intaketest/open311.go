package intaketest

import (
	_ "embed"
	"fmt"
	"maps"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	json "github.com/go-json-experiment/json/v1"
)

// Open311Error is one element of a GeoReport v2 error array.
type Open311Error struct {
	Code        int    `json:"code"`
	Description string `json:"description"`
}

// Open311Answer scripts one answer to a POST requests.json.
type Open311Answer struct {
	// Status is the HTTP status; 0 means the normal success.
	Status int
	// Errors is answered as the GeoReport error array; Body, when set, replaces it.
	Errors     []Open311Error
	Body       string
	RetryAfter string
	Delay      time.Duration
}

// Open311Server is a fake GeoReport v2 server, as strict as the specification. It
// serves services.json and each service's definition (services/{code}.json), and checks
// the form a client posts: api_key (403), service_code (400 when missing, 404 when not
// in the list), a location (lat and long, address_string or address_id), a description
// of at most 4,000 characters without HTML, and attribute[code] only for the codes the
// service's definition declares as variable, each with a value its datatype takes, and
// every required one (400). It answers as the specification says: a
// service_request_id, or a token when AnswerWithTokens was called.
//
// Its services are those of testdata/open311/services.json, each defined by
// testdata/open311/definition-sangkien.json (every attribute docs/intake.md lists),
// until Services or Define changes them.
type Open311Server struct {
	Server *httptest.Server
	apiKey string

	mu         sync.Mutex
	script     []Open311Answer
	codes      []string // in services.json's order
	services   map[string]fakeService
	catalogErr int // status of services.json and definitions; 0: served
	fetches    int
	dedupe     bool
	tokenAfter int // polls before a token resolves; -1: never
	useTokens  bool
	posts      int
	ctypes     []string // Content-Type of every POST
	requests   []url.Values
	ids        map[string]string // attribute[submission_id] → service_request_id
	tokens     map[string]*token
}

// fakeService is one service: its services.json entry and its definition (nil when it
// has no metadata).
type fakeService struct {
	entry      map[string]any
	definition *definition
}

type definition struct {
	ServiceCode string      `json:"service_code"`
	Attributes  []attribute `json:"attributes"`
}

type attribute struct {
	Variable            bool    `json:"variable"`
	Code                string  `json:"code"`
	Datatype            string  `json:"datatype"`
	Required            bool    `json:"required"`
	DatatypeDescription *string `json:"datatype_description"`
	Order               int     `json:"order"`
	Description         string  `json:"description"`
	Values              []struct {
		Key  json.RawMessage `json:"key"` // a string or a number, served as given
		Name string          `json:"name"`
	} `json:"values,omitempty"`
}

var (
	//go:embed testdata/open311/services.json
	defaultServices []byte
	//go:embed testdata/open311/definition-sangkien.json
	sangkienDefinition []byte
)

type token struct {
	id    string
	polls int
}

// NewOpen311Server starts a fake GeoReport v2 server that accepts apiKey; it stops when
// the test ends. Its URL is the client's base URL.
func NewOpen311Server(t testing.TB, apiKey string) *Open311Server {
	t.Helper()
	s := &Open311Server{apiKey: apiKey, ids: map[string]string{}, tokens: map[string]*token{}}
	var entries []map[string]any
	if err := json.Unmarshal(defaultServices, &entries); err != nil {
		t.Fatalf("intaketest: services.json: %v", err)
	}
	s.services = map[string]fakeService{}
	for _, e := range entries {
		code := e["service_code"].(string)
		s.codes = append(s.codes, code)
		s.services[code] = fakeService{entry: e, definition: mustDefinition(t, code, sangkienDefinition)}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /services.json", s.list)
	mux.HandleFunc("GET /services/{file}", s.define)
	mux.HandleFunc("POST /requests.json", s.post)
	mux.HandleFunc("GET /tokens/{file}", s.token)
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Server.Close)
	return s
}

// URL is the server's base URL.
func (s *Open311Server) URL() string { return s.Server.URL }

// Script queues answers for the next POSTs that pass the checks.
func (s *Open311Server) Script(answers ...Open311Answer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = append(s.script, answers...)
}

// Services replaces the service list with codes, each defined by the default
// definition (definition-sangkien.json).
func (s *Open311Server) Services(codes ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.codes, s.services = nil, map[string]fakeService{}
	for _, c := range codes {
		s.codes = append(s.codes, c)
		s.services[c] = fakeService{
			entry:      map[string]any{"service_code": c, "service_name": c, "metadata": true, "type": "realtime", "keywords": "", "group": ""},
			definition: mustDefinition(nil, c, sangkienDefinition),
		}
	}
}

// Define adds or replaces the service code with the definition def (a GeoReport service
// definition in JSON, as in testdata/open311); nil makes it a service without metadata.
func (s *Open311Server) Define(code string, def []byte) {
	d := mustDefinition(nil, code, def)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.services[code]; !ok {
		s.codes = append(s.codes, code)
	}
	s.services[code] = fakeService{
		entry:      map[string]any{"service_code": code, "service_name": code, "metadata": d != nil, "type": "realtime", "keywords": "", "group": ""},
		definition: d,
	}
}

// FailCatalog makes services.json and every definition answer status (0: served again).
func (s *Open311Server) FailCatalog(status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.catalogErr = status
}

// CatalogFetches counts the GETs of services.json and of definitions.
func (s *Open311Server) CatalogFetches() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fetches
}

// mustDefinition reads a definition; nil data is no definition.
func mustDefinition(t testing.TB, code string, data []byte) *definition {
	if data == nil {
		return nil
	}
	var d definition
	if err := json.Unmarshal(data, &d); err != nil {
		if t != nil {
			t.Fatalf("intaketest: definition: %v", err)
		}
		panic("intaketest: definition: " + err.Error())
	}
	d.ServiceCode = code
	return &d
}

// list answers GET services.json.
func (s *Open311Server) list(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.fetches++
	status := s.catalogErr
	out := make([]map[string]any, 0, len(s.codes))
	for _, c := range s.codes {
		out = append(out, maps.Clone(s.services[c].entry))
	}
	s.mu.Unlock()
	if status != 0 {
		writeErrors(w, status, http.StatusText(status))
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// define answers GET services/{code}.json: 404 for a code not in the list or without
// metadata, as the specification says.
func (s *Open311Server) define(w http.ResponseWriter, r *http.Request) {
	code, ok := strings.CutSuffix(r.PathValue("file"), ".json")
	s.mu.Lock()
	s.fetches++
	status := s.catalogErr
	svc, known := s.services[code]
	s.mu.Unlock()
	switch {
	case status != 0:
		writeErrors(w, status, http.StatusText(status))
	case !ok || !known || svc.definition == nil:
		writeErrors(w, http.StatusNotFound, "service_code "+code+" not found")
	default:
		writeJSON(w, http.StatusOK, svc.definition)
	}
}

// DedupeOnSubmissionID makes the server keep one request per attribute[submission_id],
// as docs/intake.md recommends to Open311 servers; without it a repeated POST files a
// second request, as most servers do.
func (s *Open311Server) DedupeOnSubmissionID() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dedupe = true
}

// AnswerWithTokens answers later POSTs with a token that resolves to the request's id
// on poll number polls+1; polls < 0 never resolves.
func (s *Open311Server) AnswerWithTokens(polls int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.useTokens, s.tokenAfter = true, polls
}

// Requests are the forms of the requests filed, in order.
func (s *Open311Server) Requests() []url.Values {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Posts counts every POST received, refused ones included.
func (s *Open311Server) Posts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.posts
}

// ContentTypes are the Content-Type headers of every POST received, in order.
func (s *Open311Server) ContentTypes() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.ctypes)
}

// Polls counts the polls of a token.
func (s *Open311Server) Polls(tok string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.tokens[tok]; ok {
		return t.polls
	}
	return 0
}

func (s *Open311Server) post(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.posts++
	s.ctypes = append(s.ctypes, r.Header.Get("Content-Type"))
	s.mu.Unlock()
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "application/x-www-form-urlencoded" {
		writeErrors(w, http.StatusBadRequest, "form-encoded body required")
		return
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		writeErrors(w, http.StatusBadRequest, "charset "+cs+" not supported: send utf-8")
		return
	}
	if err := r.ParseForm(); err != nil {
		writeErrors(w, http.StatusBadRequest, "unreadable form")
		return
	}
	f := r.PostForm
	if f.Get("api_key") != s.apiKey {
		writeErrors(w, http.StatusForbidden, "Invalid api_key")
		return
	}
	if status, msg := s.checkForm(f); msg != "" {
		writeErrors(w, status, msg)
		return
	}
	if a, ok := s.next(); ok {
		s.play(w, r, a)
		return
	}
	s.file(w, f)
}

// checkForm returns the status and reason of a refusal, "" when the form is fine.
func (s *Open311Server) checkForm(f url.Values) (int, string) {
	code := f.Get("service_code")
	s.mu.Lock()
	svc, known := s.services[code]
	s.mu.Unlock()
	bad := http.StatusBadRequest
	switch {
	case code == "":
		return bad, "service_code is required"
	case !known:
		return http.StatusNotFound, "service_code " + code + " not found"
	case utf8.RuneCountInString(f.Get("description")) > 4000:
		return bad, "description longer than 4000 characters"
	case markup.MatchString(f.Get("description")):
		return bad, "description may contain line breaks, but not html or code"
	case f.Get("lat") == "" && f.Get("long") == "" && f.Get("address_string") == "" && f.Get("address_id") == "":
		return bad, "a location is required: lat and long, address_string or address_id"
	case (f.Get("lat") == "") != (f.Get("long") == ""):
		return bad, "lat and long go together"
	}
	for _, k := range []string{"lat", "long"} {
		if v := f.Get(k); v != "" {
			if _, err := strconv.ParseFloat(v, 64); err != nil {
				return bad, k + " is not a number"
			}
		}
	}
	if msg := checkAttributes(f, svc.definition); msg != "" {
		return bad, msg
	}
	return 0, ""
}

// markup is what the fake takes for HTML: a tag, a declaration or a comment.
var markup = regexp.MustCompile(`</?[a-zA-Z][a-zA-Z0-9:-]*(\s[^<>]*)?/?\s*>|<[!?][^<>]*>`)

// checkAttributes checks attribute[code] (and attribute[code][] for a multivaluelist)
// against the definition.
func checkAttributes(f url.Values, d *definition) string {
	declared := map[string]attribute{}
	if d != nil {
		for _, a := range d.Attributes {
			declared[a.Code] = a
		}
	}
	for k, vs := range f {
		inner, ok := strings.CutPrefix(k, "attribute[")
		if !ok {
			continue
		}
		inner, multi := strings.CutSuffix(inner, "][]")
		if !multi {
			inner, ok = strings.CutSuffix(inner, "]")
			if !ok {
				return k + " is not an attribute"
			}
		}
		a, ok := declared[inner]
		switch {
		case !ok:
			return "attribute[" + inner + "] is not in the definition of service " + f.Get("service_code")
		case !a.Variable:
			return "attribute[" + inner + "] takes no input"
		case multi != (a.Datatype == "multivaluelist"):
			return "attribute[" + inner + "] is a " + a.Datatype
		case len(vs) > 1 && !multi:
			return "attribute[" + inner + "] given twice"
		}
		for _, v := range vs {
			if !takes(a, v) {
				return "attribute[" + inner + "]: " + strconv.Quote(v) + " is not a valid " + a.Datatype
			}
		}
	}
	for code, a := range declared {
		if a.Variable && a.Required && f.Get("attribute["+code+"]") == "" && f.Get("attribute["+code+"][]") == "" {
			return "attribute[" + code + "] is required"
		}
	}
	return ""
}

// keyText is a value key as a form carries it: a JSON string's text, or the number.
func keyText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

// takes reports whether v is a value of the attribute's datatype.
func takes(a attribute, v string) bool {
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
			if keyText(k.Key) == v {
				return true
			}
		}
	}
	return false
}

func (s *Open311Server) next() (Open311Answer, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.script) == 0 {
		return Open311Answer{}, false
	}
	a := s.script[0]
	s.script = s.script[1:]
	return a, true
}

// play answers a scripted answer; a scripted success files the request as usual.
func (s *Open311Server) play(w http.ResponseWriter, r *http.Request, a Open311Answer) {
	if a.Delay > 0 {
		t := time.NewTimer(a.Delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
		}
	}
	if a.Status == 0 || (a.Status >= 200 && a.Status < 300 && a.Body == "") {
		s.file(w, r.PostForm)
		return
	}
	if a.RetryAfter != "" {
		w.Header().Set("Retry-After", a.RetryAfter)
	}
	body := a.Body
	if body == "" {
		errs := a.Errors
		if errs == nil {
			errs = []Open311Error{{Code: a.Status, Description: http.StatusText(a.Status)}}
		}
		b, _ := json.Marshal(errs)
		body = string(b)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(a.Status)
	_, _ = w.Write([]byte(body))
}

// file keeps the request and answers its id or a token.
func (s *Open311Server) file(w http.ResponseWriter, f url.Values) {
	s.mu.Lock()
	subID := f.Get("attribute[submission_id]")
	id, dup := s.ids[subID]
	if !dup || !s.dedupe || subID == "" {
		s.requests = append(s.requests, f)
		id = strconv.Itoa(1000 + len(s.requests))
		s.ids[subID] = id
	}
	var answer map[string]string
	if s.useTokens {
		tok := fmt.Sprintf("tok-%s", id)
		s.tokens[tok] = &token{id: id}
		answer = map[string]string{"token": tok}
	} else {
		answer = map[string]string{"service_request_id": id, "service_notice": ""}
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, []map[string]string{answer})
}

// token answers a poll of tokens/{token}.json.
func (s *Open311Server) token(w http.ResponseWriter, r *http.Request) {
	tok, ok := strings.CutSuffix(r.PathValue("file"), ".json")
	s.mu.Lock()
	t, known := s.tokens[tok]
	var answer map[string]string
	if known {
		t.polls++
		answer = map[string]string{"token": tok}
		if s.tokenAfter >= 0 && t.polls > s.tokenAfter {
			answer["service_request_id"] = t.id
		}
	}
	s.mu.Unlock()
	if !ok || !known {
		writeErrors(w, http.StatusNotFound, "token not found")
		return
	}
	writeJSON(w, http.StatusOK, []map[string]string{answer})
}

func writeErrors(w http.ResponseWriter, status int, desc string) {
	writeJSON(w, status, []Open311Error{{Code: status, Description: desc}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
