package console

import (
	"bytes"
	"image"
	"image/png"
	"math"
	"strings"
)

// TerminalQR draws a QR code PNG with block characters (two modules per
// character row) so a phone can scan it from the terminal. It returns "" for
// an image it cannot read as a QR code.
func TerminalQR(b []byte) string {
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return ""
	}
	x0, y0, mod, n := grid(img)
	if n == 0 {
		return ""
	}
	dark := func(mx, my int) bool {
		if mx < 0 || my < 0 || mx >= n || my >= n {
			return false
		}
		px := x0 + int((float64(mx)+0.5)*mod)
		py := y0 + int((float64(my)+0.5)*mod)
		return isDark(img, px, py)
	}
	var sb strings.Builder
	for my := -2; my < n+2; my += 2 {
		sb.WriteString("     ")
		for mx := -2; mx < n+2; mx++ {
			top, bottom := dark(mx, my), dark(mx, my+1)
			// Light modules are drawn as blocks so the code reads on dark terminals.
			switch {
			case !top && !bottom:
				sb.WriteRune('█')
			case !top:
				sb.WriteRune('▀')
			case !bottom:
				sb.WriteRune('▄')
			default:
				sb.WriteRune(' ')
			}
		}
		sb.WriteByte('\n')
	}
	return sb.String()
}

func isDark(img image.Image, x, y int) bool {
	c, _, _, _ := img.At(x, y).RGBA()
	return c < 0x8000
}

// grid finds the code's top-left corner, module size and modules per side
// from the top-left finder pattern, whose top edge is 7 modules wide.
func grid(img image.Image) (x0, y0 int, mod float64, n int) {
	r := img.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		first, run, last := -1, 0, -1
		for x := r.Min.X; x < r.Max.X; x++ {
			if isDark(img, x, y) {
				if first < 0 {
					first = x
				}
				if run >= 0 && x == first+run {
					run++
				}
				last = x
			}
		}
		if first < 0 {
			continue
		}
		mod = float64(run) / 7
		if mod < 1 {
			return 0, 0, 0, 0
		}
		n = int(math.Round(float64(last-first+1) / mod))
		return first, y, mod, n
	}
	return 0, 0, 0, 0
}
