// Package export writes the documents of prodays: flat participations
// (CSV, XLSX), attendance sheets (PDF, XLSX), trainee and speaker badges
// with QR codes (PDF), participation certificates (PDF, French and Arabic)
// and the bilan (PDF, XLSX).
//
// Everything is streamed: rows are read from a SQL cursor and written as
// they come (CSV directly, XLSX through excelize's StreamWriter, PDF page by
// page), so that memory does not grow with the data. Text that a
// spreadsheet could take for a formula is neutralised (Neutralize); text
// drawn in a PDF is normalised to NFC and Arabic is shaped and laid out
// right to left (PDFText).
package export

import (
	"archive/zip"
	"io"

	"github.com/xuri/excelize/v2"
)

// writeWorkbook writes x to w as its ZIP archive is made. excelize's
// File.Write first builds the whole archive in a bytes.Buffer and then
// copies it (v2.11.1: WriteTo calls WriteToBuffer); its ZipWriter hook lets
// the archive go straight to w instead, so that the compressed workbook is
// never held in memory. The buffer excelize still passes stays empty: no
// part is over 4 GB (ZIP64 local headers, which excelize patches in that
// buffer) and no workbook is encrypted.
func writeWorkbook(x *excelize.File, w io.Writer) error {
	x.SetZipWriter(func(io.Writer) excelize.ZipWriter { return zip.NewWriter(w) })
	return x.Write(w)
}
