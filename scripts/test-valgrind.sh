#!/usr/bin/env bash
# `make test-valgrind`: the Test::Nginx suites with nginx under valgrind's
# memcheck, through Test::Nginx's own TEST_NGINX_USE_VALGRIND convention
# (the value is valgrind's options; the real Test::Nginx when installed,
# t/compat otherwise), one log per nginx process in build/valgrind/.
#
# Fails when the suites fail, when no nginx ran under valgrind, or when an
# error record or a definite leak has a frame in our code (the module,
# the core, hiredis).  nginx's own known noise is in t/faults/valgrind.supp.
#
# env: VALGRIND_SUITES (default: every nginx suite in t/)
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
# shellcheck source=scripts/lib.sh
. scripts/lib.sh
OUT=$ROOT/build/valgrind

need_pkgs valgrind

rm -rf "$OUT"
mkdir -p "$OUT"

# shellcheck disable=SC2206
SUITES=(${VALGRIND_SUITES:-$(ls t/[0-9]*.t | grep -v '^t/000-')})

# one line: the real Test::Nginx hands it to a shell
VG="--tool=memcheck --leak-check=full --show-leak-kinds=definite"
VG="$VG --errors-for-leak-kinds=definite --keep-debuginfo=yes"
VG="$VG --num-callers=40 --suppressions=$ROOT/t/faults/valgrind.supp"
export TEST_NGINX_USE_VALGRIND="$VG --log-file=$OUT/vg.%p.log"
export TEST_NGINX_SERVROOT=${TEST_NGINX_SERVROOT:-$OUT/servroot}

rc=0
bash t/run-suites.sh "${SUITES[@]}" || rc=$?

python3 - "$OUT" <<'PY' || rc=1
import glob, re, sys

logs = glob.glob(sys.argv[1] + '/vg.*.log')
ours = re.compile(r'ngx_http_fwgate|\bfwg_|hiredis|redisAsync|redisReader')
total = mine = 0
shown = 0

for path in logs:
    pid_records = {}
    with open(path, errors='replace') as f:
        for line in f:
            m = re.match(r'==(\d+)== ?(.*)', line)
            if not m:
                continue
            pid, text = m.groups()
            rec = pid_records.setdefault(pid, [])
            if text.strip() == '':
                if rec:
                    total += 1
                    if any(ours.search(l) for l in rec):
                        mine += 1
                        if shown < 5:
                            shown += 1
                            print('valgrind: in %s:' % path)
                            print('\n'.join('    ' + l for l in rec[:25]))
                pid_records[pid] = []
                continue
            rec.append(text)

print('valgrind: %d nginx processes, %d error or leak records, %d in '
      'fwgate, core or hiredis code' % (len(logs), total, mine))
sys.exit(1 if mine or not logs else 0)
PY

exit $rc
