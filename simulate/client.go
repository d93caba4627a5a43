package simulate

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// maxResponse bounds a response body the simulator reads.
const maxResponse = 32 << 20

// Session is a logged-in device: its access and refresh tokens, and the
// device_secret that binds its device id to this client (sync protocol
// 1.1, Device binding): the one the login sent, or the one the server made
// when it sent none.
type Session struct {
	Username     string
	DeviceID     string
	DeviceSecret string
	AccessToken  string
	RefreshToken string
}

// StatusError is an HTTP answer the simulator did not expect: the status
// and the problem's code (empty when the body was not problem+json).
type StatusError struct {
	Method, Path string
	Status       int
	Code         string
	Detail       string
	// RetryAfter is the answer's Retry-After, 0 when absent.
	RetryAfter time.Duration
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s: status %d %s %s", e.Method, e.Path, e.Status, e.Code, e.Detail)
}

// Client talks to one prodays server.
type Client struct {
	// URL is the server's base URL (http://127.0.0.1:8080).
	URL  string
	HTTP *http.Client
}

// NewClient returns a client of base with a transport that keeps up to
// conns idle connections to it.
func NewClient(base string, conns int) *Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = max(conns, 2)
	tr.MaxIdleConnsPerHost = max(conns, 2)
	return &Client{URL: strings.TrimRight(base, "/"), HTTP: &http.Client{Transport: tr, Timeout: 2 * time.Minute}}
}

// pushPath is the push route.
const pushPath = "/api/v1/sync/push"

// idempotencyKey names a request body: the hex of the first 16 bytes of
// its SHA-256.
func idempotencyKey(body []byte) string {
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:16])
}

// response is a read answer.
type response struct {
	status     int
	body       []byte
	retryAfter time.Duration
}

// gzipWriters are reused: a new gzip.Writer allocates about 800 KB, which
// made most of the simulated phones' CPU at the day's end (the phones'
// work shares the machine with the server measured).
var gzipWriters = sync.Pool{New: func() any { return gzip.NewWriter(io.Discard) }}

// do sends a request with an optional JSON body (already encoded), bearer
// token and gzip encoding, and reads the whole answer.
func (c *Client) do(ctx context.Context, method, path, token string, body []byte, gz bool) (*response, error) {
	var r io.Reader
	if body != nil {
		if gz {
			var buf bytes.Buffer
			zw := gzipWriters.Get().(*gzip.Writer)
			zw.Reset(&buf)
			zw.Write(body)
			zw.Close()
			gzipWriters.Put(zw)
			body = buf.Bytes()
		}
		r = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.URL+path, r)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
		if gz {
			req.Header.Set("Content-Encoding", "gzip")
		}
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if path == pushPath {
		// A push is idempotent (its mutations' ids are idempotency keys,
		// sync protocol §Push): the header lets net/http send it again on
		// a new connection when the server closed the idle one it was
		// written to (serve --max-connections), as browsers do.
		req.Header.Set("Idempotency-Key", idempotencyKey(body))
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, err
	}
	return &response{status: resp.StatusCode, body: data, retryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())}, nil
}

// parseRetryAfter reads a Retry-After header: seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

func statusError(method, path string, r *response) *StatusError {
	var p struct {
		Code   string `json:"code"`
		Detail string `json:"detail"`
	}
	json.Unmarshal(r.body, &p)
	return &StatusError{Method: method, Path: path, Status: r.status, Code: p.Code, Detail: p.Detail, RetryAfter: r.retryAfter}
}

// JSON sends a JSON request (body nil for none) and decodes a 2xx answer
// into out (when not nil); another status is a *StatusError.
func (c *Client) JSON(ctx context.Context, method, path, token string, body, out any) error {
	var b []byte
	if body != nil {
		var err error
		if b, err = json.Marshal(body); err != nil {
			return err
		}
	}
	r, err := c.do(ctx, method, path, token, b, false)
	if err != nil {
		return err
	}
	if r.status/100 != 2 {
		return statusError(method, path, r)
	}
	if out != nil && len(r.body) > 0 {
		if err := json.Unmarshal(r.body, out); err != nil {
			return fmt.Errorf("%s %s: decode: %w", method, path, err)
		}
	}
	return nil
}

// newSecrets returns n device secrets, one per virtual phone of a Runner,
// each 256 random bits in unpadded base64url as the app makes its own.
// A phone sends its secret from its first login on, so that a login whose
// answer was lost, a second Run of the same Runner and a server restored
// from a backup all still know it (sync protocol 1.1, Device binding).
func newSecrets(n int) []string {
	out := make([]string, n)
	for i := range out {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			panic(err) // crypto/rand never fails on supported platforms
		}
		out[i] = base64.RawURLEncoding.EncodeToString(b)
	}
	return out
}

type tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	DeviceSecret string `json:"device_secret,omitempty"`
}

// Login logs username in from deviceID, a device id this client never
// logged in from before, with the refresh token delivered in the body.
// The Session's DeviceSecret is what a later login of the same device id
// must send (LoginDevice).
func (c *Client) Login(ctx context.Context, username, password, deviceID string) (*Session, error) {
	return c.LoginDevice(ctx, username, password, deviceID, "")
}

// LoginDevice logs username in from deviceID, proving it with secret (the
// device's device_secret; empty at the device's first login, when the
// server makes one). A device id bound to another secret is refused:
// *StatusError 403 device_taken.
func (c *Client) LoginDevice(ctx context.Context, username, password, deviceID, secret string) (*Session, error) {
	body := map[string]string{"username": username, "password": password, "device_id": deviceID, "token_delivery": "body"}
	if secret != "" {
		body["device_secret"] = secret
	}
	var t tokens
	if err := c.JSON(ctx, "POST", "/api/v1/auth/login", "", body, &t); err != nil {
		return nil, err
	}
	if t.DeviceSecret != "" {
		secret = t.DeviceSecret
	}
	return &Session{Username: username, DeviceID: deviceID, DeviceSecret: secret, AccessToken: t.AccessToken, RefreshToken: t.RefreshToken}, nil
}

// Refresh rotates s's tokens (POST /api/v1/auth/refresh).
func (c *Client) Refresh(ctx context.Context, s *Session) error {
	var t tokens
	if err := c.JSON(ctx, "POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": s.RefreshToken}, &t); err != nil {
		return err
	}
	s.AccessToken = t.AccessToken
	if t.RefreshToken != "" {
		s.RefreshToken = t.RefreshToken
	}
	return nil
}

// ErrNoPasswordRoute means the server has no admin route to set a
// password: set them with `prodays user passwd USERNAME --password-stdin`.
var ErrNoPasswordRoute = errors.New("the server has no PUT /api/v1/admin/users/{username}/password: set the passwords on the server with `prodays user passwd USERNAME --password-stdin`")

// SetPasswords sets password on every account of usernames through an
// admin session (PUT /api/v1/admin/users/{username}/password).
func (c *Client) SetPasswords(ctx context.Context, admin *Session, usernames []string, password string) error {
	for _, u := range usernames {
		err := c.JSON(ctx, "PUT", "/api/v1/admin/users/"+url.PathEscape(u)+"/password", admin.AccessToken,
			map[string]string{"password": password}, nil)
		var se *StatusError
		if errors.As(err, &se) && (se.Status == http.StatusNotFound || se.Status == http.StatusMethodNotAllowed) {
			// An unknown route and an unknown account both answer 404.
			return fmt.Errorf("set the password of %s: %w (or no account %s: import users.csv first)", u, ErrNoPasswordRoute, u)
		}
		if err != nil {
			return fmt.Errorf("set the password of %s: %w", u, err)
		}
	}
	return nil
}
