package activities

import (
	"errors"
	"fmt"
	"net/textproto"
	"testing"
)

// The mail server's answer decides whether a mail is retried: only a 5xx about the recipient
// or the message is permanent; the session's and the sender's refusals are settings to fix.
func TestClassifyMailError(t *testing.T) {
	reply := func(code int, msg string) error {
		return fmt.Errorf("send mail k: %w", &textproto.Error{Code: code, Msg: msg})
	}
	for _, c := range []struct {
		name      string
		err       error
		permanent bool
		code      string
	}{
		{"no such mailbox", reply(550, "5.1.1 <a@b.example>: Recipient address rejected"), true, "550 5.1.1"},
		{"Mailpit's refusal", reply(550, "5.1.0 Requested action not taken: mailbox unavailable"), true, "550 5.1.0"},
		{"mailbox disabled", reply(550, "5.2.1 The email account that you tried to reach is disabled"), true, "550 5.2.1"},
		{"bare 550", reply(550, "mailbox unavailable"), true, "550"},
		{"no valid recipients", reply(554, "5.7.1 <a@b.example>: Relay access denied"), true, "554 5.7.1"},
		{"greylisted", reply(451, "4.7.1 try again later"), false, "451 4.7.1"},
		{"mailbox full for now", reply(452, "4.2.2 mailbox full"), false, "452 4.2.2"},
		{"sender rejected", reply(553, "5.1.8 <policyflow@town.example>: Sender address rejected"), false, "553 5.1.8"},
		{"authentication required", reply(530, "5.7.0 Authentication required"), false, "530 5.7.0"},
		{"syntax", reply(501, "5.5.4 Syntax error"), false, "501 5.5.4"},
		{"protocol by enhanced code", reply(550, "5.5.1 bad sequence"), false, "550 5.5.1"},
		{"bad credentials at login", &sessionError{err: &textproto.Error{Code: 535, Msg: "5.7.8 Authentication credentials invalid"}}, false, "535 5.7.8"},
		{"a 5xx while opening the session", &sessionError{err: &textproto.Error{Code: 554, Msg: "5.7.1 no service for you"}}, false, "554 5.7.1"},
		{"connection refused", errors.New("dial tcp 192.0.2.1:25: connect: connection refused"), false, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := classifyMailError(c.err)
			if f.Permanent != c.permanent || f.Code != c.code {
				t.Errorf("classifyMailError = %+v, want permanent %v code %q", f, c.permanent, c.code)
			}
		})
	}
}
