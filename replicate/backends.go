package replicate

// The replica backends Litestream registers for NewReplicaClientFromURL,
// by URL scheme. The default build has the four that need no cloud SDK
// beyond S3's; the build tag cloudreplicas adds Google Cloud Storage,
// Azure Blob Storage, NATS and Alibaba OSS (backends_cloud.go), at the
// cost of 40 MB of binary and 14 MB of resident memory in every server
// process (docs/performance.md, issue #17).
import (
	_ "github.com/benbjohnson/litestream/file"   // file:///path
	_ "github.com/benbjohnson/litestream/s3"     // s3:// (AWS S3 and S3-compatible stores)
	_ "github.com/benbjohnson/litestream/sftp"   // sftp://
	_ "github.com/benbjohnson/litestream/webdav" // webdav://, webdavs://
)
