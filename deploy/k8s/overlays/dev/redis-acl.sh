#!/bin/sh
# Renders Redis's ACL file from the rules (users.acl, a ConfigMap: no
# secrets) and the passwords (the Secret kiebot-redis-users, one key per
# user), storing only each password's SHA-256. With arguments it then
# starts redis-server with them; without, it only renders, for a reload:
#   sh /etc/redis-acl/redis-acl.sh && redis-cli --user admin ACL LOAD
set -eu
RULES=${REDIS_ACL_RULES:-/etc/redis-acl/users.acl}
PASSWORDS=${REDIS_ACL_PASSWORDS:-/run/secrets/redis-users}
OUT=${REDIS_ACL_FILE:-/run/redis-acl/users.acl}
umask 077
hash() { tr -d '\r\n' <"$1" | sha256sum | cut -d' ' -f1; }
tmp="$OUT.tmp"
: >"$tmp"
while read -r word name rest; do
  [ "$word" = user ] || continue
  line="user $name $rest"
  if [ "$name" != default ]; then
    if [ ! -s "$PASSWORDS/$name" ]; then
      echo "redis-acl: no password for Redis user $name (key $name of the Secret kiebot-redis-users)" >&2
      exit 1
    fi
    line="$line #$(hash "$PASSWORDS/$name")"
    # The previous password stays valid while clients move to the new one.
    if [ -s "$PASSWORDS/$name.previous" ]; then line="$line #$(hash "$PASSWORDS/$name.previous")"; fi
  fi
  printf '%s\n' "$line" >>"$tmp"
done <"$RULES"
mv "$tmp" "$OUT"
echo "redis-acl: $(grep -c '^user ' "$OUT") users in $OUT" >&2
if [ "$#" -gt 0 ]; then exec redis-server "$@"; fi
