#!/bin/sh
# The test command (README.md, .ci/run): install what the tests need, only what is missing,
# then run pytest with any arguments given. pytest's exit status is the script's, 5 included.
#
#   sh tests/run.sh [pytest arguments]
set -eu
cd "$(dirname "$0")/.."

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

missing=""
# mariadb-server, galera-4 and rsync: the Galera cluster of tests/support/galera.py (its SST
# script comes with mariadb-server).
for package in mariadb-server-core mariadb-client mariadb-server galera-4 rsync dovecot-imapd \
    chromium fonts-wqy-microhei; do
    installed "$package" || missing="$missing $package"
done
if [ -n "$missing" ]; then
    as_root=""
    [ "$(id -u)" -eq 0 ] || as_root="sudo"
    echo "installing:$missing"
    # The tests start their own Dovecot on 127.0.0.1; keep the package's system service from
    # starting on every interface (policy-rc.d is consulted by the packages' scripts).
    guard=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        guard=/usr/sbin/policy-rc.d
        printf '#!/bin/sh\nexit 101\n' | $as_root tee "$guard" >/dev/null
        $as_root chmod 755 "$guard"
        trap '$as_root rm -f "$guard"' EXIT
    fi
    $as_root apt-get update
    # shellcheck disable=SC2086 # one word per package
    $as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y $missing
    if [ -n "$guard" ]; then
        $as_root rm -f "$guard"
        trap - EXIT
    fi
fi

python3 -m pip install --quiet -e '.[test]'
exec python3 -m pytest "$@"
