package webchat

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"strings"

	json "github.com/go-json-experiment/json/v1"

	"github.com/sangkien/sangkien/locales"
)

//go:embed static/widget.js static/chat.html
var static embed.FS

// MaxWidget is the widget's size budget: it loads on every page of a city's site.
const MaxWidget = 30 << 10

// widgetTexts are the widget's strings (webchat.<name> in locales), in both
// languages: the widget picks one by the page's language.
var widgetTexts = map[string]string{"title": "webchat.title", "open": "webchat.open", "close": "webchat.close",
	"placeholder": "webchat.placeholder", "send": "webchat.send", "offline": "webchat.offline", "error": "webchat.error",
	"location": "webchat.location", "location_sent": "webchat.location_sent", "location_denied": "webchat.location_denied",
	"attach": "webchat.attach", "file_too_big": "webchat.file_too_big"}

// otherLanguage names, in each language, the one the page's link switches to.
var otherLanguage = map[string]string{locales.VI: "language.en", locales.EN: "language.vi"}

// pages are the chat page, in each language, and the widget, built at start so a
// broken template or a missing string fails the start, not a request.
type pages struct {
	widgetJS []byte
	chatPage map[string][]byte
}

func newPages(cat *locales.Catalog) (*pages, error) {
	p := &pages{chatPage: map[string][]byte{}}
	texts := map[string]map[string]string{}
	for _, lang := range []string{locales.VI, locales.EN} {
		l := cat.For(lang)
		texts[lang] = map[string]string{}
		for name, id := range widgetTexts {
			if texts[lang][name] = l.T(id); strings.HasPrefix(texts[lang][name], "[") {
				return nil, fmt.Errorf("webchat: locales have no %s text %s", lang, id)
			}
		}
		texts[lang]["language"] = l.T(otherLanguage[lang])
	}
	js, err := json.Marshal(texts)
	if err != nil {
		return nil, err
	}
	src, err := static.ReadFile("static/widget.js")
	if err != nil {
		return nil, err
	}
	if !bytes.Contains(src, []byte("/*STRINGS*/{}")) {
		return nil, fmt.Errorf("webchat: widget.js has no /*STRINGS*/ place")
	}
	p.widgetJS = bytes.Replace(src, []byte("/*STRINGS*/{}"), js, 1)
	if len(p.widgetJS) > MaxWidget {
		return nil, fmt.Errorf("webchat: widget.js is %d bytes, over its %d", len(p.widgetJS), MaxWidget)
	}
	tpl, err := template.ParseFS(static, "static/chat.html")
	if err != nil {
		return nil, err
	}
	for _, lang := range []string{locales.VI, locales.EN} {
		l := cat.For(lang)
		var b bytes.Buffer
		err := tpl.Execute(&b, map[string]string{"Lang": lang, "Title": l.T("webchat.title"),
			"Intro": l.T("webchat.intro"), "NoScript": l.T("webchat.noscript"), "Widget": WidgetPath})
		if err != nil {
			return nil, err
		}
		p.chatPage[lang] = b.Bytes()
	}
	return p, nil
}

// chat serves the full page, in Vietnamese unless ?lang=en.
func (p *pages) chat(w http.ResponseWriter, r *http.Request) {
	lang := locales.VI
	if strings.EqualFold(r.URL.Query().Get("lang"), locales.EN) {
		lang = locales.EN
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; connect-src 'self'; "+
		"style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	_, _ = w.Write(p.chatPage[lang])
}

// widget serves the script any site embeds; it may be cached a little, and is fetched
// cross-origin by the sites' pages.
func (p *pages) widget(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	_, _ = w.Write(p.widgetJS)
}
