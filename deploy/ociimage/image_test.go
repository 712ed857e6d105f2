package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestLayoutVerifiesAndUnpacks writes a layout, reads it back as a runtime
// would, and checks that a tampered blob is refused and that the output is
// reproducible.
func TestLayoutVerifiesAndUnpacks(t *testing.T) {
	dir := t.TempDir()
	o := options{Out: filepath.Join(dir, "oci"), Tag: "resetbot:test", Version: "test", Arch: "amd64", Created: time.Unix(0, 0)}
	res, err := write(o, []byte("#!fake binary"), []byte("-----BEGIN CERTIFICATE-----\n"))
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Join(dir, "rootfs")
	if err := verify(o.Out, root); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"resetbot", "etc/ssl/certs/ca-certificates.crt", "etc/passwd", "tmp"} {
		if _, err := os.Stat(filepath.Join(root, p)); err != nil {
			t.Errorf("unpacked image lacks %s: %v", p, err)
		}
	}
	if fi, _ := os.Stat(filepath.Join(root, "resetbot")); fi == nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("/resetbot mode %v", fi)
	}
	again, err := write(options{Out: filepath.Join(dir, "oci2"), Tag: o.Tag, Version: o.Version, Arch: o.Arch, Created: o.Created},
		[]byte("#!fake binary"), []byte("-----BEGIN CERTIFICATE-----\n"))
	if err != nil || again.Manifest != res.Manifest {
		t.Errorf("not reproducible: %s vs %s (%v)", again.Manifest, res.Manifest, err)
	}
	// Tamper with the largest blob (the layer): verification must fail.
	blobs, _ := filepath.Glob(filepath.Join(o.Out, "blobs", "sha256", "*"))
	var big string
	var size int64
	for _, b := range blobs {
		if fi, err := os.Stat(b); err == nil && fi.Size() > size {
			big, size = b, fi.Size()
		}
	}
	data, _ := os.ReadFile(big)
	data[len(data)/2] ^= 0xff
	if err := os.WriteFile(big, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := verify(o.Out, ""); err == nil {
		t.Error("a tampered layout verified")
	}
}

// TestDynamicBinaryRefused: the image has no loader or libc.
func TestDynamicBinaryRefused(t *testing.T) {
	if err := checkStatic([]byte("not elf")); err == nil {
		t.Error("a non-ELF binary was accepted")
	}
}
