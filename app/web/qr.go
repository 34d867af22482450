package web

import (
	"strconv"
	"strings"

	"rsc.io/qr"
)

// qrSVG renders text as a QR code in SVG: one path of unit squares with a
// four-module quiet zone, scaled by the browser (no style attributes, so the
// CSP's style-src 'self' holds). Medium error correction survives a photo
// of a laptop screen.
func qrSVG(text, label string) (string, error) {
	code, err := qr.Encode(text, qr.M)
	if err != nil {
		return "", err
	}
	const quiet = 4
	n := code.Size + 2*quiet
	var b strings.Builder
	b.WriteString(`<svg xmlns="http://www.w3.org/2000/svg" class="qr" role="img" shape-rendering="crispEdges" viewBox="0 0 `)
	b.WriteString(strconv.Itoa(n) + " " + strconv.Itoa(n))
	b.WriteString(`" data-testid="qr"><title>`)
	b.WriteString(htmlEscape(label))
	b.WriteString(`</title><rect width="100%" height="100%" fill="#fff"/><path fill="#000" d="`)
	for y := 0; y < code.Size; y++ {
		for x := 0; x < code.Size; x++ {
			if !code.Black(x, y) {
				continue
			}
			// Merge runs of black modules on a row into one rectangle.
			start := x
			for x+1 < code.Size && code.Black(x+1, y) {
				x++
			}
			b.WriteString("M" + strconv.Itoa(start+quiet) + " " + strconv.Itoa(y+quiet) + "h" + strconv.Itoa(x-start+1) + "v1h-" + strconv.Itoa(x-start+1) + "z")
		}
	}
	b.WriteString(`"/></svg>`)
	return b.String(), nil
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;", "'", "&#39;").Replace(s)
}
