package teams

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"image/png"
	"io"
	"slices"
	"testing"
)

func TestAppPackage(t *testing.T) {
	zb, err := AppPackage(PackageInfo{AppID: testAppID, PublicURL: "https://bot.example.com/resetbot"})
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(zb), int64(len(zb)))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		files[f.Name], _ = io.ReadAll(rc)
		rc.Close()
	}
	if len(files) != 3 {
		t.Fatalf("zip holds %d files, want 3", len(files))
	}
	var m struct {
		Schema          string `json:"$schema"`
		ManifestVersion string `json:"manifestVersion"`
		ID              string `json:"id"`
		Icons           struct{ Color, Outline string }
		Bots            []struct {
			BotID  string   `json:"botId"`
			Scopes []string `json:"scopes"`
		} `json:"bots"`
		ValidDomains []string          `json:"validDomains"`
		Developer    map[string]string `json:"developer"`
	}
	if err := json.Unmarshal(files[ManifestFile], &m); err != nil {
		t.Fatalf("manifest is not JSON: %v", err)
	}
	if m.ID != testAppID || len(m.Bots) != 1 || m.Bots[0].BotID != testAppID {
		t.Errorf("ids: %+v", m)
	}
	if !slices.Equal(m.Bots[0].Scopes, []string{"personal", "team"}) || !slices.Equal(m.ValidDomains, []string{"bot.example.com"}) {
		t.Errorf("scopes or domains: %+v", m)
	}
	if m.ManifestVersion != ManifestVersion || m.Icons.Color != ColorIcon || m.Icons.Outline != OutlineIcon {
		t.Errorf("manifest header: %+v", m)
	}
	for name, size := range map[string]int{ColorIcon: 192, OutlineIcon: 32} {
		img, err := png.Decode(bytes.NewReader(files[name]))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if b := img.Bounds(); b.Dx() != size || b.Dy() != size {
			t.Errorf("%s is %v, want %dx%d", name, b, size, size)
		}
	}
	// The outline icon is white on transparent, as Teams requires.
	img, _ := png.Decode(bytes.NewReader(files[OutlineIcon]))
	for y := range 32 {
		for x := range 32 {
			r, g, b, a := img.At(x, y).RGBA()
			if a != 0 && (r != 0xffff || g != 0xffff || b != 0xffff) {
				t.Fatalf("outline pixel %d,%d is not white or transparent", x, y)
			}
		}
	}
}

func TestAppPackageRefuses(t *testing.T) {
	for name, p := range map[string]PackageInfo{
		"no app id":      {PublicURL: "https://bot.example.com"},
		"http url":       {AppID: testAppID, PublicURL: "http://bot.example.com"},
		"long name":      {AppID: testAppID, PublicURL: "https://b.example", Name: "a name that is far too long for teams"},
		"bad accent":     {AppID: testAppID, PublicURL: "https://b.example", AccentColor: "blue"},
		"http developer": {AppID: testAppID, PublicURL: "https://b.example", PrivacyURL: "http://x"},
	} {
		if _, err := AppPackage(p); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
