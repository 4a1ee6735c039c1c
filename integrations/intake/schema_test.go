package intake_test

import (
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	json "github.com/go-json-experiment/json/v1"

	"github.com/sangkien/sangkien/bot"
	"github.com/sangkien/sangkien/integrations/intake"
)

const (
	schemaFile  = "../../docs/intake-submission.schema.json"
	exampleFile = "../../docs/intake-submission.example.json"
)

// The published schema follows bot.Submission: every JSON field is a property of the
// right type, required exactly when it is always written (neither omitempty nor omitzero), and the schema
// names no property the gateway does not write.
func TestSchemaMatchesSubmission(t *testing.T) {
	s := readJSON(t, schemaFile).(map[string]any)
	if got := prop(t, s, "schema")["const"]; got != intake.SubmissionSchema {
		t.Errorf("schema const = %v, want %q", got, intake.SubmissionSchema)
	}
	if s["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema = %v, want draft 2020-12", s["$schema"])
	}
	matchStruct(t, "", s, reflect.TypeFor[bot.Submission](), "schema")
}

// The example is valid against the schema (required properties, types, enums, no
// unknown property) and reads into a bot.Submission that writes it back unchanged.
func TestSchemaExample(t *testing.T) {
	s := readJSON(t, schemaFile).(map[string]any)
	ex := readJSON(t, exampleFile)
	validate(t, "example", s, ex)

	sub := example(t)
	again, err := intake.EncodeSubmission(sub)
	if err != nil {
		t.Fatal(err)
	}
	var back any
	if err := json.Unmarshal(again, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, ex) {
		t.Errorf("example changes through bot.Submission:\n got %s", again)
	}
}

// example is the published example read as a submission.
func example(t *testing.T) bot.Submission {
	t.Helper()
	raw, err := os.ReadFile(exampleFile)
	if err != nil {
		t.Fatal(err)
	}
	sub, err := intake.DecodeSubmission(raw)
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

// A submission taken on a host whose clock runs in UTC is written in the city's time,
// as the schema says.
func TestSubmissionTimesInCityTime(t *testing.T) {
	sub := example(t)
	sub.SubmittedAt = time.Date(2026, 12, 1, 23, 30, 0, 0, time.UTC)
	sub.ConsentAt = time.Date(2026, 12, 1, 23, 20, 0, 0, time.UTC)
	b, err := intake.EncodeSubmission(sub)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	validate(t, "submission", readJSON(t, schemaFile).(map[string]any), doc)
	if doc["submitted_at"] != "2026-12-02T06:30:00+07:00" || doc["consent_at"] != "2026-12-02T06:20:00+07:00" {
		t.Errorf("submitted_at = %v, consent_at = %v", doc["submitted_at"], doc["consent_at"])
	}
}

// matchStruct checks the schema object node against struct type st; skip names
// properties that are not struct fields.
func matchStruct(t *testing.T, path string, node map[string]any, st reflect.Type, skip ...string) {
	t.Helper()
	props, _ := node["properties"].(map[string]any)
	var names, required []string
	for _, f := range jsonFields(st) {
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if !f.IsExported() || name == "-" || name == "" {
			continue
		}
		names = append(names, name)
		if !strings.Contains(opts, "omitempty") && !strings.Contains(opts, "omitzero") {
			required = append(required, name)
		}
		p, ok := props[name].(map[string]any)
		if !ok {
			t.Errorf("schema: %s%s missing (field %s.%s)", path, name, st.Name(), f.Name)
			continue
		}
		matchType(t, path+name, p, f.Type)
	}
	for name := range props {
		if !slices.Contains(names, name) && !slices.Contains(skip, name) {
			t.Errorf("schema: %s%s is not a field of %s", path, name, st.Name())
		}
	}
	var want []string
	reqs, _ := node["required"].([]any)
	for _, r := range reqs {
		if !slices.Contains(skip, r.(string)) {
			want = append(want, r.(string))
		}
	}
	slices.Sort(want)
	slices.Sort(required)
	if !slices.Equal(want, required) {
		t.Errorf("schema: %s required = %v, want the fields without omitempty %v", strings.TrimSuffix(path, "."), want, required)
	}
}

// jsonFields are st's fields as encoding/json writes them: the fields of an untagged
// embedded struct (bot.Proposal in bot.Submission) sit among st's own.
func jsonFields(st reflect.Type) []reflect.StructField {
	var fs []reflect.StructField
	for f := range st.Fields() {
		if f.Anonymous && f.Tag.Get("json") == "" && f.Type.Kind() == reflect.Struct {
			fs = append(fs, jsonFields(f.Type)...)
			continue
		}
		fs = append(fs, f)
	}
	return fs
}

func matchType(t *testing.T, path string, p map[string]any, ft reflect.Type) {
	t.Helper()
	if ft.Kind() == reflect.Pointer {
		ft = ft.Elem()
	}
	var want string
	switch {
	case ft == reflect.TypeFor[time.Time]():
		want = "string"
		if p["format"] != "date-time" {
			t.Errorf("schema: %s is a time without format date-time", path)
		}
	case ft.Kind() == reflect.String:
		want = "string"
	case ft.Kind() >= reflect.Int && ft.Kind() <= reflect.Uint64:
		want = "integer"
	case ft.Kind() == reflect.Float32 || ft.Kind() == reflect.Float64:
		want = "number"
	case ft.Kind() == reflect.Struct:
		want = "object"
		matchStruct(t, path+".", p, ft)
	case ft.Kind() == reflect.Slice:
		want = "array"
		items, _ := p["items"].(map[string]any)
		matchType(t, path+"[]", items, ft.Elem())
	default:
		t.Fatalf("%s: no JSON type for %s", path, ft)
	}
	if p["type"] != want {
		t.Errorf("schema: %s type = %v, want %s", path, p["type"], want)
	}
}

// validate checks v against the subset of JSON Schema the published schema uses.
func validate(t *testing.T, path string, node map[string]any, v any) {
	t.Helper()
	if c, ok := node["const"]; ok && v != c {
		t.Errorf("%s = %v, want %v", path, v, c)
	}
	if enum, ok := node["enum"].([]any); ok && !slices.Contains(enum, v) {
		t.Errorf("%s = %v, not one of %v", path, v, enum)
	}
	switch node["type"] {
	case "string":
		s, ok := v.(string)
		if ok && node["format"] == "date-time" {
			_, err := time.Parse(time.RFC3339, s)
			ok = err == nil
		}
		if !ok {
			t.Errorf("%s = %v, want a %v %v", path, v, node["format"], node["type"])
		}
		if p, has := node["pattern"].(string); has && ok && !regexp.MustCompile(p).MatchString(s) {
			t.Errorf("%s = %q, does not match %s", path, s, p)
		}
	case "integer", "number":
		f, ok := v.(float64)
		if !ok || (node["type"] == "integer" && f != float64(int64(f))) {
			t.Errorf("%s = %v, want an %v", path, v, node["type"])
		}
	case "array":
		items, ok := v.([]any)
		if !ok {
			t.Errorf("%s = %v, want an array", path, v)
		}
		for _, it := range items {
			validate(t, path+"[]", node["items"].(map[string]any), it)
		}
	case "object":
		obj, ok := v.(map[string]any)
		if !ok {
			t.Errorf("%s = %v, want an object", path, v)
			return
		}
		props, _ := node["properties"].(map[string]any)
		reqs, _ := node["required"].([]any)
		for _, r := range reqs {
			if _, ok := obj[r.(string)]; !ok {
				t.Errorf("%s: required %s missing", path, r)
			}
		}
		for k, x := range obj {
			p, ok := props[k].(map[string]any)
			if !ok {
				t.Errorf("%s.%s: not in the schema", path, k)
				continue
			}
			validate(t, path+"."+k, p, x)
		}
	}
}

func prop(t *testing.T, node map[string]any, name string) map[string]any {
	t.Helper()
	p, ok := node["properties"].(map[string]any)[name].(map[string]any)
	if !ok {
		t.Fatalf("schema has no property %q", name)
	}
	return p
}

func readJSON(t *testing.T, path string) any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}
