package sheet

import (
	"archive/zip"
	"bufio"
	"fmt"
	"io"
)

// Bounds of a worksheet's or the shared strings' XML, checked by
// scanPart before excelize decodes it. excelize decodes a cell, a shared
// string or a row whole, in objects several times the size of their XML:
// within the inflated cap, one 60 MiB cell took a reader to 322 MB and a
// row of 4 million cells to 382 MB. A spreadsheet cell holds at most
// 32,767 characters (under 200 KB of XML even escaped) and a row at most
// 16,384 cells (column XFD).
const (
	maxElementXML = 1 << 20 // one cell (<c>) or shared string (<si>), or any text or tag
	maxRowCells   = 16_384
)

// scanPart reads the zip entry zf (a worksheet or the shared strings)
// once, without decoding it, and returns an issue when a cell, a shared
// string, a tag or a text is longer than maxElementXML bytes or a row has
// more than maxRowCells cells. The scan is byte by byte: '<' and '>'
// delimit tags (a '>' inside an attribute value only makes a bound
// stricter), and a tag's name is what follows '<' up to a space, '/' or
// '>' (a namespace prefix dropped).
func scanPart(file string, zf *zip.File) (*Issue, error) {
	rc, err := zf.Open()
	if err != nil {
		return &Issue{File: file, Message: "not a readable XLSX workbook: " + err.Error()}, nil
	}
	defer rc.Close()
	br := bufio.NewReaderSize(rc, 64<<10)
	var (
		off        int64 // bytes read
		runStart   int64 // offset of the last '<' or '>'
		inTag      bool
		name       []byte // the tag's name so far (capped)
		naming     bool
		prev       byte  // the byte before the current one
		elemStart  int64 = -1
		cells      int
		row        int
		issue      = func(msg string) *Issue { return &Issue{File: file, Message: fmt.Sprintf("%s: %s", zf.Name, msg)} }
		elementMsg = fmt.Sprintf("a cell, shared string, tag or text longer than %s (a cell holds at most 32,767 characters); nothing was imported", formatBytes(maxElementXML))
	)
	for {
		b, err := br.ReadByte()
		if err == io.EOF {
			return nil, nil
		} else if err != nil {
			return &Issue{File: file, Message: "not a readable XLSX workbook: " + zf.Name + ": " + err.Error()}, nil
		}
		off++
		switch {
		case b == '<':
			inTag, naming, name, runStart = true, true, name[:0], off
		case b == '>' && inTag:
			inTag, runStart = false, off
			self := prev == '/'
			switch string(name) {
			case "row":
				row++
				cells = 0
			case "c":
				if cells++; cells > maxRowCells {
					return issue(fmt.Sprintf("row %d has more than %d cells; nothing was imported", row, maxRowCells)), nil
				}
				if !self {
					elemStart = off
				}
			case "si":
				if !self {
					elemStart = off
				}
			case "/c", "/si":
				elemStart = -1
			}
		case inTag && naming:
			switch {
			case b == ' ' || b == '\t' || b == '\r' || b == '\n' || (b == '/' && len(name) > 0):
				naming = false
			case b == ':': // a prefix: keep only the '/' of a closing tag
				closing := len(name) > 0 && name[0] == '/'
				name = name[:0]
				if closing {
					name = append(name, '/')
				}
			case len(name) < 8:
				name = append(name, b)
			}
		}
		prev = b
		if off-runStart > maxElementXML || (elemStart >= 0 && off-elemStart > maxElementXML) {
			return issue(elementMsg), nil
		}
	}
}
