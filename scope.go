package prodays

// The rules of what a scope may see, in one place. The sync pull
// (sync/engine: pullScope, inScope), the exports and the reports all
// follow them; report.ActivityScope and report.TraineeScope are their SQL
// forms.
//
// An activity, and every presence recorded at it, belongs to the region
// where it takes place (activities.region_code) and to the establishment
// that hosts or organises it (activities.establishment_code): never to the
// region of that establishment, nor to the regions of the persons present.
// A visit organised by an establishment of region S at a company of
// region R is R's, with its trainees from S.
//
// A roster trainee belongs to their establishment's region: a badge or a
// certificate of a trainee is for their region, whatever activities they
// went to.

// AdminScope is the scope that sees everything: an admin's, and that of
// the tools that export everything (tests, the command line).
func AdminScope() Scope { return Scope{Role: RoleAdmin} }

// SeesActivity reports whether s may see an activity (and the attendance
// at it) that takes place in regionCode and is hosted or organised by
// establishmentCode: admins every activity, supervisors those of their
// region, staff those of their establishment. A scope without a known
// role, or without the region or establishment its role needs, sees
// nothing.
func (s Scope) SeesActivity(regionCode, establishmentCode string) bool {
	switch s.Role {
	case RoleAdmin:
		return true
	case RoleSupervisor:
		return s.RegionCode != "" && regionCode == s.RegionCode
	case RoleStaff:
		return s.EstablishmentCode != "" && establishmentCode == s.EstablishmentCode
	}
	return false
}

// SeesTrainee reports whether s may see a roster trainee whose
// establishment is in establishmentRegion: admins every trainee,
// supervisors and staff those of their region (staff record attendance of
// trainees of neighbouring establishments). Unknown roles see nothing.
func (s Scope) SeesTrainee(establishmentRegion string) bool {
	switch s.Role {
	case RoleAdmin:
		return true
	case RoleSupervisor, RoleStaff:
		return s.RegionCode != "" && establishmentRegion == s.RegionCode
	}
	return false
}

// ReviewsRegion reports whether s may review, and export, what belongs to
// region (its flags, conflicts, activities, a phone's outbox, an export
// of its day): admins every region, supervisors their own; staff none,
// and no one a "" region but admins.
func (s Scope) ReviewsRegion(region string) bool {
	return s.Role != RoleStaff && s.SeesActivity(region, "")
}

// ReportRegion returns the region filter of a report or export of s when
// asked for region asked ("" for every region s may see): admins get the
// one asked, the others their own region. Errors: EForbidden when a
// non-admin asks for another region. Whether asked names a region is the
// caller's to check.
func (s Scope) ReportRegion(asked string) (string, error) {
	if s.Role == RoleAdmin {
		return asked, nil
	}
	if asked != "" && asked != s.RegionCode {
		return "", Errorf(EForbidden, "You may only see region %s.", s.RegionCode)
	}
	return s.RegionCode, nil
}

// AuthorizeRegion returns nil when s ReviewsRegion(region), EForbidden
// otherwise.
func (s Scope) AuthorizeRegion(region string) error {
	if !s.ReviewsRegion(region) {
		return Errorf(EForbidden, "This belongs to another region than yours (%s).", s.RegionCode)
	}
	return nil
}
