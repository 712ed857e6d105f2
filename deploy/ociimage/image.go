package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// options describe the image to write.
type options struct {
	Binary, CABundle, Out, Tag, Version, Arch string
	Created                                   time.Time
}

// result reports what was written.
type result struct {
	Manifest                           string
	LayerCompressed, LayerUncompressed int64
}

// Media types of the OCI image spec.
const (
	mtIndex    = "application/vnd.oci.image.index.v1+json"
	mtManifest = "application/vnd.oci.image.manifest.v1+json"
	mtConfig   = "application/vnd.oci.image.config.v1+json"
	mtLayer    = "application/vnd.oci.image.layer.v1.tar+gzip"
)

// User is the non-root user the image runs as (distroless "nonroot").
const User = "65532:65532"

type descriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Size        int64             `json:"size"`
	Annotations map[string]string `json:"annotations,omitempty"`
	Platform    *platform         `json:"platform,omitempty"`
}

type platform struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
}

// build writes the layout and returns the manifest digest and layer sizes.
func build(o options) (result, error) {
	bin, err := os.ReadFile(o.Binary)
	if err != nil {
		return result{}, err
	}
	if err := checkStatic(bin); err != nil {
		return result{}, err
	}
	ca, err := os.ReadFile(o.CABundle)
	if err != nil {
		return result{}, fmt.Errorf("CA bundle: %w", err)
	}
	return write(o, bin, ca)
}

// write writes the layout of an image holding bin and the CA bundle ca.
func write(o options, bin, ca []byte) (result, error) {
	raw, err := layerTar(o.Created, bin, ca)
	if err != nil {
		return result{}, err
	}
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.ModTime = o.Created // gzip header time: reproducible
	if _, err := zw.Write(raw); err != nil {
		return result{}, err
	}
	if err := zw.Close(); err != nil {
		return result{}, err
	}
	if err := os.RemoveAll(o.Out); err != nil {
		return result{}, err
	}
	if err := os.MkdirAll(filepath.Join(o.Out, "blobs", "sha256"), 0o755); err != nil {
		return result{}, err
	}
	layer, err := writeBlob(o.Out, mtLayer, gz.Bytes())
	if err != nil {
		return result{}, err
	}
	labels := map[string]string{
		"org.opencontainers.image.title":    "resetbot",
		"org.opencontainers.image.version":  o.Version,
		"org.opencontainers.image.licenses": "Apache-2.0",
		"org.opencontainers.image.source":   "https://github.com/resetbot/resetbot",
	}
	cfg := map[string]any{
		"created":      o.Created.Format(time.RFC3339),
		"architecture": o.Arch,
		"os":           "linux",
		"config": map[string]any{
			"User":         User,
			"Entrypoint":   []string{"/resetbot"},
			"Cmd":          []string{"serve", "-config", "/etc/resetbot/resetbot.yaml"},
			"Env":          []string{"SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"},
			"WorkingDir":   "/",
			"ExposedPorts": map[string]any{"8080/tcp": struct{}{}, "9090/tcp": struct{}{}},
			"Labels":       labels,
		},
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{digest(raw)}},
		"history": []map[string]any{{"created": o.Created.Format(time.RFC3339),
			"created_by": "deploy/ociimage: static resetbot, CA bundle, user 65532 (FROM scratch)"}},
	}
	cj, _ := json.Marshal(cfg)
	config, err := writeBlob(o.Out, mtConfig, cj)
	if err != nil {
		return result{}, err
	}
	mj, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": mtManifest,
		"config": config, "layers": []descriptor{layer}, "annotations": labels})
	manifest, err := writeBlob(o.Out, mtManifest, mj)
	if err != nil {
		return result{}, err
	}
	manifest.Annotations = map[string]string{"org.opencontainers.image.ref.name": o.Tag}
	manifest.Platform = &platform{Architecture: o.Arch, OS: "linux"}
	ij, _ := json.Marshal(map[string]any{"schemaVersion": 2, "mediaType": mtIndex, "manifests": []descriptor{manifest}})
	if err := os.WriteFile(filepath.Join(o.Out, "index.json"), ij, 0o644); err != nil {
		return result{}, err
	}
	if err := os.WriteFile(filepath.Join(o.Out, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644); err != nil {
		return result{}, err
	}
	return result{Manifest: manifest.Digest, LayerCompressed: layer.Size, LayerUncompressed: int64(len(raw))}, nil
}

func digest(b []byte) string {
	s := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(s[:])
}

// writeBlob stores b under blobs/sha256 and returns its descriptor.
func writeBlob(dir, mediaType string, b []byte) (descriptor, error) {
	d := digest(b)
	p := filepath.Join(dir, "blobs", "sha256", d[len("sha256:"):])
	if err := os.WriteFile(p, b, 0o644); err != nil {
		return descriptor{}, err
	}
	return descriptor{MediaType: mediaType, Digest: d, Size: int64(len(b))}, nil
}

// layerTar is the image's only layer, entries in a fixed order.
func layerTar(mtime time.Time, bin, ca []byte) ([]byte, error) {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	dir := func(name string, mode int64) error {
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: mode, ModTime: mtime, Format: tar.FormatPAX})
	}
	file := func(name string, mode int64, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(data)),
			ModTime: mtime, Format: tar.FormatPAX}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	steps := []func() error{
		func() error { return dir("etc/", 0o755) },
		func() error { return file("etc/group", 0o644, []byte("root:x:0:\nnonroot:x:65532:\n")) },
		func() error {
			return file("etc/passwd", 0o644, []byte("root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"))
		},
		func() error { return dir("etc/resetbot/", 0o755) },
		func() error { return dir("etc/ssl/", 0o755) },
		func() error { return dir("etc/ssl/certs/", 0o755) },
		func() error { return file("etc/ssl/certs/ca-certificates.crt", 0o644, ca) },
		func() error { return dir("home/", 0o755) },
		func() error {
			return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: "home/nonroot/", Mode: 0o700, Uid: 65532, Gid: 65532,
				ModTime: mtime, Format: tar.FormatPAX})
		},
		func() error { return file("resetbot", 0o755, bin) },
		func() error { return dir("tmp/", 0o1777) },
	}
	for _, s := range steps {
		if err := s(); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
