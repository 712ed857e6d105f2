#!/usr/bin/env bash
# Installs the servers the test suite starts as throwaway instances: slapd (OpenLDAP, with the
# ppolicy module), Samba AD DC, redis-server and an MIT Kerberos KDC + kadmind, from Debian
# packages. Idempotent: on a machine
# that has them it installs nothing and needs no privileges. When something is missing it runs
# apt-get as root, or through sudo when not root, and fails loudly when it cannot.
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }

need=()
{ have slapd && have slapadd && [ -f /usr/lib/ldap/ppolicy.so ]; } || need+=(slapd)
have ldapsearch || need+=(ldap-utils)
{ have samba && have samba-tool; } || need+=(samba-ad-dc samba-ad-provision)
{ have ldbmodify && have ldbsearch; } || need+=(ldb-tools)
have smbclient || need+=(smbclient)
have redis-server || need+=(redis-server)
{ have krb5kdc && have kadmind; } || need+=(krb5-kdc krb5-admin-server)
have kinit || need+=(krb5-user)

if [ ${#need[@]} -eq 0 ]; then
  echo "install-deps: redis-server, slapd, Samba AD DC and the Kerberos KDC are installed"
  exit 0
fi

echo "install-deps: installing ${need[*]}" >&2
sudo=()
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    echo "install-deps: FAILED: ${need[*]} missing, not root and no sudo. Run as root: .ci/install-deps.sh" >&2
    exit 1
  fi
  sudo=(sudo)
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-deps: FAILED: no apt-get (this script knows Debian/Ubuntu). Install ${need[*]} by hand." >&2
  exit 1
fi

# slapd's package must not configure a database of its own: the tests run their own slapd.
"${sudo[@]}" debconf-set-selections <<'P'
slapd slapd/no_configuration boolean true
P
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"

# Check again: a package that installed without the binary the tests need is a failure here,
# not 100 skipped tests later.
missing=()
{ have slapd && have slapadd && [ -f /usr/lib/ldap/ppolicy.so ]; } || missing+=("slapd/slapadd/ppolicy.so")
{ have samba && have samba-tool && have ldbmodify; } || missing+=("samba/samba-tool/ldbmodify")
have redis-server || missing+=(redis-server)
{ have krb5kdc && have kadmind && have kinit; } || missing+=("krb5kdc/kadmind/kinit")
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: FAILED: still missing after apt-get: ${missing[*]}" >&2
  exit 1
fi
echo "install-deps: done"
