package main

import (
	"archive/zip"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestTeamsPackageCommand(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "resetbot.yaml")
	yaml := "server: {public_url: \"https://bot.example.com\"}\n" +
		"channels: {teams: {enabled: true, app_id: \"00000000-0000-0000-0000-0000000a9901\", tenant_id: \"t1\"}}\n"
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "app.zip")
	if code := runTeamsPackage(context.Background(), []string{"-config", cfg, "-out", out}); code != 0 {
		t.Fatalf("exit %d", code)
	}
	zr, err := zip.OpenReader(out)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	names := map[string]bool{}
	var manifest []byte
	for _, f := range zr.File {
		names[f.Name] = true
		if f.Name == "manifest.json" {
			rc, _ := f.Open()
			manifest, _ = io.ReadAll(rc)
			rc.Close()
		}
	}
	if len(names) != 3 || !names["manifest.json"] || !names["color.png"] || !names["outline.png"] {
		t.Fatalf("zip holds %v", names)
	}
	var m struct {
		ID   string `json:"id"`
		Bots []struct {
			BotID string `json:"botId"`
		} `json:"bots"`
		ValidDomains []string `json:"validDomains"`
	}
	if err := json.Unmarshal(manifest, &m); err != nil {
		t.Fatal(err)
	}
	if m.ID != "00000000-0000-0000-0000-0000000a9901" || len(m.Bots) != 1 || m.Bots[0].BotID != m.ID ||
		len(m.ValidDomains) != 1 || m.ValidDomains[0] != "bot.example.com" {
		t.Errorf("manifest %s", manifest)
	}
	if code := runTeamsPackage(context.Background(), []string{"-config", filepath.Join(dir, "missing.yaml")}); code == 0 {
		t.Error("a missing config file succeeded")
	}
}
