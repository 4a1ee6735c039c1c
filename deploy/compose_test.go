package deploy_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// root is the repository's root, where compose.yaml and the Dockerfile are.
const root = ".."

// pinned is an image reference pinned by the digest of its content.
var pinned = regexp.MustCompile(`@sha256:[0-9a-f]{64}$`)

// loadCompose loads compose.yaml as `docker compose config` does (the same loader, with
// the env_file merged into each service's environment and paths made absolute), but
// without the caller's environment, so that the result is the same on every machine.
func loadCompose(t *testing.T) *types.Project {
	t.Helper()
	opts, err := cli.NewProjectOptions([]string{filepath.Join(root, "compose.yaml")}, cli.WithWorkingDirectory(root))
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("compose.yaml does not load: %v", err)
	}
	return p
}

func service(t *testing.T, p *types.Project, name string) types.ServiceConfig {
	t.Helper()
	s, err := p.GetService(name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestRedisKeepsItsDataOnDisk(t *testing.T) {
	p := loadCompose(t)
	redis := service(t, p, "redis")
	if !strings.HasPrefix(redis.Image, "redis:7") || !pinned.MatchString(redis.Image) {
		t.Errorf("redis image %q: want redis:7… pinned by @sha256 digest", redis.Image)
	}
	// Each setting as redis-server takes it on its command line: --name value.
	for _, want := range [][2]string{
		{"--appendonly", "yes"}, {"--appendfsync", "everysec"}, {"--maxmemory-policy", "noeviction"},
	} {
		i := slices.Index(redis.Command, want[0])
		if i < 0 || i+1 >= len(redis.Command) || redis.Command[i+1] != want[1] {
			t.Errorf("redis command %q: want %s %s", redis.Command, want[0], want[1])
		}
	}
	if !hasNamedVolume(p, redis, "/data") {
		t.Errorf("redis volumes %+v: want a named volume on /data (where the AOF is written)", redis.Volumes)
	}
	if redis.HealthCheck == nil || !slices.Contains(redis.HealthCheck.Test, "redis-cli") ||
		!slices.Contains(redis.HealthCheck.Test, "ping") {
		t.Errorf("redis healthcheck %+v: want redis-cli ping", redis.HealthCheck)
	}
}

func hasNamedVolume(p *types.Project, s types.ServiceConfig, target string) bool {
	for _, v := range s.Volumes {
		if _, declared := p.Volumes[v.Source]; v.Type == types.VolumeTypeVolume && v.Target == target && declared {
			return true
		}
	}
	return false
}

func TestTwoGatewayReplicasOnAHealthyRedis(t *testing.T) {
	p := loadCompose(t)
	gw := service(t, p, "gateway")
	if gw.Deploy == nil || gw.Deploy.Replicas == nil {
		t.Errorf("gateway has no deploy.replicas: want 2")
	} else if n := *gw.Deploy.Replicas; n != 2 {
		t.Errorf("gateway deploy.replicas %d: want 2", n)
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		t.Fatal(err)
	}
	if gw.Build == nil || gw.Build.Context != abs {
		t.Errorf("gateway build %+v: want the Dockerfile at the repository's root", gw.Build)
	}
	if d, ok := gw.DependsOn["redis"]; !ok || d.Condition != types.ServiceConditionHealthy {
		t.Errorf("gateway depends_on %+v: want redis with condition service_healthy", gw.DependsOn)
	}
	if !hasNamedVolume(p, gw, "/data") {
		t.Errorf("gateway volumes %+v: want a named volume on /data (the intake file)", gw.Volumes)
	}
}

func TestOnlyTheProxyIsPublished(t *testing.T) {
	p := loadCompose(t)
	for name, s := range p.Services {
		if name != "proxy" && len(s.Ports) > 0 {
			t.Errorf("service %s publishes %+v: only the proxy may", name, s.Ports)
		}
	}
	proxy := service(t, p, "proxy")
	if len(proxy.Ports) != 1 {
		t.Errorf("proxy ports %+v: want one", proxy.Ports)
	}
	if !pinned.MatchString(proxy.Image) {
		t.Errorf("proxy image %q: want it pinned by @sha256 digest", proxy.Image)
	}
	caddyfile, err := filepath.Abs(filepath.Join(root, "deploy", "Caddyfile"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(proxy.Volumes, func(v types.ServiceVolumeConfig) bool {
		return v.Source == caddyfile && v.Target == "/etc/caddy/Caddyfile" && v.ReadOnly
	}) {
		t.Errorf("proxy volumes %+v: want deploy/Caddyfile on /etc/caddy/Caddyfile, read only", proxy.Volumes)
	}
}

// TestProxyPassesThePublicPathsOnly reads the Caddyfile's one path matcher: the paths of
// the gateway's public HTTP contract (design.md), and not /metrics, which the gateways
// serve on METRICS_ADDR, a port the proxy does not reach for.
func TestProxyPassesThePublicPathsOnly(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "deploy", "Caddyfile"))
	if err != nil {
		t.Fatal(err)
	}
	var matchers [][]string
	for line := range strings.Lines(string(b)) {
		if f := strings.Fields(line); len(f) > 2 && strings.HasPrefix(f[0], "@") && f[1] == "path" {
			matchers = append(matchers, f[2:])
		}
	}
	want := []string{"/webhooks/*", "/callbacks/*", "/console", "/console/*", "/media/*", "/chat", "/webchat/*", "/healthz", "/readyz"}
	if len(matchers) != 1 || !slices.Equal(matchers[0], want) {
		t.Errorf("Caddyfile path matchers %q: want one, %q", matchers, want)
	}
	env := service(t, loadCompose(t), "gateway").Environment
	metrics, http := env["METRICS_ADDR"], env["HTTP_ADDR"]
	if metrics == nil || http == nil || port(*metrics) == port(*http) {
		t.Errorf("gateway METRICS_ADDR %v, HTTP_ADDR %v: want the metrics on a port of their own", metrics, http)
	}
}

func port(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}

// TestGatewaySecretsAreFiles checks that every secret the gateway reads (but REDIS_URL,
// which in this stack names a Redis without a password) is mounted from a file, and
// that deploy/gateway.env names each mounted one with its NAME_FILE, in use or
// commented out until its file holds a value.
func TestGatewaySecretsAreFiles(t *testing.T) {
	p := loadCompose(t)
	gw := service(t, p, "gateway")
	dir, err := filepath.Abs(filepath.Join(root, "deploy", "secrets"))
	if err != nil {
		t.Fatal(err)
	}
	mounted := map[string]bool{}
	for _, s := range gw.Secrets {
		def, ok := p.Secrets[s.Source]
		switch {
		case !ok:
			t.Errorf("gateway secret %s is not declared", s.Source)
		case def.File != filepath.Join(dir, s.Source) || def.Environment != "" || def.Content != "" || bool(def.External):
			t.Errorf("secret %s: %+v: want file: deploy/secrets/%s", s.Source, def, s.Source)
		}
		if s.Target != "" && s.Target != "/run/secrets/"+s.Source {
			t.Errorf("secret %s mounted at %s: want /run/secrets/%s", s.Source, s.Target, s.Source)
		}
		mounted["/run/secrets/"+s.Source] = true
	}

	named := map[string]string{} // secret variable → the mounted file its NAME_FILE names
	for name, value := range gatewayEnvFile(t) {
		if base, ok := strings.CutSuffix(name, "_FILE"); ok && mounted[value] {
			named[base] = value
		}
	}
	var secrets []string
	for _, v := range gatewaySecrets(t) {
		if v != "REDIS_URL" {
			secrets = append(secrets, v)
		}
	}
	for _, v := range secrets {
		if named[v] == "" {
			t.Errorf("secret %s: want %s_FILE=/run/secrets/<a secret of the gateway> in deploy/gateway.env", v, v)
		}
	}
	if len(mounted) != len(secrets) {
		t.Errorf("gateway mounts %d secrets, the gateway has %d (%q): want one file each", len(mounted), len(secrets), secrets)
	}
}

// TestGatewayKnowsEveryVariableItIsGiven checks each variable the compose file gives
// the gateway, and each one deploy/gateway.env has commented out, against the list the
// binary itself prints (sangkien serve --help); a NAME_FILE also against what the binary
// does with it: it reads the file, for a secret's NAME_FILE only.
func TestGatewayKnowsEveryVariableItIsGiven(t *testing.T) {
	known := gatewayVars(t)
	secret := map[string]bool{}
	for _, v := range gatewaySecrets(t) {
		secret[v] = true
	}
	given := gatewayEnvFile(t)
	for name, value := range service(t, loadCompose(t), "gateway").Environment {
		if value != nil {
			given[name] = *value
		}
	}
	for name := range given {
		base, isFile := strings.CutSuffix(name, "_FILE")
		switch {
		case slices.Contains(known, name):
		case isFile && secret[base]:
		case isFile && slices.Contains(known, base):
			t.Errorf("%s: %s is not a secret, so the gateway does not read it from a file", name, base)
		default:
			t.Errorf("%s: the gateway has no such variable (sangkien serve --help lists them)", name)
		}
	}
}

// gatewayEnvFile reads deploy/gateway.env's assignments, those commented out too
// ("#NAME=value"), which a user turns on by removing the #.
func gatewayEnvFile(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(root, "deploy", "gateway.env"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	assignment := regexp.MustCompile(`^#?([A-Z][A-Z0-9_]*)=(.*)$`)
	vars := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := assignment.FindStringSubmatch(sc.Text()); m != nil {
			vars[m[1]] = m[2]
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(vars) == 0 {
		t.Fatal("deploy/gateway.env sets nothing")
	}
	return vars
}

// gatewayFacts is what the tests ask the binary itself, once: cmd/sangkien is a main
// package, so its list of variables cannot be imported.
type gatewayFacts struct {
	vars    []string // every variable sangkien serve --help lists
	secrets []string // those it also reads from the file NAME_FILE names
}

var gateway = sync.OnceValues(func() (gatewayFacts, error) {
	dir, err := os.MkdirTemp("", "sangkien-deploy-")
	if err != nil {
		return gatewayFacts{}, err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "sangkien")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/sangkien/sangkien/cmd/sangkien").CombinedOutput(); err != nil {
		return gatewayFacts{}, fmt.Errorf("go build ./cmd/sangkien: %w\n%s", err, out)
	}
	vars, err := helpVars(bin)
	if err != nil {
		return gatewayFacts{}, err
	}
	secrets, err := fileSecrets(bin, vars, filepath.Join(dir, "missing"))
	return gatewayFacts{vars: vars, secrets: secrets}, err
})

func gatewayVars(t *testing.T) []string {
	t.Helper()
	g, err := gateway()
	if err != nil {
		t.Fatal(err)
	}
	return g.vars
}

func gatewaySecrets(t *testing.T) []string {
	t.Helper()
	g, err := gateway()
	if err != nil {
		t.Fatal(err)
	}
	return g.secrets
}

// helpVars is every variable sangkien serve --help lists: a name at the start of an
// entry of its Environment section (two spaces in), or in the list of those accepted
// for later (four spaces in).
func helpVars(bin string) ([]string, error) {
	out, err := exec.Command(bin, "serve", "--help").Output()
	if err != nil {
		return nil, fmt.Errorf("sangkien serve --help: %w", err)
	}
	_, env, ok := strings.Cut(string(out), "\nEnvironment:\n")
	if !ok {
		return nil, fmt.Errorf("sangkien serve --help has no Environment section:\n%s", out)
	}
	entry := regexp.MustCompile(`^  ([A-Z][A-Z0-9_]+)(\s|$)`)
	later := regexp.MustCompile(`^    [A-Z][A-Z0-9_]+(\s+[A-Z][A-Z0-9_]+)*$`)
	var names []string
	for line := range strings.Lines(env) {
		line = strings.TrimRight(line, "\n")
		if m := entry.FindStringSubmatch(line); m != nil {
			names = append(names, m[1])
		} else if later.MatchString(line) {
			names = append(names, strings.Fields(line)...)
		}
	}
	if len(names) < 20 {
		return nil, fmt.Errorf("found only %q in sangkien serve --help", names)
	}
	return names, nil
}

// fileSecrets finds the variables the gateway also reads from a file by asking it:
// serve given NAME_FILE of a missing file stops at once with an error that names
// NAME_FILE when it reads the file. HTTP_ADDR is left invalid so that serve stops in
// any case, before it listens or dials anything.
func fileSecrets(bin string, vars []string, missing string) ([]string, error) {
	var secrets []string
	for _, name := range vars {
		cmd := exec.Command(bin, "serve")
		cmd.Env = []string{name + "_FILE=" + missing, "HTTP_ADDR=invalid"}
		out, err := cmd.CombinedOutput()
		if err == nil {
			return nil, fmt.Errorf("sangkien serve with HTTP_ADDR=invalid and %s_FILE did not fail:\n%s", name, out)
		}
		if strings.Contains(string(out), name+"_FILE") {
			secrets = append(secrets, name)
		}
	}
	if len(secrets) == 0 {
		return nil, errors.New("the gateway reads no secret from a file")
	}
	return secrets, nil
}

// TestBuildImageIsPinned checks the Dockerfile's build stage: its base resolved through
// the ARG it names, golang:1.26 pinned by digest. The final stage is scratch, which
// has no digest.
func TestBuildImageIsPinned(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(root, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	args := map[string]string{}
	var froms []string
	for line := range strings.Lines(string(b)) {
		f := strings.Fields(line)
		switch {
		case len(f) == 2 && f[0] == "ARG":
			if k, v, ok := strings.Cut(f[1], "="); ok {
				args[k] = v
			}
		case len(f) >= 2 && f[0] == "FROM":
			froms = append(froms, os.Expand(f[1], func(k string) string { return args[k] }))
		}
	}
	if len(froms) != 2 || froms[1] != "scratch" {
		t.Fatalf("Dockerfile stages %q: want a build stage and scratch", froms)
	}
	if !regexp.MustCompile(`^golang:1\.26@sha256:[0-9a-f]{64}$`).MatchString(froms[0]) {
		t.Errorf("Dockerfile build stage FROM %q: want golang:1.26@sha256:<64 hex digits>", froms[0])
	}
}
