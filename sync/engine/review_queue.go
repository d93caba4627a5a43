package engine

import (
	"context"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"time"

	"prodays"
	"prodays/internal/derrors"
	"prodays/store"
	"prodays/sync/review"
)

// reviewItemsSQL lists every item still to review with its region (the
// flag's; the pushing user's for a refused mutation) and its pair.
const reviewItemsSQL = `WITH items AS (
	SELECT 'flag:' || f.id AS ref, f.kind AS kind, COALESCE(f.activity_id, '') AS activity_id, COALESCE(f.device_id, '') AS device_id,
		COALESCE(m.username, '') AS username,
		COALESCE(iif(json_valid(m.payload), m.payload ->> '$.person.id', NULL), iif(json_valid(f.detail), f.detail ->> '$.person_id', NULL), '') AS person_id,
		f.created_at AS at, COALESCE(f.region_code, '') AS region, COALESCE(m.message, '') AS message, '' AS pair
	FROM flags f LEFT JOIN mutation_log m ON m.id = f.mutation_id WHERE f.status = 'open'
	UNION ALL
	SELECT 'mutation:' || m.id, m.code, COALESCE(iif(json_valid(m.payload), m.payload ->> '$.activity_id', NULL), ''), m.device_id, m.username,
		COALESCE(iif(json_valid(m.payload), m.payload ->> '$.person.id', NULL), ''), m.received_at, COALESCE(u.region_code, e.region_code, ''), m.message,
		COALESCE(CASE m.type
			WHEN 'attendance.check_in' THEN (SELECT 'mutation:' || x.id FROM mutation_log x, json_each(iif(json_valid(x.payload), x.payload, '{}'), '$.undoes') j
				WHERE x.status = 'rejected' AND x.review_decision IS NULL AND x.type = 'attendance.undo' AND x.device_id = m.device_id AND j.value = m.id LIMIT 1)
			WHEN 'attendance.undo' THEN (SELECT 'mutation:' || x.id FROM json_each(iif(json_valid(m.payload), m.payload, '{}'), '$.undoes') j JOIN mutation_log x ON x.id = j.value
				WHERE x.status = 'rejected' AND x.review_decision IS NULL AND x.type = 'attendance.check_in' AND x.device_id = m.device_id LIMIT 1)
		END, '')
	FROM mutation_log m JOIN users u ON u.username = m.username LEFT JOIN establishments e ON e.code = u.establishment_code
	WHERE m.status = 'rejected' AND m.review_decision IS NULL)
SELECT %s FROM items i LEFT JOIN activities a ON a.id = i.activity_id LEFT JOIN trainees t ON t.id = i.person_id WHERE %s`

// reviewWhere returns the conditions and arguments of q for p (the
// region; the kinds unless withoutKinds; the cursor unless withoutCursor).
func reviewWhere(p *prodays.Principal, q ReviewQuery, withoutKinds, withoutCursor bool) (string, []any, error) {
	conds := []string{"1"}
	var args []any
	add := func(cond string, vs ...any) {
		conds = append(conds, cond)
		args = append(args, vs...)
	}
	if p.Role != prodays.RoleAdmin {
		add("i.region = ?", p.RegionCode)
	}
	if len(q.Refs) > 0 {
		add("i.ref IN ("+strings.TrimSuffix(strings.Repeat("?,", len(q.Refs)), ",")+")", toAny(q.Refs)...)
	}
	if len(q.Kinds) > 0 && !withoutKinds {
		add("i.kind IN ("+strings.TrimSuffix(strings.Repeat("?,", len(q.Kinds)), ",")+")", toAny(q.Kinds)...)
	}
	for _, f := range []struct{ col, v string }{{"i.activity_id", q.ActivityID}, {"i.device_id", q.DeviceID}, {"i.username", q.Username}, {"a.date", q.Day}} {
		if f.v != "" {
			add(f.col+" = ?", f.v)
		}
	}
	if s := strings.TrimSpace(q.Search); s != "" {
		like := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
		add(`(i.person_id LIKE ? ESCAPE '\' OR t.last_name || ' ' || t.first_name LIKE ? ESCAPE '\' OR t.first_name || ' ' || t.last_name LIKE ? ESCAPE '\')`,
			like+"%", "%"+like+"%", "%"+like+"%")
	}
	if q.After != "" && !withoutCursor {
		b, err := base64.RawURLEncoding.DecodeString(q.After)
		at, ref, ok := strings.Cut(string(b), "\x00")
		if err != nil || !ok {
			return "", nil, prodays.Errorf(prodays.EInvalid, "after must be the next of a previous page.")
		}
		add("(i.at > ? OR (i.at = ? AND i.ref > ?))", at, at, ref)
	}
	return strings.Join(conds, " AND "), args, nil
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// ReviewQueue returns a page of the items still to review in p's region
// (admins: all) that match q, the total and the counts per kind.
// Errors: invalid (a bad limit, day or cursor).
func (e *Engine) ReviewQueue(ctx context.Context, p *prodays.Principal, q ReviewQuery) (_ *ReviewPage, err error) {
	defer derrors.Wrap(&err, "engine.ReviewQueue")
	if q.Limit == 0 {
		q.Limit = review.DefaultReviewPage
	}
	if q.Limit < 1 || q.Limit > review.MaxReviewPage {
		return nil, prodays.Errorf(prodays.EInvalid, "limit must be from 1 to %d.", review.MaxReviewPage)
	}
	if _, err := time.Parse(time.DateOnly, q.Day); q.Day != "" && err != nil {
		return nil, prodays.Errorf(prodays.EInvalid, "day must be YYYY-MM-DD.")
	}
	w, args, err := reviewWhere(p, q, true, true)
	if err != nil {
		return nil, err
	}
	type kc struct {
		kind string
		n    int
	}
	counts, err := store.Query(ctx, e.DB.Read, func(s store.Scanner) (kc, error) {
		var c kc
		return c, s.Scan(&c.kind, &c.n)
	}, fmt.Sprintf(reviewItemsSQL, "i.kind, count(*)", w)+" GROUP BY i.kind", args...)
	if err != nil {
		return nil, err
	}
	page := &ReviewPage{Counts: map[string]int{}, Items: []ReviewItem{}}
	for _, c := range counts {
		page.Counts[c.kind] = c.n
		if len(q.Kinds) == 0 || slices.Contains(q.Kinds, c.kind) {
			page.Total += c.n
		}
	}
	if page.Items, err = e.reviewItems(ctx, p, q, q.Limit+1); err != nil {
		return nil, err
	}
	if len(page.Items) > q.Limit {
		page.Items = page.Items[:q.Limit]
		last := page.Items[q.Limit-1]
		page.Next = base64.RawURLEncoding.EncodeToString([]byte(last.At + "\x00" + last.Ref))
	}
	return page, nil
}

// reviewItems returns at most limit items matching q from its cursor.
func (e *Engine) reviewItems(ctx context.Context, p *prodays.Principal, q ReviewQuery, limit int) ([]ReviewItem, error) {
	w, args, err := reviewWhere(p, q, false, false)
	if err != nil {
		return nil, err
	}
	return store.Query(ctx, e.DB.Read, func(s store.Scanner) (ReviewItem, error) {
		var it ReviewItem
		return it, s.Scan(&it.Ref, &it.Kind, &it.ActivityID, &it.ActivityDate, &it.DeviceID, &it.Username, &it.PersonID, &it.PersonName, &it.At, &it.Message, &it.Pair)
	}, fmt.Sprintf(reviewItemsSQL, `i.ref, i.kind, i.activity_id, COALESCE(a.date, ''), i.device_id, i.username, i.person_id,
		COALESCE(t.last_name || ' ' || t.first_name, ''), i.at, i.message, i.pair`, w)+" ORDER BY i.at, i.ref LIMIT ?", append(args, limit)...)
}
