package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"debug/elf"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// checkStatic refuses a binary that needs a dynamic loader or shared
// libraries: the image has neither.
func checkStatic(bin []byte) error {
	f, err := elf.NewFile(bytes.NewReader(bin))
	if err != nil {
		return fmt.Errorf("binary is not ELF: %w", err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return errors.New("binary is dynamically linked (build it with CGO_ENABLED=0)")
		}
	}
	if libs, _ := f.ImportedLibraries(); len(libs) > 0 {
		return fmt.Errorf("binary needs shared libraries %v (build it with CGO_ENABLED=0)", libs)
	}
	return nil
}

// verify reads the layout in dir as a runtime would: index → manifest →
// config and layer, checking every digest and size, the non-root user and
// the layer's diff_id; then it unpacks the layer into rootfs (when set).
func verify(dir, rootfs string) error {
	var idx struct {
		Manifests []descriptor `json:"manifests"`
	}
	if err := readJSON(filepath.Join(dir, "index.json"), &idx); err != nil {
		return err
	}
	if len(idx.Manifests) != 1 {
		return fmt.Errorf("index.json lists %d manifests, want 1", len(idx.Manifests))
	}
	var man struct {
		Config descriptor   `json:"config"`
		Layers []descriptor `json:"layers"`
	}
	if err := readBlob(dir, idx.Manifests[0], &man); err != nil {
		return err
	}
	var cfg struct {
		Config struct {
			User       string   `json:"User"`
			Entrypoint []string `json:"Entrypoint"`
		} `json:"config"`
		RootFS struct {
			DiffIDs []string `json:"diff_ids"`
		} `json:"rootfs"`
	}
	if err := readBlob(dir, man.Config, &cfg); err != nil {
		return err
	}
	if cfg.Config.User == "" || strings.HasPrefix(cfg.Config.User, "0") || strings.HasPrefix(cfg.Config.User, "root") {
		return fmt.Errorf("image runs as %q, want a non-root user", cfg.Config.User)
	}
	if len(man.Layers) != 1 || len(cfg.RootFS.DiffIDs) != 1 {
		return fmt.Errorf("want one layer, have %d (diff_ids %d)", len(man.Layers), len(cfg.RootFS.DiffIDs))
	}
	gz, err := blob(dir, man.Layers[0])
	if err != nil {
		return err
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return err
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return err
	}
	if d := digest(raw); d != cfg.RootFS.DiffIDs[0] {
		return fmt.Errorf("layer diff_id %s, config says %s", d, cfg.RootFS.DiffIDs[0])
	}
	if rootfs == "" {
		return nil
	}
	return unpack(raw, rootfs)
}

func readJSON(p string, v any) error {
	b, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// blob reads a blob and checks its digest and size against d.
func blob(dir string, d descriptor) ([]byte, error) {
	hex, ok := strings.CutPrefix(d.Digest, "sha256:")
	if !ok || len(hex) != 64 || strings.ContainsAny(hex, "/.") {
		return nil, fmt.Errorf("bad digest %q", d.Digest)
	}
	b, err := os.ReadFile(filepath.Join(dir, "blobs", "sha256", hex))
	if err != nil {
		return nil, err
	}
	if digest(b) != d.Digest || int64(len(b)) != d.Size {
		return nil, fmt.Errorf("blob %s: digest or size does not match", d.Digest)
	}
	return b, nil
}

func readBlob(dir string, d descriptor, v any) error {
	b, err := blob(dir, d)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

// unpack extracts the layer (directories and regular files only) into dir.
func unpack(raw []byte, dir string) error {
	tr := tar.NewReader(bytes.NewReader(raw))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		name := filepath.Clean(h.Name)
		if !filepath.IsLocal(name) {
			return fmt.Errorf("layer entry %q escapes the root", h.Name)
		}
		p := filepath.Join(dir, name)
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(p, 0o755); err != nil {
				return err
			}
			if err := os.Chmod(p, os.FileMode(h.Mode&0o777)|modeBits(h.Mode)); err != nil {
				return err
			}
		case tar.TypeReg:
			b, err := io.ReadAll(tr)
			if err != nil {
				return err
			}
			if err := os.WriteFile(p, b, os.FileMode(h.Mode&0o777)); err != nil {
				return err
			}
		default:
			return fmt.Errorf("layer entry %q: unexpected type %c", h.Name, h.Typeflag)
		}
		if os.Geteuid() == 0 {
			_ = os.Lchown(p, h.Uid, h.Gid)
		}
	}
}

func modeBits(m int64) os.FileMode {
	if m&0o1000 != 0 {
		return os.ModeSticky
	}
	return 0
}
