package main

import (
	"prodays/internal/testenv"
	"testing"
)

// TestBinaryLinksNoTestSupport: the prodays binary depends on no test
// support (package testing, prodays/internal/synctest, testenv, …): a
// production package that borrows a helper from them drags them in.
func TestBinaryLinksNoTestSupport(t *testing.T) {
	for _, dep := range testenv.Deps(t) {
		switch dep {
		case "testing", "prodays/internal/synctest", "prodays/internal/testenv", "prodays/internal/dbtest",
			"prodays/internal/fixture", "prodays/internal/dataset", "prodays/internal/pdftest", "prodays/internal/xlsxtest":
			t.Errorf("the prodays binary depends on %s", dep)
		}
	}
}
