package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// selfSigned writes a self-signed certificate for 127.0.0.1 and its key
// (PEM) and returns their paths and the certificate.
func selfSigned(t *testing.T) (certFile, keyFile string, cert *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "prodays test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ = x509.ParseCertificate(der)
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"cert.pem": string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		"key.pem":  string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})),
	})
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	return certFile, keyFile, cert
}

func TestServeTLS(t *testing.T) {
	certFile, keyFile, cert := selfSigned(t)
	url, logs, stop := startServe(t, filepath.Join(t.TempDir(), "prodays.db"), map[string]string{
		"PRODAYS_TLS_CERT": certFile, "PRODAYS_TLS_KEY": keyFile, "PRODAYS_ADMIN_PASSWORD": "", "PRODAYS_JWT_KEY": ""})
	defer stop()
	url = strings.Replace(url, "http://", "https://", 1)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := c.Get(url + "/healthz")
	if err != nil {
		t.Fatalf("https: %v\n%s", err, logs.String())
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil {
		t.Fatalf("https healthz: %d", resp.StatusCode)
	}
	if resp.Header.Get("Strict-Transport-Security") == "" {
		t.Fatal("no HSTS over direct TLS")
	}
	// The container's healthcheck finds HTTPS from PRODAYS_TLS_CERT.
	var out, errb strings.Builder
	addr := strings.TrimPrefix(url, "https://")
	if err := run(context.Background(), []string{"healthcheck", "--addr", addr}, nil, &out, &errb); err != nil {
		t.Fatalf("healthcheck over TLS: %v %s", err, errb.String())
	}
	// HTTP/2 carries at most 16 requests at once on one connection, so
	// that --max-connections bounds a client's requests (and the bodies
	// they hold before their write slot).
	if got := h2MaxStreams(t, addr, pool); got != 16 {
		t.Errorf("HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS %d, want 16", got)
	}
	// Plain HTTP on the TLS port is refused.
	if resp, err := http.Get(strings.Replace(url, "https://", "http://", 1) + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Fatal("plain HTTP served on the TLS port")
		}
	}
}

func TestParseCIDRs(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
		bad  bool
	}{
		{"", "", false},
		{"10.0.0.0/8, 127.0.0.1", "10.0.0.0/8,127.0.0.1/32", false},
		{"::1,fd00::/8", "::1/128,fd00::/8", false},
		{"10.0.0.0/33", "", true},
		{"proxy.example", "", true},
	} {
		nets, err := parseCIDRs(tc.in)
		if (err != nil) != tc.bad {
			t.Errorf("%q: err %v", tc.in, err)
			continue
		}
		if got := (cidrFlag{&nets}).String(); !tc.bad && got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.in, got, tc.want)
		}
	}
}

// h2MaxStreams opens an HTTP/2 connection to addr (RFC 9113 §3.4: the
// client preface, then an empty SETTINGS frame) and returns the
// SETTINGS_MAX_CONCURRENT_STREAMS of the server's first SETTINGS frame
// (§6.5.2; 0 when absent).
func h2MaxStreams(t *testing.T, addr string, roots *x509.CertPool) uint32 {
	t.Helper()
	c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: roots, NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if p := c.ConnectionState().NegotiatedProtocol; p != "h2" {
		t.Fatalf("ALPN: %q, want h2", p)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(append([]byte("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), 0, 0, 0, 4, 0, 0, 0, 0, 0)); err != nil {
		t.Fatal(err)
	}
	for {
		var h [9]byte
		if _, err := io.ReadFull(c, h[:]); err != nil {
			t.Fatalf("reading the server's frames: %v", err)
		}
		n := int(h[0])<<16 | int(h[1])<<8 | int(h[2])
		payload := make([]byte, n)
		if _, err := io.ReadFull(c, payload); err != nil {
			t.Fatal(err)
		}
		if h[3] != 4 || h[4]&1 != 0 { // not SETTINGS, or its ACK
			continue
		}
		for i := 0; i+6 <= len(payload); i += 6 {
			if binary.BigEndian.Uint16(payload[i:]) == 3 {
				return binary.BigEndian.Uint32(payload[i+2:])
			}
		}
		return 0
	}
}
