package export

import (
	"bytes"
	"os"
	"reflect"
	"unsafe"

	"github.com/xuri/excelize/v2"
)

// excelize's StreamWriter (v2.11.1) writes a sheet's XML into an in-memory
// bytes.Buffer and moves it to a temporary file once it holds
// excelize.StreamChunkSize (16 MB), a constant; the buffer is only released
// when the workbook is written. Left alone, the buffer doubles from 16 MB to
// 32 MB just before its first spill (48 MB live at that moment) and every
// sheet keeps its 32 MB until the end: with the garbage collector's target
// at twice the live heap, a 45,000-row export peaked at 100 MB of heap.
// Upstream has no option for it yet (qax-os/excelize#1927, open).
//
// sizeStream and releaseStream reach that buffer (unexported fields
// rawData.buf and rawData.tmp, found by reflection and checked for their
// types): the buffer is sized once to the chunk plus some headroom, so that
// it never doubles, and dropped once the sheet is flushed to its temporary
// file. If excelize's layout changes they do nothing (the export stays
// correct, only heavier) and TestStreamBufferReachable fails, so that an
// upgrade is noticed.

// streamHeadroom is what a row may add past StreamChunkSize before the
// spill without the buffer growing (a row is a few kB; a bigger one only
// makes the buffer grow, as excelize does).
const streamHeadroom = 1 << 20

// streamRaw returns sw's in-memory buffer and whether its temporary file
// exists, or nil, false when excelize's layout is not the one known.
func streamRaw(sw *excelize.StreamWriter) (buf *bytes.Buffer, spilled bool) {
	raw := reflect.ValueOf(sw).Elem().FieldByName("rawData")
	if !raw.IsValid() || raw.Kind() != reflect.Struct {
		return nil, false
	}
	b, tmp := raw.FieldByName("buf"), raw.FieldByName("tmp")
	if !b.IsValid() || b.Type() != reflect.TypeFor[bytes.Buffer]() || !b.CanAddr() ||
		!tmp.IsValid() || tmp.Type() != reflect.TypeFor[*os.File]() {
		return nil, false
	}
	return (*bytes.Buffer)(unsafe.Pointer(b.UnsafeAddr())), !tmp.IsNil()
}

// sizeStream gives a new stream writer's buffer its final size: the chunk
// after which excelize spills it, plus headroom.
func sizeStream(sw *excelize.StreamWriter) {
	if buf, _ := streamRaw(sw); buf != nil {
		buf.Grow(excelize.StreamChunkSize + streamHeadroom - buf.Len())
	}
}

// releaseStream frees what a flushed stream writer no longer needs: its
// buffer when the sheet is in its temporary file (the buffer is then
// empty), else the buffer's unused capacity.
func releaseStream(sw *excelize.StreamWriter) {
	buf, spilled := streamRaw(sw)
	switch {
	case buf == nil:
	case spilled && buf.Len() == 0:
		*buf = bytes.Buffer{}
	case buf.Cap() > 2*buf.Len()+64<<10:
		*buf = *bytes.NewBuffer(bytes.Clone(buf.Bytes()))
	}
}
