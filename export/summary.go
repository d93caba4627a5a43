package export

import (
	"context"
	"fmt"
	"strings"

	"github.com/xuri/excelize/v2"

	"prodays/store"
)

// writeSummary fills the "Synthèse" sheet from what was written.
func writeSummary(ctx context.Context, db *store.DB, x *excelize.File, f Filter, t *tally, bold int) error {
	sw, err := x.NewStreamWriter(SheetSummary)
	if err != nil {
		return err
	}
	if err := sw.SetColWidth(1, 1, 34); err != nil {
		return err
	}
	if err := sw.SetColWidth(2, 5, 16); err != nil {
		return err
	}
	row := 0
	put := func(vals ...any) error {
		row++
		for i, v := range vals {
			if s, ok := v.(string); ok {
				vals[i] = Neutralize(s)
			}
		}
		cell, _ := excelize.CoordinatesToCellName(1, row)
		return sw.SetRow(cell, vals)
	}
	head := func(vals ...string) error {
		cells := make([]any, len(vals))
		for i, v := range vals {
			cells[i] = excelize.Cell{StyleID: bold, Value: v}
		}
		row++
		cell, _ := excelize.CoordinatesToCellName(1, row)
		return sw.SetRow(cell, cells)
	}
	names, err := regionNames(ctx, db)
	if err != nil {
		return err
	}
	steps := []func() error{
		func() error { return head("Synthèse des participations", "") },
		func() error { return put("Filtre", describe(f)) },
		func() error { return put("Participations aux rencontres", t.meetings) },
		func() error { return put("Participations aux visites", t.visits) },
		func() error { return put("Bénéficiaires (participations)", t.meetings+t.visits) },
		func() error { return put("Participations d'intervenants", t.speakers) },
		func() error {
			row++
			return head("region_code", "Région", "meeting_participations", "visit_participations", "beneficiaries")
		},
	}
	// Every region, with its zeros, as the bilan lists them, unless the
	// filter names a place: then the regions it wrote.
	placed := f.RegionCode != "" || f.EstablishmentCode != "" || f.ActivityID != ""
	for _, r := range names {
		c, ok := t.byRegion[r.Code]
		if !ok && placed {
			continue
		}
		steps = append(steps, func() error { return put(r.Code, r.Name, c[0], c[1], c[0]+c[1]) })
	}
	steps = append(steps, func() error {
		row++
		return head("date", "", "meeting_participations", "visit_participations", "beneficiaries")
	})
	for _, d := range sortedKeys(t.byDay) {
		c := t.byDay[d]
		steps = append(steps, func() error { return put(d, "", c[0], c[1], c[0]+c[1]) })
	}
	for _, s := range steps {
		if err := s(); err != nil {
			return err
		}
	}
	return sw.Flush()
}

// describe renders a filter for a human ("toutes les activités" when
// empty).
func describe(f Filter) string {
	var parts []string
	if f.EditionID != nil {
		parts = append(parts, fmt.Sprintf("édition %d", *f.EditionID))
	}
	if f.RegionCode != "" {
		parts = append(parts, "région "+f.RegionCode)
	}
	if f.Date != "" {
		parts = append(parts, "date "+f.Date)
	}
	if f.EstablishmentCode != "" {
		parts = append(parts, "établissement "+f.EstablishmentCode)
	}
	if f.ActivityID != "" {
		parts = append(parts, "activité "+f.ActivityID)
	}
	if len(parts) == 0 {
		return "toutes les activités"
	}
	return strings.Join(parts, ", ")
}
