//go:generate go run icons_gen.go

// Package webapp embeds the PWA (plain ES modules, no build step) served by
// the API at /.
package webapp

import (
	"embed"
	"io/fs"
)

//go:embed static
var files embed.FS

// FS returns the app's files, rooted at the app (index.html at its top).
func FS() fs.FS {
	sub, err := fs.Sub(files, "static")
	if err != nil {
		panic(err)
	}
	return sub
}
