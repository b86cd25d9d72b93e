# scripts/prereqs.sh -- sourced by test.sh, demo.sh and bench.sh: root check, the Debian
# packages the project runs with and tests against (installed only when missing, with a
# temporary policy-rc.d so that no packaged service starts), and a cargo on PATH.
# PREREQS=demo (demo.sh): only what the demo uses (iproute2, ps), never the heartbeat package.
# NEED_CARGO=0: no cargo needed (prebuilt binaries).
# shellcheck shell=bash

say() { printf '==> %s\n' "$*"; }
die() { printf '%s: error: %s\n' "$0" "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root: it builds a cluster in network namespaces with \
private mounts (run: sudo $0)"

# package [file-or-command that satisfies it regardless of the package name]
REQUIREMENTS=(
    "heartbeat /usr/libexec/heartbeat/heartbeat"
    "resource-agents /usr/lib/ocf/resource.d/heartbeat/IPaddr2"
    "socat socat"
    "iproute2 ip"
    "tcpdump tcpdump"
    "nftables nft"
    "keepalived keepalived"
    "procps ps"
    "psmisc fuser"
    "iputils-ping ping"
    "rpm rpmbuild"
    "systemd systemd-analyze"
    "cluster-glue /usr/sbin/stonith"
    "corosync corosync"
    "pacemaker /usr/sbin/pacemakerd"
    "pacemaker-cli-utils crm_verify"
    "kmod modprobe"
    "crmsh crm"
    "prometheus promtool"
    "stress-ng stress-ng"
    # C++ compiler: libfuzzer-sys's build script, run by test.sh's cargo check of fuzz/.
    "g++ c++"
)

# What the demo needs: our build runs the cluster, iproute2 builds the namespaces.
DEMO_REQUIREMENTS=(
    "iproute2 ip"
    "util-linux unshare"
    "procps ps"
)
if [ "${PREREQS:-all}" = demo ]; then
    REQUIREMENTS=("${DEMO_REQUIREMENTS[@]}")
fi

satisfied() { # satisfied PACKAGE [FILE|COMMAND]
    local pkg=$1 what=${2:-}
    if [ -n "$what" ]; then
        case $what in
            /*) [ -e "$what" ] && return 0 ;;
            *)  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
                    command -v "$what" >/dev/null 2>&1 && return 0 ;;
        esac
    fi
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'
}

POLICY=/usr/sbin/policy-rc.d
POLICY_BACKUP=""
POLICY_WRITTEN=0
restore_policy() {
    [ "$POLICY_WRITTEN" = 1 ] || return 0
    if [ -n "$POLICY_BACKUP" ]; then
        cp -a "$POLICY_BACKUP" "$POLICY" && rm -f "$POLICY_BACKUP"
        say "restored the previous $POLICY"
    else
        rm -f "$POLICY"
        say "removed the temporary $POLICY"
    fi
    POLICY_WRITTEN=0
}

install_packages() {
    command -v apt-get >/dev/null || die "missing packages ($*) and no apt-get: install them by hand"
    if [ -e "$POLICY" ] || [ -L "$POLICY" ]; then
        POLICY_BACKUP=$(mktemp /var/tmp/policy-rc.d.XXXXXX)
        cp -a "$POLICY" "$POLICY_BACKUP"
    fi
    trap restore_policy EXIT
    POLICY_WRITTEN=1
    printf '#!/bin/sh\n# scripts/test.sh: do not start services while installing test tools\nexit 101\n' \
        >"$POLICY"
    chmod 0755 "$POLICY"
    export DEBIAN_FRONTEND=noninteractive
    say "apt-get update"
    apt-get update -q
    say "apt-get install $*"
    apt-get install -y -q --no-install-recommends "$@"
    restore_policy
    trap - EXIT
}

say "checking prerequisites"
missing=()
for req in "${REQUIREMENTS[@]}"; do
    read -r pkg what <<<"$req"
    satisfied "$pkg" "$what" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    install_packages "${missing[@]}"
    for req in "${REQUIREMENTS[@]}"; do
        read -r pkg what <<<"$req"
        satisfied "$pkg" "$what" || die "package $pkg is still missing after apt-get install"
    done
else
    say "all prerequisites installed"
fi

# A rustup toolchain of the user who called sudo is fine too.
if ! command -v cargo >/dev/null; then
    for home in "$HOME" "$(getent passwd "${SUDO_USER:-root}" | cut -d: -f6)"; do
        if [ -n "$home" ] && [ -x "$home/.cargo/bin/cargo" ]; then
            export PATH="$home/.cargo/bin:$PATH"
            [ -d "$home/.rustup" ] && export RUSTUP_HOME="${RUSTUP_HOME:-$home/.rustup}"
            break
        fi
    done
fi
[ "${NEED_CARGO:-1}" = 0 ] || command -v cargo >/dev/null || die "cargo not found: install a Rust toolchain >= 1.80 (https://rustup.rs)"

