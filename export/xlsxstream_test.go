package export

import (
	"bytes"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// newStream returns a new workbook, closed at the end of the test, and a
// stream writer of its Sheet1.
func newStream(t *testing.T) (*excelize.File, *excelize.StreamWriter) {
	t.Helper()
	x := excelize.NewFile()
	t.Cleanup(func() { x.Close() })
	sw, err := x.NewStreamWriter("Sheet1")
	if err != nil {
		t.Fatal(err)
	}
	return x, sw
}

// TestStreamBufferReachable checks that sizeStream and releaseStream still
// reach excelize's stream buffer (they silently do nothing if excelize's
// layout changes, and the XLSX export's memory would double): the buffer is
// sized once, does not grow while a sheet of more than StreamChunkSize is
// written, is dropped once the sheet is in its temporary file, and the
// workbook still reads back whole.
func TestStreamBufferReachable(t *testing.T) {
	x, sw := newStream(t)
	buf, spilled := streamRaw(sw)
	if buf == nil {
		t.Fatal("excelize's StreamWriter layout changed: rawData.buf / rawData.tmp not found (see xlsxstream.go)")
	}
	if spilled {
		t.Fatal("spilled before any row")
	}
	sizeStream(sw)
	sized := buf.Cap()
	if sized < excelize.StreamChunkSize {
		t.Fatalf("buffer sized to %d", sized)
	}
	cell := strings.Repeat("é", 500)
	row := make([]any, 17)
	for i := range row {
		row[i] = cell
	}
	rows, after := 0, 10 // rows written; rows to write after the spill
	for after > 0 {
		rows++
		name, _ := excelize.CoordinatesToCellName(1, rows)
		if err := sw.SetRow(name, row); err != nil {
			t.Fatal(err)
		}
		if buf.Cap() != sized {
			t.Fatalf("row %d: buffer grew from %d to %d", rows, sized, buf.Cap())
		}
		if _, spilled := streamRaw(sw); spilled {
			after--
		}
		if rows > 2*excelize.StreamChunkSize/(17*1000) {
			t.Fatal("not spilled to a temporary file")
		}
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	releaseStream(sw)
	if buf.Cap() != 0 {
		t.Fatalf("buffer kept: %d bytes", buf.Cap())
	}
	y := reopen(t, x)
	last, _ := excelize.CoordinatesToCellName(17, rows)
	if v, err := y.GetCellValue("Sheet1", last); err != nil || v != cell {
		t.Fatalf("%s: %d characters (%v)", last, len([]rune(v)), err)
	}
}

// TestReleaseStreamInMemory checks that a sheet that stayed in memory keeps
// its XML (only the unused capacity goes).
func TestReleaseStreamInMemory(t *testing.T) {
	x, sw := newStream(t)
	sizeStream(sw)
	if err := sw.SetRow("A1", []any{"un", "deux"}); err != nil {
		t.Fatal(err)
	}
	if err := sw.Flush(); err != nil {
		t.Fatal(err)
	}
	releaseStream(sw)
	if buf, _ := streamRaw(sw); buf.Cap() >= excelize.StreamChunkSize {
		t.Fatalf("capacity kept: %d", buf.Cap())
	}
	y := reopen(t, x)
	if v, _ := y.GetCellValue("Sheet1", "B1"); v != "deux" {
		t.Fatalf("B1: %q", v)
	}
}

// reopen writes x through writeWorkbook and opens what it wrote.
func reopen(t *testing.T, x *excelize.File) *excelize.File {
	t.Helper()
	var out bytes.Buffer
	if err := writeWorkbook(x, &out); err != nil {
		t.Fatal(err)
	}
	y, err := excelize.OpenReader(&out)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { y.Close() })
	return y
}
