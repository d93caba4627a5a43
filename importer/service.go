package importer

import (
	"context"
	"io"

	"prodays/store"
)

// Service is Import on DB, as the methods the HTTP API calls
// (api.Importer); main builds it.
type Service struct{ DB *store.DB }

// Kinds returns Kinds.
func (s Service) Kinds() []string { return Kinds }

// Import is Import on s.DB.
func (s Service) Import(ctx context.Context, r io.Reader, name, kind string, opts Options) (*Report, error) {
	return Import(ctx, s.DB, r, name, kind, opts)
}
