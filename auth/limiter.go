package auth

import (
	"time"

	"prodays/auth/limiter"
)

// LoginLimiter is limiter.LoginLimiter.
type LoginLimiter = limiter.LoginLimiter

// LimiterConfig is limiter.LimiterConfig.
type LimiterConfig = limiter.LimiterConfig

// NewLoginLimiter returns limiter.NewLoginLimiter(cfg, now).
func NewLoginLimiter(cfg LimiterConfig, now func() time.Time) *LoginLimiter {
	return limiter.NewLoginLimiter(cfg, now)
}

// The default login limits (limiter.DefaultUserBurst and the others).
const (
	DefaultUserBurst  = limiter.DefaultUserBurst
	DefaultUserEvery  = limiter.DefaultUserEvery
	DefaultAddrBurst  = limiter.DefaultAddrBurst
	DefaultAddrEvery  = limiter.DefaultAddrEvery
	DefaultMaxEntries = limiter.DefaultMaxEntries
)
