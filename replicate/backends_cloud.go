//go:build cloudreplicas

package replicate

// The cloud backends of Litestream that the default build leaves out
// (backends.go): go build -tags cloudreplicas ./server.
import (
	_ "github.com/benbjohnson/litestream/abs"  // abs:// (Azure Blob Storage)
	_ "github.com/benbjohnson/litestream/gs"   // gs:// (Google Cloud Storage)
	_ "github.com/benbjohnson/litestream/nats" // nats:// (NATS JetStream object store)
	_ "github.com/benbjohnson/litestream/oss"  // oss:// (Alibaba Cloud OSS)
)

const cloudBuild = true
