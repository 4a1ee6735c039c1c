package zalotest

import (
	"fmt"
	"net/http"
	"time"

	json "github.com/go-json-experiment/json/v1"
)

// The ZNS endpoint refuses what Zalo's refuses, with the codes of Zalo's ZNS table: an
// access token it did not issue (-124), a phone not in 84xxxxxxxxx form (-108: Zalo
// also takes 0xxxxxxxxx, the gateway never sends it), a template it does not know
// (-109) or that is not approved (-131), empty data (-111), data that misses one of
// the template's parameters, names one it does not have, or leaves one empty (-112),
// and, for a template not allowed at night, a message between 22:00 and 06:00 in
// Vietnam by the server's clock (-133, SetClock).

// Template is a ZNS template the fake's OA owns.
type Template struct {
	ID string
	// Params are the template's parameter names; a message fills in every one, no more.
	Params []string
	// Pending: submitted to Zalo and not approved yet (refused -131).
	Pending bool
	// Night lets the template through between 22:00 and 06:00 (Zalo allows some kinds,
	// such as one-time passwords); without it those are refused -133.
	Night bool
}

// ZNS is one ZNS message the fake received.
type ZNS struct {
	Phone       string
	TemplateID  string
	Data        map[string]string
	TrackingID  string
	AccessToken string
	// Error is the code the fake answered (0: sent).
	Error int
}

// vietnam is Asia/Ho_Chi_Minh (UTC+7, no daylight saving).
var vietnam = time.FixedZone("ICT", 7*3600)

// AddTemplate makes a template the OA's.
func (s *Server) AddTemplate(t Template) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.templates[t.ID] = t
}

// SetClock sets the clock the ZNS night rule and the interaction window read
// (time.Now until set).
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clock = now
}

// FailZNS makes the next ZNS message answer HTTP 200 with {"error": code, "message":
// msg}. Scripts queue up in order.
func (s *Server) FailZNS(code int, msg string) {
	body, _ := json.Marshal(map[string]any{"error": code, "message": msg})
	s.FailZNSHTTP(http.StatusOK, string(body))
}

// FailZNSHTTP makes the next ZNS message answer status and body as they are.
func (s *Server) FailZNSHTTP(status int, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.znsErrs = append(s.znsErrs, answer{status, body})
}

// ZNSMessages returns every ZNS message so far, in order, refused ones included.
func (s *Server) ZNSMessages() []ZNS {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ZNS(nil), s.zns...)
}

// ZNSSent returns the ZNS messages delivered to one phone, in order.
func (s *Server) ZNSSent(phone string) []ZNS {
	var out []ZNS
	for _, m := range s.ZNSMessages() {
		if m.Phone == phone && m.Error == 0 {
			out = append(out, m)
		}
	}
	return out
}

// WaitZNS blocks until n ZNS messages were delivered and returns every one so far. It
// fails the test if that does not happen within a generous limit.
func (s *Server) WaitZNS(n int) []ZNS {
	s.t.Helper()
	s.waitDelivered(n, "ZNS messages", func() (k int) {
		for _, m := range s.zns {
			if m.Error == 0 {
				k++
			}
		}
		return k
	})
	return s.ZNSMessages()
}

func (s *Server) serveZNS(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Phone        string         `json:"phone"`
		TemplateID   string         `json:"template_id"`
		TemplateData map[string]any `json:"template_data"`
		TrackingID   string         `json:"tracking_id"`
	}
	decodeErr := json.NewDecoder(r.Body).Decode(&req)
	m := ZNS{Phone: req.Phone, TemplateID: req.TemplateID, TrackingID: req.TrackingID, AccessToken: r.Header.Get("access_token")}
	data, textual := textData(req.TemplateData)
	m.Data = data
	s.mu.Lock()
	var scripted *answer
	if len(s.znsErrs) > 0 {
		scripted = &s.znsErrs[0]
		s.znsErrs = s.znsErrs[1:]
	}
	valid := s.access[m.AccessToken]
	tpl, known := s.templates[req.TemplateID]
	now := s.clock()
	s.mu.Unlock()

	refuse := func(code int, msg string) {
		m.Error = code
		s.recordZNS(m)
		body, _ := json.Marshal(map[string]any{"error": code, "message": msg})
		writeJSON(w, http.StatusOK, string(body))
	}
	hour := now.In(vietnam).Hour()
	switch {
	case scripted != nil:
		var a struct {
			Error int `json:"error"`
		}
		_ = json.Unmarshal([]byte(scripted.body), &a)
		m.Error = a.Error
		if scripted.status != http.StatusOK && m.Error == 0 {
			m.Error = scripted.status
		}
		s.recordZNS(m)
		writeJSON(w, scripted.status, scripted.body)
	case decodeErr != nil:
		refuse(-100, "Unknown error")
	case !valid:
		refuse(-124, "Access token invalid")
	case !phone84(req.Phone):
		refuse(-108, "Phone number invalid")
	case !known:
		refuse(-109, "Template ID invalid")
	case tpl.Pending:
		refuse(-131, "Template not approved")
	case len(req.TemplateData) == 0:
		refuse(-111, "Template data empty")
	case !textual || !sameParams(data, tpl.Params):
		refuse(-112, "Template data invalid")
	case !tpl.Night && (hour >= 22 || hour < 6):
		refuse(-133, "This template can not be sent at night (from 22:00 to 06:00)")
	default:
		s.recordZNS(m)
		writeJSON(w, http.StatusOK, fmt.Sprintf(
			`{"error":0,"message":"Success","data":{"msg_id":"zns%d","sent_time":"%d","sending_mode":"1","quota":{"dailyQuota":"500","remainingQuota":"499"}}}`,
			time.Now().UnixNano(), now.UnixMilli()))
	}
}

func (s *Server) recordZNS(m ZNS) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.zns = append(s.zns, m)
	s.notify()
}

// textData returns the template data as text, and whether every value was a string.
func textData(in map[string]any) (map[string]string, bool) {
	out := make(map[string]string, len(in))
	ok := true
	for k, v := range in {
		str, isStr := v.(string)
		ok = ok && isStr
		out[k] = str
	}
	return out, ok
}

// sameParams reports data filling in exactly the template's parameters, none empty.
func sameParams(data map[string]string, params []string) bool {
	if len(data) != len(params) {
		return false
	}
	for _, p := range params {
		if data[p] == "" {
			return false
		}
	}
	return true
}

// phone84 reports a Vietnamese number in the form the gateway sends: 84 and 9 digits.
func phone84(p string) bool {
	return len(p) == 11 && p[:2] == "84" && digits(p)
}
