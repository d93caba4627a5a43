package sheet

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"hash/crc32"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

const (
	xmlHead   = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>` + "\n"
	wsOpen    = `<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`
	wsClose   = `</sheetData></worksheet>`
	relsSheet = `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>`
)

// part is one zip entry of a test workbook: its text, or a repeated
// piece (repeat times) between before and after, written in pieces.
type part struct {
	name, before, piece, after string
	repeat                     int
	// declare, when not 0, is the uncompressed size written in the zip's
	// directory instead of the true one (a lying header).
	declare uint64
	// corrupt, when set, is written as the entry's deflated data as is.
	corrupt []byte
}

// workbook writes a minimal XLSX with the given parts beside the package
// and workbook parts.
func workbook(tb testing.TB, parts ...part) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	all := append([]part{
		{name: "[Content_Types].xml", before: xmlHead + `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>`},
		{name: "_rels/.rels", before: xmlHead + `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`},
		{name: "xl/workbook.xml", before: xmlHead + `<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>`},
		{name: "xl/_rels/workbook.xml.rels", before: xmlHead + relsSheet},
	}, parts...)
	for _, p := range all {
		if p.corrupt != nil {
			w, err := zw.CreateRaw(&zip.FileHeader{Name: p.name, Method: zip.Deflate,
				CompressedSize64: uint64(len(p.corrupt)), UncompressedSize64: 100})
			if err != nil {
				tb.Fatal(err)
			}
			w.Write(p.corrupt)
			continue
		}
		if p.declare == 0 {
			w, err := zw.Create(p.name)
			if err != nil {
				tb.Fatal(err)
			}
			writePart(w, p)
			continue
		}
		var raw bytes.Buffer
		fw, _ := flate.NewWriter(&raw, flate.BestCompression)
		crc := crc32.NewIEEE()
		writePart(io.MultiWriter(fw, crc), p)
		fw.Close()
		h := &zip.FileHeader{Name: p.name, Method: zip.Deflate, CRC32: crc.Sum32(),
			CompressedSize64: uint64(raw.Len()), UncompressedSize64: p.declare}
		w, err := zw.CreateRaw(h)
		if err != nil {
			tb.Fatal(err)
		}
		w.Write(raw.Bytes())
	}
	if err := zw.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

func writePart(w io.Writer, p part) {
	io.WriteString(w, p.before)
	if p.repeat > 0 {
		piece := []byte(strings.Repeat(p.piece, max(1, (64<<10)/len(p.piece))))
		per := len(piece) / len(p.piece)
		for n := 0; n < p.repeat; n += per {
			if k := p.repeat - n; k < per {
				piece = piece[:k*len(p.piece)]
			}
			w.Write(piece)
		}
	}
	io.WriteString(w, p.after)
}

// oneCellSheet is a sheet whose cell A1 is an inline string of n bytes.
func oneCellSheet(n int) part {
	return part{name: "xl/worksheets/sheet1.xml", before: xmlHead + wsOpen + `<row r="1"><c r="A1" t="inlineStr"><is><t>`,
		piece: "A", repeat: n, after: `</t></is></c></row>` + wsClose}
}

func TestReadXLSXInflatedLimits(t *testing.T) {
	lim := Limits{MaxBytes: 1 << 20, MaxInflatedBytes: 4 << 20}
	tests := []struct {
		name      string
		parts     []part
		wantEntry string
		wantLimit int64
	}{
		{"sheet over the total", []part{oneCellSheet(5 << 20)}, "", 4 << 20},
		{"shared strings over the total", []part{
			{name: "xl/worksheets/sheet1.xml", before: xmlHead + wsOpen + `<row r="1"><c r="A1" t="s"><v>0</v></c></row>` + wsClose},
			{name: "xl/sharedStrings.xml", before: xmlHead + `<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>`, piece: "B", repeat: 5 << 20, after: `</t></si></sst>`},
		}, "", 4 << 20},
		{"parts together over the total", []part{
			oneCellSheet(3 << 20),
			{name: "xl/worksheets/sheet2.xml", before: xmlHead + wsOpen, piece: `<row><c t="inlineStr"><is><t>x</t></is></c></row>`, repeat: 40_000, after: wsClose},
		}, "", 4 << 20},
		{"a part held in memory over its cap", []part{oneCellSheet(10),
			{name: "xl/styles.xml", before: xmlHead + `<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">`, piece: "<!-- padding -->", repeat: 300_000, after: `</styleSheet>`},
		}, "xl/styles.xml", 4 << 20},
		{"a sheet elsewhere, with a huge cell", []part{oneCellSheet(10),
			{name: "xl/data/first.xml", before: xmlHead + wsOpen + `<row r="1"><c r="A1" t="inlineStr"><is><t>`, piece: "A", repeat: 2 << 20, after: `</t></is></c></row>` + wsClose},
		}, "scan", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := workbook(t, tt.parts...)
			_, issues, err := ReadXLSX("trainees.xlsx", bytes.NewReader(data), lim)
			if tt.wantEntry == "scan" {
				if err != nil || len(issues) != 1 || !strings.Contains(issues[0].Message, "xl/data/first.xml: a cell") {
					t.Errorf("got issues %v, error %v; want the scan's issue", issues, err)
				}
				return
			}
			var ie *InflatedError
			if !errors.As(err, &ie) {
				t.Fatalf("got issues %v, error %v; want an *InflatedError", issues, err)
			}
			if ie.File != "trainees.xlsx" || ie.Entry != tt.wantEntry || ie.Limit != tt.wantLimit {
				t.Errorf("got %+v, want entry %q limit %d", ie, tt.wantEntry, tt.wantLimit)
			}
			if !strings.Contains(ie.Error(), "trainees.xlsx") || !strings.Contains(ie.Error(), "4 MB") {
				t.Errorf("message %q: want the file and the limit", ie.Error())
			}
		})
	}
}

// TestReadXLSXLyingDirectory: a zip whose directory declares 1 KB for a
// sheet that inflates to 64 MiB passes the size check, but archive/zip
// stops inflating at the declared size: the sheet is refused, and little
// is allocated.
func TestReadXLSXLyingDirectory(t *testing.T) {
	p := oneCellSheet(64 << 20)
	p.declare = 1 << 10
	data := workbook(t, p)
	before := totalAlloc()
	sh, issues, err := ReadXLSX("trainees.xlsx", bytes.NewReader(data), Limits{MaxBytes: 1 << 20})
	alloc := totalAlloc() - before
	t.Logf("issues %v, err %v; allocated %d KB", issues, err, alloc>>10)
	if err == nil && len(issues) == 0 && sh != nil && len(sh.Rows) > 0 {
		t.Errorf("a truncated sheet read as %d rows", len(sh.Rows))
	}
	if alloc > 16<<20 {
		t.Errorf("allocated %d MB reading a sheet that declares 1 KB", alloc>>20)
	}
}

// TestReadXLSXWithinLimits reads workbooks just under the default cap
// built to cost the most memory per inflated byte (one 60 MiB cell, in
// the sheet or the shared strings; a shared string of a million runs; a
// row of millions of small cells; millions of rows): each is refused with
// an issue, and the test process's peak RSS (VmHWM, over its whole life)
// stays under 200 MB. Before scanPart and the row caps, the first two
// took it to 322 MB and 382 MB.
func TestReadXLSXWithinLimits(t *testing.T) {
	if testing.Short() {
		t.Skip("inflates 60 MiB workbooks")
	}
	cases := []struct {
		name string
		p    part
	}{
		{"one 60 MiB cell", oneCellSheet(60 << 20)},
		{"one row of 4M cells", part{name: "xl/worksheets/sheet1.xml", before: xmlHead + wsOpen + `<row>`, piece: `<c><v>1</v></c>`, repeat: 4_000_000, after: `</row>` + wsClose}},
		{"2M rows", part{name: "xl/worksheets/sheet1.xml", before: xmlHead + wsOpen, piece: `<row><c><v>1</v></c></row>`, repeat: 2_000_000, after: wsClose}},
		{"one 60 MiB shared string", part{name: "xl/sharedStrings.xml", before: xmlHead + `<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>`, piece: "B", repeat: 60 << 20, after: `</t></si></sst>`}},
		{"a shared string of 1M runs", part{name: "xl/sharedStrings.xml", before: xmlHead + `<x:sst xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:si>`, piece: `<x:r><x:t>b</x:t></x:r>`, repeat: 1 << 20, after: `</x:si></x:sst>`}},
	}
	for _, c := range cases {
		parts := []part{c.p}
		if c.p.name == "xl/sharedStrings.xml" {
			parts = append(parts, part{name: "xl/worksheets/sheet1.xml", before: xmlHead + wsOpen + `<row r="1"><c r="A1" t="s"><v>0</v></c></row>` + wsClose})
		}
		data := workbook(t, parts...)
		sh, issues, err := ReadXLSX("t.xlsx", bytes.NewReader(data), Limits{MaxBytes: 50 << 20})
		peak := peakRSS(t)
		t.Logf("%s (%d KB zipped): issues %v, err %v; peak RSS so far %d MB", c.name, len(data)>>10, issues, err, peak>>20)
		if err != nil || len(issues) == 0 {
			t.Errorf("%s: got a sheet (%v), error %v; want an issue", c.name, sh != nil, err)
		}
		if peak > 200<<20 {
			t.Errorf("%s: peak RSS %d MB, want under 200 MB", c.name, peak>>20)
		}
	}
}

func totalAlloc() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.TotalAlloc
}

// peakRSS is this process's VmHWM, in bytes.
func peakRSS(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Skip("no /proc")
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			return kb << 10
		}
	}
	return 0
}

// TestReadXLSXTempFiles: a sheet over 16 MiB is inflated to a temporary
// file; when excelize then fails on a corrupt part, it forgets that file.
// ReadXLSX gives excelize a folder of its own and removes it: nothing is
// left in the temporary directory.
func TestReadXLSXTempFiles(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	data := workbook(t,
		part{name: "xl/worksheets/sheet1.xml", before: xmlHead + wsOpen, piece: `<row><c t="inlineStr"><is><t>x</t></is></c></row>`, repeat: 400_000, after: wsClose},
		part{name: "xl/styles.xml", corrupt: []byte("\xff\xff\xff not deflate")},
	)
	_, issues, err := ReadXLSX("t.xlsx", bytes.NewReader(data), Limits{MaxBytes: 1 << 20})
	if err != nil || len(issues) == 0 {
		t.Errorf("issues %v, error %v: want an issue", issues, err)
	}
	left, _ := os.ReadDir(tmp)
	for _, e := range left {
		t.Errorf("left in the temporary directory: %s", e.Name())
	}
}
