package teams

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"net/url"
	"strings"
	"time"
)

// Teams app manifest version written by AppPackage.
const (
	ManifestVersion = "1.22"
	manifestSchema  = "https://developer.microsoft.com/json-schemas/teams/v" + ManifestVersion + "/MicrosoftTeams.schema.json"
)

// PackageInfo describes the Teams app to generate.
type PackageInfo struct {
	// AppID is the bot's Microsoft App ID; it is also used as the Teams app ID.
	AppID string
	// PublicURL is the bot's public base URL; its host becomes the valid domain.
	PublicURL string
	// Name is the short name (at most 30 characters); FullName may be longer.
	Name, FullName string
	// Developer is the publisher's name; the URLs must be https (they
	// default to PublicURL).
	Developer                        string
	WebsiteURL, PrivacyURL, TermsURL string
	Version                          string
	AccentColor                      string
}

// Package file names inside the zip.
const (
	ManifestFile = "manifest.json"
	ColorIcon    = "color.png"
	OutlineIcon  = "outline.png"
)

// AppPackage returns the zip to upload in Teams (Apps → Manage your apps →
// Upload an app): manifest.json, a 192×192 color icon and a 32×32 outline icon.
func AppPackage(p PackageInfo) ([]byte, error) {
	m, err := Manifest(p)
	if err != nil {
		return nil, err
	}
	accent := p.AccentColor
	if accent == "" {
		accent = defaultAccent
	}
	bg, err := parseHex(accent)
	if err != nil {
		return nil, err
	}
	colorPNG, err := icon(192, bg, color.NRGBA{255, 255, 255, 255}, bg)
	if err != nil {
		return nil, err
	}
	outlinePNG, err := icon(32, color.NRGBA{}, color.NRGBA{255, 255, 255, 255}, color.NRGBA{})
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	modified := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC) // reproducible zips
	for _, f := range []struct {
		name string
		data []byte
	}{{ManifestFile, m}, {ColorIcon, colorPNG}, {OutlineIcon, outlinePNG}} {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: modified})
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

const defaultAccent = "#2B5797"

// Manifest returns manifest.json for p.
func Manifest(p PackageInfo) ([]byte, error) {
	if p.AppID == "" || strings.ContainsAny(p.AppID, " /\"") {
		return nil, errors.New("teams package: channels.teams.app_id is required")
	}
	pub, err := url.Parse(p.PublicURL)
	if err != nil || pub.Scheme != "https" || pub.Hostname() == "" {
		return nil, errors.New("teams package: server.public_url must be an https URL")
	}
	def := func(s, d string) string {
		if s == "" {
			return d
		}
		return s
	}
	name := def(p.Name, "resetbot")
	if len([]rune(name)) > 30 {
		return nil, errors.New("teams package: the short name must be at most 30 characters")
	}
	base := strings.TrimRight(p.PublicURL, "/")
	dev := map[string]string{
		"name":          def(p.Developer, "IT help desk"),
		"websiteUrl":    def(p.WebsiteURL, base+"/"),
		"privacyUrl":    def(p.PrivacyURL, base+"/"),
		"termsOfUseUrl": def(p.TermsURL, base+"/"),
	}
	for k, v := range dev {
		if u, err := url.Parse(v); k != "name" && (err != nil || u.Scheme != "https") {
			return nil, fmt.Errorf("teams package: developer %s must be an https URL", k)
		}
	}
	m := map[string]any{
		"$schema":         manifestSchema,
		"manifestVersion": ManifestVersion,
		"version":         def(p.Version, "1.0.0"),
		"id":              p.AppID,
		"developer":       dev,
		"name":            map[string]string{"short": name, "full": def(p.FullName, name+" password help")},
		"description": map[string]string{
			"short": "Reset your password or unlock your account, securely.",
			"full": "Self-service password reset and account unlock. The bot checks who you are with " +
				"factors such as a code sent to your phone or your authenticator app, then lets you choose a " +
				"new password in a private, masked form. It never asks for codes or passwords in channels.",
		},
		"icons":       map[string]string{"color": ColorIcon, "outline": OutlineIcon},
		"accentColor": def(p.AccentColor, defaultAccent),
		"bots": []any{map[string]any{
			"botId":              p.AppID,
			"scopes":             []string{"personal", "team"},
			"supportsFiles":      false,
			"isNotificationOnly": false,
			"commandLists": []any{map[string]any{
				"scopes": []string{"personal"},
				"commands": []map[string]string{
					{"title": "reset", "description": "Reset your password"},
					{"title": "unlock", "description": "Unlock your account"},
					{"title": "enroll", "description": "Set up an authenticator app"},
				},
			}},
		}},
		"permissions":  []string{"identity", "messageTeamMembers"},
		"validDomains": []string{pub.Hostname()},
	}
	return json.MarshalIndent(m, "", "  ")
}

func parseHex(s string) (color.NRGBA, error) {
	var r, g, b uint8
	if _, err := fmt.Sscanf(s, "#%02x%02x%02x", &r, &g, &b); err != nil || len(s) != 7 {
		return color.NRGBA{}, fmt.Errorf("teams package: accent color %q is not #RRGGBB", s)
	}
	return color.NRGBA{r, g, b, 255}, nil
}

// icon draws a padlock: background bg, the lock in fg, its keyhole in hole.
// Coordinates are fractions of the size, so both icons share one drawing.
func icon(size int, bg, fg, hole color.NRGBA) ([]byte, error) {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	for y := range size {
		for x := range size {
			u, v := (float64(x)+0.5)/float64(size), (float64(y)+0.5)/float64(size)
			c := bg
			d := math.Hypot(u-0.5, v-0.46)
			switch {
			case u >= 0.47 && u <= 0.53 && v >= 0.58 && v <= 0.70, math.Hypot(u-0.5, v-0.58) <= 0.055:
				if v >= 0.46 && v <= 0.80 && u >= 0.27 && u <= 0.73 {
					c = hole // keyhole inside the body
				}
			case v >= 0.46 && v <= 0.80 && u >= 0.27 && u <= 0.73:
				c = fg // body
			case v < 0.46 && d >= 0.14 && d <= 0.21:
				c = fg // shackle
			}
			img.SetNRGBA(x, y, c)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
