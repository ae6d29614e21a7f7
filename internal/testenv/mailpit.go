package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/smtp"
	"net/textproto"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

const mailpitInstallHint = "run `make tools`, or `GOFLAGS= go install github.com/axllent/mailpit@v1.33.1` and make sure $(go env GOPATH)/bin is in PATH"

// RefusedMailbox marks an address that the package's Mailpit refuses for good, as a town's
// mail server refuses a deleted mailbox: Mailpit is started with --smtp-allowed-recipients
// set to AllowedRecipients, so it answers RCPT TO for any address with a '+' in it with
// "550 5.1.0 Requested action not taken: mailbox unavailable", and takes every other. Tests
// that need a refusal make their address with RefusedAddress; no other test address may
// contain a '+'.
const RefusedMailbox = "+refused"

// AllowedRecipients is the --smtp-allowed-recipients pattern (RE2, matched against the bare
// address) of the Mailpit this package starts: every address without a '+'. An external
// Mailpit ($POLICYFLOW_TEST_SMTP_ADDR) must be started with it for RefusedAddress to work.
const AllowedRecipients = `^[^+]+$`

type mailpitInfo struct {
	smtpHost string
	smtpPort int
	url      string // base URL of the web UI and API, without trailing slash
}

func startMailpit(ctx context.Context, e *env, s *service) error {
	smtpAddr, apiURL := os.Getenv(EnvSMTPAddr), os.Getenv(EnvMailpitURL)
	if smtpAddr != "" || apiURL != "" {
		if smtpAddr == "" || apiURL == "" {
			return fmt.Errorf("set both $%s and $%s to use a running Mailpit, or neither", EnvSMTPAddr, EnvMailpitURL)
		}
		host, portStr, err := net.SplitHostPort(smtpAddr)
		port, err2 := strconv.Atoi(portStr)
		if err != nil || err2 != nil {
			return fmt.Errorf("invalid $%s=%q: want host:port", EnvSMTPAddr, smtpAddr)
		}
		if _, err := url.Parse(apiURL); err != nil {
			return fmt.Errorf("invalid $%s: %w", EnvMailpitURL, err)
		}
		s.external = true
		s.mailpit = mailpitInfo{smtpHost: host, smtpPort: port, url: strings.TrimRight(apiURL, "/")}
		if err := waitReady(ctx, nil, func(ctx context.Context) error { return checkMailpit(ctx, s.mailpit) }); err != nil {
			return fmt.Errorf("Mailpit at $%s=%s, $%s=%s: %w", EnvSMTPAddr, smtpAddr, EnvMailpitURL, apiURL, err)
		}
		return nil
	}

	bin, err := lookBinary(EnvMailpitBin, []string{"mailpit"}, goBinDirs())
	if err != nil {
		return fmt.Errorf("%s: %s", notFound("mailpit", err, "mailpit", goBinDirs()), mailpitInstallHint)
	}
	s.logPath = filepath.Join(e.dir, "mailpit.log")
	for attempt := 1; ; attempt++ {
		smtpPort, err := freePort()
		if err != nil {
			return err
		}
		httpPort, err := freePort()
		if err != nil {
			return err
		}
		args := []string{
			"--smtp", "127.0.0.1:" + itoa(smtpPort),
			"--listen", "127.0.0.1:" + itoa(httpPort),
			"--database", filepath.Join(e.dir, "data", "mailpit.db"),
			"--smtp-auth-accept-any",
			"--smtp-auth-allow-insecure",
			"--smtp-disable-rdns",
			"--smtp-allowed-recipients", AllowedRecipients, // see RefusedMailbox
			"--disable-version-check",
			"--max", "0", // keep every message: never prune
		}
		p, err := startProcess("mailpit", s.logPath, bin, args, childEnv("MP_"))
		if err != nil {
			return fmt.Errorf("%w: %s", err, mailpitInstallHint)
		}
		s.proc = p
		info := mailpitInfo{smtpHost: "127.0.0.1", smtpPort: smtpPort, url: "http://127.0.0.1:" + itoa(httpPort)}
		err = waitReady(ctx, p, func(ctx context.Context) error { return checkMailpit(ctx, info) })
		if err == nil {
			s.mailpit = info
			s.ports = []int{smtpPort, httpPort}
			s.relaunch = relaunchWith(s, "mailpit", bin, args, childEnv("MP_"),
				func(ctx context.Context) error { return checkMailpit(ctx, info) })
			return nil
		}
		p.kill()
		s.proc = nil
		if isExitedEarly(err) && attempt < 3 && ctx.Err() == nil {
			continue // most likely another test binary took a port
		}
		return withLog(err, s.logPath)
	}
}

// checkMailpit checks that both the API and the SMTP port answer.
func checkMailpit(ctx context.Context, info mailpitInfo) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, info.url+"/readyz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", req.URL, resp.Status)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", net.JoinHostPort(info.smtpHost, itoa(info.smtpPort)))
	if err != nil {
		return err
	}
	return conn.Close()
}

// Mailpit returns a client for the package's Mailpit, whose SMTP server is at
// client.SMTPHost:client.SMTPPort. It fails tb if Mailpit is unavailable.
//
// The mailbox is shared by the package's tests: send to recipients unique
// to the test and find the mail with WaitFor rather than counting messages.
func Mailpit(tb testing.TB) *MailpitClient {
	tb.Helper()
	s := get(tb, NeedMailpit)
	tb.Log(s.describe(fmt.Sprintf("Mailpit with SMTP at %s:%d, API at %s", s.mailpit.smtpHost, s.mailpit.smtpPort, s.mailpit.url)))
	c := NewMailpitClient(s.mailpit.url)
	c.SMTPHost, c.SMTPPort = s.mailpit.smtpHost, s.mailpit.smtpPort
	return c
}

// SMTPAddr returns the host and port of Mailpit's SMTP server, for the mail
// settings of the code under test.
func SMTPAddr(tb testing.TB) (host string, port int) {
	tb.Helper()
	s := get(tb, NeedMailpit)
	return s.mailpit.smtpHost, s.mailpit.smtpPort
}

// RefusedAddress returns addr with RefusedMailbox before its '@' ("diso@town.example" becomes
// "diso+refused@town.example"), an address the package's Mailpit refuses for good, and makes
// sure that it does: it asks Mailpit's SMTP server to take the address (RCPT TO, then RSET,
// no message) and fails tb unless the answer is a 5xx. An external Mailpit started without
// --smtp-allowed-recipients fails here, with a message saying so, rather than letting a
// test that expects a refusal pass or wait for nothing.
func RefusedAddress(tb testing.TB, addr string) string {
	tb.Helper()
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 || strings.Contains(addr, "+") {
		tb.Fatalf("testenv.RefusedAddress(%q): want an address with a local part and no '+'", addr)
	}
	refused := addr[:at] + RefusedMailbox + addr[at:]
	s := get(tb, NeedMailpit)
	err := probeRecipient(s.mailpit, refused)
	var reply *textproto.Error
	switch {
	case err == nil:
		if s.external {
			tb.Fatalf("testenv: the Mailpit at $%s=%s accepts %s, which must be refused for good: start it with --smtp-allowed-recipients '%s' to run this test",
				EnvSMTPAddr, os.Getenv(EnvSMTPAddr), refused, AllowedRecipients)
		}
		tb.Fatalf("testenv: the Mailpit this package started accepts %s, which must be refused for good (--smtp-allowed-recipients '%s')", refused, AllowedRecipients)
	case errors.As(err, &reply) && reply.Code >= 500 && reply.Code <= 599:
		return refused
	default:
		tb.Fatalf("testenv: asking Mailpit at %s:%d to take %s: %v", s.mailpit.smtpHost, s.mailpit.smtpPort, refused, err)
	}
	return ""
}

// probeRecipient opens an SMTP session and gives addr as a recipient, sending no message. It
// returns the answer to RCPT TO: nil if the server takes the address, a *textproto.Error if it
// refuses it. A failure before RCPT TO is returned as a plain error, never a reply.
func probeRecipient(info mailpitInfo, addr string) error {
	conn, err := net.DialTimeout("tcp", net.JoinHostPort(info.smtpHost, itoa(info.smtpPort)), 10*time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	c, err := smtp.NewClient(conn, info.smtpHost)
	if err != nil {
		return fmt.Errorf("greeting: %v", err)
	}
	defer c.Close()
	if err := c.Hello("localhost"); err != nil {
		return fmt.Errorf("EHLO: %v", err)
	}
	if err := c.Mail("testenv-probe@policyflow.invalid"); err != nil {
		return fmt.Errorf("MAIL FROM: %v", err)
	}
	rcpt := c.Rcpt(addr)
	_ = c.Reset()
	_ = c.Quit()
	return rcpt
}
