# Range requests and resumption of an allowed artifact (SPEC section 4:
# "Re-downloads and Range requests of the same artifact by the same device
# pass the same way"), from static files, through proxy_pass, and through
# proxy_cache, which must never serve a cached file to a refused device.

use Test::Nginx::Socket 'no_plan';
use t::FwgateTest;
use MIME::Base64 qw(encode_base64);

fw_setup('fwt17:');

device('LS6-700001', model => 'LS-6000i', alg => 'ed25519');
device('LS7-700001', model => 'LS-7000i', alg => 'hmac-sha256');
our $SHA = artifact('ls6000i-2.5.0.bin', version => '2.5.0',
                    models => 'LS-6000i', file_size => 100000);
our $SIZE = 100000;
our $DIGEST = 'sha-256=:' . encode_base64(pack('H*', $SHA), '') . ':';
rollout('LS-6000i', artifact => 'ls6000i-2.5.0.bin');

our $FW = '/firmware/ls6000i-2.5.0.bin';
our $H = sign(device => 'LS6-700001', path => $FW);
our $HEAD = sign(device => 'LS6-700001', path => $FW, method => 'HEAD');
our $H7 = sign(device => 'LS7-700001', model => 'LS-7000i', path => $FW);

our $ORIGIN = <<'_EOC_';
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        root $TEST_NGINX_FW_ROOT;
    }
_EOC_

repeat_each(2);
no_long_string();
add_block_preprocessor(\&t::FwgateTest::preprocess);

run_tests();

__DATA__

=== TEST 1: the first 100 bytes
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval: $::H . "Range: bytes=0-99\n"
--- error_code: 206
--- response_headers eval
"Content-Range: bytes 0-99/$::SIZE
Content-Length: 100
X-Firmware-Version: 2.5.0
Repr-Digest: $::DIGEST
X-Fwgate-Reason: ok"
--- response_body eval
::fw_bytes('ls6000i-2.5.0.bin', 0, 100)



=== TEST 2: resuming from byte 65536
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval: $::H . "Range: bytes=65536-\n"
--- error_code: 206
--- response_headers eval
"Content-Range: bytes 65536-99999/$::SIZE
Repr-Digest: $::DIGEST"
--- response_body eval
::fw_bytes('ls6000i-2.5.0.bin', 65536)



=== TEST 3: the last 10 bytes
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval: $::H . "Range: bytes=-10\n"
--- error_code: 206
--- response_body eval
::fw_bytes('ls6000i-2.5.0.bin', $::SIZE - 10)



=== TEST 4: the whole file, then a resumption, on one connection's worth
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request eval
["GET /firmware/ls6000i-2.5.0.bin", "GET /firmware/ls6000i-2.5.0.bin"]
--- more_headers eval
[$::H, $::H . "Range: bytes=500-599\n"]
--- error_code eval
[200, 206]
--- response_body eval
[::fw_bytes('ls6000i-2.5.0.bin', 0), ::fw_bytes('ls6000i-2.5.0.bin', 500, 100)]



=== TEST 5: a range past the end
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval: $::H . "Range: bytes=200000-\n"
--- error_code: 416



=== TEST 6: a refused device gets no part of the file
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval: $::H7 . "Range: bytes=0-99\n"
--- error_code: 403
--- response_headers
X-Fwgate-Reason: incompatible
!Content-Range



=== TEST 7: an unsigned range request
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers
Range: bytes=0-99
--- error_code: 401
--- response_headers
!Content-Range



=== TEST 8: HEAD, signed as HEAD
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
HEAD /firmware/ls6000i-2.5.0.bin
--- more_headers eval: $::HEAD
--- error_code: 200
--- response_headers eval
"Content-Length: $::SIZE
Repr-Digest: $::DIGEST"



=== TEST 9: through proxy_pass to an origin, with a range
--- http_config eval: ::http_config() . $::ORIGIN
--- config
    location /firmware/ {
        fwgate on;
        fwgate_expose_reason on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval: $::H . "Range: bytes=1000-1999\n"
--- error_code: 206
--- response_headers eval
"Content-Range: bytes 1000-1999/$::SIZE
X-Firmware-Version: 2.5.0
Repr-Digest: $::DIGEST"
--- response_body eval
::fw_bytes('ls6000i-2.5.0.bin', 1000, 1000)



=== TEST 10: through proxy_cache: an allowed range, then a refused device
--- http_config eval
::http_config() . $::ORIGIN
. "    proxy_cache_path $ENV{TEST_NGINX_FW_ROOT}/../cache keys_zone=fw:1m;\n"
--- config
    location /firmware/ {
        fwgate on;
        fwgate_expose_reason on;
        proxy_cache fw;
        proxy_cache_valid 200 1h;
        add_header X-Cache $upstream_cache_status always;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1;
    }
--- request eval
["GET /firmware/ls6000i-2.5.0.bin", "GET /firmware/ls6000i-2.5.0.bin",
 "GET /firmware/ls6000i-2.5.0.bin"]
--- more_headers eval
[$::H . "Range: bytes=0-9\n", $::H7, $::H . "Range: bytes=10-19\n"]
--- error_code eval
[206, 403, 206]
--- response_headers eval
["X-Fwgate-Reason: ok", "X-Fwgate-Reason: incompatible\n!Content-Range",
 "X-Fwgate-Reason: ok\nX-Cache: HIT\nContent-Range: bytes 10-19/$::SIZE"]
