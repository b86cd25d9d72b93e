#!/usr/bin/env bash
# scripts/package.sh -- build the heartbeat-rs .deb and .rpm.
#
# Usage: scripts/package.sh [--profile release|dev] [--no-build] [--out DIR] [--no-rpm]
#
#   --profile P   cargo profile of the binaries (default release; the test
#                 suite uses dev, which is much faster to build)
#   --no-build    reuse the binaries already in the target directory; build
#                 only if one is missing (so it works from a clean checkout)
#   --out DIR     where to write the packages (default target/packages)
#   --no-rpm      skip the .rpm
#
# Writes DIR/heartbeat-rs_<version>_<debarch>.deb (plain dpkg-deb from a staged
# tree; no debhelper) and DIR/heartbeat-rs-<version>-1.<arch>.rpm (rpmbuild
# from a generated spec). When rpmbuild is missing and we run as root on a
# Debian-like system, the `rpm` package is installed with apt-get (that is
# the only thing this script installs). Layout: see packaging/README.md.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)

say() { printf '==> %s\n' "$*"; }
die() { printf 'package.sh: error: %s\n' "$*" >&2; exit 1; }

PROFILE=release
BUILD=always
OUT=$ROOT/target/packages
RPM=yes
while [ $# -gt 0 ]; do
    case $1 in
        --profile) [ $# -ge 2 ] || die "--profile needs a value"; PROFILE=$2; shift 2 ;;
        --profile=*) PROFILE=${1#*=}; shift ;;
        --no-build) BUILD=if-missing; shift ;;
        --out) [ $# -ge 2 ] || die "--out needs a value"; OUT=$2; shift 2 ;;
        --out=*) OUT=${1#*=}; shift ;;
        --no-rpm) RPM=no; shift ;;
        -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
done
case $PROFILE in
    release) PROFILE_DIR=release ;;
    dev|debug) PROFILE=dev; PROFILE_DIR=debug ;;
    *) die "unknown profile '$PROFILE' (release or dev)" ;;
esac
case $OUT in /*) ;; *) OUT=$ROOT/$OUT ;; esac

# A rustup toolchain of the user who called sudo is fine too.
if ! command -v cargo >/dev/null; then
    for home in "${HOME:-}" "$(getent passwd "${SUDO_USER:-root}" | cut -d: -f6)"; do
        if [ -n "$home" ] && [ -x "$home/.cargo/bin/cargo" ]; then
            export PATH="$home/.cargo/bin:$PATH"
            break
        fi
    done
fi

VERSION=$(sed -n '/^\[workspace.package\]/,/^\[/s/^version *= *"\(.*\)"/\1/p' Cargo.toml)
[ -n "$VERSION" ] || die "cannot read the version from Cargo.toml [workspace.package]"
DEB_ARCH=$(dpkg --print-architecture 2>/dev/null || echo amd64)
RPM_ARCH=$(uname -m)
TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
BIN=$TARGET_DIR/$PROFILE_DIR
REQUIRED_BINS=(heartbeat hb_standby hb_takeover hb-mangen ResourceManager)

need_build=no
if [ "$BUILD" = always ]; then
    need_build=yes
else
    for b in "${REQUIRED_BINS[@]}"; do
        [ -x "$BIN/$b" ] || need_build=yes
    done
fi
if [ "$need_build" = yes ]; then
    command -v cargo >/dev/null || die "cargo not found: install a Rust toolchain"
    say "cargo build --profile $PROFILE -p hb-bin -p hb-client --bins"
    cargo build --profile "$PROFILE" -p hb-bin -p hb-client --bins
fi
for b in "${REQUIRED_BINS[@]}"; do
    [ -x "$BIN/$b" ] || die "$BIN/$b was not built"
done

WORK=$TARGET_DIR/package-work/$PROFILE_DIR
STAGE=$WORK/root
rm -rf "$WORK"
mkdir -p "$STAGE" "$OUT"

# install MODE SRC DEST (DEST relative to the staged root)
put() {
    install -D -m "$1" "$2" "$STAGE/$3"
}
strip_bin() {
    if command -v strip >/dev/null; then strip --strip-unneeded "$1"; fi
}

say "staging $VERSION ($PROFILE binaries) in $STAGE"
put 0755 "$BIN/heartbeat" usr/libexec/heartbeat/heartbeat
[ -x "$BIN/ipfail" ] || die "$BIN/ipfail is missing (cargo build -p hb-bin)"
put 0755 "$BIN/ipfail" usr/libexec/heartbeat/ipfail
# DRBD's outdate-peer daemon and fence-peer handler, at Debian's paths.
for b in dopd drbd-peer-outdater; do
    [ -x "$BIN/$b" ] || die "$BIN/$b is missing (cargo build -p hb-bin)"
    put 0755 "$BIN/$b" "usr/libexec/heartbeat/$b"
done
[ -x "$BIN/cl_status" ] || die "$BIN/cl_status is missing (cargo build -p hb-client)"
# setgid haclient is applied by postinst (the group may not exist yet).
put 0555 "$BIN/cl_status" usr/bin/cl_status
put 0755 "$BIN/hb_standby" usr/share/heartbeat/hb_standby
put 0755 "$BIN/hb_takeover" usr/share/heartbeat/hb_takeover
put 0755 "$BIN/ResourceManager" usr/share/heartbeat/ResourceManager
for f in "$STAGE/usr/libexec/heartbeat/"* "$STAGE/usr/share/heartbeat/"* "$STAGE"/usr/bin/*; do
    [ -f "$f" ] && strip_bin "$f"
done

# The operator tools of 3.0.6 that stay shell scripts (our own versions).
for f in hb_addnode hb_delnode hb_setweight hb_setsite mach_down req_resource BasicSanityCheck; do
    put 0755 "packaging/share/$f" "usr/share/heartbeat/$f"
done
put 0755 packaging/share/cl_respawn usr/bin/cl_respawn
put 0755 packaging/ha.d/harc etc/ha.d/harc
put 0644 packaging/ha.d/README.config etc/ha.d/README.config
# Debian's package has /etc/heartbeat as a link to ha.d.
ln -sfn ha.d "$STAGE/etc/heartbeat"
for f in packaging/ha.d/rc.d/* packaging/ha.d/resource.d/*; do
    put 0755 "$f" "etc/ha.d/${f#packaging/ha.d/}"
done
put 0755 packaging/sysv/heartbeat etc/init.d/heartbeat
put 0644 packaging/logrotate/heartbeat etc/logrotate.d/heartbeat
put 0644 packaging/systemd/heartbeat.service lib/systemd/system/heartbeat.service
put 0644 packaging/tmpfiles.d/heartbeat.conf usr/lib/tmpfiles.d/heartbeat.conf
put 0644 packaging/sysusers.d/heartbeat.conf usr/lib/sysusers.d/heartbeat.conf

DOC=usr/share/doc/heartbeat-rs
for f in ha.cf haresources authkeys; do
    put 0644 "packaging/doc/$f" "$DOC/$f"
done
put 0644 packaging/README.md "$DOC/README.packaging"
mkdir -p "$STAGE/$DOC"
cat >"$STAGE/$DOC/copyright" <<COPYRIGHT
heartbeat-rs $VERSION -- a Rust re-implementation of Linux-HA Heartbeat 3.0.6.

License: GPL-2.0-or-later
 This program is free software; you can redistribute it and/or modify it
 under the terms of the GNU General Public License as published by the Free
 Software Foundation; either version 2 of the License, or (at your option)
 any later version.
 .
 On Debian systems the full text of the GNU General Public License version 2
 is in /usr/share/common-licenses/GPL-2.
COPYRIGHT
chmod 0644 "$STAGE/$DOC/copyright"

say "man pages"
MAN=$WORK/man
"$BIN/hb-mangen" --out "$MAN" >/dev/null
for f in docs/man/*.[0-9]; do
    [ -e "$MAN/${f##*/}" ] || cp "$f" "$MAN/"
done
for f in "$MAN"/*.[0-9]; do
    section=${f##*.}
    mkdir -p "$STAGE/usr/share/man/man$section"
    gzip -9n -c "$f" >"$STAGE/usr/share/man/man$section/${f##*/}.gz"
    chmod 0644 "$STAGE/usr/share/man/man$section/${f##*/}.gz"
done

install -d -m 0755 "$STAGE/var/lib/heartbeat" "$STAGE/var/lib/heartbeat/cores"
# Directories 3.0.6's package ships for its other daemons (old FIFO API,
# checkpointing, ccm, pacemaker): empty, kept so tools that expect them find them.
install -d -m 0755 "$STAGE/var/lib/heartbeat/api" "$STAGE/var/lib/heartbeat/casual" \
    "$STAGE/var/lib/heartbeat/ckpt" "$STAGE/var/lib/heartbeat/ccm" \
    "$STAGE/var/lib/heartbeat/crm" "$STAGE/var/lib/heartbeat/pengine"
install -d -m 0700 "$STAGE/var/lib/heartbeat/cores/root" \
    "$STAGE/var/lib/heartbeat/cores/hacluster" "$STAGE/var/lib/heartbeat/cores/nobody"
# Directories are 0755 whatever the umask was.
find "$STAGE" -type d ! -path "$STAGE/var/lib/heartbeat/cores/*" -exec chmod 0755 {} +

# ---------------------------------------------------------------- .deb
DEB=$OUT/heartbeat-rs_${VERSION}_${DEB_ARCH}.deb
say "building $DEB"
DEBROOT=$WORK/deb
cp -a "$STAGE" "$DEBROOT"
install -d -m 0755 "$DEBROOT/DEBIAN"
SIZE=$(du -sk --exclude=DEBIAN "$DEBROOT" | cut -f1)
sed -e "s/@VERSION@/$VERSION/" -e "s/@ARCH@/$DEB_ARCH/" -e "s/@SIZE@/$SIZE/" \
    packaging/debian/control.in >"$DEBROOT/DEBIAN/control"
(cd "$DEBROOT" && find etc -type f | sort | sed 's|^|/|') >"$DEBROOT/DEBIAN/conffiles"
for s in postinst prerm postrm; do
    install -m 0755 "packaging/debian/$s" "$DEBROOT/DEBIAN/$s"
done
(cd "$DEBROOT" && find . -path ./DEBIAN -prune -o -type f ! -path './etc/*' -print0 |
    sort -z | xargs -0 md5sum | sed 's|  \./|  |') >"$DEBROOT/DEBIAN/md5sums"
chmod 0644 "$DEBROOT/DEBIAN/control" "$DEBROOT/DEBIAN/conffiles" "$DEBROOT/DEBIAN/md5sums"
rm -f "$DEB"
dpkg-deb --root-owner-group -Zxz --build "$DEBROOT" "$DEB" >/dev/null

# ---------------------------------------------------------------- .rpm
if [ "$RPM" = yes ]; then
    if ! command -v rpmbuild >/dev/null; then
        if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
            say "rpmbuild missing: apt-get install rpm"
            export DEBIAN_FRONTEND=noninteractive
            apt-get install -y -q --no-install-recommends rpm >/dev/null ||
                { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends rpm >/dev/null; } ||
                die "could not install rpm (rpmbuild); use --no-rpm to skip the .rpm"
        else
            die "rpmbuild not found: install the rpm package (or use --no-rpm)"
        fi
    fi
    RPMFILE=$OUT/heartbeat-rs-${VERSION}-1.${RPM_ARCH}.rpm
    say "building $RPMFILE"
    files() {
        (cd "$STAGE" && find . -mindepth 1 | sed 's|^\./|/|' | sort) | while read -r p; do
            case $p in
                /etc/ha.d|/etc/ha.d/rc.d|/etc/ha.d/resource.d|/usr/share/heartbeat|\
                /usr/share/doc/heartbeat-rs|/var/lib/heartbeat|/var/lib/heartbeat/cores|\
                /var/lib/heartbeat/cores/root|/var/lib/heartbeat/api|/var/lib/heartbeat/casual|\
                /var/lib/heartbeat/ckpt|/var/lib/heartbeat/ccm|/var/lib/heartbeat/crm|\
                /var/lib/heartbeat/pengine)
                    echo "%dir $p" ;;
                /etc/heartbeat) echo "$p" ;;
                /var/lib/heartbeat/cores/hacluster) echo "%dir %attr(0700,hacluster,root) $p" ;;
                /var/lib/heartbeat/cores/nobody) echo "%dir %attr(0700,nobody,root) $p" ;;
                /usr/bin/cl_status) echo "%attr(2555,root,haclient) $p" ;;
                /etc/*) [ -d "$STAGE$p" ] || echo "%config(noreplace) $p" ;;
                *) [ -d "$STAGE$p" ] || echo "$p" ;;
            esac
        done
    }
    # rpmbuild's own scripts do not expect spaces in its directories (a checkout may be
    # under "/home/x/my projects"): build in a private directory of our own.
    RPMTOP=$(mktemp -d /var/tmp/heartbeat-rs-rpm.XXXXXX)
    trap 'rm -rf "$RPMTOP"' EXIT
    mkdir -p "$RPMTOP/SPECS" "$RPMTOP/BUILD" "$RPMTOP/BUILDROOT"
    SPEC=$RPMTOP/SPECS/heartbeat-rs.spec
    files >"$WORK/files.txt"
    awk -v version="$VERSION" -v stage="$STAGE" -v files="$WORK/files.txt" '
        /@FILES@/ { while ((getline line < files) > 0) print line; next }
        { gsub(/@VERSION@/, version); gsub(/@STAGE@/, stage); print }
    ' packaging/rpm/heartbeat-rs.spec.in >"$SPEC"
    sed -i "s/^BuildArch:.*/BuildArch:      $RPM_ARCH/" "$SPEC"
    rm -f "$RPMFILE"
    rpmbuild -bb --quiet \
        --define "_topdir $RPMTOP" \
        --define "_rpmdir $OUT" \
        --define "_build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm" \
        --define "_dbpath $RPMTOP/db" \
        "$SPEC" >"$WORK/rpmbuild.log" 2>&1 ||
        { cat "$WORK/rpmbuild.log" >&2; die "rpmbuild failed"; }
    [ -f "$RPMFILE" ] || die "rpmbuild did not produce $RPMFILE"
fi

say "done:"
ls -l "$OUT"/heartbeat-rs[_-]"$VERSION"*
