#!/usr/bin/env bash
# Checks the container image without a container runtime (none is available here):
#   1. verifies the OCI layout bin/oci as a runtime reads it (index → manifest → config and layer
#      digests and sizes, non-root user, diff_id) and unpacks its filesystem;
#   2. runs /resetbot from that filesystem, chrooted, as user 65532 (the image's user), with no
#      host libraries: `version`; `serve` without -config must refuse; and `check-config -offline`
#      on the Helm chart's configuration with the chart's secret files (RESETBOT_..._FILE under
#      /run/secrets/resetbot), i.e. what the chart's init container runs.
# Not checked here: pulling or running the image in a container engine or on Kubernetes,
# deploy/Containerfile (it needs a builder and the base images), seccomp and capabilities.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN=go1.27.3  # the machine's own Go ignores go.mod's toolchain line
oci=${1:-bin/oci}
root=$(mktemp -d)
chmod 0755 "$root"  # the image root is world-readable, as in a runtime
trap 'rm -rf "$root"' EXIT
go run ./deploy/ociimage -verify "$oci" -unpack "$root"

# The chart's configuration and its secret files, as the pod would see them.
cp deploy/helm/resetbot/files/resetbot.yaml "$root/etc/resetbot/resetbot.yaml"
mkdir -p "$root/run/secrets/resetbot"
env=()
while read -r var key; do
  case $key in
    keys_encryption) printf 'k1:%s' "$(head -c 32 /dev/urandom | base64)" ;;
    keys_hmac) head -c 48 /dev/urandom | base64 | tr -d '\n' ;;
    *) printf 'placeholder-%s' "$key" ;;
  esac > "$root/run/secrets/resetbot/$key"
  env+=("$var=/run/secrets/resetbot/$key")
done < <(sed -n '/^secret:/,/^[a-z]/p' deploy/helm/resetbot/values.yaml |
         sed -n 's/^    \(RESETBOT_[A-Z0-9_]*_FILE\): *\([a-z0-9_]*\).*/\1 \2/p')
[ ${#env[@]} -gt 0 ] || { echo "image-check: no secret files found in the chart's values" >&2; exit 1; }
chmod -R a+rX "$root/run" "$root/etc/resetbot"

if [ "$(id -u)" -eq 0 ] && command -v chroot >/dev/null; then
  chroot=$(command -v chroot)
  run() { env -i "${env[@]}" "$chroot" --userspec=65532:65532 "$root" /resetbot "$@"; }
  how="chrooted into the image's filesystem as 65532"
else
  run() { (cd "$root" && env -i "${env[@]}" ./resetbot "$@"); }
  how="NOT chrooted (not root): the binary ran from the unpacked filesystem with the host's root"
fi
run version
if run serve >/dev/null 2>&1; then
  echo "image-check: serve without -config did not refuse" >&2
  exit 1
fi
run check-config -offline -config /etc/resetbot/resetbot.yaml
size=$(du -b "$root/resetbot" | cut -f1)
layer=$(find "$oci/blobs/sha256" -type f -size +100k -printf '%s\n' | sort -n | tail -1)
echo "image-check: ok ($how); /resetbot $size bytes; image layer $layer bytes compressed"
