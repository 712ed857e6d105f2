// Command ociimage writes a container image of the static resetbot binary as
// an OCI image layout (a directory: oci-layout, index.json, blobs/sha256/...),
// without a container daemon, from an empty base ("FROM scratch"): one layer
// holding /resetbot, the CA bundle, a passwd/group naming the non-root user
// 65532 and an empty /tmp. Any OCI tool loads the layout, e.g.
//
//	skopeo copy oci:bin/oci:resetbot docker-daemon:resetbot:dev
//	podman load -i ... / crane push bin/oci registry.example/resetbot:dev
//
// The output is reproducible: fixed file times (SOURCE_DATE_EPOCH, default
// 0), fixed owners, sorted entries. deploy/Containerfile builds the same image
// with a container builder.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"time"
)

func main() {
	var o options
	flag.StringVar(&o.Binary, "binary", "bin/resetbot-static", "static resetbot binary (CGO_ENABLED=0)")
	flag.StringVar(&o.CABundle, "ca", "/etc/ssl/certs/ca-certificates.crt", "CA bundle copied to /etc/ssl/certs/ca-certificates.crt")
	flag.StringVar(&o.Out, "out", "bin/oci", "OCI image layout directory to write (replaced)")
	flag.StringVar(&o.Tag, "tag", "resetbot:dev", "reference name of the image in index.json")
	flag.StringVar(&o.Version, "version", "dev", "org.opencontainers.image.version label")
	flag.StringVar(&o.Arch, "arch", runtime.GOARCH, "image architecture")
	check := flag.String("verify", "", "instead of building: verify the layout in this directory (digests, sizes, user, diff_id)")
	rootfs := flag.String("unpack", "", "with -verify: unpack the image's filesystem into this directory")
	flag.Parse()
	if *check != "" {
		if err := verify(*check, *rootfs); err != nil {
			fmt.Fprintln(os.Stderr, "ociimage: verify:", err)
			os.Exit(1)
		}
		fmt.Printf("verified %s\n", *check)
		return
	}
	o.Created = time.Unix(0, 0).UTC()
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			fmt.Fprintln(os.Stderr, "ociimage: SOURCE_DATE_EPOCH:", err)
			os.Exit(2)
		}
		o.Created = time.Unix(n, 0).UTC()
	}
	res, err := build(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "ociimage:", err)
		os.Exit(1)
	}
	fmt.Printf("wrote %s (%s): manifest %s, layer %d bytes compressed, %d bytes uncompressed\n",
		o.Out, o.Tag, res.Manifest, res.LayerCompressed, res.LayerUncompressed)
}
