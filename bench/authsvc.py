#!/usr/bin/env python3
"""The hand-rolled alternative to fwgate that `make bench` measures: an
nginx `auth_request` to this small service, which does the same checks as
the gate for hmac-sha256 devices, against the same Redis registry:

  signature fields present and parsed, required components covered,
  created fresh, nonce not replayed (in process memory), claims present,
  device record (HGETALL), HMAC over the RFC 9421 signature base compared
  in constant time, status, model, artifact lists the model, rollout
  active and targeting the artifact, cohort bucket (SHA-256 of
  salt:device), no downgrade.

Records are read from Redis on every request (one pipelined round trip),
as a simple service would; RESP is spoken over a raw socket per thread.
The signature base is built from headers nginx adds to the subrequest:
X-Original-Method, X-Original-URI, and Host ($http_host).

usage: authsvc.py PORT REDIS_PORT [PREFIX]
"""

import base64
import hashlib
import hmac
import re
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PREFIX = 'fwgate:'
REDIS_PORT = 6379
MAX_AGE = 3600
SKEW = 30
REQUIRED = ('"@method"', '"@path"', '"x-device-model"',
            '"x-firmware-version"')

SI_RE = re.compile(r'(?:^|,\s*)fw=(\([^)]*\)(?:;[^,]*)?)')
SIG_RE = re.compile(r'(?:^|,\s*)fw=:([A-Za-z0-9+/=]*):')
PARAM_RE = re.compile(r';([a-z]+)=("(?:[^"\\]|\\.)*"|[^;]*)')
VER_RE = re.compile(r'^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?'
                    r'(?:\+[0-9A-Za-z.-]+)?$')

nonces = {}
nonces_lock = threading.Lock()
local = threading.local()


def redis_conn():
    c = getattr(local, 'conn', None)
    if c is None:
        s = socket.create_connection(('127.0.0.1', REDIS_PORT))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        c = local.conn = (s, s.makefile('rb'))
    return c


def resp_cmd(*args):
    out = [b'*%d\r\n' % len(args)]
    for a in args:
        if isinstance(a, str):
            a = a.encode()
        out.append(b'$%d\r\n%s\r\n' % (len(a), a))
    return b''.join(out)


def resp_read(f):
    line = f.readline()
    t, rest = line[:1], line[1:-2]
    if t == b'+':
        return rest
    if t == b'-':
        raise IOError(rest.decode())
    if t == b':':
        return int(rest)
    if t == b'$':
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)
        return data[:-2]
    if t == b'*':
        n = int(rest)
        return None if n < 0 else [resp_read(f) for _ in range(n)]
    raise IOError('bad reply')


def pipeline(*cmds):
    s, f = redis_conn()
    s.sendall(b''.join(resp_cmd(*c) for c in cmds))
    return [resp_read(f) for _ in cmds]


def as_dict(flat):
    return {flat[i].decode(): flat[i + 1].decode()
            for i in range(0, len(flat or []), 2)}


def semver(v):
    m = VER_RE.match(v or '')
    if not m:
        return None
    pre = m.group(4)
    # enough for the bench: releases above pre-releases
    return (int(m.group(1)), int(m.group(2)), int(m.group(3)),
            0 if pre else 1, pre or '')


def decide(h):
    si_field = h.get('Signature-Input')
    sig_field = h.get('Signature')
    if not si_field or not sig_field:
        return 401, 'missing_signature'
    m1 = SI_RE.search(si_field)
    m2 = SIG_RE.search(sig_field)
    if not m1 or not m2:
        return 400, 'malformed_signature'
    params_value = m1.group(1)
    inner, _, params = params_value.partition(')')
    comps = inner[1:].split()
    p = {k: v.strip('"') for k, v in PARAM_RE.findall(params)}
    try:
        sig = base64.b64decode(m2.group(1), validate=True)
        created = int(p['created'])
    except Exception:
        return 400, 'malformed_signature'
    keyid = p.get('keyid')
    if not keyid:
        return 400, 'malformed_signature'
    if any(r not in comps for r in REQUIRED):
        return 401, 'insufficient_coverage'
    alg = p.get('alg')
    if alg is not None and alg != 'hmac-sha256':
        return 401, 'unsupported_alg'
    now = int(time.time())
    if created < now - MAX_AGE or created > now + SKEW:
        return 401, 'stale'
    model = h.get('X-Device-Model')
    ver = h.get('X-Firmware-Version')
    dv = semver(ver)
    if not model or dv is None:
        return 400, 'bad_claims'

    uri = h.get('X-Original-URI', '/')
    path = uri.split('?', 1)[0]
    artifact = path.rsplit('/', 1)[-1]
    values = {'"@method"': h.get('X-Original-Method', 'GET'),
              '"@path"': path,
              '"@authority"': (h.get('Host') or '').lower(),
              '"x-device-model"': model.strip(),
              '"x-firmware-version"': ver.strip()}
    lines = []
    for c in comps:
        if c not in values:
            return 400, 'malformed_signature'
        lines.append('%s: %s' % (c, values[c]))
    lines.append('"@signature-params": %s' % params_value)
    base = '\n'.join(lines).encode()

    dev, art, ro, canary, excl = pipeline(
        ('HGETALL', PREFIX + 'device:' + keyid),
        ('HGETALL', PREFIX + 'artifact:' + artifact),
        ('HGETALL', PREFIX + 'rollout:' + model),
        ('SISMEMBER', PREFIX + 'rollout:' + model + ':canary', keyid),
        ('SISMEMBER', PREFIX + 'rollout:' + model + ':exclude', keyid))
    dev, art, ro = as_dict(dev), as_dict(art), as_dict(ro)

    if not dev:
        return 401, 'unknown_device'
    if dev.get('alg') != 'hmac-sha256':
        return 401, 'unsupported_alg'
    mac = hmac.new(base64.b64decode(dev.get('key', '')), base,
                   hashlib.sha256).digest()
    if not hmac.compare_digest(mac, sig):
        return 401, 'bad_signature'
    nonce = p.get('nonce')
    if nonce:
        k = keyid + '\0' + nonce
        with nonces_lock:
            if nonces.get(k, 0) > now:
                return 401, 'replay'
            nonces[k] = created + MAX_AGE + SKEW
            if len(nonces) > 2000000:
                for key in [x for x, e in nonces.items() if e <= now]:
                    del nonces[key]
    if dev.get('status') != 'active':
        return 403, 'revoked'
    if dev.get('model') != model:
        return 403, 'model_mismatch'
    if not art:
        return 404, 'unknown_artifact'
    av = semver(art.get('version'))
    if av is None:
        return 404, 'unknown_artifact'
    if dev['model'] not in art.get('models', '').split():
        return 403, 'incompatible'
    if not ro or ro.get('artifact') != artifact:
        return 403, 'not_released'
    if ro.get('state') != 'active':
        return 403, 'rollout_' + ro.get('state', 'paused')
    salt = ro.get('salt') or artifact
    d = hashlib.sha256((salt + ':' + keyid).encode()).digest()
    bucket = int.from_bytes(d[:4], 'big') % 10000
    pct = round(float(ro.get('percent', '0')) * 100)
    if not canary and (excl or bucket >= pct):
        return 403, 'not_in_cohort'
    if av < dv and ro.get('downgrade') != '1':
        return 403, 'downgrade'
    return 200, 'ok'


class Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def do_GET(self):
        try:
            status, reason = decide(self.headers)
        except Exception as e:      # a registry failure: fail closed
            local.conn = None
            status, reason = 503, 'registry_unavailable: %s' % e
        self.send_response(status)
        self.send_header('X-Fwgate-Reason', reason)
        self.send_header('Content-Length', '0')
        self.end_headers()

    def log_message(self, *args):
        pass


def main():
    global REDIS_PORT, PREFIX
    port = int(sys.argv[1])
    REDIS_PORT = int(sys.argv[2])
    if len(sys.argv) > 3:
        PREFIX = sys.argv[3]
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer.request_queue_size = 256
    srv = ThreadingHTTPServer(('127.0.0.1', port), Handler)
    srv.serve_forever()


if __name__ == '__main__':
    main()
