package webchat

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/textproto"
	"strings"
	"testing"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/integrations/media"
)

// part is one part of a multipart body: a form field, or a file when filename is set.
type part struct{ name, filename, ctype, body string }

func multipartBody(t *testing.T, parts ...part) (string, string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		if p.filename != "" {
			h.Set("Content-Disposition", `form-data; name="`+p.name+`"; filename="`+p.filename+`"`)
			h.Set("Content-Type", p.ctype)
		} else {
			h.Set("Content-Disposition", `form-data; name="`+p.name+`"`)
		}
		w, err := mw.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, p.body)
	}
	mw.Close()
	return b.String(), mw.FormDataContentType()
}

func pngBytes(t *testing.T) string {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 3))
	img.Set(1, 1, color.RGBA{R: 200, A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func TestFilesAreTakenAndServedToTheProxy(t *testing.T) {
	h := newHarness(t, nil)
	a := h.open("")
	photo := pngBytes(t)
	pdf := "%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
	for _, tc := range []struct {
		name  string
		parts []part
		kind  bot.AttachmentKind
		mime  string
	}{
		{"a photo with a caption", []part{{"file", `C:\Ảnh\đèn hỏng.png`, "image/png", photo}, {"caption", "", "", "Đèn hỏng ở phố Đinh Tiên Hoàng"}, {"id", "", "", "f1"}},
			bot.Photo, "image/png"},
		{"a photo declared as anything", []part{{"file", "anh", "application/octet-stream", photo}}, bot.Photo, "image/png"},
		{"a PDF", []part{{"file", "ke-hoach.pdf", "application/pdf", pdf}}, bot.Document, "application/pdf"},
		{"a Word file, for the flows to judge", []part{{"file", "de-xuat.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "PK\x03\x04 not much"}},
			bot.Document, "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, ct := multipartBody(t, tc.parts...)
			n := len(h.eventsOf(a.Conversation))
			res := h.do("POST", "/webchat/api/files", body, "Content-Type", ct, "Authorization", "Bearer "+a.Token)
			if res.StatusCode != 202 {
				b, _ := io.ReadAll(res.Body)
				t.Fatalf("status %d %s", res.StatusCode, b)
			}
			evs := h.eventsOf(a.Conversation)
			if len(evs) != n+1 || evs[n].Kind != bot.EventAttachments || len(evs[n].Attachments) != 1 {
				t.Fatalf("engine ran %+v, want one attachments event", evs[n:])
			}
			at := evs[n].Attachments[0]
			if at.Kind != tc.kind || at.MIME != tc.mime || at.Size != int64(len(tc.parts[0].body)) || strings.ContainsAny(at.Name, `\/`) {
				t.Fatalf("attachment %+v, want %s %s of %d bytes and a bare name", at, tc.kind, tc.mime, len(tc.parts[0].body))
			}
			up, err := (&Files{Store: h.store.WebFiles()}).Fetch(context.Background(), at.Ref)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(up.Body)
			if string(got) != tc.parts[0].body || up.ContentType != tc.mime {
				t.Fatalf("the proxy would serve %d bytes of %s", len(got), up.ContentType)
			}
		})
	}
	if evs := h.eventsOf(a.Conversation); evs[1].Text != "Đèn hỏng ở phố Đinh Tiên Hoàng" || evs[1].Attachments[0].Name != "đèn hỏng.png" {
		t.Fatalf("first file: caption %q, name %q", evs[1].Text, evs[1].Attachments[0].Name)
	}
	// Another conversation's token does not open this one's files: the ref names it.
	if _, err := (&Files{Store: h.store.WebFiles()}).Fetch(context.Background(), "other/"+"x"); err != media.ErrNotFound {
		t.Fatalf("unknown file: %v, want ErrNotFound", err)
	}
	if _, err := (*Files)(nil).Fetch(context.Background(), a.Conversation+"/x"); err != media.ErrNotFound {
		t.Fatalf("channel off: %v, want ErrNotFound", err)
	}
}

func TestFilesRefuseWhatTheyShould(t *testing.T) {
	h := newHarness(t, nil)
	a := h.open("")
	photo := pngBytes(t)
	ok, okType := multipartBody(t, part{"file", "a.png", "image/png", photo})
	fake, fakeType := multipartBody(t, part{"file", "a.jpg", "image/jpeg", "<html><script>alert(1)</script></html>"})
	fakePDF, fakePDFType := multipartBody(t, part{"file", "a.pdf", "application/pdf", "MZ\x90\x00 an exe"})
	empty, emptyType := multipartBody(t, part{"file", "a.png", "image/png", ""})
	extra, extraType := multipartBody(t, part{"file", "a.png", "image/png", photo}, part{"html", "", "", "<b>"})
	two, twoType := multipartBody(t, part{"file", "a.png", "image/png", photo}, part{"file", "b.png", "image/png", photo})
	none, noneType := multipartBody(t, part{"caption", "", "", "không có tệp"})
	big, bigType := multipartBody(t, part{"file", "big.png", "image/png", photo + strings.Repeat("x", MaxFile)})
	for _, tc := range []struct {
		name, ct, auth, body string
		want                 int
	}{
		{"no token", okType, "", ok, 401},
		{"JSON", "application/json", "Bearer " + a.Token, `{"text":"x"}`, 415},
		{"an image that is HTML", fakeType, "Bearer " + a.Token, fake, 400},
		{"a PDF that is not", fakePDFType, "Bearer " + a.Token, fakePDF, 400},
		{"empty", emptyType, "Bearer " + a.Token, empty, 400},
		{"an unknown part", extraType, "Bearer " + a.Token, extra, 400},
		{"two files", twoType, "Bearer " + a.Token, two, 400},
		{"no file", noneType, "Bearer " + a.Token, none, 400},
		{"over 20 MB", bigType, "Bearer " + a.Token, big, 413},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if res := h.do("POST", "/webchat/api/files", tc.body, "Content-Type", tc.ct, "Authorization", tc.auth); res.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", res.StatusCode, tc.want)
			}
		})
	}
	if n := len(h.eventsOf(a.Conversation)); n != 1 {
		t.Fatalf("the engine ran %d events, want the start only", n)
	}
}
