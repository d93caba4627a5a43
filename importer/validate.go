package importer

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"prodays"
	"prodays/importer/internal/sheet"
	"prodays/store"
)

// column is one column of a kind's file.
type column struct {
	name     string
	required bool // the column must be in the header and the value non-empty
	// text is the rule of its values (prodays.CheckText).
	text prodays.TextRule
}

var (
	ruleCode  = prodays.TextCode
	ruleLabel = prodays.TextLabel
	ruleTitle = prodays.TextTitle
	ruleName  = prodays.TextName
	// ruleIDList is a list of ids separated by | (speaker_ids).
	ruleIDList = prodays.TextRule{Max: 2000}
)

// trainee returns the column of trainees.csv with the rule of that
// trainee field (prodays.TraineeText, which push applies too).
func trainee(col string, required bool) column {
	return column{col, required, prodays.TraineeText[col]}
}

// kindColumns lists each kind's columns (formats README). Optional
// columns may be missing from the header; their value is then "".
var kindColumns = map[string][]column{
	KindRegions:        {{"region_code", true, ruleCode}, {"name", true, ruleLabel}, {"official_number", false, ruleCode}},
	KindEstablishments: {{"code", true, ruleCode}, {"name", true, ruleTitle}, {"city", false, ruleLabel}, {"region_code", true, ruleCode}},
	KindTrainees: {trainee("trainee_id", true), trainee("last_name", true), trainee("first_name", true), trainee("establishment_code", true),
		trainee("program", false), trainee("group", false), trainee("gender", false)},
	KindCompanies:     {{"company_id", true, ruleCode}, {"name", true, ruleTitle}, {"sector", false, ruleLabel}, {"city", false, ruleLabel}, {"region_code", true, ruleCode}},
	KindOrganizations: {{"organization_id", true, ruleCode}, {"name", true, ruleTitle}, {"type", false, ruleCode}},
	KindSpeakers: {{"speaker_id", true, ruleCode}, {"last_name", true, ruleName}, {"first_name", true, ruleName}, {"organization_id", true, ruleCode},
		{"title", false, ruleLabel}},
	KindActivities: {{"activity_id", true, ruleCode}, {"kind", true, ruleCode}, {"title", true, ruleTitle}, {"date", true, ruleCode}, {"start_time", true, ruleCode},
		{"end_time", true, ruleCode}, {"establishment_code", true, ruleCode}, {"company_id", false, ruleCode}, {"region_code", true, ruleCode},
		{"capacity", false, ruleCode}, {"speaker_ids", false, ruleIDList}},
	KindUsers: {{"username", true, ruleCode}, {"full_name", false, ruleName}, {"role", true, ruleCode}, {"establishment_code", false, ruleCode},
		{"region_code", false, ruleCode}},
}

// record is a validated row, ready to write: its id, its values in the
// order of the kind's table (see tables), and its change-log scope.
type record struct {
	line          int
	id            string
	vals          []string
	region        string // change-log scope keys
	establishment string
}

// refs are the ids that rows may refer to: those in the database when the
// run starts, plus the valid rows of the run so far.
type refs struct {
	regions        map[string]int    // code → official number
	establishments map[string]string // code → region code
	organizations  map[string]bool
	companies      map[string]bool
	speakers       map[string]bool
}

func loadRefs(ctx context.Context, db *store.DB) (*refs, error) {
	rf := &refs{regions: map[string]int{}, establishments: map[string]string{},
		organizations: map[string]bool{}, companies: map[string]bool{}, speakers: map[string]bool{}}
	load := func(q string, fn func(a, b string)) error {
		rows, err := db.Read.QueryContext(ctx, q)
		if err != nil {
			return fmt.Errorf("load references: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var a, b string
			if err := rows.Scan(&a, &b); err != nil {
				return fmt.Errorf("load references: %w", err)
			}
			fn(a, b)
		}
		return rows.Err()
	}
	for q, fn := range map[string]func(a, b string){
		`SELECT code, CAST(official_number AS TEXT) FROM regions`: func(a, b string) { rf.regions[a], _ = strconv.Atoi(b) },
		`SELECT code, region_code FROM establishments`:            func(a, b string) { rf.establishments[a] = b },
		`SELECT id, '' FROM organizations`:                        func(a, _ string) { rf.organizations[a] = true },
		`SELECT id, '' FROM companies`:                            func(a, _ string) { rf.companies[a] = true },
		`SELECT id, '' FROM speakers`:                             func(a, _ string) { rf.speakers[a] = true },
	} {
		if err := load(q, fn); err != nil {
			return nil, err
		}
	}
	return rf, nil
}

// validation is the outcome of validating one file.
type validation struct {
	records  []*record
	errors   []Issue
	warnings []Issue
	skipped  int  // rows with errors
	fatal    bool // the file as a whole is wrong (header); no row is usable
}

// rowCtx validates one row.
type rowCtx struct {
	sh     *sheet.Sheet
	index  map[string]int // column name → 0-based position
	r      sheet.Row
	res    *validation
	failed bool
	bad    map[string]bool // columns with an error already: one error a column
}

// get returns the cleaned value of column name, "" when the column is
// absent.
func (c *rowCtx) get(name string) string {
	i, ok := c.index[name]
	if !ok || i >= len(c.r.Fields) {
		return ""
	}
	return sheet.Clean(c.r.Fields[i])
}

func (c *rowCtx) issue(code, name, format string, args ...any) Issue {
	is := Issue{File: c.sh.File, Line: c.r.Line, Column: name, Code: code, Message: fmt.Sprintf(format, args...)}
	if i, ok := c.index[name]; ok {
		is.Position = i + 1
	}
	return is
}

// errorf records an error about column name and marks the row invalid.
// A row reports every column in error, each once (the first error of a
// column: a missing value is not also an unknown reference).
func (c *rowCtx) errorf(code, name, format string, args ...any) {
	c.failed = true
	if c.bad[name] {
		return
	}
	if c.bad == nil {
		c.bad = map[string]bool{}
	}
	c.bad[name] = true
	c.res.errors = append(c.res.errors, c.issue(code, name, format, args...))
}

func (c *rowCtx) warnf(name, format string, args ...any) {
	c.res.warnings = append(c.res.warnings, c.issue("", name, format, args...))
}

// validate checks the header and every row of sh as a file of kind, and
// adds the valid rows to rf.
func validate(kind string, sh *sheet.Sheet, rf *refs) validation {
	var res validation
	cols := kindColumns[kind]
	index := map[string]int{}
	fileIssue := func(pos int, name, format string, args ...any) Issue {
		return Issue{File: sh.File, Line: 1, Column: name, Position: pos, Message: fmt.Sprintf(format, args...)}
	}
	for i, h := range sh.Header {
		switch {
		case h == "":
			if !allEmptyColumn(sh, i) {
				res.warnings = append(res.warnings, fileIssue(i+1, "", "column without a name ignored"))
			}
			continue
		case hasIndex(index, h):
			is := fileIssue(i+1, h, "column %s appears twice in the header", h)
			is.Code = prodays.IssueDuplicate
			res.errors = append(res.errors, is)
			continue
		case !slices.ContainsFunc(cols, func(c column) bool { return c.name == h }):
			res.warnings = append(res.warnings, fileIssue(i+1, h, "unknown column %s ignored", h))
		}
		index[h] = i
	}
	for _, c := range cols {
		if _, ok := index[c.name]; !ok && c.required {
			is := fileIssue(0, c.name, "missing required column %s (a %s file needs %s)", c.name, kind, requiredNames(cols))
			is.Code = prodays.IssueRequired
			res.errors = append(res.errors, is)
		}
	}
	if len(res.errors) > 0 {
		res.fatal = true
		return res
	}
	if len(sh.Rows) == 0 {
		res.warnings = append(res.warnings, Issue{File: sh.File, Message: "no data rows"})
	}
	idCol := cols[0].name
	seen := map[string]int{} // id → line
	for _, r := range sh.Rows {
		if len(res.errors) >= sheet.MaxIssues {
			res.errors = append(res.errors, Issue{File: sh.File, Message: fmt.Sprintf("too many errors; stopped after %d", sheet.MaxIssues)})
			res.fatal = true
			return res
		}
		if sheet.AllEmpty(r.Fields) {
			continue
		}
		c := &rowCtx{sh: sh, index: index, r: r, res: &res}
		if n := len(r.Fields); n != len(sh.Header) {
			is := Issue{File: sh.File, Line: r.Line, Code: prodays.IssueFieldCount, Message: fmt.Sprintf("row has %d fields, the header has %d", n, len(sh.Header))}
			if n > len(sh.Header) {
				is.Position = len(sh.Header) + 1
				is.Message += " (an unquoted separator in a field?)"
			} else {
				is.Position, is.Column = n+1, sh.Header[n]
			}
			res.errors = append(res.errors, is)
			res.skipped++
			continue
		}
		for _, col := range cols {
			if i, ok := index[col.name]; ok {
				if _, err := prodays.CheckText(col.name, r.Fields[i], col.text); err != nil {
					msg := strings.TrimPrefix(prodays.ErrorMessage(err), col.name+": ")
					c.errorf(prodays.IssueInvalidValue, col.name, "%s", strings.TrimSuffix(msg, "."))
					continue
				}
			}
			if col.required && c.get(col.name) == "" {
				c.errorf(prodays.IssueRequired, col.name, "%s is required", col.name)
			}
		}
		id := c.get(idCol)
		if id != "" {
			if first, dup := seen[id]; dup {
				c.errorf(prodays.IssueDuplicate, idCol, "duplicate %s %s (first on line %d)", idCol, id, first)
			}
		}
		rec := &record{line: r.Line, id: id}
		checkRow[kind](c, rec, rf) // every error of the row, not only the first column's

		if c.failed {
			res.skipped++
			continue
		}
		seen[id] = r.Line
		register(kind, rec, rf)
		res.records = append(res.records, rec)
	}
	return res
}

func hasIndex(m map[string]int, k string) bool {
	_, ok := m[k]
	return ok
}

func allEmptyColumn(sh *sheet.Sheet, i int) bool {
	for _, r := range sh.Rows {
		if i < len(r.Fields) && strings.TrimSpace(r.Fields[i]) != "" {
			return false
		}
	}
	return true
}

func requiredNames(cols []column) string {
	var names []string
	for _, c := range cols {
		if c.required {
			names = append(names, c.name)
		}
	}
	return strings.Join(names, ", ")
}

// register adds a valid row to the references of the run.
func register(kind string, rec *record, rf *refs) {
	switch kind {
	case KindEstablishments:
		rf.establishments[rec.id] = rec.vals[2]
	case KindOrganizations:
		rf.organizations[rec.id] = true
	case KindCompanies:
		rf.companies[rec.id] = true
	case KindSpeakers:
		rf.speakers[rec.id] = true
	}
}
