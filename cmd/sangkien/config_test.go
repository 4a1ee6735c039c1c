package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestConfigErrorsNameTheVariable(t *testing.T) {
	base := testEnv{"INTAKE_FILE": filepath.Join(t.TempDir(), "s.jsonl"), "HTTP_ADDR": "127.0.0.1:0"}
	secret := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(secret, []byte("123:abc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  testEnv
		want string
	}{
		{"bad listen address", base.set("HTTP_ADDR", "8080"), "HTTP_ADDR"},
		{"redis scheme", base.set("REDIS_URL", "http://127.0.0.1:6379"), "REDIS_URL"},
		{"redis db", base.set("REDIS_URL", "redis://:hunter2@127.0.0.1:6379/notadb"), "REDIS_URL"},
		{"redis bad escape", base.set("REDIS_URL", "redis://:hunter2%zz@127.0.0.1:6379/0"), "REDIS_URL"},
		{"redis cluster bad escape", base.set("REDIS_URL", "redis://:hunter2%zz@h1:7001,h2:7002"), "REDIS_URL"},
		{"redis secret file missing", base.set("REDIS_URL_FILE", "/nonexistent/redis"), "REDIS_URL_FILE"},
		{"secret given twice", base.set("TELEGRAM_BOT_TOKEN", "x", "TELEGRAM_BOT_TOKEN_FILE", secret), "TELEGRAM_BOT_TOKEN"},
		{"later secret file missing", base.set("INTAKE_SECRET_FILE", "/nonexistent/s"), "INTAKE_SECRET_FILE"},
		{"json intake without url", base.set("INTAKE_KIND", "json"), "INTAKE_URL"},
		{"open311 intake without url", base.set("INTAKE_KIND", "open311"), "INTAKE_URL"},
		{"open311 intake without a location for feedback", base.set("INTAKE_KIND", "open311", "INTAKE_URL", "http://127.0.0.1:1/o311"), "OPEN311_ADDRESS"},
		{"city box", base.set("CITY_BBOX", "21.4,106.1,20.5,105.2"), "CITY_BBOX"},
		{"open311 retry bound", base.set("INTAKE_KIND", "open311", "INTAKE_URL", "http://127.0.0.1:1/o311",
			"OPEN311_ADDRESS", "Hà Nội", "OPEN311_RETRY_400_FOR", "a day"), "OPEN311_RETRY_400_FOR"},
		{"json intake without secret", base.set("INTAKE_URL", "http://127.0.0.1:1/in"), "INTAKE_SECRET"},
		{"intake url", base.set("INTAKE_URL", "intake.example/in", "INTAKE_SECRET", "s"), "INTAKE_URL"},
		{"media link ttl", base.set("MEDIA_LINK_TTL", "a week"), "MEDIA_LINK_TTL"},
		{"media secret too short", base.set("MEDIA_SECRET", "short"), "MEDIA_SECRET"},
		{"intake unknown", base.set("INTAKE_KIND", "ftp"), "INTAKE_KIND"},
		{"intake concurrency", base.set("INTAKE_CONCURRENCY", "0"), "INTAKE_CONCURRENCY"},
		{"webhook auth limit", base.set("WEBHOOK_AUTH_LIMIT", "twenty"), "WEBHOOK_AUTH_LIMIT"},
		{"trusted proxies", base.set("TRUSTED_PROXIES", "caddy"), "TRUSTED_PROXIES"},
		{"log level", base.set("LOG_LEVEL", "loud"), "LOG_LEVEL"},
		{"log format", base.set("LOG_FORMAT", "xml"), "LOG_FORMAT"},
		{"public url", base.set("PUBLIC_BASE_URL", "sangkien.example"), "PUBLIC_BASE_URL"},
		{"telegram mode", base.set("TELEGRAM_MODE", "carrier-pigeon"), "TELEGRAM_MODE"},
		{"telegram webhook without secret", base.set("TELEGRAM_BOT_TOKEN", "123:abc"), "TELEGRAM_WEBHOOK_SECRET"},
		{"telegram endpoint", base.set("TELEGRAM_BOT_TOKEN", "123:abc", "TELEGRAM_MODE", "polling", "TELEGRAM_API_ENDPOINT", "http://127.0.0.1:1/bot"), "TELEGRAM_API_ENDPOINT"},
		{"telegram chat interval", base.set("TELEGRAM_CHAT_INTERVAL", "often"), "TELEGRAM_CHAT_INTERVAL"},
		{"telegram bulk rate", base.set("TELEGRAM_BULK_RATE", "fast"), "TELEGRAM_BULK_RATE"},
		{"telegram bulk rate none", base.set("TELEGRAM_BULK_RATE", "none"), "TELEGRAM_BULK_RATE"},
		{"telegram reply rate", base.set("TELEGRAM_REPLY_RATE", "100"), "TELEGRAM_REPLY_RATE"},
		{"redis prefix", base.set("REDIS_PREFIX", "{sk}"), "REDIS_PREFIX"},
		{"bulk quiet hours", base.set("BULK_QUIET_HOURS", "9pm-7am"), "BULK_QUIET_HOURS"},
		{"bulk quiet hours without an end", base.set("BULK_QUIET_HOURS", "21:00"), "BULK_QUIET_HOURS"},
		{"bulk quiet hours of no length", base.set("BULK_QUIET_HOURS", "21:00-21:00"), "BULK_QUIET_HOURS"},
		{"programs file", base.set("PROGRAMS_FILE", "/nonexistent/programs.yaml"), "PROGRAMS_FILE"},
	}
	for _, tt := range tests {
		for _, cmd := range []string{"serve", "chat"} {
			t.Run(tt.name+"/"+cmd, func(t *testing.T) {
				var out, errOut bytes.Buffer
				err := run(testContext(t), []string{cmd}, tt.env.get, strings.NewReader(""), &out, &errOut)
				if err == nil {
					t.Fatalf("run %s succeeded, want an error naming %s", cmd, tt.want)
				}
				if !strings.Contains(err.Error(), tt.want) {
					t.Errorf("error %q does not name %s", err, tt.want)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Errorf("error %q shows the Redis password", err)
				}
			})
		}
	}
}

func TestConfigDefaultsAndSecretFiles(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "token")
	if err := os.WriteFile(secret, []byte("123:abc\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := loadConfig(testEnv{"TELEGRAM_BOT_TOKEN_FILE": secret, "TELEGRAM_MODE": "polling", "LOG_LEVEL": "debug"}.get)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct{ name, got, want string }{
		{"HTTP_ADDR", cfg.HTTPAddr, ":8080"},
		{"REDIS_URL", cfg.RedisURL, ""},
		{"REDIS_PREFIX", cfg.RedisPrefix, "sk"},
		{"INTAKE_KIND", cfg.Intake.Kind, "file"},
		{"INTAKE_FILE", cfg.Intake.File, "./data/submissions.jsonl"},
		{"LOG_LEVEL", cfg.Log.Level.String(), "DEBUG"},
		{"TELEGRAM_BOT_TOKEN", cfg.Telegram.Token, "123:abc"},
		{"TELEGRAM_API_ENDPOINT", cfg.Telegram.Endpoint, "https://api.telegram.org/bot%s/%s"},
		{"TELEGRAM_CHAT_INTERVAL", cfg.Telegram.ChatInterval.String(), "1s"},
		{"TELEGRAM_BULK_RATE", cfg.Telegram.Bulk.String(), "30/1.1s"},
		{"TELEGRAM_REPLY_RATE", cfg.Telegram.Replies.String(), "none"},
		{"BULK_QUIET_HOURS", cfg.Broadcast.Quiet.String(), "21:00-07:00"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
}

// BULK_QUIET_HOURS takes other hours, or none; the dispatchers get what it says.
func TestConfigBulkQuietHours(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"22:30-06:15", "22:30-06:15"},
		{" 13:00 - 14:00 ", "13:00-14:00"},
		{"none", ""},
		{"NONE", ""},
	} {
		cfg, err := loadConfig(testEnv{"BULK_QUIET_HOURS": tt.in}.get)
		if err != nil {
			t.Fatalf("BULK_QUIET_HOURS=%q: %v", tt.in, err)
		}
		if got := cfg.Broadcast.Quiet.String(); got != tt.want {
			t.Errorf("BULK_QUIET_HOURS=%q read as %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestHelpListsEveryVariable(t *testing.T) {
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"--help"}, []string{"serve", "chat"}},
		{[]string{"help"}, []string{"serve", "chat"}},
		{[]string{"serve", "--help"}, []string{"/healthz", "/readyz"}},
		{[]string{"chat", "-h"}, []string{"--lang", "--id", ":location", ":contact", ":photo", ":file", ":quit"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			if err := run(testContext(t), tt.args, testEnv{}.get, strings.NewReader(""), &out, &errOut); err != nil {
				t.Fatalf("run: %v", err)
			}
			want := tt.want
			for _, v := range envVars {
				want = append(want, v.Name)
			}
			for _, w := range want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("help does not mention %s:\n%s", w, out.String())
				}
			}
		})
	}
}

func TestRunRefuses(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{nil, "no command"},
		{[]string{"fly"}, `unknown command "fly"`},
		{[]string{"serve", "extra"}, `unexpected argument "extra"`},
		{[]string{"chat", "--color"}, "flag provided but not defined"},
		{[]string{"chat", "--lang", "fr"}, "--lang"},
		{[]string{"chat", "--id", "a:b"}, "--id"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var out, errOut bytes.Buffer
			err := run(testContext(t), tt.args, testEnv{}.get, strings.NewReader(""), &out, &errOut)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("run = %v, want an error with %q", err, tt.want)
			}
		})
	}
}
