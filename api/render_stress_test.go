package api_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"
	"time"

	"prodays/internal/synctest"
	"prodays/sync/protocol"
)

// TestPushGzipFreeListsConcurrent: many concurrent gzip pushes, mixed with
// corrupt, truncated, bomb and half-read gzip bodies, through a real
// server; every valid push gets its own results (ids in order), through
// both the small (plain) and the large (gzip) answer branch.
func TestPushGzipFreeListsConcurrent(t *testing.T) {
	env := syncEnv(t)
	const workers, rounds = 8, 40
	tr := &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: workers}
	client := &http.Client{Transport: tr, Timeout: time.Minute}
	defer tr.CloseIdleConnections()
	gz := func(b []byte) []byte {
		var out bytes.Buffer
		zw := gzip.NewWriter(&out)
		zw.Write(b)
		zw.Close()
		return out.Bytes()
	}
	bomb := func() []byte {
		var out bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&out, gzip.BestCompression)
		zw.Write([]byte(`{"device_id":"x","mutations":[],"app_version":"`))
		zw.Write(bytes.Repeat([]byte("a"), protocol.MaxBodyBytes+10))
		zw.Close()
		return out.Bytes()
	}()
	var wg sync.WaitGroup
	var mu sync.Mutex
	counts := map[string]int{}
	for w := range workers {
		dev := fmt.Sprintf("dev-stress-%d", w)
		s := env.Login(t, "staff1", dev)
		ph := synctest.NewPhone(dev, eventNow.Add(-2*time.Hour))
		rng := rand.New(rand.NewPCG(uint64(w), 7))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				kind := rng.IntN(6)
				var body []byte
				var ms []protocol.Mutation
				switch kind {
				case 0, 1, 2: // valid: 1..40 mutations (answers below and above 1,400 bytes)
					for range 1 + rng.IntN(40) {
						ms = append(ms, ph.CheckIn("A1", "trainee", synctest.TraineesE1[rng.IntN(len(synctest.TraineesE1))]))
					}
					body = gz(synctest.Body(dev, eventNow, len(ms), ms...))
				case 3: // not gzip
					body = []byte("this is not gzip at all")
				case 4: // truncated and corrupt CRC
					full := gz(synctest.Body(dev, eventNow, 0))
					if rng.IntN(2) == 0 {
						body = full[:len(full)/2]
					} else {
						body = append([]byte{}, full...)
						body[len(body)-6] ^= 0xff
					}
				case 5:
					body = bomb
				}
				req, _ := http.NewRequest("POST", env.URL+"/api/v1/sync/push", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Content-Encoding", "gzip")
				req.Header.Set("Accept-Encoding", "gzip")
				req.Header.Set("Authorization", "Bearer "+s.AccessToken)
				resp, err := client.Do(req)
				if err != nil {
					t.Errorf("%s kind %d: %v", dev, kind, err)
					return
				}
				raw, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				enc := resp.Header.Get("Content-Encoding")
				if enc == "gzip" {
					zr, err := gzip.NewReader(bytes.NewReader(raw))
					if err == nil {
						raw, err = io.ReadAll(zr)
					}
					if err != nil {
						t.Errorf("%s kind %d: bad gzip answer: %v", dev, kind, err)
						continue
					}
				}
				key := fmt.Sprintf("kind %d status %d enc %q", kind, resp.StatusCode, enc)
				mu.Lock()
				counts[key]++
				mu.Unlock()
				if ms == nil {
					if resp.StatusCode != 400 && resp.StatusCode != 413 {
						t.Errorf("%s: %d %s", key, resp.StatusCode, raw)
					}
					continue
				}
				var pr protocol.PushResponse
				if err := json.Unmarshal(raw, &pr); err != nil || resp.StatusCode != 200 || len(pr.Results) != len(ms) || pr.Device.MaxSeq < ms[len(ms)-1].Seq {
					t.Errorf("%s: %v %.200s", key, err, raw)
					continue
				}
				if (len(raw) >= 1400) != (enc == "gzip") {
					t.Errorf("%s: %d bytes of JSON, encoding %q", key, len(raw), enc)
				}
				for i, r := range pr.Results {
					if r.ID != ms[i].ID || r.Status == "" {
						t.Errorf("%s: result %d is %+v, want id %s", key, i, r, ms[i].ID)
						break
					}
				}
			}
		}()
	}
	wg.Wait()
	t.Logf("answers: %v", counts)
}
