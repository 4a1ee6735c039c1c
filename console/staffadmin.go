package console

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"sync"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"github.com/sangkien/sangkien/bot"
)

// StaffStore is the staff accounts as the console keeps them: redisstore.Staff
// implements it.
type StaffStore interface {
	Add(ctx context.Context, m bot.StaffMember, passwordHash []byte) error
	Credentials(ctx context.Context, email string) (bot.StaffMember, []byte, error)
	List(ctx context.Context) ([]bot.StaffMember, error)
	Disable(ctx context.Context, email string) error
	SetPassword(ctx context.Context, email string, hash []byte) error
	NewToken(ctx context.Context, email string) (string, error)
	LoginAttempt(ctx context.Context, email, addr string) error
	FirstRefusal(ctx context.Context, addr string) (bool, error)
	LoginSucceeded(ctx context.Context, email, addr string) error
}

// MinPassword is the shortest password an account may have, in characters.
const MinPassword = 12

// Accounts manages staff accounts: `sangkien staff …` and the console's login.
type Accounts struct {
	Store StaffStore
	// Cost is bcrypt's cost (bcrypt.DefaultCost when 0; tests use bcrypt.MinCost).
	Cost int
	// Zone is the time zone tables show times in: the city's.
	Zone *time.Location
}

// StaffHelp describes the commands of `sangkien staff`, for its --help.
const StaffHelp = `  add --email E --name N --role operator|admin [--password-file F]
                   a new account; the password is read from F, or from the terminal
                   (twice, not shown), or as one line of standard input
  list             the accounts, their roles and whether they are disabled
  disable E        the account can no longer log in; its sessions and token end
  password E [--password-file F]
                   a new password; the account's sessions end
  token E          prints a new API token for the account (shown once; the previous
                   one stops working)
`

// Add creates an account.
func (a Accounts) Add(ctx context.Context, email, name string, role bot.Role, password string) error {
	if utf8.RuneCountInString(name) < 2 {
		return errors.New("staff add: --name is required")
	}
	// The login refuses, unread, what cannot be an email: no account may have one.
	if !bot.ValidEmail(bot.NormalizeEmail(email)) {
		return fmt.Errorf("staff add: %q is not an email address an account may have (at most %d bytes, local@domain, letters, digits and . _ + -)", email, bot.EmailMax)
	}
	hash, err := a.hash(password)
	if err != nil {
		return err
	}
	return a.Store.Add(ctx, bot.StaffMember{Email: bot.NormalizeEmail(email), Name: name, Role: role}, hash)
}

// SetPassword gives an account a new password.
func (a Accounts) SetPassword(ctx context.Context, email, password string) error {
	hash, err := a.hash(password)
	if err != nil {
		return err
	}
	return a.Store.SetPassword(ctx, bot.NormalizeEmail(email), hash)
}

// List writes the accounts as a table; it never shows a hash or a token.
func (a Accounts) List(ctx context.Context, w io.Writer) error {
	ms, err := a.Store.List(ctx)
	if err != nil {
		return err
	}
	zone := a.Zone
	if zone == nil {
		zone = bot.HoChiMinh()
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "EMAIL\tNAME\tROLE\tSTATE\tTOKEN\tCREATED")
	for _, m := range ms {
		state, token := "active", "-"
		if m.Disabled {
			state = "disabled"
		}
		if m.HasToken {
			token = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", m.Email, m.Name, m.Role, state, token,
			m.CreatedAt.In(zone).Format("2006-01-02 15:04"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%d accounts\n", len(ms))
	return err
}

// LoginRefusal is a refused login, as Authenticate tells it: Err is
// bot.ErrBadCredentials or bot.ErrTooManyAttempts (errors.Is sees it), and the rest
// says what the audit may note without storing what a stranger typed.
type LoginRefusal struct {
	Err error
	// Account is the email when it names an account (disabled or not); "" otherwise.
	Account string
	// Typed is the normalized email as typed, for the audit to mask when it names no
	// account; "" when it is no plausible address (a password typed in the wrong
	// field, or kilobytes of junk).
	Typed string
	// Audit tells whether the refusal deserves an entry: not for an implausible email,
	// and only the first one from an address within the window once the limit holds.
	Audit bool
}

func (e *LoginRefusal) Error() string { return e.Err.Error() }
func (e *LoginRefusal) Unwrap() error { return e.Err }

// Who is what the audit's staff field holds for the refusal: the account's email,
// the typed email masked when it names none, or "".
func (e *LoginRefusal) Who() string {
	switch {
	case e.Account != "":
		return e.Account
	case e.Typed != "":
		return bot.MaskID(e.Typed)
	}
	return ""
}

// Authenticate checks a login from addr. Every refusal is a *LoginRefusal. Every one
// but a limit reached is bot.ErrBadCredentials, whether the email is unknown, the
// account disabled or the password wrong, and each costs one bcrypt comparison, so
// neither the answer nor its time tells which accounts exist. An email that cannot be
// an address is refused first, with the same answer and no cost: it names no account.
//
// The attempt is counted before bcrypt runs (Store.LoginAttempt), so that parallel
// attempts cannot pass the limit together; a success takes its count back.
func (a Accounts) Authenticate(ctx context.Context, email, password, addr string) (bot.StaffMember, error) {
	email = bot.NormalizeEmail(email)
	if !bot.ValidEmail(email) {
		return bot.StaffMember{}, &LoginRefusal{Err: bot.ErrBadCredentials}
	}
	if err := a.Store.LoginAttempt(ctx, email, addr); err != nil {
		if !errors.Is(err, bot.ErrTooManyAttempts) {
			return bot.StaffMember{}, err
		}
		return bot.StaffMember{}, a.limited(ctx, email, addr)
	}
	m, hash, err := a.Store.Credentials(ctx, email)
	switch {
	case errors.Is(err, bot.ErrUnknownStaff):
		hash = a.decoy()
	case err != nil:
		return bot.StaffMember{}, err
	}
	ok := bcrypt.CompareHashAndPassword(hash, []byte(password)) == nil
	if !ok || err != nil || m.Disabled {
		return bot.StaffMember{}, &LoginRefusal{Err: bot.ErrBadCredentials, Account: m.Email, Typed: email, Audit: true}
	}
	if err := a.Store.LoginSucceeded(ctx, email, addr); err != nil {
		return bot.StaffMember{}, err
	}
	return m, nil
}

// limited is the refusal of a login over the limit: noted in the audit once per
// address and window, each later one cheap and silent.
func (a Accounts) limited(ctx context.Context, email, addr string) error {
	first, err := a.Store.FirstRefusal(ctx, addr)
	if err != nil {
		return err
	}
	r := &LoginRefusal{Err: bot.ErrTooManyAttempts, Typed: email, Audit: first}
	if first {
		m, _, err := a.Store.Credentials(ctx, email)
		switch {
		case err == nil:
			r.Account = m.Email
		case !errors.Is(err, bot.ErrUnknownStaff):
			return err
		}
	}
	return r
}

// decoy is a hash of no one's password at the accounts' cost: comparing against it
// takes as long as comparing against a real one. It is made once per cost, so that an
// unknown email costs one bcrypt comparison, as a known one does, not a hashing too.
func (a Accounts) decoy() []byte {
	if h, ok := decoys.Load(a.cost()); ok {
		return h.([]byte)
	}
	h, _ := bcrypt.GenerateFromPassword([]byte("no account has this password"), a.cost())
	decoys.Store(a.cost(), h)
	return h
}

// decoys holds decoy hashes by bcrypt cost.
var decoys sync.Map

func (a Accounts) cost() int {
	if a.Cost == 0 {
		return bcrypt.DefaultCost
	}
	return a.Cost
}

// hash checks the password rules and hashes it.
func (a Accounts) hash(password string) ([]byte, error) {
	if utf8.RuneCountInString(password) < MinPassword {
		return nil, fmt.Errorf("%w: at least %d characters", bot.ErrWeakPassword, MinPassword)
	}
	if len(password) > 72 {
		// bcrypt reads only the first 72 bytes: a longer password would be accepted
		// by anything sharing those.
		return nil, errors.New("password too long: at most 72 bytes")
	}
	return bcrypt.GenerateFromPassword([]byte(password), a.cost())
}

// samePassword reports whether two typed passwords match (the terminal asks twice).
func samePassword(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }
