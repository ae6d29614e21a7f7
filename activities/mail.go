package activities

import (
	"context"
	"crypto/tls"
	"fmt"
	"net/url"
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
	go func() { done <- s.dialer.DialAndSend(msg) }()
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

// Outbox keeps mail in the database instead of sending it: dev mode's mailbox
// (/dev/mailbox). It stores bodies, links included, so it is never used in production.
type Outbox struct {
	Store *models.Store
}

// Send stores m; storing the same key twice keeps one message.
func (o Outbox) Send(ctx context.Context, m Message) error {
	return o.Store.PutOutbox(ctx, models.OutboxMessage{Key: m.Key, To: m.To, Subject: m.Subject, Text: m.Text, HTML: m.HTML})
}
