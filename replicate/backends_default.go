//go:build !cloudreplicas

package replicate

// cloudBuild says whether backends_cloud.go is built in.
const cloudBuild = false
