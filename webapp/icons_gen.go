//go:build ignore

// icons_gen draws the app's icons (static/icons/icon-192.png and
// icon-512.png): a white check mark in a white ring on the brand colour,
// inside the maskable safe zone. Run: go generate ./webapp
package main

import (
	"image"
	"image/color"
	"image/png"
	"log"
	"math"
	"os"
	"strconv"
)

func main() {
	for _, n := range []int{192, 512} {
		if err := write("static/icons/icon-"+strconv.Itoa(n)+".png", draw(n)); err != nil {
			log.Fatal(err)
		}
	}
}

func write(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// distSeg is the distance from p to the segment a-b.
func distSeg(px, py, ax, ay, bx, by float64) float64 {
	dx, dy := bx-ax, by-ay
	t := ((px-ax)*dx + (py-ay)*dy) / (dx*dx + dy*dy)
	t = math.Max(0, math.Min(1, t))
	return math.Hypot(px-(ax+t*dx), py-(ay+t*dy))
}

func draw(n int) *image.Paletted {
	brand := color.RGBA{0x0b, 0x4f, 0x6c, 0xff}
	white := color.RGBA{0xff, 0xff, 0xff, 0xff}
	img := image.NewPaletted(image.Rect(0, 0, n, n), color.Palette{brand, white})
	s := float64(n)
	cx, cy := s/2, s/2
	ringR, ringW := 0.36*s, 0.045*s
	stroke := 0.075 * s
	// check mark: two strokes
	ax, ay := 0.33*s, 0.52*s
	bx, by := 0.46*s, 0.65*s
	qx, qy := 0.69*s, 0.38*s
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			px, py := float64(x)+0.5, float64(y)+0.5
			d := math.Hypot(px-cx, py-cy)
			on := math.Abs(d-ringR) < ringW/2 ||
				distSeg(px, py, ax, ay, bx, by) < stroke/2 ||
				distSeg(px, py, bx, by, qx, qy) < stroke/2
			if on {
				img.SetColorIndex(x, y, 1)
			}
		}
	}
	return img
}
