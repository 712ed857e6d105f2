package enrollpage

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"

	"github.com/resetbot/resetbot/core/audit"
)

// maxBody bounds a POST: the form holds one 43-character token.
const maxBody = 1 << 10

// script copies the token from the URL fragment into the form and removes the
// fragment from the address bar (and from the history entry). It is pinned
// by its hash in the Content-Security-Policy; nothing else may run.
const script = `(function(){var t=location.hash.slice(1),f=document.getElementById("t"),b=document.getElementById("b");` +
	`if(t&&f){f.value=t;history.replaceState(null,"",location.pathname);}else if(b){b.disabled=true;}})();`

// style is the page's only style sheet, pinned by hash like the script.
const style = `body{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem;line-height:1.5}` +
	`button{font-size:1.1rem;padding:.6rem 1.2rem}img{width:16rem;height:16rem;image-rendering:pixelated}` +
	`code{font-size:1.2rem;word-spacing:.3rem;user-select:all}`

func cspHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}

// csp allows nothing but the pinned script and style, data: images (the QR
// code is inline, never a fetchable URL) and a form posting to this page.
var csp = "default-src 'none'; script-src " + cspHash(script) + "; style-src " + cspHash(style) +
	"; img-src data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// view is what one page shows; html renders it.
type view struct {
	Lang, Title     string
	Paras, After    []string
	QR              string // a data: URL of the PNG, built here, never from input
	QRAlt, KeyIntro string
	Key             string
	Button          string
}

// escaper escapes text and quoted attribute values as html/template does
// (the same replacements, so the page is byte for byte what the template
// it replaces produced). A hand-written page rather than html/template:
// executing any template links text/template's reflective method calls,
// which make the linker keep every exported method of every type in the
// binary (about 11 MB of text and pclntab for resetbot serve, resident).
var escaper = strings.NewReplacer("\x00", "\uFFFD", `"`, "&#34;", "&", "&amp;", "'", "&#39;", "+", "&#43;",
	"<", "&lt;", ">", "&gt;")

// html renders the page. The form has no action: it posts to the page's
// own address, which also works behind a proxy that serves resetbot under a
// path prefix. Every value is escaped; the only markup is the literals here.
func (v view) html() []byte {
	var b bytes.Buffer
	e := func(s string) { _, _ = escaper.WriteString(&b, s) }
	b.WriteString("<!DOCTYPE html>\n<html lang=\"")
	e(v.Lang)
	b.WriteString(`"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">` +
		"\n" + `<meta name="robots" content="noindex,nofollow"><title>`)
	e(v.Title)
	b.WriteString(`</title><style>` + style + "</style></head>\n<body><h1>")
	e(v.Title)
	b.WriteString("</h1>\n")
	paras := func(ps []string) {
		for _, p := range ps {
			b.WriteString("<p>")
			e(p)
			b.WriteString("</p>\n")
		}
	}
	paras(v.Paras)
	if v.QR != "" {
		b.WriteString(`<p><img alt="`)
		e(v.QRAlt)
		b.WriteString(`" src="`)
		e(v.QR)
		b.WriteString(`"></p>`)
	}
	b.WriteString("\n")
	if v.Key != "" {
		b.WriteString("<p>")
		e(v.KeyIntro)
		b.WriteString("</p><p><code>")
		e(v.Key)
		b.WriteString("</code></p>")
	}
	b.WriteString("\n")
	if v.Button != "" {
		b.WriteString(`<form method="post"><input type="hidden" id="t" name="t" value="">` + "\n" + `<button id="b" type="submit">`)
		e(v.Button)
		b.WriteString("</button></form>\n<script>" + script + "</script>")
	}
	b.WriteString("\n")
	paras(v.After)
	b.WriteString("</body></html>\n")
	return b.Bytes()
}

// ServeHTTP serves GET (the button) and POST (the one-time reveal) on Path.
func (p *Pages) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("Content-Security-Policy", csp)
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		p.render(w, http.StatusOK, p.landing(language(r.Header.Get("Accept-Language"))))
	case http.MethodPost:
		p.reveal(w, r)
	default:
		h.Set("Allow", "GET, HEAD, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// landing is the GET page: an explanation and the button, nothing secret.
func (p *Pages) landing(lang string) view {
	return view{Lang: lang, Title: p.text(lang, "enroll.page.title"),
		Paras: []string{p.text(lang, "enroll.page.intro")}, Button: p.text(lang, "enroll.page.button")}
}

// reveal redeems the posted token once and shows the QR code and setup key.
func (p *Pages) reveal(w http.ResponseWriter, r *http.Request) {
	lang := language(r.Header.Get("Accept-Language"))
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil || len(r.PostForm["t"]) != 1 {
		p.audit(r.Context(), audit.Event{Name: NameRefused, Outcome: audit.OutcomeDenied, Reason: "malformed"})
		p.render(w, http.StatusBadRequest, p.gone(lang))
		return
	}
	s, ok, err := p.redeem(r.Context(), r.PostForm.Get("t"))
	if err != nil {
		p.o.Log.Error("enroll page unavailable", "err", err)
		p.render(w, http.StatusServiceUnavailable, view{Lang: lang, Title: p.text(lang, "enroll.page.title"),
			Paras: []string{p.text(lang, "enroll.page.unavailable")}})
		return
	}
	if !ok {
		// Never opened by this token: unknown, expired, revoked or used.
		p.audit(r.Context(), audit.Event{Name: NameRefused, Outcome: audit.OutcomeDenied, Reason: "unknown_or_used"})
		p.render(w, http.StatusGone, p.gone(lang))
		return
	}
	p.audit(r.Context(), audit.Event{Name: NameRedeemed, Channel: s.Channel, Outcome: audit.OutcomeSuccess})
	lang = language(s.Locale)
	v := view{Lang: lang, Title: p.text(lang, "enroll.page.title"),
		Paras:    []string{p.text(lang, "enroll.page.scan")},
		QRAlt:    p.text(lang, "enroll.page.qr_alt"),
		KeyIntro: p.text(lang, "enroll.page.key"),
		Key:      groupKey(s.Key),
		After: []string{p.o.Texts.Text(lang, "enroll.page.back", false, map[string]string{"channel": platformName(s.Platform)}),
			p.text(lang, "enroll.page.once")}}
	if len(s.PNG) > 0 {
		v.QR = "data:image/png;base64," + base64.StdEncoding.EncodeToString(s.PNG)
	}
	p.render(w, http.StatusOK, v)
}

func (p *Pages) gone(lang string) view {
	return view{Lang: lang, Title: p.text(lang, "enroll.page.title"), Paras: []string{p.text(lang, "enroll.page.gone")}}
}

func (p *Pages) text(lang, id string) string { return p.o.Texts.Text(lang, id, false, nil) }

func (p *Pages) render(w http.ResponseWriter, status int, v view) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(v.html())
}

// language returns the first tag of a locale or an Accept-Language header
// ("fr-FR,fr;q=0.9" → "fr-fr"); the catalog maps it to a language it has,
// or to English.
func language(s string) string {
	s, _, _ = strings.Cut(s, ",")
	s, _, _ = strings.Cut(s, ";")
	if s = strings.ToLower(strings.TrimSpace(s)); s == "" || s == "*" {
		return "en"
	}
	return s
}

// groupKey spaces a base32 setup key in groups of four for typing.
func groupKey(k string) string {
	k = strings.ToUpper(strings.ReplaceAll(k, " ", ""))
	var b strings.Builder
	for i, r := range k {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// platformName is the chat platform's name as people know it, as the
// channel gave it; core names no platform.
func platformName(p string) string {
	if p == "" {
		return "the chat"
	}
	return p
}

// Check reports whether raw is a link this package issued for base (tests
// and the adapters' own checks): Path with a fragment, no query.
func Check(base, raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && strings.HasPrefix(raw, strings.TrimRight(base, "/")+Path+"#") && u.RawQuery == "" && u.Fragment != ""
}
