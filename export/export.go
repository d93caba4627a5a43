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
