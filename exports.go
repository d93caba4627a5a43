package prodays

// CertificateFilter selects the trainees of a batch of certificates: those
// of an establishment (optionally of one of its groups), or those present
// at an activity. Either EstablishmentCode or ActivityID is required.
type CertificateFilter struct {
	// Scope is who the certificates are for: only trainees whose
	// establishment it sees get one (Scope.SeesTrainee), and each
	// lists the activities it sees (as WriteCertificatePDF).
	Scope             Scope
	EstablishmentCode string
	Group             string
	ActivityID        string
}

// Choices are what the exports screen offers in its pickers, within a
// scope: the regions it may ask for, the days with activities it sees, and
// the establishments whose trainees it sees, each with its groups.
type Choices struct {
	Regions        []Region              `json:"regions"`
	Days           []string              `json:"days"` // YYYY-MM-DD, sorted
	Establishments []ChoiceEstablishment `json:"establishments"`
}

// ChoiceEstablishment is an establishment of Choices with the groups of
// its (not deleted) trainees, sorted.
type ChoiceEstablishment struct {
	Code       string   `json:"code"`
	Name       string   `json:"name"`
	RegionCode string   `json:"region_code"`
	Groups     []string `json:"groups"`
}
