package simulate

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// Scale writes into dst an edition k times the size of the one in src
// (issue #17: the load at ten times the edition): the same regions,
// establishments, companies and organisations, and k copies of its
// trainees, speakers, activities, users and phones (checkins.jsonl) under
// new ids, so that copy i is an edition of its own beside the others
// (copy 0 keeps the original ids). A copy's trainee matricule takes an
// enrolment year 2 × i lower (the check letter recomputed when the
// original's was right, ../shared/formats/README.md); speakers and
// activities take the suffix "-X<i>", usernames ".x<i>", devices the
// name-based UUID (RFC 9562 §5.5) of the original and i. The bilan of the
// result is k times the source's participations (expected.json is not
// written). Errors name the file and line.
func Scale(src, dst string, k int) error {
	if k < 1 || k > 40 {
		return fmt.Errorf("scale: factor %d: 1 to 40 (the matricule's year has room for that many copies)", k)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	for _, name := range []string{"regions.csv", "establishments.csv", "companies.csv", "organizations.csv"} {
		if err := scaleCSV(src, dst, name, 1, nil); err != nil {
			return err
		}
	}
	err := scaleCSV(src, dst, "trainees.csv", k, func(i int, col map[string]int, rec []string) error {
		rec[col["trainee_id"]] = copyMatricule(rec[col["trainee_id"]], i)
		return nil
	})
	if err == nil {
		err = scaleCSV(src, dst, "speakers.csv", k, func(i int, col map[string]int, rec []string) error {
			rec[col["speaker_id"]] = copyID(rec[col["speaker_id"]], i)
			return nil
		})
	}
	if err == nil {
		err = scaleCSV(src, dst, "activities.csv", k, func(i int, col map[string]int, rec []string) error {
			rec[col["activity_id"]] = copyID(rec[col["activity_id"]], i)
			if c, ok := col["speaker_ids"]; ok && rec[c] != "" {
				ids := strings.Split(rec[c], "|")
				for j := range ids {
					ids[j] = copyID(ids[j], i)
				}
				rec[c] = strings.Join(ids, "|")
			}
			return nil
		})
	}
	if err == nil {
		err = scaleCSV(src, dst, "users.csv", k, func(i int, col map[string]int, rec []string) error {
			rec[col["username"]] = copyUser(rec[col["username"]], i)
			return nil
		})
	}
	if err != nil {
		return err
	}
	return scaleActions(filepath.Join(src, "checkins.jsonl"), filepath.Join(dst, "checkins.jsonl"), k)
}

func copyID(id string, i int) string {
	if i == 0 || id == "" {
		return id
	}
	return fmt.Sprintf("%s-X%d", id, i)
}

func copyUser(u string, i int) string {
	if i == 0 || u == "" {
		return u
	}
	return fmt.Sprintf("%s.x%d", u, i)
}

func copyDevice(d string, i int) string {
	if i == 0 {
		return d
	}
	return uuid.NewSHA1(uuid.NameSpaceOID, []byte(fmt.Sprintf("prodays-scale/%s/%d", d, i))).String()
}

const matriculeLetters = "ABCDEFGHJKLMNPQRSTUVWXY"

// copyMatricule moves a matricule's enrolment year 2 × i back; an id that
// is no matricule gets the suffix of copyID.
func copyMatricule(id string, i int) string {
	if i == 0 {
		return id
	}
	if len(id) != 13 || id[0] != 'F' {
		return copyID(id, i)
	}
	digits := id[1:12]
	v, err := strconv.ParseUint(digits, 10, 64)
	if err != nil {
		return copyID(id, i)
	}
	yy, _ := strconv.Atoi(digits[:2])
	nd := fmt.Sprintf("%02d%s", (yy-2*i+100)%100, digits[2:])
	letter := id[12]
	if matriculeLetters[v%23] == letter { // a right check letter stays right
		nv, _ := strconv.ParseUint(nd, 10, 64)
		letter = matriculeLetters[nv%23]
	}
	return "F" + nd + string(letter)
}

// scaleCSV copies src/name to dst/name: the header, then k copies of the
// records, fix applied to each copy i (nil: k must be 1).
func scaleCSV(src, dst, name string, k int, fix func(i int, col map[string]int, rec []string) error) error {
	in, err := os.Open(filepath.Join(src, name))
	if err != nil {
		return err
	}
	defer in.Close()
	r := csv.NewReader(bufio.NewReader(in))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		return fmt.Errorf("%s: %w", filepath.Join(src, name), err)
	}
	if len(recs) == 0 {
		return fmt.Errorf("%s: empty", filepath.Join(src, name))
	}
	col := map[string]int{}
	for j, h := range recs[0] {
		col[strings.TrimPrefix(h, "\ufeff")] = j
	}
	out, err := os.Create(filepath.Join(dst, name))
	if err != nil {
		return err
	}
	w := csv.NewWriter(bufio.NewWriter(out))
	w.Write(recs[0])
	for i := range k {
		for n, rec := range recs[1:] {
			c := append([]string(nil), rec...)
			if fix != nil {
				if err := fix(i, col, c); err != nil {
					out.Close()
					return fmt.Errorf("%s:%d: %w", filepath.Join(src, name), n+2, err)
				}
			}
			w.Write(c)
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// scaleActions writes k copies of each line of checkins.jsonl, one after
// the other, under the copies' ids.
func scaleActions(src, dst string, k int) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(out)
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var a map[string]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &a); err != nil {
			out.Close()
			return fmt.Errorf("%s:%d: %w", src, line, err)
		}
		str := func(key string) string {
			var s string
			json.Unmarshal(a[key], &s)
			return s
		}
		dev, user, act, tr, sp := str("device_id"), str("username"), str("activity_id"), str("trainee_id"), str("speaker_id")
		for i := range k {
			set := func(key, v string) {
				if _, ok := a[key]; ok {
					a[key], _ = json.Marshal(v)
				}
			}
			set("device_id", copyDevice(dev, i))
			set("username", copyUser(user, i))
			set("activity_id", copyID(act, i))
			set("trainee_id", copyMatricule(tr, i))
			set("speaker_id", copyID(sp, i))
			b, err := json.Marshal(a)
			if err != nil {
				out.Close()
				return fmt.Errorf("%s:%d: %w", src, line, err)
			}
			w.Write(b)
			w.WriteByte('\n')
		}
	}
	if err := sc.Err(); err != nil {
		out.Close()
		return fmt.Errorf("%s:%d: %w", src, line+1, err)
	}
	if err := w.Flush(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
