package importer

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"prodays"
	"prodays/importer/internal/sheet"
)

// checkRow checks a row whose required values are present and fills rec's
// values (in the order of tables[kind]).
var checkRow = map[string]func(c *rowCtx, rec *record, rf *refs){
	KindRegions: func(c *rowCtx, rec *record, rf *refs) {
		num, ok := rf.regions[rec.id]
		if !ok {
			c.errorf(prodays.IssueUnknown, "region_code", "unknown region %s: the 12 regions are built in and cannot be added", rec.id)
			return
		}
		if s := c.get("official_number"); s != "" && s != strconv.Itoa(num) {
			c.errorf(prodays.IssueInvalidValue, "official_number", "official_number %s of region %s, want %d", s, rec.id, num)
		}
		rec.vals = []string{c.get("name")}
	},
	KindEstablishments: func(c *rowCtx, rec *record, rf *refs) {
		region := c.get("region_code")
		if _, ok := rf.regions[region]; !ok {
			c.errorf(prodays.IssueUnknown, "region_code", "unknown region %s", region)
		}
		rec.vals = []string{c.get("name"), c.get("city"), region}
		rec.region = region
	},
	KindTrainees: func(c *rowCtx, rec *record, rf *refs) {
		if msg := checkMatricule(rec.id); msg != "" {
			c.errorf(prodays.IssueInvalidValue, "trainee_id", "%s", msg)
		}
		est := c.get("establishment_code")
		region, ok := rf.establishments[est]
		if !ok {
			c.errorf(prodays.IssueUnknown, "establishment_code", "unknown establishment %s", est)
		}
		gender := c.get("gender")
		if gender != "" && gender != "F" && gender != "M" {
			c.errorf(prodays.IssueInvalidValue, "gender", "gender %q: want F, M or empty", gender)
		}
		rec.vals = []string{c.get("last_name"), c.get("first_name"), est, c.get("program"), c.get("group"), gender}
		rec.region, rec.establishment = region, est
	},
	KindCompanies: func(c *rowCtx, rec *record, rf *refs) {
		region := c.get("region_code")
		if _, ok := rf.regions[region]; !ok {
			c.errorf(prodays.IssueUnknown, "region_code", "unknown region %s", region)
		}
		rec.vals = []string{c.get("name"), c.get("sector"), c.get("city"), region}
		rec.region = region
	},
	KindOrganizations: func(c *rowCtx, rec *record, _ *refs) {
		typ := c.get("type")
		if typ == "" {
			typ = "other"
		}
		switch typ {
		case "company", "association", "public_body", "school", "other":
		default:
			c.errorf(prodays.IssueInvalidValue, "type", "type %q: want company, association, public_body, school or other", typ)
		}
		rec.vals = []string{c.get("name"), typ}
	},
	KindSpeakers: func(c *rowCtx, rec *record, rf *refs) {
		org := c.get("organization_id")
		if !rf.organizations[org] {
			c.errorf(prodays.IssueUnknown, "organization_id", "unknown organization %s", org)
		}
		rec.vals = []string{c.get("last_name"), c.get("first_name"), org, c.get("title")}
	},
	KindActivities: checkActivity,
	KindUsers:      checkUser,
}

func checkActivity(c *rowCtx, rec *record, rf *refs) {
	kind := c.get("kind")
	switch kind {
	case prodays.KindMeeting, prodays.KindCompanyVisit:
	default:
		c.errorf(prodays.IssueInvalidValue, "kind", "kind %q: want meeting or company_visit", kind)
	}
	date := c.get("date")
	if _, err := time.Parse(time.DateOnly, date); err != nil || len(date) != 10 {
		c.errorf(prodays.IssueInvalidValue, "date", "date %q: want YYYY-MM-DD", date)
	}
	start, end := c.get("start_time"), c.get("end_time")
	okStart, okEnd := validTime(start), validTime(end)
	if !okStart {
		c.errorf(prodays.IssueInvalidValue, "start_time", "start_time %q: want HH:MM (00:00 to 23:59)", start)
	}
	if !okEnd {
		c.errorf(prodays.IssueInvalidValue, "end_time", "end_time %q: want HH:MM (00:00 to 23:59)", end)
	}
	if okStart && okEnd && end <= start {
		c.errorf(prodays.IssueInvalidValue, "end_time", "end_time %s is not after start_time %s", end, start)
	}
	est := c.get("establishment_code")
	if _, ok := rf.establishments[est]; !ok {
		c.errorf(prodays.IssueUnknown, "establishment_code", "unknown establishment %s", est)
	}
	company := c.get("company_id")
	if company != "" && !rf.companies[company] {
		c.errorf(prodays.IssueUnknown, "company_id", "unknown company %s", company)
	}
	if kind == prodays.KindCompanyVisit && company == "" {
		c.errorf(prodays.IssueRequired, "company_id", "a company_visit needs a company_id")
	}
	region := c.get("region_code")
	if _, ok := rf.regions[region]; !ok {
		c.errorf(prodays.IssueUnknown, "region_code", "unknown region %s", region)
	}
	capacity := 0
	if s := c.get("capacity"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			c.errorf(prodays.IssueInvalidValue, "capacity", "capacity %q: want a whole number, 0 or more", s)
		}
		capacity = n
	}
	var speakers []string
	for s := range strings.SplitSeq(c.get("speaker_ids"), "|") {
		s = sheet.Clean(s)
		switch {
		case s == "":
		case !rf.speakers[s]:
			c.errorf(prodays.IssueUnknown, "speaker_ids", "unknown speaker %s", s)
		case slices.Contains(speakers, s):
			c.errorf(prodays.IssueDuplicate, "speaker_ids", "speaker %s listed twice", s)
		default:
			speakers = append(speakers, s)
		}
	}
	rec.vals = []string{kind, c.get("title"), date, start, end, est, company, region, strconv.Itoa(capacity), strings.Join(speakers, "|")}
	rec.region, rec.establishment = region, est
}

func checkUser(c *rowCtx, rec *record, rf *refs) {
	if _, err := prodays.CheckUsername("username", rec.id); err != nil {
		c.errorf(prodays.IssueInvalidValue, "username", "username %q: 2 to 64 letters, digits or . _ @ -, starting with a letter or digit", rec.id)
	}
	role := c.get("role")
	est, region := c.get("establishment_code"), c.get("region_code")
	switch role {
	case prodays.RoleStaff:
		if est == "" {
			c.errorf(prodays.IssueRequired, "establishment_code", "a staff user needs an establishment_code")
			break
		}
		estRegion, ok := rf.establishments[est]
		if !ok {
			c.errorf(prodays.IssueUnknown, "establishment_code", "unknown establishment %s", est)
			break
		}
		if region != "" && region != estRegion {
			c.warnf("region_code", "region_code %s ignored: a staff user takes the region of establishment %s (%s)", region, est, estRegion)
		}
		region = estRegion
	case prodays.RoleSupervisor:
		if region == "" {
			c.errorf(prodays.IssueRequired, "region_code", "a supervisor needs a region_code")
		} else if _, ok := rf.regions[region]; !ok {
			c.errorf(prodays.IssueUnknown, "region_code", "unknown region %s", region)
		}
		if est != "" {
			c.warnf("establishment_code", "establishment_code %s ignored: a supervisor is bound to a region", est)
			est = ""
		}
	case prodays.RoleAdmin:
		if est != "" || region != "" {
			c.warnf("role", "establishment_code and region_code ignored: an admin is bound to neither")
		}
		est, region = "", ""
	default:
		c.errorf(prodays.IssueInvalidValue, "role", "role %q: want staff, supervisor or admin", role)
	}
	rec.vals = []string{c.get("full_name"), role, est, region}
}

// validTime reports whether s is HH:MM, 00:00 to 23:59.
func validTime(s string) bool {
	if len(s) != 5 || s[2] != ':' {
		return false
	}
	h, err1 := strconv.Atoi(s[:2])
	m, err2 := strconv.Atoi(s[3:])
	return err1 == nil && err2 == nil && s[0] >= '0' && s[3] >= '0' && h <= 23 && m <= 59
}

// matriculeLetters are the check letters of a matricule, indexed by the
// value of its 11 digits mod 23.
const matriculeLetters = "ABCDEFGHJKLMNPQRSTUVWXY"

// checkMatricule returns "" for a valid trainee matricule (F, 2-digit
// year, 4-digit establishment number, 5-digit sequence, check letter) and
// what is wrong otherwise.
func checkMatricule(id string) string {
	if len(id) != 13 || id[0] != 'F' {
		return fmt.Sprintf("trainee_id %q: want a 13-character matricule (F, 11 digits, check letter)", id)
	}
	var v uint64
	for i := 1; i < 12; i++ {
		if id[i] < '0' || id[i] > '9' {
			return fmt.Sprintf("trainee_id %q: want a 13-character matricule (F, 11 digits, check letter)", id)
		}
		v = v*10 + uint64(id[i]-'0')
	}
	if want := matriculeLetters[v%23]; id[12] != want {
		return fmt.Sprintf("trainee_id %s: check letter %c, want %c (mistyped matricule?)", id, id[12], want)
	}
	return ""
}
