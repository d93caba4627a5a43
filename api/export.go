package api

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"prodays"
)

// Media types of the exports.
const (
	mimeCSV  = "text/csv; charset=utf-8"
	mimeXLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	mimePDF  = "application/pdf"
)

// auditExport records an export in the audit log (action "export", target
// what was exported, detail the parameters), before the file is sent: an
// export that fails half-way was still asked for.
func (s *Server) auditExport(c echo.Context, target string, detail map[string]any) error {
	p := principal(c)
	return s.DB.AddAudit(c.Request().Context(), prodays.AuditEntry{
		Username: p.Username, DeviceID: p.DeviceID, Address: c.RealIP(),
		Action: "export", Target: target, Detail: detail,
	})
}

// attachment sets the headers of a download.
func attachment(c echo.Context, contentType, filename string) {
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, contentType)
	h.Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s"`, safeFilename(filename)))
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
}

// safeFilename keeps the characters of a download name that need no
// quoting in a header (letters, digits, '.', '_', '-'); anything else (from
// query parameters, ids) becomes '_'.
func safeFilename(name string) string {
	b := []byte(name)
	for i, ch := range b {
		switch {
		case ch >= 'a' && ch <= 'z', ch >= 'A' && ch <= 'Z', ch >= '0' && ch <= '9', ch == '.', ch == '_', ch == '-':
		default:
			b[i] = '_'
		}
	}
	return string(b)
}

// stream sends a generated file: the generator writes straight into the
// response (after the headers), so nothing is held in memory. An error
// before the first byte is rendered as problem+json; after it the
// response is cut and the error logged.
func (s *Server) stream(c echo.Context, contentType, filename string, gen func(w io.Writer) error) error {
	w := &lazyWriter{c: c, contentType: contentType, filename: filename}
	if err := gen(w); err != nil {
		if !w.started {
			return err
		}
		s.Logger.Error("export cut short", "err", err, "file", filename)
		return nil
	}
	if !w.started {
		attachment(c, contentType, filename)
		c.Response().WriteHeader(http.StatusOK)
	}
	return nil
}

// lazyWriter writes the headers on the first byte, so that an error found
// before any output (not found, forbidden) still gets its status.
type lazyWriter struct {
	c                     echo.Context
	contentType, filename string
	started               bool
}

func (w *lazyWriter) Write(p []byte) (int, error) {
	if !w.started {
		w.started = true
		attachment(w.c, w.contentType, w.filename)
		w.c.Response().WriteHeader(http.StatusOK)
	}
	return w.c.Response().Write(p)
}

// editionParam reads ?edition=ID (optional).
func editionParam(c echo.Context) (*int64, error) {
	s := c.QueryParam("edition")
	if s == "" {
		return nil, nil
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return nil, prodays.Errorf(prodays.EInvalid, "edition must be an edition id (a positive integer).")
	}
	return &id, nil
}

// exportRegion returns the region filter of an export
// (prodays.Scope.ReportRegion): the asked one for an admin (not_found when
// it is not a region), the supervisor's own (asking for another is
// forbidden). The export's rows are scoped by the caller's prodays.Scope
// all the same; this only names the file and refuses a question about
// another region.
func (s *Server) exportRegion(c echo.Context, asked string) (string, error) {
	region, err := principal(c).ReportRegion(asked)
	if err != nil {
		return "", err
	}
	return region, s.Documents.CheckRegion(c.Request().Context(), region)
}

// exportParticipations: GET /api/v1/exports/participations.csv|.xlsx
// ?edition=&region=&date=&establishment=&sep=semicolon.
func (s *Server) exportParticipations(format string) echo.HandlerFunc {
	return func(c echo.Context) error {
		ed, err := editionParam(c)
		if err != nil {
			return err
		}
		region, err := s.exportRegion(c, c.QueryParam("region"))
		if err != nil {
			return err
		}
		f := prodays.ExportFilter{Scope: principal(c).Scope, EditionID: ed, RegionCode: region, Date: c.QueryParam("date"), EstablishmentCode: c.QueryParam("establishment"),
			Lang: prodays.ParseLang(c.QueryParam("lang"), c.Request().Header.Get("Accept-Language"))}
		ctx := c.Request().Context()
		if ed != nil { // not_found before anything is sent
			if _, err := s.Documents.LoadEdition(ctx, *ed); err != nil {
				return err
			}
		}
		sep, suffix := ',', ""
		switch c.QueryParam("sep") {
		case "", "comma":
		case "semicolon":
			sep, suffix = ';', "-pointvirgule"
		default:
			return prodays.Errorf(prodays.EInvalid, "sep must be comma or semicolon.")
		}
		name := participationsName(region, f.EstablishmentCode, f.Date) + suffix
		if err := s.auditExport(c, "participations."+format, map[string]any{"edition": ed, "region": region, "date": f.Date, "establishment": f.EstablishmentCode}); err != nil {
			return err
		}
		if format == "csv" {
			return s.stream(c, mimeCSV, name+".csv", func(w io.Writer) error {
				_, err := s.Documents.WriteParticipationsCSV(ctx, w, f, sep)
				return err
			})
		}
		return s.stream(c, mimeXLSX, name+".xlsx", func(w io.Writer) error {
			_, err := s.Documents.WriteParticipationsXLSX(ctx, w, f)
			return err
		})
	}
}

// participationsName names a participations file by its scope and day:
// participations-<region|establishment|national>[-<date>].
func participationsName(region, establishment, date string) string {
	name := "participations-national"
	if region != "" {
		name = "participations-" + region
	}
	if establishment != "" {
		name += "-" + establishment
	}
	if date != "" {
		name += "-" + date
	}
	return name
}

// exportAttendance: GET /api/v1/exports/attendance/:file where file is
// <activity_id>.pdf or <activity_id>.xlsx, of an activity in the caller's
// scope (forbidden otherwise).
func (s *Server) exportAttendance(c echo.Context) error {
	file := c.Param("file")
	id, format := strings.TrimSuffix(file, ".pdf"), "pdf"
	if id == file {
		id, format = strings.TrimSuffix(file, ".xlsx"), "xlsx"
		if id == file {
			return prodays.Errorf(prodays.ENotFound, "Ask for <activity_id>.pdf or <activity_id>.xlsx.")
		}
	}
	return s.sendAttendance(c, prodays.ExportFilter{Scope: principal(c).Scope, ActivityID: id}, format, "feuille-presence-"+id)
}

// exportAttendanceDay: GET /api/v1/exports/attendance-day?date=&region=
// &establishment=&format=pdf|xlsx — every activity of a day of a region
// or of an establishment that the caller may see: a supervisor gets the
// activities that take place in their region, whatever the
// establishment's region (a visit that an establishment of another region
// organises in theirs included, one that an establishment of theirs
// organises elsewhere excluded). Asking for another region is forbidden.
func (s *Server) exportAttendanceDay(c echo.Context) error {
	f := prodays.ExportFilter{Scope: principal(c).Scope, Date: c.QueryParam("date"), RegionCode: c.QueryParam("region"), EstablishmentCode: c.QueryParam("establishment")}
	if f.Date == "" || (f.RegionCode == "" && f.EstablishmentCode == "") {
		return prodays.Errorf(prodays.EInvalid, "Give date and region, or date and establishment.")
	}
	if f.RegionCode != "" {
		if err := principal(c).AuthorizeRegion(f.RegionCode); err != nil {
			return err
		}
	}
	format := c.QueryParam("format")
	if format == "" {
		format = "pdf"
	}
	if format != "pdf" && format != "xlsx" {
		return prodays.Errorf(prodays.EInvalid, "format must be pdf or xlsx.")
	}
	name := "feuilles-presence-" + f.Date + "-" + f.RegionCode + f.EstablishmentCode
	return s.sendAttendance(c, f, format, name)
}

func (s *Server) sendAttendance(c echo.Context, f prodays.ExportFilter, format, name string) error {
	ctx := c.Request().Context()
	f.Lang = prodays.ParseLang(c.QueryParam("lang"), c.Request().Header.Get("Accept-Language"))
	// Errors (not found, invalid) before the audit and the first byte.
	if err := s.Documents.CheckSheet(ctx, f); err != nil {
		return err
	}
	if err := s.auditExport(c, "attendance."+format, map[string]any{"activity_id": f.ActivityID, "date": f.Date, "region": f.RegionCode, "establishment": f.EstablishmentCode}); err != nil {
		return err
	}
	if format == "pdf" {
		return s.stream(c, mimePDF, name+".pdf", func(w io.Writer) error {
			return s.Documents.WriteAttendancePDF(ctx, w, f, s.Now())
		})
	}
	return s.stream(c, mimeXLSX, name+".xlsx", func(w io.Writer) error {
		return s.Documents.WriteAttendanceXLSX(ctx, w, f)
	})
}

// exportBadges: GET /api/v1/exports/badges.pdf?establishment=&group= (or
// ?activity=ID&kind=speaker for the announced speakers of an activity).
// Trainees go by their establishment's region, speakers by the
// activity's scope (export.CheckBadges).
func (s *Server) exportBadges(c echo.Context) error {
	ctx := c.Request().Context()
	f := prodays.BadgeFilter{Scope: principal(c).Scope, EstablishmentCode: c.QueryParam("establishment"), Group: c.QueryParam("group")}
	if c.QueryParam("kind") == "speaker" {
		f = prodays.BadgeFilter{Scope: f.Scope, Speakers: true, ActivityID: c.QueryParam("activity")}
	}
	if _, err := s.Documents.CheckBadges(ctx, f); err != nil {
		return err
	}
	if err := s.auditExport(c, "badges.pdf", map[string]any{"establishment": f.EstablishmentCode, "group": f.Group, "activity_id": f.ActivityID}); err != nil {
		return err
	}
	name := "badges-" + f.EstablishmentCode + f.ActivityID
	if f.Group != "" {
		name += "-" + f.Group
	}
	return s.stream(c, mimePDF, name+".pdf", func(w io.Writer) error {
		return s.Documents.WriteBadgesPDF(ctx, w, f, s.Now())
	})
}

// exportCertificate: GET /api/v1/exports/certificates/:file where file is
// <trainee_id>.pdf. Supervisors: trainees of their region's
// establishments; the certificate lists the trainee's activities that
// take place in the supervisor's region (export.WriteCertificatePDF).
func (s *Server) exportCertificate(c echo.Context) error {
	id := strings.TrimSuffix(c.Param("file"), ".pdf")
	if id == c.Param("file") {
		return prodays.Errorf(prodays.ENotFound, "Ask for <trainee_id>.pdf.")
	}
	ctx := c.Request().Context()
	scope := principal(c).Scope
	if err := s.Documents.CheckCertificate(ctx, scope, id); err != nil {
		return err
	}
	if err := s.auditExport(c, "certificate.pdf", map[string]any{"trainee_id": id}); err != nil {
		return err
	}
	return s.stream(c, mimePDF, "attestation-"+id+".pdf", func(w io.Writer) error {
		return s.Documents.WriteCertificatePDF(ctx, w, scope, id, s.Now())
	})
}

// exportCertificates: GET /api/v1/exports/certificates.pdf
// ?establishment=&group= or ?activity=ID[&group=] — the certificates of
// every trainee of the selection with a participation, in one PDF
// (export.CertificateTrainees: scoped as exportCertificate).
func (s *Server) exportCertificates(c echo.Context) error {
	ctx := c.Request().Context()
	f := prodays.CertificateFilter{Scope: principal(c).Scope, EstablishmentCode: c.QueryParam("establishment"), Group: c.QueryParam("group"), ActivityID: c.QueryParam("activity")}
	ids, err := s.Documents.CertificateTrainees(ctx, f)
	if err != nil {
		return err
	}
	if err := s.auditExport(c, "certificates.pdf", map[string]any{"establishment": f.EstablishmentCode, "group": f.Group, "activity_id": f.ActivityID, "count": len(ids)}); err != nil {
		return err
	}
	name := "attestations-" + f.ActivityID + f.EstablishmentCode
	if f.Group != "" {
		name += "-" + f.Group
	}
	return s.stream(c, mimePDF, name+".pdf", func(w io.Writer) error {
		return s.Documents.WriteCertificatesPDF(ctx, w, f.Scope, ids, s.Now())
	})
}

// exportChoices: GET /api/v1/exports/choices — what the exports screen
// offers in its pickers (export.ListChoices), within the caller's scope.
func (s *Server) exportChoices(c echo.Context) error {
	out, err := s.Documents.ListChoices(c.Request().Context(), principal(c).Scope)
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, out)
}

// exportBilan: GET /api/v1/exports/bilan.pdf|.xlsx?edition=ID[&region=].
func (s *Server) exportBilan(format string) echo.HandlerFunc {
	return func(c echo.Context) error {
		f, err := s.reportFilter(c)
		if err != nil {
			return err
		}
		ctx := c.Request().Context()
		b, err := s.Documents.Bilan(ctx, f)
		if err != nil {
			return err
		}
		if err := s.auditExport(c, "bilan."+format, map[string]any{"edition": f.EditionID, "region": f.RegionCode}); err != nil {
			return err
		}
		name := "bilan"
		if f.EditionID != nil {
			name += "-" + strconv.FormatInt(*f.EditionID, 10)
		}
		if f.RegionCode != "" {
			name += "-" + f.RegionCode
		}
		if format == "pdf" {
			return s.stream(c, mimePDF, name+".pdf", func(w io.Writer) error {
				return s.Documents.WriteBilanPDF(ctx, w, b, s.Now())
			})
		}
		return s.stream(c, mimeXLSX, name+".xlsx", func(w io.Writer) error {
			return s.Documents.WriteBilanXLSX(ctx, w, b)
		})
	}
}
