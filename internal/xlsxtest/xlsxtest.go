// Package xlsxtest writes XLSX workbooks for the importers' tests, the way
// an office spreadsheet saves them (text cells in the shared strings
// table).
package xlsxtest

import (
	"bytes"
	"testing"

	"github.com/xuri/excelize/v2"
)

// Workbook returns a workbook whose first sheet ("Sheet1") holds rows, one
// cell a value, from A1; an error fails tb.
func Workbook[T any](tb testing.TB, rows [][]T) []byte {
	tb.Helper()
	f := excelize.NewFile()
	defer f.Close()
	for i, r := range rows {
		row := make([]any, len(r))
		for j := range r {
			row[j] = r[j]
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := f.SetSheetRow("Sheet1", cell, &row); err != nil {
			tb.Fatal(err)
		}
	}
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}
