package intake

import "github.com/sangkien/sangkien/envvar"

// EnvVars are the INTAKE_* and OPEN311_* variables, in the order help shows them.
var EnvVars = []envvar.Var{
	{Name: "INTAKE_KIND", Help: "where confirmed submissions go: json (signed JSON POST to INTAKE_URL; the default " +
		"when INTAKE_URL is set), open311 (GeoReport v2 at INTAKE_URL) or file (INTAKE_FILE; the default otherwise)"},
	{Name: "INTAKE_FILE", Default: DefaultFile, Help: "JSONL file of the file intake"},
	{Name: "INTAKE_URL", Help: "the city intake: json: the URL submissions are posted to; open311: the GeoReport v2 " +
		"base URL (without /requests.json)"},
	{Name: "INTAKE_SECRET", Secret: true, Help: "HMAC key of X-Sangkien-Signature: signs submissions (required with " +
		"json) and checks POST /callbacks/intake (empty: callbacks are off)"},
	{Name: "INTAKE_API_KEY", Secret: true, Help: "open311: the api_key sent with every request"},
	{Name: "INTAKE_CONCURRENCY", Default: "8", Help: "how many submissions one gateway delivers to the intake at once, " +
		"so that one call hanging until its timeout holds up no other"},
	{Name: "OPEN311_SERVICE_CODE", Help: "open311: the service_code of fields without one in the programs file"},
	{Name: "OPEN311_FEEDBACK_CODE", Help: "open311: the service_code of feedback (empty: OPEN311_SERVICE_CODE)"},
	{Name: "OPEN311_ADDRESS", Help: "open311: address_string sent when a submission has no place (feedback, a skipped place); " +
		"required with INTAKE_KIND=open311, since GeoReport servers refuse a request without a location"},
	{Name: "OPEN311_RETRY_400_FOR", Default: "24h", Help: "open311: how long a 400 (GeoReport's \"General Service Error\", " +
		"e.g. the CRM is down) is retried, from the first attempt, before the submission goes to the failed list; 0: at once"},
	{Name: "OPEN311_JURISDICTION", Help: "open311: jurisdiction_id, for servers that serve several cities"},
}

// ReadSettings reads the variables of EnvVars; Settings.Check checks them.
func ReadSettings(r *envvar.Reader) Settings {
	return Settings{
		Kind:        r.Get("INTAKE_KIND"),
		File:        r.Get("INTAKE_FILE"),
		URL:         r.Get("INTAKE_URL"),
		Secret:      r.Get("INTAKE_SECRET"),
		APIKey:      r.Get("INTAKE_API_KEY"),
		Concurrency: r.Get("INTAKE_CONCURRENCY"),
		Open311: Open311Defaults{
			ServiceCode:  r.Get("OPEN311_SERVICE_CODE"),
			FeedbackCode: r.Get("OPEN311_FEEDBACK_CODE"),
			Address:      r.Get("OPEN311_ADDRESS"),
			Jurisdiction: r.Get("OPEN311_JURISDICTION"),
			Retry400For:  r.Get("OPEN311_RETRY_400_FOR"),
		},
	}
}
