package testenv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// MailpitClient reads the mail Mailpit received, through its HTTP API
// (https://mailpit.axllent.org/docs/api-v1/).
type MailpitClient struct {
	// BaseURL of Mailpit's web UI and API, e.g. "http://127.0.0.1:8025".
	BaseURL string
	// SMTPHost and SMTPPort are where Mailpit accepts mail (set by Mailpit()).
	SMTPHost string
	SMTPPort int
	// HTTPClient defaults to http.DefaultClient.
	HTTPClient *http.Client
	// PollInterval is how often WaitFor looks for new mail (default 100ms).
	PollInterval time.Duration
}

// NewMailpitClient returns a client for the Mailpit API at baseURL.
func NewMailpitClient(baseURL string) *MailpitClient {
	return &MailpitClient{BaseURL: strings.TrimRight(baseURL, "/")}
}

// Address is a mail address with its display name.
type Address struct {
	Name    string
	Address string
}

func (a Address) String() string {
	if a.Name == "" {
		return a.Address
	}
	return fmt.Sprintf("%q <%s>", a.Name, a.Address)
}

// MessageSummary is a message as listed by GET /api/v1/messages.
type MessageSummary struct {
	ID          string // Mailpit's database ID
	MessageID   string // the Message-ID header
	Read        bool
	From        *Address
	To          []Address
	Cc          []Address
	Bcc         []Address
	ReplyTo     []Address
	Subject     string
	Created     time.Time
	Tags        []string
	Size        uint64
	Attachments int
	Snippet     string
}

// Message is a message as returned by GET /api/v1/message/{ID}, with its
// decoded text and HTML bodies.
type Message struct {
	ID          string // Mailpit's database ID
	MessageID   string // the Message-ID header
	From        *Address
	To          []Address
	Cc          []Address
	Bcc         []Address
	ReplyTo     []Address
	ReturnPath  string
	Subject     string
	Date        time.Time
	Tags        []string
	Text        string
	HTML        string
	Size        uint64
	Inline      []Attachment
	Attachments []Attachment
}

// Attachment describes an attached or inline part of a message.
type Attachment struct {
	PartID      string
	FileName    string
	ContentType string
	ContentID   string
	Size        uint64
}

// SentTo reports whether addr (compared case-insensitively) is among the
// message's To, Cc or Bcc recipients.
func (m Message) SentTo(addr string) bool {
	for _, list := range [][]Address{m.To, m.Cc, m.Bcc} {
		for _, a := range list {
			if strings.EqualFold(a.Address, addr) {
				return true
			}
		}
	}
	return false
}

// Messages returns all messages in the mailbox, newest first.
func (c *MailpitClient) Messages(ctx context.Context) ([]MessageSummary, error) {
	const pageSize = 500
	var all []MessageSummary
	seen := map[string]bool{}
	for start := 0; ; start += pageSize {
		var page struct {
			Total    int              `json:"total"`
			Messages []MessageSummary `json:"messages"`
		}
		q := url.Values{"start": {fmt.Sprint(start)}, "limit": {fmt.Sprint(pageSize)}}
		if err := c.do(ctx, http.MethodGet, "/api/v1/messages?"+q.Encode(), &page); err != nil {
			return nil, err
		}
		for _, m := range page.Messages {
			if !seen[m.ID] { // new mail shifts the pages; skip repeats
				seen[m.ID] = true
				all = append(all, m)
			}
		}
		if len(page.Messages) < pageSize || start+pageSize >= page.Total {
			return all, nil
		}
	}
}

// Message returns the message with Mailpit database ID id ("latest" for the
// newest message).
func (c *MailpitClient) Message(ctx context.Context, id string) (Message, error) {
	var m Message
	err := c.do(ctx, http.MethodGet, "/api/v1/message/"+url.PathEscape(id), &m)
	return m, err
}

// WaitFor waits until the mailbox holds a message for which match returns
// true, and returns it. Messages already in the mailbox count. If ctx has
// no deadline, WaitFor gives up after 30 seconds. The error then lists the
// mail that did arrive.
func (c *MailpitClient) WaitFor(ctx context.Context, match func(Message) bool) (Message, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
	}
	interval := c.PollInterval
	if interval <= 0 {
		interval = 100 * time.Millisecond
	}
	checked := map[string]bool{} // IDs of messages that did not match
	var summaries []MessageSummary
	var lastErr error
	for {
		// summaries keeps the last list read: the one that fails when ctx ends must not
		// make the error below say the mailbox is empty.
		list, err := c.Messages(ctx)
		if err == nil {
			summaries = list
			// Oldest first, so that the first matching message sent wins.
			for i := len(summaries) - 1; i >= 0; i-- {
				id := summaries[i].ID
				if checked[id] {
					continue
				}
				m, err := c.Message(ctx, id)
				if err != nil {
					lastErr = err
					break
				}
				if match(m) {
					return m, nil
				}
				checked[id] = true
			}
		} else {
			lastErr = err
		}
		select {
		case <-ctx.Done():
			return Message{}, waitForError(ctx.Err(), summaries, lastErr)
		case <-time.After(interval):
		}
	}
}

func waitForError(ctxErr error, summaries []MessageSummary, lastErr error) error {
	var b strings.Builder
	fmt.Fprintf(&b, "no matching mail in Mailpit (%v); the mailbox has %d message(s)", ctxErr, len(summaries))
	for i, m := range summaries {
		if i == 10 {
			fmt.Fprintf(&b, "\n  ...")
			break
		}
		var to []string
		for _, a := range m.To {
			to = append(to, a.Address)
		}
		fmt.Fprintf(&b, "\n  to %s: %q", strings.Join(to, ", "), m.Subject)
	}
	if lastErr != nil && !errors.Is(lastErr, context.DeadlineExceeded) && !errors.Is(lastErr, context.Canceled) {
		fmt.Fprintf(&b, "\n  last API error: %v", lastErr)
	}
	return errors.New(b.String())
}

// DeleteAll deletes every message. The mailbox is shared by the package's
// tests, so don't call it from parallel tests.
func (c *MailpitClient) DeleteAll(ctx context.Context) error {
	return c.do(ctx, http.MethodDelete, "/api/v1/messages", nil)
}

func (c *MailpitClient) do(ctx context.Context, method, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, nil)
	if err != nil {
		return err
	}
	hc := c.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("mailpit: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
		return fmt.Errorf("mailpit: %s %s: %s: %s", method, req.URL, resp.Status, strings.TrimSpace(string(body)))
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("mailpit: decoding %s %s: %w", method, req.URL, err)
	}
	return nil
}

// linkRE matches http(s) URLs made of the characters RFC 3986 allows, so a
// URL ends at a space, a quote, an angle bracket or any non-ASCII text (such
// as Japanese directly after the URL).
var linkRE = regexp.MustCompile(`https?://[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+`)

// Links returns the http and https URLs in text, in order, without trailing
// punctuation that belongs to the sentence (".", ",", ")" when unbalanced,
// and the like). Use it on Message.Text; in Message.HTML, "&" in URLs is
// still escaped as "&amp;".
func Links(text string) []string {
	var links []string
	for _, l := range linkRE.FindAllString(text, -1) {
		for len(l) > 0 {
			last := l[len(l)-1]
			if strings.IndexByte(".,;:!?'*", last) >= 0 ||
				(last == ')' && strings.Count(l, "(") < strings.Count(l, ")")) ||
				(last == ']' && strings.Count(l, "[") < strings.Count(l, "]")) {
				l = l[:len(l)-1]
				continue
			}
			break
		}
		if u, err := url.Parse(l); err == nil && u.Host != "" {
			links = append(links, l)
		}
	}
	return links
}
