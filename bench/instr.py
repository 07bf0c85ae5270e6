#!/usr/bin/env python3
"""Instructions per request from two callgrind dumps (bench/instr.sh):
gated and plain, the totals and the functions that differ most (self
cost; INCLUSIVE=1 in the environment for inclusive cost)."""

import os
import re
import subprocess
import sys


def load(path):
    args = ['callgrind_annotate', '--auto=no', '--threshold=100']
    if os.environ.get('INCLUSIVE') == '1':
        args.append('--inclusive=yes')
    out = subprocess.run(args + [path], capture_output=True, text=True,
                         check=True).stdout
    costs = {}
    for line in out.splitlines():
        m = re.match(r'\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*)$', line)
        if not m:
            continue
        name = re.sub(r'\s*\[.*\]$', '', m.group(2))
        name = name.split(':', 1)[-1] if ':' in name else name
        costs[name] = costs.get(name, 0) + int(m.group(1).replace(',', ''))
    return costs


def main():
    gated, plain, n = load(sys.argv[1]), load(sys.argv[2]), int(sys.argv[3])
    tg, tp = gated.get('PROGRAM TOTALS', 0), plain.get('PROGRAM TOTALS', 0)
    print('instructions per request: gated %.0f, plain %.0f, the gate %.0f'
          % (tg / n, tp / n, (tg - tp) / n))
    skip = {'PROGRAM TOTALS', 'main', '(below main)',
            '__libc_start_main@@GLIBC_2.34'}
    rows = sorted(((gated.get(k, 0) - plain.get(k, 0)) / n,
                   gated.get(k, 0) / n, plain.get(k, 0) / n, k)
                  for k in set(gated) | set(plain)
                  if k not in skip and gated.get(k, 0) != tg)
    print('%8s %8s %8s  %s' % ('gate', 'gated', 'plain', 'function'))
    for row in reversed(rows[-int(os.environ.get('TOP', '30')):]):
        print('%8.0f %8.0f %8.0f  %s' % row)


if __name__ == '__main__':
    main()
