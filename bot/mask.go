package bot

// MaskID hides the middle of an identifier that can point to a person (a chat id, a
// phone number) so that log lines can tell conversations apart without naming anyone:
// "tg:123456789" → "tg:12*****89".
func MaskID(s string) string {
	prefix := ""
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			prefix, s = s[:i+1], s[i+1:]
			break
		}
	}
	r := []rune(s)
	if len(r) <= 4 {
		return prefix + "****"
	}
	for i := 2; i < len(r)-2; i++ {
		r[i] = '*'
	}
	return prefix + string(r)
}
