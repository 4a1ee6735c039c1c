package health

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/sangkien/sangkien/cmdline"
	"github.com/sangkien/sangkien/envvar"
)

// CheckTimeout bounds `sangkien healthcheck`: Docker's own timeout is longer, so the
// probe's answer is this command's, not a kill.
const CheckTimeout = 2 * time.Second

// Command is `sangkien healthcheck`: it exits 0 when GET /readyz on the gateway
// listening on HTTP_ADDR (read from env as vars, the gateway's variables, document it)
// answers 200 within CheckTimeout, else 1, for Docker's HEALTHCHECK in an image without
// a shell or curl.
func Command(ctx context.Context, args []string, std cmdline.Stdio, env func(string) string, vars []envvar.Var) error {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	usage := func(w io.Writer) {
		fmt.Fprint(w, `Usage: sangkien healthcheck

Asks the gateway on HTTP_ADDR (on this machine) whether it is ready: GET /readyz.
Exits 0 when it answers 200 within 2 seconds, else 1: Docker's HEALTHCHECK.
`)
	}
	if done, err := cmdline.ParseFlags(fs, args, std.Out, usage); done {
		return err
	}
	url, err := readyURL(envvar.NewReader(env, vars).Get("HTTP_ADDR"))
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, CheckTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: GET %s: %s: %s", url, resp.Status, strings.TrimSpace(string(body)))
	}
	_, _ = fmt.Fprintf(std.Out, "%s", body)
	return nil
}

// readyURL is /readyz on the address the gateway listens on, asked on this machine: a
// listener on every interface (":8080", "0.0.0.0:8080", "[::]:8080") is reached on
// the loopback.
func readyURL(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("HTTP_ADDR=%q: want host:port, e.g. :8080", addr)
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/readyz", nil
}
