// Package prodays holds the domain of the Pro'Days attendance system: the
// roster entities (establishments, trainees, companies, organisations,
// speakers, activities), users and their scopes, and the error type that
// every layer returns. It imports no database driver and no web framework;
// the adapters (store, api, importer, export) depend on it, never the reverse.
package prodays

import (
	"time"
)

// Activity kinds, as in the office's activities.csv.
const (
	KindMeeting      = "meeting"
	KindCompanyVisit = "company_visit"
)

// Roles of a user account. A staff user is scoped to an establishment, a
// supervisor to a region, an admin to everything.
const (
	RoleStaff      = "staff"
	RoleSupervisor = "supervisor"
	RoleAdmin      = "admin"
)

// Person kinds that can be checked in at an activity.
const (
	PersonTrainee = "trainee"
	PersonSpeaker = "speaker"
)

// Region is one of the 12 regions of Morocco, built into the schema.
type Region struct {
	Code           string `json:"region_code"`
	Name           string `json:"name"`
	OfficialNumber int    `json:"official_number"`
}

// Establishment is a training establishment ("EFP0105", "ISTA Tanger").
type Establishment struct {
	Code       string `json:"code"`
	Name       string `json:"name"`
	City       string `json:"city"`
	RegionCode string `json:"region_code"`
}

// Trainee is a person in training, identified by the 13-character matricule
// (or, for a walk-in registered on a phone, the phone's UUID).
type Trainee struct {
	ID                string `json:"trainee_id"`
	LastName          string `json:"last_name"`
	FirstName         string `json:"first_name"`
	EstablishmentCode string `json:"establishment_code"`
	Program           string `json:"program"`
	Group             string `json:"group"`
	Gender            string `json:"gender"`
}

// Company hosts company visits.
type Company struct {
	ID         string `json:"company_id"`
	Name       string `json:"name"`
	Sector     string `json:"sector"`
	City       string `json:"city"`
	RegionCode string `json:"region_code"`
}

// Organization is the employer of a speaker. Type is one of company,
// association, public_body, school, other.
type Organization struct {
	ID   string `json:"organization_id"`
	Name string `json:"name"`
	Type string `json:"type"`
}

// Speaker is a professional who speaks at meetings.
type Speaker struct {
	ID             string `json:"speaker_id"`
	LastName       string `json:"last_name"`
	FirstName      string `json:"first_name"`
	OrganizationID string `json:"organization_id"`
	Title          string `json:"title"`
}

// Activity is a thematic meeting or a company visit. Date is YYYY-MM-DD and
// times are HH:MM, both local to Africa/Casablanca. For a meeting
// EstablishmentCode is the host; for a visit it is the organising
// establishment and CompanyID the company. RegionCode is where it takes place.
type Activity struct {
	ID                string   `json:"activity_id"`
	Kind              string   `json:"kind"`
	Title             string   `json:"title"`
	Date              string   `json:"date"`
	StartTime         string   `json:"start_time"`
	EndTime           string   `json:"end_time"`
	EstablishmentCode string   `json:"establishment_code"`
	CompanyID         string   `json:"company_id"`
	RegionCode        string   `json:"region_code"`
	Capacity          int      `json:"capacity"`
	SpeakerIDs        []string `json:"speaker_ids"`
}

// User is an account. EstablishmentCode is set for staff, RegionCode for
// staff (derived from the establishment) and supervisors; admins have
// neither.
type User struct {
	Username          string    `json:"username"`
	FullName          string    `json:"full_name"`
	Role              string    `json:"role"`
	EstablishmentCode string    `json:"establishment_code,omitempty"`
	RegionCode        string    `json:"region_code,omitempty"`
	Disabled          bool      `json:"disabled"`
	HasPassword       bool      `json:"has_password"`
	CreatedAt         time.Time `json:"created_at"`
}

// Scope is what a user may see and change: the role, and the establishment
// and region it is bound to. It is carried in access tokens and in pull
// cursors, so that a change of scope can be detected (sync protocol, Pull).
type Scope struct {
	Role              string `json:"role"`
	EstablishmentCode string `json:"establishment_code,omitempty"`
	RegionCode        string `json:"region_code,omitempty"`
}

// Edition is one Pro'Days week. Dates are YYYY-MM-DD.
type Edition struct {
	ID        int64  `json:"id"`
	Name      string `json:"name"`
	Theme     string `json:"theme"`
	StartDate string `json:"start_date"`
	EndDate   string `json:"end_date"`
}

// Principal is the authenticated caller of a request: the user, the scope
// its access token carries, and the device it logged in from.
type Principal struct {
	Username string `json:"username"`
	Scope
	DeviceID string `json:"device_id"`
	// TokenID is the access token's jti.
	TokenID string `json:"-"`
	// SessionID is the id of the refresh token issued with the access
	// token: its login session, which a logout or a revocation closes.
	SessionID string `json:"-"`
}
