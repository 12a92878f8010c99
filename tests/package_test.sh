#!/usr/bin/env bash
# tests/package_test.sh CPACK BUILD_DIR VERSION PROGRAM...: the Debian package
# (cmake/ShopdPackage.cmake).
#
# Builds the .deb with cpack from BUILD_DIR into a temp dir, then checks it without installing
# anything on this machine:
#   - dpkg-deb -c: the programs, the five plugins (and no test build), units, sql/, migrate, the
#     nginx template, the env examples as 0640 conffiles;
#   - control: name, version (the project's), Depends (shared libraries + adduser);
#   - postinst (dpkg-deb -e): shellcheck, no migration and no service start, and idempotent: run
#     twice against stub commands, the second run creates nothing;
#   - the units, unpacked (dpkg-deb -x): every Exec path that the package provides exists in the
#     tree, and `systemd-analyze verify` is clean with those paths pointed into the tree (a
#     --root verify would need a whole systemd installation in the temp root);
#   - shopd.service: Type=notify with a watchdog, bound to shopd.socket, and
#     `systemd-analyze security --offline=true` rates its exposure 2.0 or less (the score is
#     printed).
# lintian runs too when installed (report only).
set -euo pipefail

(($# >= 4)) || { echo "usage: $0 CPACK BUILD_DIR VERSION PROGRAM..." >&2; exit 2; }
cpack=$1 build=$2 version=$3
shift 3
programs=()
for p in "$@"; do [[ -z $p ]] || programs+=("$p"); done

failures=0
fail() { printf 'FAIL: %s\n' "$*" >&2; failures=$((failures + 1)); }
ok() { printf 'ok: %s\n' "$*"; }
# check DESCRIPTION COMMAND...: ok or fail by the command's exit status.
check() {
    local what=$1
    shift
    if "$@"; then ok "$what"; else fail "$what"; fi
}

for tool in dpkg-deb shellcheck systemd-analyze; do
    command -v "$tool" >/dev/null || { echo "FAIL: $tool not found" >&2; exit 1; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/shopd-package-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# --- build --------------------------------------------------------------------------------------
if ! (cd "$build" && timeout 240 "$cpack" --config CPackConfig.cmake -G DEB -B "$tmp/out") \
    >"$tmp/cpack.log" 2>&1; then
    cat "$tmp/cpack.log" >&2
    echo "FAIL: cpack" >&2
    exit 1
fi
debs=("$tmp"/out/*.deb)
if ((${#debs[@]} != 1)) || [[ ! -f ${debs[0]} ]]; then
    echo "FAIL: expected one .deb: ${debs[*]}" >&2
    exit 1
fi
deb=${debs[0]}
check "built $(basename "$deb")" test "$(basename "$deb" | sed -E 's/_[^_]*$//')" = "shopd_$version"

# --- control ------------------------------------------------------------------------------------
check "Package: shopd" test "$(dpkg-deb -f "$deb" Package)" = shopd
check "Version: $version" test "$(dpkg-deb -f "$deb" Version)" = "$version"
depends=$(dpkg-deb -f "$deb" Depends)
for dep in adduser libc6 libstdc++6 libpq5 libpqxx- libfcgi0ldbl libboost-program-options \
    libssl3; do
    [[ $depends == *"$dep"* ]] || fail "Depends lacks $dep: $depends"
done
ok "Depends: $depends"
dpkg-deb -f "$deb" Description | grep -q 'neither migrates' || fail "description: no migration note"

# --- contents -----------------------------------------------------------------------------------
dpkg-deb -c "$deb" | awk '{print $1, $2, $NF}' >"$tmp/list"
# expect MODE PATH: one line of the listing has this mode and path (owner root/root).
expect() {
    check "$1 $2" grep -qxF -e "$1 root/root ./${2#/}" "$tmp/list"
}
for p in "${programs[@]}"; do expect -rwxr-xr-x "/usr/bin/$p"; done
for p in catalog customers pricing cart checkout; do
    expect -rw-r--r-- "/usr/lib/shopd/plugins/$p.so"
done
[[ $(grep -c '^-.* \./usr/lib/shopd/plugins/' "$tmp/list") == 5 ]] \
    || fail "plugins other than the five"
for u in shopd.service shopd.socket reservation-release.service reservation-release.timer; do
    expect -rw-r--r-- "/lib/systemd/system/$u"
done
src=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
nsql=0
for f in "$src"/sql/[0-9][0-9][0-9]_*.sql; do
    expect -rw-r--r-- "/usr/share/shopd/sql/$(basename "$f")"
    nsql=$((nsql + 1))
done
((nsql > 0)) || fail "no sql/ in the source tree"
expect -rwxr-xr-x /usr/share/shopd/scripts/migrate
expect -rw-r--r-- /usr/share/shopd/scripts/lib.sh
expect -rw-r--r-- /usr/share/shopd/nginx/shopd.conf.template
expect -rw-r----- /etc/shopd/shopd.env
expect -rw-r----- /etc/shopd/reservation-release.env
if grep -q '/usr/local' "$tmp/list"; then fail "a path under /usr/local"; fi

# --- control files ------------------------------------------------------------------------------
dpkg-deb -x "$deb" "$tmp/root"
dpkg-deb -e "$deb" "$tmp/DEBIAN"
for f in /etc/shopd/shopd.env /etc/shopd/reservation-release.env; do
    check "conffile $f" grep -qxF "$f" "$tmp/DEBIAN/conffiles"
done
postinst=$tmp/DEBIAN/postinst
[[ -x $postinst ]] || fail "postinst is not executable"
check "postinst: shellcheck" shellcheck -s sh "$postinst"
# Commands only (comments dropped): no migration, no enable/start of a service.
if sed 's/#.*//' "$postinst" \
    | grep -Eq 'migrate|systemctl +(enable|start|restart)|deb-systemd-invoke'; then
    fail "postinst migrates or starts a service"
fi

# Idempotence: run postinst with stub getent/adduser/addgroup/chown/chmod/systemctl that log
# their calls; getent knows the user and group once adduser has "created" them. DPKG_ROOT (as
# dpkg sets it for --root installs) points it at the unpacked tree's /etc/shopd.
stubs=$tmp/stubs
mkdir -p "$stubs"
cat >"$stubs/getent" <<'EOF'
#!/bin/sh
grep -qx "$1 $2" "$STUB_DB" 2>/dev/null
EOF
cat >"$stubs/adduser" <<'EOF'
#!/bin/sh
echo "adduser $*" >>"$STUB_LOG"
case " $* " in
    *" --system "*) printf 'passwd shopd\ngroup shopd\n' >>"$STUB_DB" ;;
esac
EOF
cat >"$stubs/addgroup" <<'EOF'
#!/bin/sh
echo "addgroup $*" >>"$STUB_LOG"
echo "group shopd" >>"$STUB_DB"
EOF
for c in chown chmod systemctl; do
    # shellcheck disable=SC2016 # $* and $STUB_LOG belong to the stub
    printf '#!/bin/sh\necho "%s $*" >>"$STUB_LOG"\n' "$c" >"$stubs/$c"
done
chmod +x "$stubs"/*
run_postinst() {
    env PATH="$stubs:/usr/bin:/bin" STUB_DB="$tmp/stub.db" STUB_LOG="$tmp/stub.$1.log" \
        DPKG_ROOT="$tmp/root" sh "$postinst" configure "$2" >/dev/null 2>&1
}
for f in stub.db stub.1.log stub.2.log; do : >"$tmp/$f"; done
run_postinst 1 "" || fail "postinst configure (fresh install) failed"
run_postinst 2 "$version" || fail "postinst configure (second run) failed"
if grep -q '^adduser .*--system.*--group.* shopd$' "$tmp/stub.1.log"; then
    ok "postinst creates the system user and group shopd"
else
    fail "postinst did not run adduser --system --group shopd: $(cat "$tmp/stub.1.log")"
fi
if grep -Eq '^(adduser|addgroup) ' "$tmp/stub.2.log"; then
    fail "second postinst run creates again: $(cat "$tmp/stub.2.log")"
else
    ok "postinst is idempotent"
fi
for f in shopd.env reservation-release.env; do
    check "postinst: $f root:shopd" \
        grep -qxF "chown root:shopd $tmp/root/etc/shopd/$f" "$tmp/stub.1.log"
    check "postinst: $f 0640" grep -qxF "chmod 0640 $tmp/root/etc/shopd/$f" "$tmp/stub.1.log"
done

# --- units --------------------------------------------------------------------------------------
units=$tmp/units
mkdir -p "$units"
for u in "$tmp"/root/lib/systemd/system/*; do
    # Every Exec*= program the package ships must exist (executable) in the unpacked tree.
    while IFS= read -r path; do
        case $path in
            /usr/bin/* | /usr/sbin/* | /usr/lib/shopd/*)
                check "$(basename "$u"): $path in the package" test -x "$tmp/root$path" ;;
        esac
    done < <(sed -nE 's/^Exec[A-Za-z]*=[-@:+!]*([^ ]+).*/\1/p' "$u")
    if grep -q '/usr/local' "$u"; then fail "$(basename "$u") still names /usr/local"; fi
    sed -E "s#^(Exec[A-Za-z]*=[-@:+!]*)/usr/(bin|sbin|lib/shopd)/#\\1$tmp/root/usr/\\2/#" "$u" \
        >"$units/$(basename "$u")"
done
grep -q -- '--plugin-dir /usr/lib/shopd/plugins' "$units/shopd.service" \
    || fail "shopd.service: --plugin-dir is not the package's plugin dir"
if out=$(cd "$units" && systemd-analyze verify ./*.service ./*.socket ./*.timer 2>&1) \
    && [[ -z $out ]]; then
    ok "systemd-analyze verify: clean"
else
    fail "systemd-analyze verify: $out"
fi
# shellcheck disable=SC2016 # $MAINPID is systemd's, literally in the unit
for directive in Type=notify NotifyAccess=main WatchdogSec=10s Requires=shopd.socket \
    'ExecReload=/bin/kill -HUP $MAINPID'; do
    check "shopd.service: $directive" grep -qxF -e "$directive" "$units/shopd.service"
done
check "shopd.socket: ListenStream=/run/shopd/shopd.sock" \
    grep -qxF ListenStream=/run/shopd/shopd.sock "$units/shopd.socket"
# "→ Overall exposure level for shopd.service: 1.4 OK": at most 2.0.
security=$(cd "$units" && systemd-analyze security --offline=true ./shopd.service 2>&1) || true
score=$(sed -nE 's/.*Overall exposure level for shopd\.service: ([0-9]+\.[0-9]+).*/\1/p' \
    <<<"$security")
if [[ -z $score ]]; then
    fail "systemd-analyze security: no exposure level: $security"
elif awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }'; then
    ok "systemd-analyze security shopd.service: exposure $score (<= 2.0)"
else
    fail "systemd-analyze security shopd.service: exposure $score > 2.0"
fi

if command -v lintian >/dev/null; then
    echo "lintian (report only):"
    lintian --no-tag-display-limit "$deb" || true
fi

if ((failures)); then
    echo "package_test: $failures failure(s)" >&2
    exit 1
fi
echo "package_test: all checks passed"
