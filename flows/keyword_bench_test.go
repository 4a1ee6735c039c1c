package flows

import "testing"

// A message is matched against every keyword on every turn: an answer to a step (no
// keyword), a keyword typed with and without diacritics.
func BenchmarkMatchKeyword(b *testing.B) {
	msgs := []string{"Lắp thêm đèn đường ở ngõ 12 phố Hàng Bạc cho an toàn", "huy", "Hủy", "gặp cán bộ", "0912345678"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		matchKeyword(msgs[i%len(msgs)], false)
	}
}
