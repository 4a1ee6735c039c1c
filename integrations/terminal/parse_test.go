package terminal

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	json "github.com/go-json-experiment/json/v1"

	"github.com/sangkien/sangkien/bot"
)

func TestParseLine(t *testing.T) {
	dir := t.TempDir()
	doc := filepath.Join(dir, "Kế hoạch.docx")
	if err := os.WriteFile(doc, []byte("PK..."), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		line    string
		want    bot.Event
		wantErr bool
	}{
		{line: "2", want: bot.Event{Kind: bot.EventText, Text: "2"}},
		{line: "Đồng ý", want: bot.Event{Kind: bot.EventText, Text: "Đồng ý"}},
		{line: "/start", want: bot.Event{Kind: bot.EventCommand, Command: "start"}},
		{line: "/start thu-do-xanh-2027", want: bot.Event{Kind: bot.EventCommand, Command: "start", Payload: "thu-do-xanh-2027"}},
		{line: ":location 21.0285 105.8542", want: bot.Event{Kind: bot.EventLocation, Location: &bot.Location{Lat: 21.0285, Lon: 105.8542}}},
		{line: ":location 21.0285 105.8542 Hồ Gươm", want: bot.Event{Kind: bot.EventLocation, Location: &bot.Location{Lat: 21.0285, Lon: 105.8542, Label: "Hồ Gươm"}}},
		{line: ":location 91 0", wantErr: true},
		{line: ":location here", wantErr: true},
		{line: ":contact Nguyễn Văn An 0912 345 678", want: bot.Event{Kind: bot.EventContact, Contact: &bot.Contact{Name: "Nguyễn Văn An", Phone: "0912 345 678", Own: true}}},
		{line: ":contact +84912345678", want: bot.Event{Kind: bot.EventContact, Contact: &bot.Contact{Phone: "+84912345678", Own: true}}},
		{line: ":contact An", wantErr: true},
		{line: ":file " + doc, want: bot.Event{Kind: bot.EventAttachments, Attachments: []bot.Attachment{{
			Kind: bot.Document, Ref: "file:" + doc, Size: 5, Name: "Kế hoạch.docx",
			MIME: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
		}}}},
		{line: ":photo " + filepath.Join(dir, "missing.jpg"), wantErr: true},
		{line: ":photo " + dir, wantErr: true},
		{line: ":photo", wantErr: true},
		{line: ":dance", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			got, err := ParseLine(tt.line)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseLine = %+v, want an error", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			gj, _ := json.Marshal(got)
			wj, _ := json.Marshal(tt.want)
			if !bytes.Equal(gj, wj) {
				t.Errorf("ParseLine =\n  %s\nwant\n  %s", gj, wj)
			}
		})
	}
}

func TestMimeOf(t *testing.T) {
	tests := map[string]string{
		"a.JPG": "image/jpeg", "a.png": "image/png", "a.pdf": "application/pdf",
		"a.xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
		"a.txt":  "text/plain", "a": "application/octet-stream",
	}
	for name, want := range tests {
		if got := mimeOf(name); got != want {
			t.Errorf("mimeOf(%q) = %q, want %q", name, got, want)
		}
	}
}
