package api_test

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"prodays/importer"
	"prodays/internal/dbtest"
	"prodays/internal/shared"
	"prodays/internal/testenv"
	"prodays/internal/xlsxtest"
	"prodays/simulate"
	"prodays/store"
)

// importRSSBudget is what a server may reach, at its peak, while it
// refuses import bombs (issue #13, finding 6: one bomb took it to 6 GB).
const importRSSBudget = 300 << 20

// xlsxBomb returns a valid .xlsx (zip) whose first sheet, one inline
// string cell, inflates to about inflated bytes. The sheet is written
// through the deflate stream in 1 MiB pieces, never whole in memory; the
// compressed result is about inflated/1000 bytes. where is "sheet" (the
// text in the sheet) or "sst" (the text in the shared strings table).
func xlsxBomb(tb testing.TB, inflated int64, where string) []byte {
	tb.Helper()
	key := fmt.Sprint(inflated, where)
	bombsMu.Lock()
	defer bombsMu.Unlock()
	if b, ok := bombs[key]; ok {
		return b
	}
	b := buildBomb(tb, inflated, where)
	bombs[key] = b
	return b
}

// bombs keeps the bombs built by this test binary (900 MiB takes seconds
// to deflate).
var (
	bombsMu sync.Mutex
	bombs   = map[string][]byte{}
)

func buildBomb(tb testing.TB, inflated int64, where string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	add := func(name, body string) {
		w, err := zw.Create(name)
		if err != nil {
			tb.Fatal(err)
		}
		io.WriteString(w, body)
	}
	add("[Content_Types].xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>`)
	add("_rels/.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`)
	add("xl/workbook.xml", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`)
	add("xl/_rels/workbook.xml.rels", `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>`)
	const head = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n"
	big := func(name, before, after string) {
		w, err := zw.Create(name)
		if err != nil {
			tb.Fatal(err)
		}
		io.WriteString(w, head+before)
		chunk := bytes.Repeat([]byte("A"), 1<<20)
		for n := int64(0); n < inflated; n += int64(len(chunk)) {
			w.Write(chunk)
		}
		io.WriteString(w, after)
	}
	const ws = `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`
	switch where {
	case "sheet":
		big("xl/worksheets/sheet1.xml", ws+`<row r="1"><c r="A1" t="inlineStr"><is><t>`, `</t></is></c></row></sheetData></worksheet>`)
		add("xl/sharedStrings.xml", head+`<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="0" uniqueCount="0"></sst>`)
	case "sst":
		add("xl/worksheets/sheet1.xml", head+ws+`<row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData></worksheet>`)
		big("xl/sharedStrings.xml", `<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>`, `</t></si></sst>`)
	default:
		tb.Fatalf("xlsxBomb: where %q", where)
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// rssWatch samples the peak resident set (VmHWM) of the server process
// every 20 ms. Past the budget it kills the server at once, so that a
// failing run does not take the machine's memory with it.
type rssWatch struct {
	stop chan struct{}
	done chan struct{}
	peak int64
	over bool
}

func watchRSS(t *testing.T, env *testenv.Env, budget int64) *rssWatch {
	w := &rssWatch{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			ps, err := simulate.ReadProc(env.Proc.PID())
			if err == nil && ps.PeakRSSBytes > w.peak {
				w.peak = ps.PeakRSSBytes
			}
			if w.peak > budget {
				w.over = true
				env.Proc.Kill()
				return
			}
			select {
			case <-w.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return w
}

// end stops the watch and returns the peak RSS seen.
func (w *rssWatch) end() (peak int64, over bool) {
	close(w.stop)
	<-w.done
	return w.peak, w.over
}

// importAnswer is an answer of the import route.
type importAnswer struct {
	status     int
	retryAfter string
	body       map[string]any
	err        error
}

// postImport uploads file as the multipart field "file" named name. The
// body is written by a goroutine; when gate is not nil, it waits for gate
// to close after the first half of the file, so that several uploads are
// surely in flight at once.
func postImport(url, token, kind, name string, file []byte, gate <-chan struct{}) importAnswer {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		fw, err := mw.CreateFormFile("file", name)
		if err != nil {
			pw.CloseWithError(err)
			return
		}
		half := len(file) / 2
		fw.Write(file[:half])
		if gate != nil {
			<-gate
		}
		fw.Write(file[half:])
		pw.CloseWithError(mw.Close())
	}()
	req, err := http.NewRequest("POST", url+"/api/v1/admin/import/"+kind, pr)
	if err != nil {
		return importAnswer{err: err}
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		pr.CloseWithError(err)
		return importAnswer{err: err}
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	pr.CloseWithError(io.ErrClosedPipe) // unblocks a writer the server stopped reading
	a := importAnswer{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After")}
	if err := json.Unmarshal(data, &a.body); err != nil {
		a.err = fmt.Errorf("answer %d %q: %w", resp.StatusCode, data, err)
	}
	return a
}

func importProcess(t *testing.T, args ...string) (*testenv.Env, string) {
	env := testenv.Process(t, testenv.ProcessOptions{Args: args, Seed: func(tb testing.TB, db *store.DB) {
		testenv.CreateUser(tb, db, "boss", "admin", "", "")
	}})
	return env, env.Login(t, "boss", "0190d5a4-8f0c-7a11-9c3b-2f4e5d6a7b8c").AccessToken
}

// checkInflatedRefusal checks the answer to a bomb: 413 too_large naming
// the limit, in bytes, and the file.
func checkInflatedRefusal(t *testing.T, a importAnswer, name string) {
	t.Helper()
	if a.err != nil {
		t.Fatalf("%s: %v", name, a.err)
	}
	if a.status != http.StatusRequestEntityTooLarge || a.body["code"] != "too_large" {
		t.Fatalf("%s: answer %d %v, want 413 too_large", name, a.status, a.body)
	}
	if lim, _ := a.body["max_inflated_bytes"].(float64); lim <= 0 {
		t.Errorf("%s: max_inflated_bytes = %v, want the limit in bytes", name, a.body["max_inflated_bytes"])
	}
	if a.body["file"] != name || !strings.Contains(fmt.Sprint(a.body["detail"]), "MB") {
		t.Errorf("%s: problem %v: want the file's name and the limit in the detail", name, a.body)
	}
}

// TestImportXLSXBomb uploads a 0.9 MB workbook whose one cell inflates to
// 900 MiB (in the sheet, then in the shared strings) to a real server:
// it is refused with 413 too_large naming the limit, and the server's
// peak RSS stays under importRSSBudget. Issue #13, finding 6.
func TestImportXLSXBomb(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 900 MiB zip bomb")
	}
	env, token := importProcess(t)
	for _, where := range []string{"sheet", "sst"} {
		bomb := xlsxBomb(t, 900<<20, where)
		t.Logf("%s bomb: %d bytes compressed, 900 MiB inflated", where, len(bomb))
		w := watchRSS(t, env, importRSSBudget)
		a := postImport(env.URL, token, "trainees", "trainees.xlsx", bomb, nil)
		peak, over := w.end()
		t.Logf("%s bomb: answer %d, server peak RSS %d MB", where, a.status, peak>>20)
		if over {
			t.Fatalf("%s bomb: server peak RSS over %d MB: killed", where, importRSSBudget>>20)
		}
		checkInflatedRefusal(t, a, "trainees.xlsx")
	}

	// A compressed body is refused, not inflated.
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write([]byte("--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"trainees.csv\"\r\n\r\n"))
	chunk := bytes.Repeat([]byte("F25010500001N,A,B,EFP0105,,,F\n"), 1<<15)
	for range 900 {
		zw.Write(chunk)
	}
	zw.Close()
	w := watchRSS(t, env, importRSSBudget)
	req, _ := http.NewRequest("POST", env.URL+"/api/v1/admin/import/trainees", bytes.NewReader(gz.Bytes()))
	req.Header.Set("Content-Type", "multipart/form-data; boundary=b")
	req.Header.Set("Content-Encoding", "gzip")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var body map[string]any
	json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	peak, over := w.end()
	t.Logf("gzip body (%d KB, %d MB inflated): answer %d %v, server peak RSS %d MB", gz.Len()>>10, 900*len(chunk)>>20, resp.StatusCode, body["code"], peak>>20)
	if over || resp.StatusCode != http.StatusUnsupportedMediaType || body["code"] != "unsupported_media_type" {
		t.Errorf("gzip body: answer %d %v (RSS over the budget: %v), want 415 unsupported_media_type", resp.StatusCode, body, over)
	}
}

// TestImportBombsAtOnce sends six bombs at once, their bodies held half
// sent until all six are in flight: two (the default number of imports at
// once) are read and refused with 413; the others are refused at once
// with 503 unavailable and a Retry-After; the RSS stays bounded.
func TestImportBombsAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 900 MiB zip bomb")
	}
	env, token := importProcess(t)
	bomb := xlsxBomb(t, 900<<20, "sheet")
	w := watchRSS(t, env, importRSSBudget)
	const n = 6
	gate := make(chan struct{})
	answers := make([]importAnswer, n)
	var wg sync.WaitGroup
	var got503 sync.WaitGroup
	got503.Add(n - 2)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i] = postImport(env.URL, token, "trainees", "trainees.xlsx", bomb, gate)
			if answers[i].status == http.StatusServiceUnavailable {
				got503.Done()
			}
		}()
	}
	// Release the bodies once the refusals have come (or after 5 s, when
	// nothing is refused at once).
	waited := make(chan struct{})
	go func() { got503.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(5 * time.Second):
	}
	close(gate)
	wg.Wait()
	peak, over := w.end()
	t.Logf("%d bombs at once: server peak RSS %d MB", n, peak>>20)
	if over {
		t.Fatalf("server peak RSS over %d MB: killed", importRSSBudget>>20)
	}
	var n413, n503 int
	for i, a := range answers {
		switch a.status {
		case http.StatusRequestEntityTooLarge:
			checkInflatedRefusal(t, a, "trainees.xlsx")
			n413++
		case http.StatusServiceUnavailable:
			if a.body["code"] != "unavailable" || a.retryAfter == "" {
				t.Errorf("upload %d: 503 %v, Retry-After %q: want code unavailable and a Retry-After", i, a.body, a.retryAfter)
			}
			n503++
		default:
			t.Errorf("upload %d: answer %d %v (%v)", i, a.status, a.body, a.err)
		}
	}
	if n413 != 2 || n503 != n-2 {
		t.Errorf("%d answers 413 and %d 503; want 2 and %d", n413, n503, n-2)
	}
}

// xlsxOf saves a CSV file as an XLSX workbook (text in the shared strings,
// as a spreadsheet saves it).
func xlsxOf(tb testing.TB, csvPath string) []byte {
	tb.Helper()
	fh, err := os.Open(csvPath)
	if err != nil {
		tb.Fatal(err)
	}
	recs, err := csv.NewReader(fh).ReadAll()
	fh.Close()
	if err != nil {
		tb.Fatal(err)
	}
	return xlsxtest.Workbook(tb, recs)
}

// TestImportRealXLSX uploads the 2026 edition's trainees (47,651 rows)
// saved as XLSX to a real server, under the default limits: imported,
// every row, with the server's peak RSS logged.
func TestImportRealXLSX(t *testing.T) {
	if testing.Short() {
		t.Skip("converts the full edition's trainees to XLSX")
	}
	dir := shared.Dir(t, "datasets/prodays-2026")
	env := testenv.Process(t, testenv.ProcessOptions{Seed: func(tb testing.TB, db *store.DB) {
		testenv.CreateUser(tb, db, "boss", "admin", "", "")
		if _, err := importer.ImportFile(context.Background(), db, filepath.Join(dir, "establishments.csv"), "", importer.Options{}); err != nil {
			tb.Fatal(err)
		}
	}})
	token := env.Login(t, "boss", "0190d5a4-8f0c-7a11-9c3b-2f4e5d6a7b8c").AccessToken
	file := xlsxOf(t, filepath.Join(dir, "trainees.csv"))
	w := watchRSS(t, env, 1<<30)
	start := time.Now()
	a := postImport(env.URL, token, "trainees", "trainees.xlsx", file, nil)
	took := time.Since(start)
	peak, _ := w.end()
	t.Logf("trainees.xlsx (%d KB): answer %d in %s, server peak RSS %d MB", len(file)>>10, a.status, took.Round(time.Millisecond), peak>>20)
	if a.err != nil || a.status != http.StatusOK || a.body["imported"] != true {
		t.Fatalf("answer %d %v (%v)", a.status, a.body, a.err)
	}
	var n int
	n = dbtest.Value[int](t, env.DB, `SELECT count(*) FROM trainees`)
	if n != 47_651 {
		t.Errorf("%d trainees imported, want 47,651", n)
	}
}
