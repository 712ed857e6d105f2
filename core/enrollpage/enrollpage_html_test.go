package enrollpage

import (
	"bytes"
	"html/template"
	"testing"
)

// oldPage is the html/template the hand-written page replaced; the test
// holds the renderer to its output byte for byte, escaping included.
var oldPage = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex,nofollow"><title>{{.Title}}</title><style>` + style + `</style></head>
<body><h1>{{.Title}}</h1>
{{range .Paras}}<p>{{.}}</p>
{{end}}{{if .QR}}<p><img alt="{{.QRAlt}}" src="{{.QR}}"></p>{{end}}
{{if .Key}}<p>{{.KeyIntro}}</p><p><code>{{.Key}}</code></p>{{end}}
{{if .Button}}<form method="post"><input type="hidden" id="t" name="t" value="">
<button id="b" type="submit">{{.Button}}</button></form>
<script>` + script + `</script>{{end}}
{{range .After}}<p>{{.}}</p>
{{end}}</body></html>
`))

type oldView struct {
	Lang, Title     string
	Paras, After    []string
	QR              template.URL
	QRAlt, KeyIntro string
	Key             string
	Button          string
}

func TestPageMatchesTheTemplate(t *testing.T) {
	nasty := `<script>alert("x")</script> & 'q' + a+b=c ` + "\x00 é ✓"
	views := []view{
		{Lang: "en", Title: "Set up", Paras: []string{"Press the button."}, Button: "Show"},
		{Lang: "es", Title: "Configurar", Paras: []string{"Escanee"}, QRAlt: "QR", QR: "data:image/png;base64,iVBO+w0K/GgoAAA==",
			KeyIntro: "Clave", Key: "JBSW Y3DP", After: []string{"Vuelva a Slack", "Una vez"}},
		{Lang: nasty, Title: nasty, Paras: []string{nasty, ""}, QRAlt: nasty, QR: "data:image/png;base64,+/+/==",
			KeyIntro: nasty, Key: nasty, Button: nasty, After: []string{nasty}},
		{},
	}
	for i, v := range views {
		var want bytes.Buffer
		ov := oldView{v.Lang, v.Title, v.Paras, v.After, template.URL(v.QR), v.QRAlt, v.KeyIntro, v.Key, v.Button}
		if err := oldPage.Execute(&want, ov); err != nil {
			t.Fatal(err)
		}
		if got := v.html(); !bytes.Equal(got, want.Bytes()) {
			t.Errorf("view %d:\n got %s\nwant %s", i, got, want.Bytes())
		}
	}
}
