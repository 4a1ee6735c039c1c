package zalo

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"

	json "github.com/go-json-experiment/json/v1"

	"github.com/sangkien/sangkien/bot"
)

// DefaultZNSBase is the base URL of Zalo's business API, which sends ZNS messages.
const DefaultZNSBase = "https://business.openapi.zalo.me"

// SendTemplate sends one Zalo Notification Service (ZNS) message: an approved template
// (templateID) filled with data, to the Zalo account of a phone number in 84xxxxxxxxx
// form. It reaches a citizen outside the OA's interaction window, where consultation
// messages are refused. The access token is the OA's, in a header as for the OA API,
// and is refreshed the same way when refused. trackingID is the gateway's reference
// for the message on Zalo's side (TrackingID makes one from an outbound id).
//
// Failures are *bot.SendError: a night-time refusal (22:00 to 06:00 in Vietnam) is
// Held until 06:00, a used-up quota Held for a while, a phone, template or data Zalo
// refuses Permanent (and a template problem is logged once for the operators), and a
// citizen who does not take ZNS messages Permanent too: they may still follow the OA,
// so nothing marks them unreachable.
func (c *Client) SendTemplate(ctx context.Context, phone, templateID string, data map[string]string, trackingID string) error {
	switch {
	case !ValidZNSPhone(phone):
		return &bot.SendError{Failure: bot.Permanent, Detail: "zns: the phone is not a Vietnamese number in 84xxxxxxxxx form"}
	case templateID == "":
		return &bot.SendError{Failure: bot.Permanent, Detail: "zns: no template id"}
	case len(data) == 0:
		return &bot.SendError{Failure: bot.Permanent, Detail: "zns: no template data"}
	}
	body, err := json.Marshal(znsRequest{Phone: phone, TemplateID: templateID, TemplateData: data, TrackingID: trackingID})
	if err != nil {
		return &bot.SendError{Failure: bot.Permanent, Detail: "zns: encode message", Err: err}
	}
	return c.withToken(ctx, znsTokenRefused, func(access string) error { return c.postZNS(ctx, access, templateID, body) })
}

// TrackingID is the tracking_id of the ZNS message that stands for outbound id: the
// same for every try of one message, short, and naming no conversation.
func TrackingID(outboundID string) string {
	sum := sha256.Sum256([]byte(outboundID))
	return hex.EncodeToString(sum[:16])
}

// ValidZNSPhone reports a Vietnamese mobile number as ZNS takes it: 84 and nine digits.
func ValidZNSPhone(phone string) bool {
	if len(phone) != 11 || phone[:2] != "84" {
		return false
	}
	for i := 2; i < len(phone); i++ {
		if phone[i] < '0' || phone[i] > '9' {
			return false
		}
	}
	return true
}

// znsRequest is the body of a ZNS message (POST /message/template).
type znsRequest struct {
	Phone        string            `json:"phone"`
	TemplateID   string            `json:"template_id"`
	TemplateData map[string]string `json:"template_data"`
	TrackingID   string            `json:"tracking_id,omitempty"`
}

// postZNS posts one ZNS message with the access token.
func (c *Client) postZNS(ctx context.Context, access, templateID string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.znsBase+"/message/template", bytes.NewReader(body))
	if err != nil {
		return &bot.SendError{Failure: bot.Permanent, Detail: "zns: build request", Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("access_token", access)
	resp, err := c.hc.Do(req)
	if err != nil {
		return &bot.SendError{Failure: bot.Retryable, Detail: "zns: network error", Err: scrubURL(err)}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return &bot.SendError{Failure: bot.Retryable, Code: resp.StatusCode, Detail: "zns: answer cut short", Err: err}
	}
	if resp.StatusCode != http.StatusOK {
		return httpFailure(resp.StatusCode)
	}
	var a apiAnswer
	if err := json.Unmarshal(raw, &a); err != nil || a.Error == nil {
		return &bot.SendError{Failure: bot.Retryable, Code: resp.StatusCode, Detail: "zns: unreadable answer"}
	}
	code := *a.Error
	switch {
	case code == 0:
		c.config.Clear("zalo accepts the app's messages again")
		c.template.Clear("zalo accepts the programs' ZNS templates again")
		return nil
	case znsConfigCodes[code]:
		c.config.Raise("zalo refuses the app's ZNS messages: the app or the OA needs fixing in Zalo's consoles; "+
			"ZNS messages wait meanwhile, further refusals are counted", "code", code, "message", a.Message)
	case znsTemplateCodes[code]:
		c.template.Raise("zalo refuses a program's ZNS template: fix its id or its parameters in the program, "+
			"or wait for Zalo to approve it; those messages fail meanwhile, further refusals are counted",
			"template", templateID, "code", code, "message", a.Message)
	}
	return znsFailure(code, a.Message, c.now())
}
