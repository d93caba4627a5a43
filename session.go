package prodays

import "time"

// Session is what a successful login or refresh returns.
type Session struct {
	AccessToken   string
	AccessExpiry  time.Time
	RefreshToken  string
	RefreshExpiry time.Time
	User          *User
	// DeviceSecret is the device's new secret when this login bound the
	// device with a secret the server made (the login carried none); the
	// answer carries it as device_secret. Empty otherwise.
	DeviceSecret string
}

// Client says who is calling, for the audit log.
type Client struct {
	Address   string
	UserAgent string
}

// DeviceLogin is the installation a login comes from: its device_id (a UUID
// made once per installation, not a secret) and, from its second login on,
// the device_secret that binds that id to it (empty when the phone has
// none yet).
type DeviceLogin struct {
	ID     string
	Secret string
}
