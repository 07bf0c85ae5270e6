# Freshness and replay (SPEC section 2, steps 4 and 8 of section 4):
# created within [now - max_age, now + clock_skew], expires, nonces kept
# per keyid in the replay zone, fwgate_require_nonce.
#
# Signatures are made when the suite starts; the margins below leave a
# minute for the suite to run.

use Test::Nginx::Socket 'no_plan';
use t::FwgateTest;

fw_setup('fwt11:');

device('LS6-100001', model => 'LS-6000i', alg => 'hmac-sha256');
device('LS6-100002', model => 'LS-6000i', alg => 'ed25519');
artifact('ls6000i-2.5.0.bin', version => '2.5.0', models => 'LS-6000i');
rollout('LS-6000i', artifact => 'ls6000i-2.5.0.bin', percent => 100);

our $FW = '/firmware/ls6000i-2.5.0.bin';
our %S = (device => 'LS6-100001', path => $FW);

repeat_each(1);
no_shuffle();
no_long_string();
add_block_preprocessor(\&t::FwgateTest::preprocess);

run_tests();

__DATA__

=== TEST 1: created now
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(%::S)
--- error_code: 200
--- response_headers
X-Fwgate-Reason: ok



=== TEST 2: created 100 s ago, within the default 300 s
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(%::S, created => time - 100)
--- error_code: 200
--- response_headers
X-Fwgate-Reason: ok



=== TEST 3: created 400 s ago
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(%::S, created => time - 400)
--- error_code: 401
--- response_headers
X-Fwgate-Reason: stale



=== TEST 4: created a day ago, with a valid signature of an ed25519 key
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(%::S, device => 'LS6-100002', created => time - 86400)
--- error_code: 401
--- response_headers
X-Fwgate-Reason: stale



=== TEST 5: created 20 s ahead, within the default 30 s skew
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(%::S, created => time + 20)
--- error_code: 200
--- response_headers
X-Fwgate-Reason: ok



=== TEST 6: created 5 minutes ahead
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(%::S, created => time + 300)
--- error_code: 401
--- response_headers
X-Fwgate-Reason: stale



=== TEST 7: expires has passed
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(%::S, created => time - 20, expires => time - 10)
--- error_code: 401
--- response_headers
X-Fwgate-Reason: stale



=== TEST 8: expires in the future
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(%::S, expires => time + 120)
--- error_code: 200
--- response_headers
X-Fwgate-Reason: ok



=== TEST 9: no created parameter
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(%::S, no_created => 1)
--- error_code: 401
--- response_headers
X-Fwgate-Reason: stale



=== TEST 10: fwgate_max_age 30s: 60 s old is stale
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
        fwgate_max_age 30s;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(%::S, created => time - 60)
--- error_code: 401
--- response_headers
X-Fwgate-Reason: stale



=== TEST 11: fwgate_max_age 1h: 20 minutes old is fresh
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
        fwgate_max_age 1h;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(%::S, created => time - 1200)
--- error_code: 200
--- response_headers
X-Fwgate-Reason: ok



=== TEST 12: fwgate_clock_skew 1h: 30 minutes ahead is fresh
(the default 30 s refuses 5 minutes ahead, TEST 6)
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
        fwgate_clock_skew 1h;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(%::S, created => time + 1800)
--- error_code: 200
--- response_headers
X-Fwgate-Reason: ok



=== TEST 13: stale is decided before the device is looked up
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(%::S, keyid => 'NO-SUCH-DEVICE', created => time - 1000)
--- error_code: 401
--- response_headers
X-Fwgate-Reason: stale



=== TEST 14: a nonce replayed
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request eval
["GET /firmware/ls6000i-2.5.0.bin", "GET /firmware/ls6000i-2.5.0.bin"]
--- more_headers eval
::sign(%::S, nonce => 1)
--- error_code eval
[200, 401]
--- response_headers eval
["X-Fwgate-Reason: ok", "X-Fwgate-Reason: replay"]



=== TEST 15: a fresh nonce each time
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request eval
["GET /firmware/ls6000i-2.5.0.bin", "GET /firmware/ls6000i-2.5.0.bin"]
--- more_headers eval
[::sign(%::S, nonce => 1), ::sign(%::S, nonce => 1)]
--- error_code eval
[200, 200]



=== TEST 16: the same nonce from two devices: nonces are per keyid
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request eval
["GET /firmware/ls6000i-2.5.0.bin", "GET /firmware/ls6000i-2.5.0.bin"]
--- more_headers eval
[::sign(%::S, nonce => 'shared-nonce-16'),
 ::sign(%::S, device => 'LS6-100002', nonce => 'shared-nonce-16')]
--- error_code eval
[200, 200]



=== TEST 17: a nonce under a bad signature is not recorded
(step 8 comes after step 7: a forger cannot burn a device's nonce)
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request eval
["GET /firmware/ls6000i-2.5.0.bin", "GET /firmware/ls6000i-2.5.0.bin"]
--- more_headers eval
[::sign(%::S, nonce => "n17-$$", sig_b64 => 'A' x 44),
 ::sign(%::S, nonce => "n17-$$")]
--- error_code eval
[401, 200]
--- response_headers eval
["X-Fwgate-Reason: bad_signature", "X-Fwgate-Reason: ok"]



=== TEST 18: a replayed nonce is refused on a Range resumption too
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request eval
["GET /firmware/ls6000i-2.5.0.bin", "GET /firmware/ls6000i-2.5.0.bin"]
--- more_headers eval
[::sign(%::S, nonce => "n18-$$"), ::sign(%::S, nonce => "n18-$$") . "Range: bytes=0-9\n"]
--- error_code eval
[200, 401]



=== TEST 19: fwgate_require_nonce on, no nonce
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
        fwgate_require_nonce on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(%::S)
--- error_code: 401
--- response_headers
X-Fwgate-Reason: insufficient_coverage



=== TEST 20: fwgate_require_nonce on, with a nonce, then replayed
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
        fwgate_require_nonce on;
    }
--- request eval
["GET /firmware/ls6000i-2.5.0.bin", "GET /firmware/ls6000i-2.5.0.bin"]
--- more_headers eval
::sign(%::S, nonce => 1)
--- error_code eval
[200, 401]
--- response_headers eval
["X-Fwgate-Reason: ok", "X-Fwgate-Reason: replay"]



=== TEST 21: a nonce is refused in another location of the same node
--- config
    fwgate_required_components "@method" "x-device-model"
                               "x-firmware-version";
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
    location /mirror/ {
        alias $TEST_NGINX_FW_ROOT/firmware/;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request eval
["GET /firmware/ls6000i-2.5.0.bin", "GET /mirror/ls6000i-2.5.0.bin"]
--- more_headers eval
::sign(%::S, nonce => "n21-$$",
       components => ['@method', 'x-device-model', 'x-firmware-version'])
--- error_code eval
[200, 401]
--- response_headers eval
["X-Fwgate-Reason: ok", "X-Fwgate-Reason: replay"]
