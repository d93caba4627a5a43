package e2e_test

import (
	"bufio"
	"fmt"
	"image"
	_ "image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	qrcode "github.com/skip2/go-qrcode"

	"prodays/internal/testenv"
)

// The camera's video: the badges the app prints, rendered, and the frames
// of a YUV4MPEG2 video that Chromium's fake camera plays.

// badgeQRs exports the badges of EFP0105 as an admin, renders them, and
// returns each badge's QR code as a grey image (0 black … 255 white),
// by trainee id, in the order of the PDF.
func badgeQRs(t *testing.T, srv *server) (ids []string, qrs map[string]*image.Gray) {
	t.Helper()
	for _, tool := range []string{"pdftoppm", "pdftotext"} {
		if _, err := exec.LookPath(tool); err != nil {
			msg := tool + " (poppler-utils) not found: it renders the exported badges"
			if os.Getenv("PRODAYS_REQUIRE_PDFTOTEXT") == "1" {
				t.Fatal(msg + "; PRODAYS_REQUIRE_PDFTOTEXT=1 makes this a failure")
			}
			t.Skip(msg)
		}
	}
	testenv.CreateUser(t, srv.DB, "admin1", "admin", "", "")
	env := &testenv.Env{DB: srv.DB, URL: srv.URL}
	s := env.Login(t, "admin1", "dev-badges")
	a := env.Raw(t, "GET", "/api/v1/exports/badges.pdf?establishment=EFP0105", s.AccessToken, "", nil)
	if a.Status != 200 {
		t.Fatalf("badges export: %d %s", a.Status, a.Body)
	}
	dir := t.TempDir()
	pdf := filepath.Join(dir, "badges.pdf")
	if err := os.WriteFile(pdf, a.Body, 0o644); err != nil {
		t.Fatal(err)
	}
	// Where each payload is printed (under its QR code), in points.
	bbox := filepath.Join(dir, "bbox.html")
	if out, err := exec.Command("pdftotext", "-bbox", pdf, bbox).CombinedOutput(); err != nil {
		t.Fatalf("pdftotext: %v %s", err, out)
	}
	html, err := os.ReadFile(bbox)
	if err != nil {
		t.Fatal(err)
	}
	const dpi = 150
	pt := func(s string) float64 { v, _ := strconv.ParseFloat(s, 64); return v * dpi / 72 } // points → pixels
	mm := func(v float64) float64 { return v * dpi / 25.4 }
	pageRE := regexp.MustCompile(`<page |<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">PD1:T:(\S+?)</word>`)
	qrs = map[string]*image.Gray{}
	pageNo := 0
	var img *image.Gray
	for _, m := range pageRE.FindAllStringSubmatch(string(html), -1) {
		if m[1] == "" {
			pageNo++
			img = renderPage(t, pdf, dir, pageNo, dpi)
			continue
		}
		id := m[5]
		cx := (pt(m[1]) + pt(m[3])) / 2
		// The QR code (38 mm, no border) ends just above its payload:
		// the bounding box of its dark pixels in a window around it.
		win := image.Rect(int(cx-mm(20)), int(pt(m[2])-mm(39.5)), int(cx+mm(20)), int(pt(m[2])-mm(0.2)))
		box := darkBounds(img, win)
		if box.Dx() < int(mm(35)) || box.Dx() > int(mm(41)) || box.Dy() < int(mm(35)) || box.Dy() > int(mm(41)) {
			t.Fatalf("badge %s: QR code found at %v, want a square of about 38 mm (%d px)", id, box, int(mm(38)))
		}
		qr := image.NewGray(image.Rect(0, 0, box.Dx(), box.Dy()))
		for y := 0; y < box.Dy(); y++ {
			for x := 0; x < box.Dx(); x++ {
				qr.Pix[y*qr.Stride+x] = img.GrayAt(box.Min.X+x, box.Min.Y+y).Y
			}
		}
		ids = append(ids, id)
		qrs[id] = qr
	}
	if len(ids) == 0 {
		t.Fatalf("no badge payload found in the export's text")
	}
	return ids, qrs
}

// renderPage renders page n of pdf at dpi as a grey image.
func renderPage(t *testing.T, pdf, dir string, n, dpi int) *image.Gray {
	t.Helper()
	prefix := filepath.Join(dir, fmt.Sprintf("page%d", n))
	cmd := exec.Command("pdftoppm", "-gray", "-png", "-r", strconv.Itoa(dpi), "-f", strconv.Itoa(n), "-l", strconv.Itoa(n), "-singlefile", pdf, prefix)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v %s", err, out)
	}
	f, err := os.Open(prefix + ".png")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	src, _, err := image.Decode(f)
	if err != nil {
		t.Fatalf("page %d: %v", n, err)
	}
	g := image.NewGray(src.Bounds())
	for y := src.Bounds().Min.Y; y < src.Bounds().Max.Y; y++ {
		for x := src.Bounds().Min.X; x < src.Bounds().Max.X; x++ {
			g.Set(x, y, src.At(x, y))
		}
	}
	return g
}

// darkBounds is the bounding box of the pixels darker than mid-grey in win.
func darkBounds(img *image.Gray, win image.Rectangle) image.Rectangle {
	win = win.Intersect(img.Bounds())
	box := image.Rectangle{}
	first := true
	for y := win.Min.Y; y < win.Max.Y; y++ {
		for x := win.Min.X; x < win.Max.X; x++ {
			if img.GrayAt(x, y).Y >= 128 {
				continue
			}
			p := image.Rect(x, y, x+1, y+1)
			if first {
				box, first = p, false
			} else {
				box = box.Union(p)
			}
		}
	}
	return box
}

// y4m writes a YUV4MPEG2 video (4:2:0, grey: chroma at 128) of w×h at
// fps frames a second: each shot is a QR code (nil: an empty white
// frame, as between two trainees) shown for its duration, centred,
// scaled to side pixels with a white quiet zone.
type shot struct {
	qr  *image.Gray
	dur time.Duration
}

func writeY4M(t *testing.T, path string, w, h, fps, side int, shots []shot) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	bw := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintf(bw, "YUV4MPEG2 W%d H%d F%d:1 Ip A1:1 C420jpeg\n", w, h, fps)
	luma := make([]byte, w*h)
	chroma := make([]byte, (w/2)*(h/2))
	for i := range chroma {
		chroma[i] = 128
	}
	for _, s := range shots {
		drawFrame(luma, w, h, side, s.qr)
		frames := int(s.dur.Seconds()*float64(fps) + 0.5)
		for range frames {
			bw.WriteString("FRAME\n")
			bw.Write(luma)
			bw.Write(chroma)
			bw.Write(chroma)
		}
	}
	if err := bw.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// qrImage is the QR code of payload (no border), one pixel a module, for
// codes that the badge export does not print.
func qrImage(t *testing.T, payload string) *image.Gray {
	t.Helper()
	q, err := qrcode.New(payload, qrcode.Medium)
	if err != nil {
		t.Fatal(err)
	}
	q.DisableBorder = true
	bm := q.Bitmap()
	g := image.NewGray(image.Rect(0, 0, len(bm), len(bm)))
	for y, row := range bm {
		for x, dark := range row {
			if !dark {
				g.Pix[y*g.Stride+x] = 255
			}
		}
	}
	return g
}

// drawFrame fills luma (w×h, 8-bit grey) with a frame of the camera: white
// paper, and qr (when not nil) centred, scaled to side pixels.
func drawFrame(luma []byte, w, h, side int, qr *image.Gray) {
	for i := range luma {
		luma[i] = 235 // white paper under a camera, not saturated
	}
	if qr == nil {
		return
	}
	x0, y0 := (w-side)/2, (h-side)/2
	qw, qh := qr.Bounds().Dx(), qr.Bounds().Dy()
	for y := 0; y < side; y++ {
		for x := 0; x < side; x++ {
			if qr.Pix[(y*qh/side)*qr.Stride+x*qw/side] < 128 {
				luma[(y0+y)*w+x0+x] = 20
			}
		}
	}
}
