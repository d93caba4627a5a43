package replicate

// The replica backends Litestream registers for NewReplicaClientFromURL,
// by URL scheme.
import (
	_ "github.com/benbjohnson/litestream/abs"    // abs:// (Azure Blob Storage)
	_ "github.com/benbjohnson/litestream/file"   // file:///path
	_ "github.com/benbjohnson/litestream/gs"     // gs:// (Google Cloud Storage)
	_ "github.com/benbjohnson/litestream/nats"   // nats:// (NATS JetStream object store)
	_ "github.com/benbjohnson/litestream/oss"    // oss:// (Alibaba Cloud OSS)
	_ "github.com/benbjohnson/litestream/s3"     // s3:// (AWS S3 and S3-compatible stores)
	_ "github.com/benbjohnson/litestream/sftp"   // sftp://
	_ "github.com/benbjohnson/litestream/webdav" // webdav://, webdavs://
)
