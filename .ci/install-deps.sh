#!/usr/bin/env bash
# Installs the servers the test suite starts as throwaway instances: slapd (OpenLDAP),
# Samba AD DC, and checks redis-server. Idempotent; safe to run on a machine that has them.
set -euo pipefail
need=()
command -v slapd >/dev/null 2>&1 || [ -x /usr/sbin/slapd ] || need+=(slapd ldap-utils)
command -v ldapsearch >/dev/null 2>&1 || need+=(ldap-utils)
[ -x /usr/sbin/samba ] || need+=(samba-ad-dc samba-ad-provision ldb-tools smbclient)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
[ -x /usr/sbin/krb5kdc ] && [ -x /usr/sbin/kadmind ] && command -v kinit >/dev/null 2>&1 || need+=(krb5-kdc krb5-admin-server krb5-user)
if [ ${#need[@]} -gt 0 ]; then
  tmp=$(mktemp)
  cat > "$tmp" <<'P'
slapd slapd/no_configuration boolean true
slapd shared/organization string Example
slapd slapd/domain string example.org
slapd slapd/password1 password adminpw
slapd slapd/password2 password adminpw
slapd slapd/purge_database boolean true
slapd slapd/move_old_database boolean true
P
  debconf-set-selections "$tmp"
  rm -f "$tmp"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
