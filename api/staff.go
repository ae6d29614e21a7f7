package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/policyflow/policyflow/activities"
	"github.com/policyflow/policyflow/models"
)

// The staff pages (issue 17): a member of staff asks for a one-time sign-in link, which is
// mailed to the address the directory holds for them; the link opens a short session in
// which they see their open tasks and their requests and file new ones. No password, no
// app: the mailbox the town gave them is what proves who they are, as with task links.

// StaffSettings are the town's settings for the staff pages' sign-in; a zero field takes
// its default (DefaultStaffSettings). The policy sets none of them: they are town settings.
type StaffSettings struct {
	// LinkTTL is how long a mailed sign-in link works (POLICYFLOW_STAFF_LINK_MINUTES).
	LinkTTL time.Duration
	// Idle ends a session after this long without a request (POLICYFLOW_STAFF_IDLE_MINUTES).
	Idle time.Duration
	// Max ends a session this long after it began, however busy (POLICYFLOW_STAFF_SESSION_HOURS).
	Max time.Duration
	// LinksPerHour is how many sign-in links one person is mailed in an hour at most,
	// whoever asks: more requests are answered the same but send nothing.
	LinksPerHour int
}

// DefaultStaffSettings are the staff pages' settings when the town sets none.
var DefaultStaffSettings = StaffSettings{LinkTTL: 15 * time.Minute, Idle: 30 * time.Minute, Max: 8 * time.Hour, LinksPerHour: 5}

func (s *Server) staffSettings() StaffSettings {
	st, d := s.Staff, DefaultStaffSettings
	if st.LinkTTL <= 0 {
		st.LinkTTL = d.LinkTTL
	}
	if st.Idle <= 0 {
		st.Idle = d.Idle
	}
	if st.Max <= 0 {
		st.Max = d.Max
	}
	if st.LinksPerHour <= 0 {
		st.LinksPerHour = d.LinksPerHour
	}
	return st
}

// staffCookie holds the session token. Its path is the staff pages' own.
const staffCookie = "pf_staff"

// staffPages are the templates of the staff pages, one file, a template per page.
var staffPages = template.Must(template.New("staff").Funcs(template.FuncMap{
	"t": func(lang, ja, en string) string { return pick(lang, ja, en) },
	"has": func(list []string, v string) bool {
		for _, x := range list {
			if x == v {
				return true
			}
		}
		return false
	},
}).ParseFS(pageFiles, "pages/staff.html"))

// staffView is what every staff page gets: the language, the signed-in person (if any), the
// session's CSRF token for its forms, and the page's own data.
type staffView struct {
	Lang, Title, Error, Notice string
	Name, EmployeeID, CSRF     string
	// Sent: the sign-in page's answer once a link was asked for.
	Sent bool
	Data any
}

func (s *Server) staffPage(c echo.Context, status int, page string, v staffView) error {
	var b strings.Builder
	if err := staffPages.ExecuteTemplate(&b, page, v); err != nil {
		return err
	}
	return c.HTML(status, b.String())
}

// visitorLang is the language of a page shown before sign-in: ?lang=en, else English when
// the browser prefers it over Japanese, else Japanese (the town's language).
func visitorLang(c echo.Context) string {
	switch c.QueryParam("lang") {
	case "en":
		return "en"
	case "ja":
		return "ja"
	}
	for _, part := range strings.Split(c.Request().Header.Get("Accept-Language"), ",") {
		tag := strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
		switch {
		case strings.HasPrefix(tag, "ja"):
			return "ja"
		case strings.HasPrefix(tag, "en"):
			return "en"
		}
	}
	return "ja"
}

// signInForm shows the form that asks for a sign-in link.
func (s *Server) signInForm(c echo.Context) error {
	lang := visitorLang(c)
	v := staffView{Lang: lang, Title: pick(lang, "職員用ページへのサインイン", "Sign in to the staff pages")}
	if c.QueryParam("ended") != "" {
		v.Notice = pick(lang, "セッションが終了しました。もう一度サインインしてください。", "Your session has ended. Please sign in again.")
	}
	return s.staffPage(c, http.StatusOK, "signin", v)
}

// askSignIn takes an employee ID or a work address and answers the same page, with the same
// status, whatever was entered: whether the directory knows someone is not told. The
// look-up, the link and the mail happen after the answer, so neither does the time taken.
func (s *Server) askSignIn(c echo.Context) error {
	lang := visitorLang(c)
	who := strings.TrimSpace(c.Request().PostFormValue("who"))
	v := staffView{Lang: lang, Title: pick(lang, "職員用ページへのサインイン", "Sign in to the staff pages")}
	if who == "" || len(who) > 254 {
		v.Error = pick(lang, "職員番号又は職場のメールアドレスを入力してください。", "Enter your employee ID or work address.")
		return s.staffPage(c, http.StatusBadRequest, "signin", v)
	}
	ok, _, wait, err := s.signInLimiter.allow(c.Request().Context(), c.RealIP())
	if err != nil {
		s.Log.Error("staff sign-in: counting the request failed", "err", err)
		v.Error = pick(lang, "ただいま受け付けられません。しばらくしてからもう一度お試しください。", "This cannot be taken right now. Please try again in a few minutes.")
		return s.staffPage(c, http.StatusServiceUnavailable, "signin", v)
	}
	if !ok {
		c.Response().Header().Set("Retry-After", retryAfter(wait))
		v.Error = pick(lang, "リクエストが多すぎます。しばらくしてからもう一度お試しください。", "Too many requests. Please try again in a minute.")
		return s.staffPage(c, http.StatusTooManyRequests, "signin", v)
	}
	s.background(func(ctx context.Context) { s.mailSignInLink(ctx, who) })
	v.Notice = pick(lang,
		"入力された職員番号又はアドレスが職員名簿にあれば、登録されたアドレスにサインイン用のリンクを送りました。リンクは一度だけ、"+minutes(s.staffSettings().LinkTTL)+"分間使えます。",
		"If the employee ID or address you entered is in the staff directory, a sign-in link was mailed to the address registered there. The link works once, for "+minutes(s.staffSettings().LinkTTL)+" minutes.")
	v.Sent = true
	return s.staffPage(c, http.StatusOK, "signin", v)
}

// background runs f after the request, with a context of its own bounded in time. Tests
// wait for it through BackgroundDone.
func (s *Server) background(f func(ctx context.Context)) {
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		f(ctx)
	}()
}

// BackgroundDone waits for the work the API does after answering (sign-in mails).
func (s *Server) BackgroundDone() { s.bg.Wait() }

// mailSignInLink mails a sign-in link to the person the directory knows by who (an
// employee ID or a work address), if they are employed and were not sent too many links
// in the last hour. The link goes to the registered address, never to what was typed.
func (s *Server) mailSignInLink(ctx context.Context, who string) {
	var p models.Person
	var err error
	if strings.Contains(who, "@") {
		p, err = s.Store.PersonByEmail(ctx, who)
	} else if validID(who) {
		p, err = s.Store.Person(ctx, who)
	} else {
		return
	}
	if errors.Is(err, models.ErrNotFound) {
		return
	} else if err != nil {
		s.Log.Warn("staff sign-in: directory look-up failed", "err", err)
		return
	}
	if p.Status != models.StatusEmployed || p.Email == "" {
		return
	}
	st := s.staffSettings()
	now := s.now()
	// What can no longer sign anyone in is deleted as new links are made. The links of the
	// last hour stay: they count toward LinksPerHour.
	if err := s.Store.ForgetStaffSignIns(ctx, now.Add(-max(st.Max, time.Hour))); err != nil {
		s.Log.Warn("staff sign-in: forgetting old links and sessions failed", "err", err)
	}
	n, err := s.Store.RecentSignInLinks(ctx, p.EmployeeID, now.Add(-time.Hour))
	if err != nil {
		s.Log.Warn("staff sign-in: counting links failed", "err", err)
		return
	}
	if n >= int64(st.LinksPerHour) {
		s.Log.Info("staff sign-in: link not sent, too many this hour", "employee_id", p.EmployeeID)
		return
	}
	if s.Mailer == nil {
		s.Log.Error("staff sign-in: no mailer is configured; no link was sent")
		return
	}
	token, hash, err := activities.NewToken()
	if err != nil {
		s.Log.Error("staff sign-in: token", "err", err)
		return
	}
	if err := s.Store.CreateSignInLink(ctx, models.SignInLink{Hash: hash, EmployeeID: p.EmployeeID, CreatedAt: now, ExpiresAt: now.Add(st.LinkTTL)}); err != nil {
		s.Log.Warn("staff sign-in: storing the link failed", "err", err)
		return
	}
	link := s.PublicURL + "/staff/sign-in/" + token
	lang := p.Locale
	ttl := minutes(st.LinkTTL)
	subject := pick(lang, "【policyflow】職員用ページへのサインイン", "[policyflow] Sign in to the staff pages")
	text := pick(lang,
		p.Name+" 様\n\n職員用ページへのサインインが求められました。次のリンクを開き、「サインイン」を押してください。\n\n"+link+
			"\n\nこのリンクは一度だけ、"+ttl+"分間使えます。心当たりがなければ、このメールは破棄してください（何も変わりません）。\n",
		"Dear "+p.Name+",\n\nSomeone asked to sign you in to the staff pages. Open this link and press \"Sign in\":\n\n"+link+
			"\n\nThe link works once, for "+ttl+" minutes. If you did not ask, delete this mail: nothing changes.\n")
	// The key names the link by its hash's prefix, never the token.
	if err := s.Mailer.Send(ctx, activities.Message{Key: "sign-in/" + p.EmployeeID + "/" + hash[:16], To: p.Email, Subject: subject, Text: text}); err != nil {
		s.Log.Warn("staff sign-in: mail not sent", "employee_id", p.EmployeeID, "err", err)
	}
}

func minutes(d time.Duration) string { return strconv.Itoa(int(d / time.Minute)) }

func retryAfter(wait time.Duration) string {
	return strconv.Itoa(max(1, int(math.Ceil(wait.Seconds()))))
}

// validSignInToken checks a link token's shape before it reaches the database.
func validSignInToken(token string) bool {
	return len(token) == 43 && strings.Trim(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") == ""
}

// signInLinkPage shows the mailed link's page: a button that signs in. Opening it changes
// nothing, since mail scanners open every link in a mail (TASK-ENGINE.md invariant 1).
func (s *Server) signInLinkPage(c echo.Context) error {
	lang := visitorLang(c)
	token := c.Param("token")
	usable := false
	if validSignInToken(token) {
		var err error
		if usable, err = s.Store.SignInLinkUsable(c.Request().Context(), activities.HashToken(token), s.now()); err != nil {
			return s.storeErr(err)
		}
	}
	if !usable {
		return s.staffPage(c, http.StatusGone, "message", linkGone(lang))
	}
	return s.staffPage(c, http.StatusOK, "signin-link", staffView{Lang: lang, Title: pick(lang, "サインイン", "Sign in")})
}

func linkGone(lang string) staffView {
	return staffView{Lang: lang, Title: pick(lang, "このリンクは使用できません", "This link no longer works"),
		Error: pick(lang, "サインイン用のリンクは一度だけ、短い時間だけ使えます。もう一度リンクを求めてください。",
			"A sign-in link works once and only for a short time. Please ask for a new one."),
		Data: "/staff/sign-in"}
}

// useSignInLink spends the link and opens a session: a new random token in a cookie that
// scripts cannot read (HttpOnly), sent only to these pages (Path, SameSite=Strict) and only
// over HTTPS when the pages are served so (Secure).
func (s *Server) useSignInLink(c echo.Context) error {
	lang := visitorLang(c)
	token := c.Param("token")
	if !validSignInToken(token) {
		return s.staffPage(c, http.StatusGone, "message", linkGone(lang))
	}
	// Another site's form must not sign a visitor in as someone else (login CSRF): browsers
	// say where a request comes from, and only the link's own page may send this one.
	if site := c.Request().Header.Get("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return s.staffPage(c, http.StatusForbidden, "message", staffView{Lang: lang, Title: pick(lang, "サインインできません", "Cannot sign in"),
			Error: pick(lang, "このボタンは、メールのリンクで開いたページから押してください。", "Press the button on the page the mailed link opens."), Data: "/staff/sign-in"})
	}
	ctx := c.Request().Context()
	now := s.now()
	id, err := s.Store.UseSignInLink(ctx, activities.HashToken(token), now)
	if errors.Is(err, models.ErrLinkUsed) {
		return s.staffPage(c, http.StatusGone, "message", linkGone(lang))
	} else if err != nil {
		return s.storeErr(err)
	}
	p, err := s.Store.Person(ctx, id)
	if err != nil || p.Status != models.StatusEmployed {
		return s.staffPage(c, http.StatusGone, "message", linkGone(lang))
	}
	session, hash, err := activities.NewToken()
	if err != nil {
		return err
	}
	if err := s.Store.CreateStaffSession(ctx, models.StaffSession{Hash: hash, EmployeeID: id, CreatedAt: now, LastSeenAt: now}); err != nil {
		return s.storeErr(err)
	}
	c.SetCookie(s.sessionCookie(c, session, s.staffSettings().Max))
	return c.Redirect(http.StatusSeeOther, "/staff")
}

// sessionCookie is the session's cookie; an empty value with a negative age removes it.
func (s *Server) sessionCookie(c echo.Context, value string, age time.Duration) *http.Cookie {
	ck := &http.Cookie{Name: staffCookie, Value: value, Path: "/staff", HttpOnly: true, SameSite: http.SameSiteStrictMode,
		Secure: s.servedOverHTTPS(c)}
	if age > 0 {
		ck.MaxAge = int(age / time.Second)
	} else {
		ck.MaxAge = -1
	}
	return ck
}

// servedOverHTTPS reports whether the browser reached the pages over HTTPS: TLS here, a
// proxy's X-Forwarded-Proto, or an https public URL. Believing the header from anyone
// only ever makes the cookie stricter.
func (s *Server) servedOverHTTPS(c echo.Context) bool {
	r := c.Request()
	if r.TLS != nil || strings.EqualFold(r.Header.Get(echo.HeaderXForwardedProto), "https") {
		return true
	}
	u, err := url.Parse(s.PublicURL)
	return err == nil && u.Scheme == "https"
}

// staffSession is who is signed in, for the request.
type staffSession struct {
	Person models.Person
	Hash   string
	CSRF   string
}

const staffKey = "policyflow.staff"

func sessionOf(c echo.Context) staffSession {
	v, _ := c.Get(staffKey).(staffSession)
	return v
}

// csrfFor derives a session's CSRF token from its secret token: the form field that every
// POST must carry. The server stores neither; a page of another site can read neither.
func csrfFor(sessionToken string) string {
	sum := sha256.Sum256([]byte("policyflow staff csrf\x00" + sessionToken))
	return hex.EncodeToString(sum[:])
}

// requireStaff admits a request in a live session: not ended, not idle longer than the
// town's idle timeout, not older than its absolute one, its holder still employed. A POST
// must also carry the session's CSRF token, or it is refused (403) with nothing changed.
// Any other request is sent to the sign-in page.
func (s *Server) requireStaff(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		now := s.now()
		st := s.staffSettings()
		ck, err := c.Cookie(staffCookie)
		if err != nil || !validSignInToken(ck.Value) {
			return s.signedOut(c)
		}
		hash := activities.HashToken(ck.Value)
		ss, err := s.Store.StaffSessionByHash(ctx, hash)
		if errors.Is(err, models.ErrNotFound) {
			return s.signedOut(c)
		} else if err != nil {
			return s.storeErr(err)
		}
		if ss.EndedAt != nil {
			return s.signedOut(c)
		}
		if now.Sub(ss.LastSeenAt) > st.Idle || now.Sub(ss.CreatedAt) > st.Max {
			if err := s.Store.EndStaffSession(ctx, hash, now); err != nil {
				return s.storeErr(err)
			}
			return s.signedOut(c)
		}
		p, err := s.Store.Person(ctx, ss.EmployeeID)
		if err != nil || p.Status != models.StatusEmployed {
			_ = s.Store.EndStaffSession(ctx, hash, now)
			return s.signedOut(c)
		}
		csrf := csrfFor(ck.Value)
		if c.Request().Method == http.MethodPost {
			got := c.Request().PostFormValue("csrf")
			if subtle.ConstantTimeCompare([]byte(got), []byte(csrf)) != 1 {
				return s.staffPage(c, http.StatusForbidden, "message", staffView{Lang: p.Locale, Name: p.Name,
					Title: pick(p.Locale, "送信を受け付けられません", "This form cannot be accepted"),
					Error: pick(p.Locale, "このフォームはこのページから送られたものではないか、古いものです。何も変更していません。ページを開き直してください。",
						"This form was not sent from this page, or it is out of date. Nothing was changed. Please open the page again."),
					Data: "/staff"})
			}
		}
		if err := s.Store.TouchStaffSession(ctx, hash, now); err != nil {
			return s.storeErr(err)
		}
		c.Set(staffKey, staffSession{Person: p, Hash: hash, CSRF: csrf})
		return next(c)
	}
}

// signedOut removes the cookie and sends a GET to the sign-in page; a POST is answered 401
// with the sign-in page, since what it carried cannot be taken.
func (s *Server) signedOut(c echo.Context) error {
	c.SetCookie(s.sessionCookie(c, "", 0))
	if c.Request().Method == http.MethodGet || c.Request().Method == http.MethodHead {
		return c.Redirect(http.StatusSeeOther, "/staff/sign-in?ended=1")
	}
	lang := visitorLang(c)
	return s.staffPage(c, http.StatusUnauthorized, "signin", staffView{Lang: lang,
		Title: pick(lang, "職員用ページへのサインイン", "Sign in to the staff pages"),
		Error: pick(lang, "サインインしていないか、セッションが終了しています。何も変更していません。", "You are not signed in, or your session has ended. Nothing was changed.")})
}

// signOut ends the session.
func (s *Server) signOut(c echo.Context) error {
	ss := sessionOf(c)
	if err := s.Store.EndStaffSession(c.Request().Context(), ss.Hash, s.now()); err != nil {
		return s.storeErr(err)
	}
	c.SetCookie(s.sessionCookie(c, "", 0))
	lang := ss.Person.Locale
	return s.staffPage(c, http.StatusOK, "message", staffView{Lang: lang, Title: pick(lang, "サインアウトしました", "Signed out"),
		Notice: pick(lang, "サインアウトしました。", "You are signed out."), Data: "/staff/sign-in"})
}

// view starts a signed-in page's view.
func (ss staffSession) view(title string) staffView {
	return staffView{Lang: ss.Person.Locale, Title: title, Name: ss.Person.Name, EmployeeID: ss.Person.EmployeeID, CSRF: ss.CSRF}
}
