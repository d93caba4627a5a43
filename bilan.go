package prodays

import "sort"

// BilanFilter selects the activities a bilan covers: those Scope may see
// (Scope.SeesActivity), narrowed by the other fields. The zero
// value covers nothing: pass the caller's scope, or prodays.AdminScope()
// for everything.
type BilanFilter struct {
	// Scope is who the bilan is for: its activities are those the scope
	// may see (by the activity's region or establishment).
	Scope Scope
	// EditionID, when not nil, keeps the activities of that edition: those
	// whose edition_id is it, and those without an edition_id whose date
	// falls within the edition's start_date..end_date. An unknown edition is
	// a not_found error.
	EditionID *int64
	// RegionCode, when not empty, keeps the activities that take place in
	// that region (activities.region_code); a supervisor's bilan.
	RegionCode string
}

// ParticipationCounts are the participations of one region or one day.
type ParticipationCounts struct {
	MeetingParticipations int `json:"meeting_participations"`
	VisitParticipations   int `json:"visit_participations"`
	// Beneficiaries is MeetingParticipations + VisitParticipations
	// (participations, not persons: the office's word).
	Beneficiaries int `json:"beneficiaries"`
}

// Figures is the bilan of an edition, with the JSON names of the office's
// expected.json. Every count is a number of rows, never a percentage. (The
// type is not named Bilan because the function that computes it is.)
type Figures struct {
	// Edition is the edition covered, nil when the filter had none.
	Edition *Edition `json:"edition,omitempty"`
	// RegionCode is the region the bilan is restricted to, "" for all.
	RegionCode string `json:"region_code,omitempty"`

	MeetingParticipations int `json:"meeting_participations"`
	VisitParticipations   int `json:"visit_participations"`
	Beneficiaries         int `json:"beneficiaries"`
	// DistinctTrainees* count persons: a trainee present at two meetings
	// counts once in DistinctTraineesMeetings.
	DistinctTraineesMeetings int `json:"distinct_trainees_meetings"`
	DistinctTraineesVisits   int `json:"distinct_trainees_visits"`
	DistinctTrainees         int `json:"distinct_trainees"`
	// SpeakersPresent counts persons, SpeakerParticipations (speaker,
	// activity) pairs; OrganizationsRepresented the organisations of the
	// present speakers.
	SpeakersPresent          int `json:"speakers_present"`
	SpeakerParticipations    int `json:"speaker_participations"`
	OrganizationsRepresented int `json:"organizations_represented"`
	// *Held counts the activities with at least one trainee participation,
	// *Listed every activity of the programme (cancelled ones included).
	MeetingsHeld   int `json:"meetings_held"`
	MeetingsListed int `json:"meetings_listed"`
	VisitsHeld     int `json:"visits_held"`
	VisitsListed   int `json:"visits_listed"`
	// CompaniesVisited counts the companies of the held visits.
	CompaniesVisited int `json:"companies_visited"`
	// VisitEstablishments counts the establishments of the trainees present
	// at visits.
	VisitEstablishments int `json:"visit_establishments"`
	// PerRegion is keyed by region_code: every region of the schema (or
	// only the filtered one), zeros included.
	PerRegion map[string]ParticipationCounts `json:"per_region"`
	// PerDay is keyed by date (YYYY-MM-DD): every day of the edition and
	// every day with a listed activity, zeros included.
	PerDay map[string]ParticipationCounts `json:"per_day"`
}

// Days returns the dates of b.PerDay, sorted.
func (b *Figures) Days() []string {
	days := make([]string, 0, len(b.PerDay))
	for d := range b.PerDay {
		days = append(days, d)
	}
	sort.Strings(days)
	return days
}

// ExportFilter selects the activities of an export: those Scope may see
// (Scope.SeesActivity: by the activity's own region or
// establishment, never the establishment's region), narrowed by the other
// fields, whose empty values narrow nothing. The zero value selects
// nothing: pass the caller's scope, or prodays.AdminScope().
type ExportFilter struct {
	// Scope is who the export is for.
	Scope Scope
	// EditionID keeps the activities of an edition (as report.ExportFilter).
	EditionID *int64
	// RegionCode keeps the activities that take place in that region.
	RegionCode string
	// Date keeps the activities of that day (YYYY-MM-DD).
	Date string
	// EstablishmentCode keeps the activities hosted or organised by that
	// establishment (activities.establishment_code), whatever region they
	// take place in: the scope still applies.
	EstablishmentCode string
	// ActivityID keeps one activity.
	ActivityID string
	// Lang is the language of the XLSX headers and coded values (LangFR,
	// the default, LangAR, LangEN: see ParseLang); the CSV ignores it and
	// keeps stable machine headers and codes.
	Lang string
}

// BadgeFilter selects the badges to print: the trainees of an
// establishment (and optionally of one group), or — with Speakers — the
// speakers announced at ActivityID.
type BadgeFilter struct {
	// Scope is who the badges are for: the trainees of an establishment
	// of its region (Scope.SeesTrainee: a roster goes by the
	// trainee's establishment), the speakers of an activity it may see
	// (Scope.SeesActivity). The zero value may print nothing.
	Scope             Scope
	EstablishmentCode string
	Group             string
	Speakers          bool
	ActivityID        string
}
