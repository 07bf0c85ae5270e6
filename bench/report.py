#!/usr/bin/env python3
"""Table and targets for `make bench` from build/bench/results.tsv.

usage: report.py RESULTS ED_VERIFY EC_VERIFY NCPU THREADS CONNS DUR ROUNDS
"""

import csv
import sys
from collections import OrderedDict


def main():
    res, ed_v, ec_v = sys.argv[1], float(sys.argv[2] or 0), \
        float(sys.argv[3] or 0)
    ncpu, threads, conns, dur, rounds = sys.argv[4:9]

    agg = OrderedDict()
    with open(res) as f:
        for row in csv.DictReader(f, delimiter='\t'):
            k = (row['scenario'], int(row['wp']), row['side'])
            a = agg.setdefault(k, dict(req=0, us=0, bytes=0, p50=[], p99=[],
                                       bad=0, ngx=0, rds=0, aut=0, usr=0))
            a['ngx'] += int(row.get('nginx_ticks') or 0)
            a['rds'] += int(row.get('redis_ticks') or 0)
            a['aut'] += int(row.get('authsvc_ticks') or 0)
            a['usr'] += int(row.get('nginx_user_ticks') or 0)
            a['req'] += int(row['requests'] or 0)
            a['us'] += int(row['duration_us'] or 0)
            a['bytes'] += int(row['bytes'] or 0)
            a['p50'].append(int(row['p50_us'] or 0))
            a['p99'].append(int(row['p99_us'] or 0))
            a['bad'] += int(row['non2xx'] or 0) + int(row['sockerr'] or 0)

    def rate(a):
        return a['req'] * 1e6 / a['us'] if a['us'] else 0.0

    def mbs(a):
        return a['bytes'] / a['us'] if a['us'] else 0.0  # bytes/us = MB/s

    out = []
    w = out.append
    w('fwgate bench: %s CPUs, wrk -t%s -c%s, %s s per run, %s rounds of '
      '(plain, gated) per scenario' % (ncpu, threads, conns, dur, rounds))
    w('')
    w('%-22s %2s %-6s %9s %7s %7s %8s %6s %6s %6s %6s %6s %6s'
      % ('scenario', 'wp', 'side', 'req/s', 'p50 ms', 'p99 ms', 'MB/s',
         'ratio', 'errors', 'ngx', 'ngxusr', 'redis', 'authsv'))

    def cpu(a, key):
        # clock ticks (1/100 s) -> CPU microseconds per request
        return a[key] * 10000.0 / a['req'] if a['req'] else 0.0
    rates = {}
    for (scen, wp, side), a in agg.items():
        r = rate(a)
        rates[(scen, wp, side)] = (r, mbs(a), a['bad'])
        plain = agg.get((scen, wp, 'plain'))
        ratio = ''
        if side == 'gated' and plain and rate(plain):
            if scen.startswith('hmac-16m'):
                ratio = '%.3f' % (mbs(a) / mbs(plain))
            else:
                ratio = '%.3f' % (r / rate(plain))
        w('%-22s %2d %-6s %9.0f %7.3f %7.3f %8.1f %6s %6d %6.1f %6.1f %6.1f'
          ' %6.1f'
          % (scen, wp, side, r, sum(a['p50']) / len(a['p50']) / 1000.0,
             sum(a['p99']) / len(a['p99']) / 1000.0, mbs(a), ratio,
             a['bad'], cpu(a, 'ngx'), cpu(a, 'usr'), cpu(a, 'rds'),
             cpu(a, 'aut')))
    w('ngx, redis, authsv: CPU microseconds per request of the nginx '
      'workers, redis-server and the auth_request service (from '
      '/proc/PID/stat); ngxusr: the workers\' user time alone (ngx less '
      'ngxusr is kernel time)')
    w('')
    w('openssl speed, one core: ed25519 %.0f verify/s, ecdsa-p256 %.0f '
      'verify/s' % (ed_v, ec_v))
    w('')
    w('targets (issue 6):')

    def get(scen, wp, side):
        return rates.get((scen, wp, side))

    wps = sorted({k[1] for k in agg})
    for wp in wps:
        checks = []

        def ratio_check(label, scen, want, mb=False):
            g, p = get(scen, wp, 'gated'), get(scen, wp, 'plain')
            if not g or not p or not p[0]:
                return
            got = (g[1] / p[1]) if mb else (g[0] / p[0])
            checks.append((label, got, want, g[2]))

        ratio_check('warm hmac 1 KiB / plain', 'hmac-1k-1dev', 0.90)
        for scen in [k[0] for k in agg if k[0].startswith('hmac-1k-')
                     and k[0] != 'hmac-1k-1dev' and k[1] == wp
                     and k[2] == 'gated']:
            ratio_check('warm hmac 1 KiB many devices / plain '
                        '(no target; shown)', scen, 0.0)
        for scen, v, name in (('ed25519-1k', ed_v, 'ed25519'),
                              ('ecdsa-p256-1k', ec_v, 'ecdsa')):
            g, p = get(scen, wp, 'gated'), get(scen, wp, 'plain')
            if g and p and p[0] and v:
                bound = 1.0 / (1.0 / p[0] + 1.0 / (v * wp))
                checks.append(('warm %s / serial bound %.0f' % (name, bound),
                               g[0] / bound, 0.85, g[2]))
        ratio_check('cold hmac / plain', 'cold-hmac-1k', 0.5)
        ratio_check('16 MiB MB/s / plain', 'hmac-16m', 0.97, mb=True)
        g, a = get('hmac-1k-1dev', wp, 'gated'), \
            get('auth_request-py', wp, 'gated')
        if g and a and a[0]:
            checks.append(('gate / auth_request alternative', g[0] / a[0],
                           5.0, g[2] + a[2]))
        for label, got, want, bad in checks:
            verdict = 'met' if got >= want else 'MISSED'
            if want == 0:
                verdict = ''
            if bad:
                verdict += ' (with %d errors: invalid)' % bad
            w('  wp=%d %-48s %7.3f >= %-5s %s' % (wp, label, got, want,
                                                  verdict))

    # issue 16 counts the gate in CPU microseconds of the nginx workers
    # a request over plain nginx's (the ngx column), cold as a ratio
    w('')
    w('targets (issue 16; the signed algorithms, 16 MiB and auth_request '
      'as above):')
    for wp in wps:
        def over(label, scen, most):
            g, p = agg.get((scen, wp, 'gated')), agg.get((scen, wp, 'plain'))
            if not g or not p or not g['req'] or not p['req']:
                return
            got = cpu(g, 'ngx') - cpu(p, 'ngx')
            verdict = 'met' if got <= most else 'MISSED'
            if g['bad'] or p['bad']:
                verdict += ' (with errors: invalid)'
            w('  wp=%d %-48s %+7.2f <= %-5s %s' % (wp, label, got, most,
                                                   verdict))

        over('warm hmac 1 KiB, 1 device: CPU us over plain',
             'hmac-1k-1dev', 3.0)
        for scen in [k[0] for k in agg if k[0].startswith('hmac-1k-')
                     and k[0].endswith('dev') and k[0] != 'hmac-1k-1dev'
                     and k[1] == wp and k[2] == 'gated']:
            over('warm hmac 1 KiB, %s devices: CPU us over plain'
                 % scen[len('hmac-1k-'):-len('dev')], scen, 5.0)
        g, p = get('cold-hmac-1k', wp, 'gated'), get('cold-hmac-1k', wp,
                                                      'plain')
        if g and p and p[0]:
            got = g[0] / p[0]
            verdict = 'met' if got >= 0.6 else 'MISSED'
            if g[2] or p[2]:
                verdict += ' (with errors: invalid)'
            w('  wp=%d %-48s %7.3f >= %-5s %s' % (wp, 'cold hmac / plain',
                                                  got, 0.6, verdict))
    print('\n'.join(out))


if __name__ == '__main__':
    main()
