#!/bin/sh
# Loads the seed on first start, then runs slapd in the foreground.
set -eu
mkdir -p /var/lib/ldap /run/slapd
if [ ! -f /var/lib/ldap/data.mdb ]; then
  slapadd -q -f /etc/ldap/slapd.conf -l /etc/ldap/seed.ldif
fi
chown -R openldap:openldap /var/lib/ldap /run/slapd
exec slapd -d 0 -u openldap -g openldap -h "ldap:///" -f /etc/ldap/slapd.conf
