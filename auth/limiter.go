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
