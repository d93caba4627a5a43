package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// runHealthcheck asks a running server's /healthz and exits non-zero when it
// does not answer 200: the Dockerfile's HEALTHCHECK (a distroless image has
// no curl).
func runHealthcheck(ctx context.Context, args []string, _ io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("healthcheck", stderr)
	addr := fs.String("addr", envString("PRODAYS_ADDR", ":8080"), "the server's listen address (env PRODAYS_ADDR)")
	useTLS := fs.Bool("tls", envString("PRODAYS_TLS_CERT", "") != "", "the server serves HTTPS (default: when PRODAYS_TLS_CERT is set)")
	if err := fs.Parse(args); err != nil {
		return errUsageShown
	}
	host := *addr
	if strings.HasPrefix(host, ":") {
		host = "127.0.0.1" + host
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	scheme, client := "http", http.DefaultClient
	if *useTLS {
		// The probe asks the server on its own address: the certificate
		// names the public host, not this one, so it is not verified.
		scheme = "https"
		client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} // #nosec G402: local probe
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+host+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: /healthz answered %d", resp.StatusCode)
	}
	fmt.Fprintln(stdout, "ok")
	return nil
}
