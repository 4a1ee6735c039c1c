package flows

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sangkien/sangkien/bot"
)

// transcript is one conversation, written to testdata/<name>.<lang>.golden.
type transcript struct {
	name  string
	start time.Time
	acts  []act
}

// hints are the channel language hints the two languages' cases run with.
var hints = map[string]string{"vi": "vi-VN", "en": "en-US"}

func TestTranscripts(t *testing.T) {
	for _, lang := range []string{"vi", "en"} {
		for _, tc := range transcripts(lang) {
			t.Run(tc.name+"."+lang, func(t *testing.T) {
				start := tc.start
				if start.IsZero() {
					start = testStart
				}
				h := newHarness(t, hints[lang], start)
				for _, a := range tc.acts {
					h.do(context.Background(), a)
				}
				golden(t, tc.name+"."+lang, h.out.String())
			})
		}
	}
}

// transcripts lists the cases; pick chooses what the citizen types in each language.
func transcripts(lang string) []transcript {
	pick := func(vi, en string) string {
		if lang == "en" {
			return en
		}
		return vi
	}
	hadSubmissions := seed(func(s *bot.Session) {
		s.Profile.Submissions = []bot.SubmissionSummary{
			{ID: "a1", Reference: "SK-2026-000100", Kind: bot.KindInitiative, Title: pick("Ghế đá ven hồ Tây", "Benches around West Lake"),
				Status: "under_review", Changed: time.Date(2026, 11, 20, 15, 30, 0, 0, bot.HoChiMinh())},
			{ID: "a2", Reference: "SK-2026-000042", Kind: bot.KindInitiative, Title: pick("Thu gom pin cũ tại chung cư", "Battery collection in apartment blocks"),
				Status: "accepted", Changed: time.Date(2026, 10, 2, 8, 0, 0, 0, bot.HoChiMinh())},
			{ID: "a3", Reference: "GY-2026-000007", Kind: bot.KindFeedback, Title: pick("Trả lời nhanh, dễ dùng", "Quick answers, easy to use"),
				Status: "received", Changed: time.Date(2026, 11, 27, 23, 30, 0, 0, time.UTC)},
		}
	})
	// toTitle walks a new citizen to the title question of the smart city program.
	toTitle := []act{
		command("start", ""),
		press("cmd:initiative"),
		press("agree"),
		press("program:do-thi-thong-minh"),
		press("field:moi-truong"),
	}
	title := pick("Trồng cây xanh trên mái trường học", "Green roofs on school buildings")
	description := pick(
		"Nhiều trường học trong nội đô nóng bức vào mùa hè. Đề xuất trồng cỏ và cây bụi trên mái để giảm nhiệt, kết hợp bồn thu nước mưa để tưới.",
		"Many schools in the inner city are very hot in summer. I propose grass and shrubs on their roofs to cool them, with rain tanks for watering.")
	benefit := pick("Phòng học mát hơn, học sinh được học về môi trường.", "Cooler classrooms, and pupils learn about the environment.")
	toReview := append(append([]act{}, toTitle...),
		say(title),
		say(description),
		press("done"),
		say(benefit),
		say(pick("Phường Láng Hạ, quận Đống Đa", "Lang Ha ward, Dong Da district")),
		press("skip"),
		say(pick("Trần Văn Minh", "Anna Müller")),
		say("0987654321"),
		press("skip"),
	)
	then := func(prefix []act, more ...act) []act { return append(append([]act{}, prefix...), more...) }
	closedAtSubmit := []act{
		command("start", ""),
		press("cmd:initiative"),
		press("agree"),
		press("program:giao-thong-xanh"),
		press("field:cong-cong"),
		say(title), say(description), press("done"), say(benefit),
		press("skip"), press("skip"),
		say(pick("Trần Văn Minh", "Anna Müller")), say("0987654321"), press("skip"),
		wait(72 * time.Hour),
		press("submit"),
		press("continue"),
		press("submit"),
	}

	return []transcript{
		{name: "initiative_happy", acts: []act{
			command("start", ""),
			say(pick("1", "Propose an initiative")),
			say(pick("đồng ý", "agree")),
			say("2"),
			say(pick("chuyen doi so", "digital services")),
			say(pick("Ứng dụng báo hỏng đèn đường", "An app to report broken street lights")),
			say(pick("Hiện nay người dân muốn báo đèn đường hỏng", "Today residents who see a broken")),
			say(pick("thì phải gọi điện cho phường, nhiều khi không ai nghe máy. Ứng dụng cho phép chụp ảnh, gửi vị trí và theo dõi việc sửa chữa.",
				"street light have to phone the ward, and often nobody answers. An app would let them send a photo and a location and follow the repair.")),
			press("done"),
			say(pick("Đèn được sửa nhanh hơn, đường phố an toàn hơn vào ban đêm.", "Lights get fixed faster and streets are safer at night.")),
			place(21.028511, 105.854167, pick("Hồ Hoàn Kiếm", "Hoan Kiem Lake")),
			send(pick("Đèn hỏng ở phố Đinh Tiên Hoàng", "Broken light on Dinh Tien Hoang street"), photo("tg-photo-1"), photo("tg-photo-2")),
			send("", doc(pick("ke-hoach.pdf", "plan.pdf"), "application/pdf", 2_400_000)),
			press("done"),
			say(pick("Nguyễn Thị Lan", "Lan Nguyen")),
			say(pick("0912 345 678", "+84 912 345 678")),
			say("lan.nguyen@Example.VN"),
			say(pick("gui sang kien", "submit initiative")),
			command("status", ""),
		}},
		{name: "initiative_contact_shared", acts: then(toTitle,
			say(title), say(description), say(pick("xong", "done")), say(benefit),
			press("skip"), say(pick("bo qua", "skip")),
			share(pick("Lê Hoàng Nam", "Nam Le"), "+84 (90) 123-4567", true),
			say(pick("nam.le@gmail.com", "nam.le@gmail.com")),
			press("submit"),
		)},
		// An expatriate gives a British number: first typed with a minus in front, then
		// their own contact card, whose number comes without the plus.
		{name: "initiative_foreign_phone", acts: then(toTitle,
			say(title), say(description), say(pick("xong", "done")), say(benefit),
			say(pick("Phường Láng Hạ", "Lang Ha ward")), press("skip"),
			say("Oliver Smith"),
			say("-0912345678"),
			say("+44\u00a07911\t123456"),
			press("skip"),
			press("submit"),
		)},
		{name: "validation", acts: then(nil,
			command("initiative", ""),
			say(pick("gì vậy?", "what?")),
			press("agree"),
			say("5"),
			say("1"),
			say("abc"),
			press("field:xe-dap"),
			say(pick("Ngắn", "Short")),
			say(strings.Repeat(pick("Đường ", "Road "), 31)),
			share("", "0912345678", true),
			say(pick("Làn xe đạp trên phố Nguyễn Trãi", "Bike lanes on Nguyen Trai street")),
			press("done"),
			say(pick("Làn xe đạp riêng,", "Separate bike lanes,")),
			press("done"),
			say(strings.Repeat("x", 4000)),
			say(pick("có dải phân cách cứng, nối từ Ngã Tư Sở đến Hà Đông, dọc tuyến đường sắt trên cao.",
				"with a hard kerb, from Nga Tu So to Ha Dong, along the elevated railway line.")),
			press("done"),
			say(pick("Tốt", "Good")),
			say(strings.Repeat("a", 2001)),
			say(pick("Người đi xe đạp an toàn hơn, bớt xe máy.", "Safer cycling and fewer motorbikes.")),
			say("A"),
			place(20.99, 105.81, ""),
			say(pick("đây ạ", "here")),
			send("", doc("setup.exe", "application/x-msdownload", 1000)),
			send("", doc("ban-do.pdf", "application/pdf", 25<<20)),
			send("", photo("p1"), photo("p2"), photo("p3"), photo("p4"), photo("p5"), photo("p6")),
			send("", doc("bang-tinh.xlsx", "application/octet-stream", 5000)),
			press("done"),
			say("Nguyen 123"),
			say("Huy"),
			say("024 3825 1234"),
			share("Bạn tôi", "0911111111", false),
			say("(+84)912-345-678"),
			say("abc@"),
			press("skip"),
			press("submit"),
		)},
		{name: "location_outside_city", acts: then(toTitle,
			say(title), say(description), press("done"), say(benefit),
			place(16.0544, 108.2022, pick("Cầu Rồng", "Dragon Bridge")),
			press("far:no"),
			place(10.7769, 106.7009, ""),
			say(pick("có", "yes")),
		)},
		{name: "back", acts: then(toTitle,
			say(title),
			say(pick("quay lại", "back")),
			command("back", ""),
			say(pick("quay lai", "go back")),
			say(pick("Quay lại!", "Back!")),
			press("cmd:back"),
			command("back", ""),
		)},
		// A program whose fields do not hold the chosen one asks for a field; going back
		// from that question must not reach the review (and the submit) without one.
		{name: "edit_program_back", acts: then(toReview,
			press("edit:program"),
			press("program:giao-thong-xanh"),
			command("back", ""),
			press("submit"),
			press("field:xe-dap"),
			press("submit"),
		)},
		// A draft stored without required answers (by an older version, or damaged)
		// reaches the submit: the safety net asks each before anything leaves.
		{name: "submit_missing_answer", acts: then(toReview,
			seed(func(s *bot.Session) { s.State.Draft.Field, s.State.Draft.Phone = "", "" }),
			press("submit"),
			press("field:moi-truong"),
			press("submit"),
			say("0987654321"),
			press("submit"),
		)},
		{name: "edit_from_review", acts: then(toReview,
			press("edit:title"),
			say(pick("Mái nhà xanh cho trường học Hà Nội", "Green roofs for Hanoi schools")),
			press("edit:program"),
			press("program:giao-thong-xanh"),
			say("2"),
			press("edit:description"),
			press("clear"),
			say(description+" "+pick("Thí điểm ở 10 trường.", "A pilot in 10 schools.")),
			press("done"),
			press("edit:email"),
			say("minh@hanoi.gov.vn"),
			press("edit:phone"),
			say(pick("quay lại", "back")),
			press("edit:location"),
			place(21.01, 105.82, ""),
			press("edit:bogus"),
			press("submit"),
		)},
		{name: "cancel", acts: then(toTitle,
			say(title),
			say(pick("hủy", "cancel")),
			say(pick("không", "no")),
			say(pick("huy", "Cancel")),
			say(pick("có lẽ", "maybe")),
			say("1"),
			say(pick("huỷ", "cancel")),
			press("cmd:initiative"),
			command("cancel", ""),
		)},
		{name: "resume", acts: then(toTitle,
			say(title),
			wait(48*time.Hour),
			say(pick("xin chào", "hello")),
			press("continue"),
			say(description),
			wait(2*time.Hour),
			command("start", ""),
			say(pick("bat dau lai", "start over")),
			press("cmd:initiative"),
			say(title),
			wait(31*24*time.Hour),
			say(pick("chào bạn", "hi there")),
		)},
		{name: "language_switch", acts: then(toTitle,
			say(pick("ngôn ngữ", "language")),
			say("2"),
			say(pick("english", "tieng viet")),
			say(pick("ngon ngu", "Language")),
			press(pick("lang:vi", "lang:en")),
			say(title),
			command("lang", ""),
			say(pick("gì cũng được", "whatever")), // not an answer: asked again
			say(pick("Tiếng Việt", "English")),
		)},
		{name: "forget", acts: []act{
			command("start", ""),
			say(pick("xóa dữ liệu", "forget me")),
			say(pick("không", "no")),
			say(pick("xoa du lieu", "Forget me")),
			press(forgetYes),
			say(pick("chào", "hello")),
		}},
		{name: "feedback_happy", acts: []act{
			command("start", ""),
			say(pick("góp ý", "feedback")),
			press("topic:program:do-thi-thong-minh"),
			say("4"),
			say(pick("Nên có thêm hướng dẫn bằng video cho người cao tuổi.", "Please add video guides for older residents.")),
			press("yes"),
			press("agree"),
			say(pick("Phạm Thu Hà", "Ha Pham")),
			say("0356 789 012"),
		}},
		{name: "feedback_on_submission", acts: []act{
			hadSubmissions,
			seed(func(s *bot.Session) {
				s.Profile.Consent = &bot.Consent{At: testStart.Add(-240 * time.Hour), NoticeVersion: "2026-11"}
			}),
			command("feedback", ""),
			say("sk-2026-000999"),
			say("sk-2026-000100"),
			say(pick("4 sao", "4/5")),
			say(pick("Mình chưa nhận được phản hồi sau một tuần.", "No answer yet after a week.")),
			share(pick("Đỗ Minh Anh", "Minh Anh Do"), "84 98 765 4321", true),
		}},
		{name: "feedback_anonymous", acts: []act{
			command("feedback", ""),
			say(pick("abc", "xyz")),
			press("topic:service"),
			say("7"),
			press("rating:2"),
			say("ok"),
			say(pick("Bot hỏi hơi nhiều câu.", "Too many questions.")),
			say(pick("để sau", "later")),
			press("yes"),
			press("decline"),
			command("feedback", ""),
			press("topic:other"),
			press("rating:5"),
			say(pick("Rất tiện, cảm ơn!", "Very handy, thanks!")),
			press("skip"),
		}},
		{name: "my_submissions", acts: []act{
			command("start", ""),
			say(pick("hồ sơ của tôi", "my submissions")),
			hadSubmissions,
			say(pick("ho so cua toi", "status")),
			say(pick("trạng thái", "My Submissions")),
		}},
		{name: "status_notice", acts: then(append([]act{hadSubmissions}, toTitle[:4]...),
			// Mid-flow, at the field question: the city's notices do not move the flow,
			// and a typed number still answers the question asked before them.
			cityStatus(bot.StatusChange{SubmissionID: "a1", Reference: "SK-2026-000100", Status: bot.StatusAccepted,
				IntakeID: "HN-2026-48213", At: testStart.Add(5 * time.Minute),
				Message: bot.Text{VI: "Sở Xây dựng sẽ khảo sát vị trí đặt ghế trong tháng 12.",
					EN: "The Department of Construction will survey the bench sites in December."}}),
			cityStatus(bot.StatusChange{Reference: "GY-2026-000007", Status: bot.StatusImplemented,
				At:      testStart.Add(6 * time.Minute),
				Message: bot.Text{VI: "Cảm ơn bạn đã góp ý."}}),
			cityStatus(bot.StatusChange{SubmissionID: "a2", Reference: "SK-2026-000042", Status: "archived",
				At: testStart.Add(7 * time.Minute)}),
			// An older status arriving late changes nothing and says nothing.
			cityStatus(bot.StatusChange{SubmissionID: "a1", Reference: "SK-2026-000100", Status: bot.StatusUnderReview,
				At: testStart.Add(-time.Hour)}),
			say("1"),
			command("status", ""),
		)},
		// From the operator console: an operator takes over mid-proposal, the bot stays
		// silent while the citizen writes to them, the operator answers and hands back,
		// and the bot asks the question the citizen had left.
		{name: "console_takeover", acts: then(toTitle,
			staff(bot.EventStaffJoin, "Nguyễn Thị Lan", ""),
			say(pick("Chị ơi, tiêu đề nên viết thế nào ạ?", "How should I word the title?")),
			staff(bot.EventStaffReply, "Nguyễn Thị Lan", pick("Bạn viết ngắn gọn việc muốn làm, ví dụ \"Trồng cây xanh trên mái trường học\".",
				"Say briefly what you want done, for example \"Green roofs on school buildings\".")),
			staff(bot.EventStaffHandback, "Nguyễn Thị Lan", ""),
			say(title),
			staff(bot.EventStaffHandback, "Nguyễn Thị Lan", ""),
		)},
		// The citizen asked for a person: the first operator to take the conversation
		// is announced; their colleague's takeover after an assignment is not.
		{name: "console_asked", acts: []act{
			command("start", ""),
			say(pick("gặp cán bộ", "talk to a person")),
			say(pick("Tôi muốn hỏi về chương trình xanh", "I have a question about the green program")),
			staff(bot.EventStaffJoin, "Nguyễn Thị Lan", ""),
			staff(bot.EventStaffReply, "Nguyễn Thị Lan", pick("Chào bạn, bạn cần hỏi gì ạ?", "Hello, what would you like to know?")),
		}},
		// Notes and assignments are for staff: the citizen sees nothing of them.
		// Resolving a conversation an operator holds gives it back to the bot, which
		// asks the question the citizen had left.
		{name: "console_resolve", acts: then(toTitle,
			staff(bot.EventStaffJoin, "Nguyễn Thị Lan", ""),
			staff(bot.EventStaffNote, "Nguyễn Thị Lan", "Người dân hỏi về quy định đặt tiêu đề."),
			staff(bot.EventStaffAssign, "Nguyễn Thị Lan", ""),
			staff(bot.EventStaffResolve, "Nguyễn Thị Lan", ""),
			say(title),
			staff(bot.EventStaffResolve, "Nguyễn Thị Lan", ""),
		)},
		// A reply from the console without a takeover first is one: the citizen is
		// told a person joined, then reads the reply.
		{name: "console_reply", acts: []act{
			command("start", ""),
			staff(bot.EventStaffReply, "", pick("Chào bạn, mình có thể giúp gì?", "Hello, how can we help?")),
			staff(bot.EventStaffReply, "", pick("Bạn cứ nhắn nhé.", "Just write here.")),
			say(pick("hủy", "cancel")),
		}},
		{name: "status_notice_human", acts: []act{
			command("start", ""),
			press("cmd:initiative"),
			press("agree"),
			press("program:do-thi-thong-minh"),
			press("field:moi-truong"),
			say(title),
			say(description),
			press("done"),
			say(benefit),
			press("skip"),
			press("skip"),
			say(pick("Trần Văn Minh", "Anna Müller")),
			say("0987654321"),
			press("skip"),
			press("submit"),
			say(pick("gặp nhân viên", "talk to a person")),
			cityStatus(bot.StatusChange{SubmissionID: "draft-01", Reference: "SK-2026-000123", Status: bot.StatusReceived,
				IntakeID: "4711"}),
			cityStatus(bot.StatusChange{SubmissionID: "draft-01", Status: bot.StatusNeedsInfo,
				Message: bot.Text{EN: "Please send a photo of the school roof."}}),
			say(pick("Tôi sẽ gửi ảnh sau.", "I will send a photo later.")),
			// An operator hands the conversation back to the bot.
			seed(func(s *bot.Session) { s.Profile.Mode = bot.ModeBot }),
			command("status", ""),
		}},
		{name: "human", acts: []act{
			command("start", ""),
			say(pick("gặp nhân viên", "talk to a person")),
			say(pick("Cho tôi hỏi hạn nộp sáng kiến là khi nào?", "When is the deadline for initiatives?")),
			say(pick("trợ giúp", "help")),
			command("menu", ""),
			press("cmd:initiative"),
			other("voice"),
		}},
		{name: "human_mid_flow", acts: then(toTitle,
			say(pick("gap nhan vien", "human")),
			say(title),
		)},
		// In human mode forget me still works, with its confirmation; an answer that is
		// not yes or no goes to the operator and the question lapses.
		{name: "human_forget", acts: []act{
			command("start", ""),
			say(pick("gặp nhân viên", "talk to a person")),
			say(pick("xóa dữ liệu", "forget me")),
			say(pick("không", "no")),
			say(pick("Cho tôi hỏi về chương trình Giao thông xanh.", "A question about Green transport, please.")),
			say(pick("xoa du lieu", "Forget me")),
			say(pick("Khoan đã, tôi hỏi nhân viên trước.", "Wait, I'll ask the staff first.")),
			say(pick("có", "yes")),
			say(pick("xóa dữ liệu của tôi", "delete my data")),
			press(forgetYes),
			say(pick("chào", "hello")),
		}},
		// In human mode stop, subscribe and language still work; the rest is silent.
		{name: "human_stop", acts: []act{
			command("start", ""),
			press("cmd:human"),
			say("1"),
			say(pick("dừng", "stop")),
			say(pick("Tôi không muốn nhận tin quảng cáo.", "I don't want any announcements.")),
			command("subscribe", ""),
			say(pick("english", "tiếng việt")),
			say(pick("language", "ngôn ngữ")),
			press(pick("lang:vi", "lang:en")),
			command("status", ""),
			say(pick("ngôn ngữ", "language")),
			say("2"),
		}},
		// Cancel hands the conversation back to the bot, which picks up where the
		// citizen was: the question in progress, the resume question after a pause,
		// or the menu.
		{name: "human_cancel", acts: then(toTitle,
			say(title),
			say(pick("gặp nhân viên", "talk to a person")),
			say(pick("trợ giúp", "help")),
			say(pick("Mô tả nên dài bao nhiêu?", "How long should the description be?")),
			say(pick("hủy", "cancel")),
			say(description),
			say(pick("nhân viên", "operator")),
			press("cmd:cancel"),
			say(pick("gap nhan vien", "human")),
			wait(2*time.Hour),
			say(pick("huy", "Cancel")),
			press("continue"),
			say(pick("hủy", "cancel")),
			say(pick("có", "yes")),
			say(pick("gặp nhân viên", "talk to a person")),
			command("cancel", ""),
		)},
		// A shared contact whose name cannot serve gives the phone; the name is asked
		// again and the phone is not.
		{name: "initiative_contact_unusable_name", acts: then(toReview[:len(toReview)-3],
			share("🌸", "0912 345 678", true),
			share("A", "0912 345 678", true),
			say(pick("Trần Văn Minh", "Anna Müller")),
			press("skip"),
			press("submit"),
		)},
		// A one-word name typed, then the citizen's own card at the phone question: the
		// card's full name replaces it.
		{name: "initiative_contact_fuller_name", acts: then(toReview[:len(toReview)-3],
			say("Minh"),
			share("Trần Văn Minh", "0912 345 678", true),
			press("skip"),
			press("submit"),
		)},
		{name: "stop", acts: []act{
			command("start", ""),
			say(pick("dừng", "stop")),
			command("start", ""),
			say(pick("dung", "unsubscribe")),
			say(pick("đăng ký nhận tin", "subscribe")),
			command("stop", ""),
			command("subscribe", ""),
		}},
		{name: "unsupported", acts: then([]act{other("voice")}, append(toTitle, other("sticker"), say(title))...)},
		{name: "three_misses", acts: then(toTitle[:4],
			say(pick("không biết", "no idea")),
			say(pick("cái gì cũng được", "anything")),
			say("9"),
			press("cmd:help"),
			say("4"),
			say(pick("an toan do thi", "urban safety")),
		)},
		{name: "deep_link", acts: []act{
			command("start", "do-thi-thong-minh"),
			press("agree"),
			press("cmd:cancel"),
			command("start", "van-hoa-2025"),
			command("start", "khong-co"),
		}},
		{name: "no_program_open", start: time.Date(2026, 12, 31, 12, 0, 0, 0, bot.HoChiMinh()), acts: []act{
			command("start", ""),
			press("cmd:initiative"),
			command("start", "do-thi-thong-minh"),
			press("cmd:feedback"),
		}},
		{name: "one_program_open", start: time.Date(2026, 12, 15, 10, 0, 0, 0, bot.HoChiMinh()), acts: []act{
			command("initiative", ""),
			press("agree"),
			press("cmd:back"),
			press("cmd:back"),
		}},
		{name: "consent_declined", acts: []act{
			press("cmd:initiative"),
			say(pick("không đồng ý", "decline")),
			press("cmd:initiative"),
			say(pick("khong", "no")),
		}},
		{name: "discard", acts: then(toReview,
			press("discard"),
			say(pick("không", "no")),
			press("discard"),
			say(pick("maybe", "perhaps")),
			press(discardYes),
		)},
		// The program closes while the citizen writes: at submit the draft is kept and
		// sent to the other open program, whose fields ask the field again.
		{name: "closed_at_submit", acts: then(closedAtSubmit,
			say("1"),
			press("field:moi-truong"),
			press("submit"),
		)},
		// ... or sent as feedback about the closed program, its content carried over.
		{name: "closed_as_feedback", acts: then(closedAtSubmit,
			say(pick("chuyen thanh gop y", "send as feedback")),
			command("status", ""),
		)},
		// ... or kept: the menu, then the draft again from the menu, still at its question.
		{name: "closed_keep", acts: then(closedAtSubmit,
			press("keep"),
			say(pick("1", "1")),
			press("continue"),
			say(pick("xin chào", "hello")),
		)},
		// Not ready to write yet: "Remind me" at the program list follows the program and
		// ends the empty draft; one who said stop is told how to hear the reminders.
		{name: "remind_me", acts: []act{
			command("initiative", ""),
			press("agree"),
			press("remind:giao-thong-xanh"),
			say(pick("dừng", "stop")),
			press("cmd:initiative"),
			say("4"),
			press("cmd:subscribe"),
			wait(72 * time.Hour),
			press("remind:giao-thong-xanh"),
		}},
		{name: "follow", acts: []act{
			follow(),
			unfollow(),
			say(pick("xin chào", "hello")),
		}},

		// Feedback: back at the rating and comment steps (the new answer replaces the
		// earlier one), and from the first step to the menu.
		{name: "feedback_back", acts: []act{
			command("feedback", ""),
			press("topic:program:do-thi-thong-minh"),
			say(pick("quay lại", "back")),
			press("topic:service"),
			press("rating:2"),
			say(pick("quay lai", "go back")),
			say("4"),
			say(pick("Nên cho sửa câu trả lời trước khi gửi.", "Let me change an answer before sending.")),
			command("back", ""),
			say(pick("Nên cho xem lại câu trả lời trước khi gửi.", "Let me review my answers before sending.")),
			press("skip"),
			command("feedback", ""),
			press("cmd:back"),
		}},
		// Feedback: cancel with nothing answered ends at once; with answers it asks first.
		{name: "feedback_cancel", acts: []act{
			command("feedback", ""),
			say(pick("hủy", "cancel")),
			press("cmd:feedback"),
			press("topic:service"),
			say(pick("huỷ", "Cancel")),
			say(pick("không", "no")),
			press("rating:3"),
			say(pick("huy", "cancel")),
			say(pick("có lẽ", "maybe")),
			press(cancelYes),
			command("status", ""),
		}},
		// Feedback: after two days away the citizen is asked to continue or start over,
		// before anything typed is taken as an answer.
		{name: "feedback_resume", acts: []act{
			command("feedback", ""),
			press("topic:program:do-thi-thong-minh"),
			press("rating:4"),
			wait(48 * time.Hour),
			say(pick("Trang web khó tìm thông tin.", "The website is hard to search.")),
			press("continue"),
			say(pick("Trang web khó tìm thông tin.", "The website is hard to search.")),
			wait(48 * time.Hour),
			command("feedback", ""),
			say(pick("lam tiep", "continue")),
			press("skip"),
			command("feedback", ""),
			press("topic:other"),
			wait(48 * time.Hour),
			command("start", ""),
			say(pick("bắt đầu lại", "start over")),
		}},
		// Feedback: the language changes at any step and the question is asked again in it.
		{name: "feedback_language_switch", acts: []act{
			command("feedback", ""),
			say(pick("english", "tiếng việt")),
			press("topic:service"),
			say(pick("tieng viet", "English")),
			press("rating:5"),
			command("lang", ""),
			press(pick("lang:en", "lang:vi")),
			say(pick("Fast and simple, thank you.", "Nhanh và đơn giản, cảm ơn.")),
			say(pick("ngôn ngữ", "language")),
			say(pick("1", "2")),
			press("skip"),
		}},
		// Feedback: forget me mid-flow asks first; "no" goes back to the question, "yes"
		// erases the draft with everything else. A button still shown under an earlier
		// message ("Leave my contact", "Agree" to the notice) does not answer it.
		{name: "feedback_forget", acts: []act{
			command("feedback", ""),
			press("topic:service"),
			press("rating:4"),
			say(pick("Bot trả lời nhanh.", "Quick answers.")),
			say(pick("xóa dữ liệu", "forget me")),
			press("yes"),
			say(pick("không", "no")),
			press("yes"),
			say(pick("xoa du lieu", "Forget me")),
			press("agree"),
			press(forgetYes),
			say(pick("xin chào", "hello")),
		}},
		// Feedback: every refused answer, at every step.
		{name: "feedback_validation", acts: []act{
			command("feedback", ""),
			say("SK-2026-000100"),
			press("topic:program:khong-co"),
			press("topic:service"),
			say("0"),
			say("6"),
			say(pick("năm", "five")),
			say("4.5"),
			press("rating:9"),
			say(pick("3 sao", "3 stars")),
			say(pick("Tốt.", "Good")),
			send("", photo("p1")),
			say(ofLength(pick("Cần thêm nhiều ghế đá. ", "More benches, please. "), 2001)),
			say(pick("Cần thêm ghế đá ở công viên.", "More benches in the parks, please.")),
			share(pick("Mẹ", "Mum"), "0911111111", false),
			say("0981 234 567"),
			press("agree"),
			say("123"),
			say(pick("Võ Thị Hạnh", "Hanh Vo")),
		}},
		// Feedback: a contact left by pressing the button asks for the phone, which must
		// be a mobile number.
		{name: "feedback_phone", acts: []act{
			command("feedback", ""),
			press("topic:other"),
			press("rating:5"),
			say(pick("Cảm ơn các bạn đã lắng nghe.", "Thank you for listening.")),
			press("yes"),
			press("agree"),
			say(pick("Võ Thị Hạnh", "Hanh Vo")),
			say("12345"),
			say("024 3825 1234"),
			say("0981 234 567"),
		}},
		// Initiative: the limits of each answer, at and over them; the description over
		// 4,000 characters in total across several messages; attachments of every kind
		// that cannot be taken, alone and in an album with good ones.
		{name: "validation_limits", acts: then(toTitle,
			say(ofLength(pick("Cải tạo vỉa hè ", "Fix the pavements "), 151)),
			say(title),
			say(ofLength(pick("Vỉa hè bị lấn chiếm. ", "Pavements are blocked. "), 1500)),
			say(ofLength(pick("Người đi bộ phải xuống lòng đường. ", "People walk in the road. "), 1500)),
			say(ofLength(pick("Cần cắm mốc và xử lý vi phạm. ", "Mark them and fine offenders. "), 1500)),
			say(ofLength(pick("Thí điểm ở quận Hoàn Kiếm. ", "A pilot in Hoan Kiem. "), 998)),
			say(pick("Thêm.", "More.")),
			press("clear"),
			say(description),
			press("done"),
			say(ofLength(pick("Mát hơn cho trẻ em. ", "Cooler for children. "), 19)),
			say(benefit),
			say(ofLength(pick("Phường Hàng Trống, ", "Hang Trong ward, "), 201)),
			say(pick("Phường Hàng Trống, quận Hoàn Kiếm", "Hang Trong ward, Hoan Kiem district")),
			send("", doc("ho-so.zip", "application/zip", 300_000)),
			send("", doc("cai-dat.exe", "application/octet-stream", 1000)),
			send("", doc(pick("ban-ve.pdf", "drawing.pdf"), "application/pdf", 20<<20+1)),
			send("", doc(pick("ban-ve.pdf", "drawing.pdf"), "application/pdf", 20<<20)),
			send(pick("Mái trường hiện nay", "The roof today"), photo("p1"), doc("video.mp4", "video/mp4", 9_000_000), photo("p2")),
			send("", photo("p3"), photo("p4"), photo("p5")),
			send("", doc(pick("du-toan.xlsx", "budget.xlsx"),
				"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", 40_000)),
			press("done"),
			say(pick("Trần Văn Minh", "Anna Müller")),
			say("0987654321"),
			say(pick("minh@hanoi", "anna@example")),
			say(pick("Trần Minh <minh@hanoi.gov.vn>", "Anna <anna@example.com>")),
			say(pick("minh @hanoi.gov.vn", "anna @example.com")),
			say(pick("minh@hanoi.gov.vn", "anna@example.com")),
			press("submit"),
		)},
		// Initiative: files as Telegram may really send them. A negative size (against
		// the Bot API's schema), an .exe declared as a PDF and a PDF declared as HTML are
		// refused at the step, each with its reason; a true PDF is then taken.
		{name: "attachments_as_sent", acts: then(toTitle,
			say(title),
			say(description),
			press("done"),
			say(benefit),
			press("skip"),
			send("", doc(pick("ke-hoach.pdf", "plan.pdf"), "application/pdf", -1)),
			send("", doc("evil.exe", "application/pdf", 536_392)),
			send("", doc("x.pdf", "text/html", 536_392)),
			send("", doc(pick("ke-hoach.pdf", "plan.pdf"), "application/pdf", 536_392)),
			press("done"),
		)},
	}
}

// ofLength repeats s and cuts it to exactly n characters, for an input at a limit.
// A space at the cut would be trimmed away: a dot takes its place.
func ofLength(s string, n int) string {
	r := []rune(strings.Repeat(s, n/len([]rune(s))+1))[:n]
	if r[n-1] == ' ' {
		r[n-1] = '.'
	}
	return string(r)
}
