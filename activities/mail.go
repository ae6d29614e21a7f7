package activities

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/textproto"
	"net/url"
	"regexp"
	"strconv"
	"time"

	"github.com/go-mail/mail"

	"github.com/policyflow/policyflow/models"
)

// Message is one mail, in text and HTML. Key identifies it for idempotent sending.
type Message struct {
	Key     string
	To      string
	Subject string
	Text    string
	HTML    string
}

// Mailer delivers mail.
type Mailer interface {
	Send(ctx context.Context, m Message) error
}

// SMTPMailer sends through an SMTP server (POLICYFLOW_SMTP_URL).
type SMTPMailer struct {
	dialer *mail.Dialer
	from   string
}

// NewSMTPMailer parses an smtp:// or smtps:// URL: user and password in the userinfo,
// `starttls=required|opportunistic|none` in the query (required by default for smtp://
// with a password, opportunistic otherwise).
func NewSMTPMailer(rawURL, from string) (*SMTPMailer, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("POLICYFLOW_SMTP_URL is not a URL")
	}
	if u.Scheme != "smtp" && u.Scheme != "smtps" {
		return nil, fmt.Errorf("POLICYFLOW_SMTP_URL must start with smtp:// or smtps://")
	}
	port := 25
	if u.Scheme == "smtps" {
		port = 465
	}
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil {
			return nil, fmt.Errorf("POLICYFLOW_SMTP_URL has a bad port")
		}
	}
	pass, _ := u.User.Password()
	d := mail.NewDialer(u.Hostname(), port, u.User.Username(), pass)
	d.SSL = u.Scheme == "smtps"
	d.Timeout = 20 * time.Second
	d.TLSConfig = &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}
	switch u.Query().Get("starttls") {
	case "required":
		d.StartTLSPolicy = mail.MandatoryStartTLS
	case "none":
		d.StartTLSPolicy = mail.NoStartTLS
	case "opportunistic":
		d.StartTLSPolicy = mail.OpportunisticStartTLS
	case "":
		if pass != "" {
			d.StartTLSPolicy = mail.MandatoryStartTLS
		}
	default:
		return nil, fmt.Errorf("POLICYFLOW_SMTP_URL: starttls must be required, opportunistic or none")
	}
	return &SMTPMailer{dialer: d, from: from}, nil
}

// Send delivers m. The Message-ID is derived from the key, so a receiving system can tell
// a rare duplicate (mail sent, then the activity retried before recording it) for what it is.
func (s *SMTPMailer) Send(ctx context.Context, m Message) error {
	msg := mail.NewMessage()
	msg.SetHeader("From", s.from)
	msg.SetHeader("To", m.To)
	msg.SetHeader("Subject", m.Subject)
	msg.SetHeader("Message-ID", "<"+url.PathEscape(m.Key)+"@policyflow>")
	msg.SetHeader("Auto-Submitted", "auto-generated")
	msg.SetBody("text/plain", m.Text)
	if m.HTML != "" {
		msg.AddAlternative("text/html", m.HTML)
	}
	done := make(chan error, 1)
	go func() { done <- s.send(msg) }()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("send mail %s: %w", m.Key, err)
		}
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// send is DialAndSend with the session's failures told apart from the message's: a server
// that cannot be reached, refuses TLS or our credentials is an outage or a setting to fix,
// never a fact about the recipient, whatever code it answers.
func (s *SMTPMailer) send(msg *mail.Message) error {
	c, err := s.dialer.Dial()
	if err != nil {
		return &sessionError{err: err}
	}
	defer c.Close()
	if err := mail.Send(c, msg); err != nil {
		var se *mail.SendError // go-mail v2 does not unwrap it
		if errors.As(err, &se) {
			return se.Cause
		}
		return err
	}
	return nil
}

// sessionError is a failure to open an SMTP session: connect, STARTTLS, authenticate.
type sessionError struct{ err error }

func (e *sessionError) Error() string { return "open the SMTP session: " + redactReply(e.err).Error() }
func (e *sessionError) Unwrap() error { return e.err }

// enhancedCode finds an RFC 3463 status code ("5.1.1") at the start of a reply's text.
var enhancedCode = regexp.MustCompile(`^\s*([245]\.\d{1,3}\.\d{1,3})\b`)

// MailFailure is what the activities know of a mail that did not go out: whether the server
// refused it for good, and its reply code ("550 5.1.1"), never the reply's text, which
// usually names the address.
type MailFailure struct {
	Permanent bool
	// Code is the server's reply code and enhanced status code, e.g. "550 5.1.1"; empty when
	// the server did not answer (connection refused, timeout).
	Code string
}

// classifyMailError tells a permanent refusal of a message (a 5xx answer to RCPT TO or to the
// message itself: no such mailbox, mailbox disabled, domain accepts no mail) from everything
// a retry may cure (4xx, the server unreachable, a timeout) and from a refusal that is about
// the session or the sender rather than the recipient (authentication, syntax, a rejected
// sender address: a setting to fix, retried meanwhile).
//
// go-mail does not say which command a reply answered, so the sender's and the session's
// refusals are recognised by their codes: 500–504, 530, 534, 535, 538, and the enhanced codes
// X.1.7 and X.1.8 (the sender's address), X.5.x (protocol) and X.7.0, X.7.8, X.7.9
// (authentication). A server that refuses the sender with a bare "550" is read as refusing
// the recipient.
func classifyMailError(err error) MailFailure {
	var se *sessionError
	if errors.As(err, &se) {
		return MailFailure{Code: replyCode(err)}
	}
	var tp *textproto.Error
	if !errors.As(err, &tp) {
		return MailFailure{}
	}
	f := MailFailure{Code: replyCode(err)}
	if tp.Code < 500 || tp.Code > 599 {
		return f
	}
	switch tp.Code {
	case 500, 501, 502, 503, 504, 530, 534, 535, 538:
		return f
	}
	if m := enhancedCode.FindStringSubmatch(tp.Msg); m != nil {
		sub := m[1][2:] // "1.7" of "5.1.7"
		switch {
		case sub == "1.7", sub == "1.8", sub == "7.0", sub == "7.8", sub == "7.9", sub[:2] == "5.":
			return f
		}
	}
	f.Permanent = true
	return f
}

// replyCode is the SMTP reply code in err with its enhanced status code, without the text.
func replyCode(err error) string {
	var tp *textproto.Error
	if !errors.As(err, &tp) {
		return ""
	}
	code := strconv.Itoa(tp.Code)
	if m := enhancedCode.FindStringSubmatch(tp.Msg); m != nil {
		code += " " + m[1]
	}
	return code
}

// redactReply drops the text of an SMTP reply from err (it names addresses), keeping its
// codes; other errors (a refused connection, a timeout) are returned as they are.
func redactReply(err error) error {
	if code := replyCode(err); code != "" {
		return fmt.Errorf("the mail server answered %s", code)
	}
	return err
}

// Outbox keeps mail in the database instead of sending it: dev mode's mailbox
// (/dev/mailbox). It stores bodies, links included, so it is never used in production.
type Outbox struct {
	Store *models.Store
}

// Send stores m; storing the same key twice keeps one message.
func (o Outbox) Send(ctx context.Context, m Message) error {
	return o.Store.PutOutbox(ctx, models.OutboxMessage{Key: m.Key, To: m.To, Subject: m.Subject, Text: m.Text, HTML: m.HTML})
}
