# The incident fwgate exists for: a 6000i must never get the 7000i image,
# whatever the rollout says (SPEC sections 1 and 4, steps 10 and 12), and
# hardware revisions in an artifact's models list.

use Test::Nginx::Socket 'no_plan';
use t::FwgateTest;

# fwt13: a sane registry
fw_setup('fwt13:');

device('LS6-300001', model => 'LS-6000i', alg => 'ed25519');
device('LS7-300001', model => 'LS-7000i', alg => 'hmac-sha256');
device('L61-B00001', model => 'LS-6100i', alg => 'hmac-sha256', hw => 'B');
device('L61-A00001', model => 'LS-6100i', alg => 'hmac-sha256', hw => 'A');
device('L61-000001', model => 'LS-6100i', alg => 'hmac-sha256');
device('L62-C00001', model => 'LS-6200i', alg => 'hmac-sha256', hw => 'C');
device('L63-C00001', model => 'LS-6300i', alg => 'hmac-sha256', hw => 'C');
device('L63-D00001', model => 'LS-6300i', alg => 'hmac-sha256', hw => 'D');

artifact('ls6000i-2.5.0.bin', version => '2.5.0', models => 'LS-6000i');
artifact('ls7000i-3.0.0.bin', version => '3.0.0', models => 'LS-7000i');
artifact('ls6100i-b-1.1.0.bin', version => '1.1.0', models => 'LS-6100i:B');
artifact('ls6200i-1.0.0.bin', version => '1.0.0', models => 'LS-6200i');
artifact('multi-1.0.0.bin', version => '1.0.0',
         models => 'LS-5000i LS-6300i:C LS-6300i:E');

rollout('LS-6000i', artifact => 'ls6000i-2.5.0.bin');
rollout('LS-7000i', artifact => 'ls7000i-3.0.0.bin');
rollout('LS-6100i', artifact => 'ls6100i-b-1.1.0.bin');
rollout('LS-6200i', artifact => 'ls6200i-1.0.0.bin');
rollout('LS-6300i', artifact => 'multi-1.0.0.bin');

# fwt13b: the incident's registry: the 6000i rollout targets the 7000i
# image; look-alike model names
{
    local $t::FwgateTest::PREFIX = 'fwt13b:';
    flush_prefix('fwt13b:');
    device('LS6-300001', model => 'LS-6000i',
           key => $t::FwgateTest::KEYS{'LS6-300001'});
    artifact('ls7000i-3.0.0.bin', version => '3.0.0', models => 'LS-7000i');
    artifact('ls6000i-2.5.0.bin', version => '2.5.0', models => 'LS-6000i');
    artifact('ls6000ix-1.0.0.bin', version => '1.0.0',
             models => 'LS-6000iX LS-60000i XLS-6000i ls-6000i');
    rollout('LS-6000i', artifact => 'ls7000i-3.0.0.bin', percent => 100);
    canary('LS-6000i', 'LS6-300001');
}

our %S6 = (device => 'LS6-300001', model => 'LS-6000i', version => '2.4.1');
our %S7 = (device => 'LS7-300001', model => 'LS-7000i', version => '2.9.0');

our $HTTP_B = http_config(prefix => 'fwt13b:');

repeat_each(2);
no_long_string();
add_block_preprocessor(\&t::FwgateTest::preprocess);

run_tests();

__DATA__

=== TEST 1: a 6000i gets the 6000i image
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(%::S6, path => '/firmware/ls6000i-2.5.0.bin')
--- error_code: 200
--- response_headers
X-Fwgate-Reason: ok
X-Firmware-Version: 2.5.0



=== TEST 2: a 7000i gets the 7000i image
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls7000i-3.0.0.bin
--- more_headers eval
::sign(%::S7, path => '/firmware/ls7000i-3.0.0.bin')
--- error_code: 200
--- response_headers
X-Fwgate-Reason: ok
X-Firmware-Version: 3.0.0



=== TEST 3: the 7000i image asked for by a 6000i
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls7000i-3.0.0.bin
--- more_headers eval
::sign(%::S6, path => '/firmware/ls7000i-3.0.0.bin')
--- error_code: 403
--- response_headers
X-Fwgate-Reason: incompatible
!X-Firmware-Version
!Repr-Digest
--- response_body_unlike eval
qr/\Q${\ ::fw_bytes('ls7000i-3.0.0.bin', 0, 32)}\E/



=== TEST 4: the 6000i image asked for by a 7000i
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(%::S7, path => '/firmware/ls6000i-2.5.0.bin')
--- error_code: 403
--- response_headers
X-Fwgate-Reason: incompatible



=== TEST 5: a 6000i claiming to be a 7000i
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls7000i-3.0.0.bin
--- more_headers eval
::sign(%::S6, model => 'LS-7000i', path => '/firmware/ls7000i-3.0.0.bin')
--- error_code: 403
--- response_headers
X-Fwgate-Reason: model_mismatch



=== TEST 6: model names compare exactly (case)
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(%::S6, model => 'ls-6000i', path => '/firmware/ls6000i-2.5.0.bin')
--- error_code: 403
--- response_headers
X-Fwgate-Reason: model_mismatch



=== TEST 7: the 6000i rollout misconfigured to target the 7000i image
(the device is even a canary: still refused)
--- http_config eval: $::HTTP_B
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls7000i-3.0.0.bin
--- more_headers eval
::sign(%::S6, path => '/firmware/ls7000i-3.0.0.bin')
--- error_code: 403
--- response_headers
X-Fwgate-Reason: incompatible
!X-Firmware-Version



=== TEST 8: ... and its own image is then not released
--- http_config eval: $::HTTP_B
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(%::S6, path => '/firmware/ls6000i-2.5.0.bin')
--- error_code: 403
--- response_headers
X-Fwgate-Reason: not_released



=== TEST 9: the misconfigured rollout, reached by a Range request
--- http_config eval: $::HTTP_B
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls7000i-3.0.0.bin
--- more_headers eval
::sign(%::S6, path => '/firmware/ls7000i-3.0.0.bin') . "Range: bytes=0-15\n"
--- error_code: 403
--- response_headers
X-Fwgate-Reason: incompatible



=== TEST 10: the misconfigured rollout, through a regex location
--- http_config eval: $::HTTP_B
--- config
    location ~ ^/dl/(?<fw>[a-z0-9.-]+)$ {
        alias $TEST_NGINX_FW_ROOT/firmware/$fw;
        fwgate on;
        fwgate_expose_reason on;
        fwgate_artifact $fw;
    }
--- request
GET /dl/ls7000i-3.0.0.bin
--- more_headers eval
::sign(%::S6, path => '/dl/ls7000i-3.0.0.bin')
--- error_code: 404
--- response_headers
X-Fwgate-Reason: path_mismatch



=== TEST 11: look-alike model names in the models list do not match
--- http_config eval: $::HTTP_B
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000ix-1.0.0.bin
--- more_headers eval
::sign(%::S6, path => '/firmware/ls6000ix-1.0.0.bin')
--- error_code: 403
--- response_headers
X-Fwgate-Reason: incompatible



=== TEST 12: hw: an image for LS-6100i:B, device of revision B
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6100i-b-1.1.0.bin
--- more_headers eval
::sign(device => 'L61-B00001', model => 'LS-6100i', hw => 'B',
       version => '1.0.0', path => '/firmware/ls6100i-b-1.1.0.bin')
--- error_code: 200
--- response_headers
X-Fwgate-Reason: ok



=== TEST 13: hw: an image for LS-6100i:B, device of revision A
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6100i-b-1.1.0.bin
--- more_headers eval
::sign(device => 'L61-A00001', model => 'LS-6100i', hw => 'A',
       version => '1.0.0', path => '/firmware/ls6100i-b-1.1.0.bin')
--- error_code: 403
--- response_headers
X-Fwgate-Reason: incompatible



=== TEST 14: hw: revision A claiming to be B
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6100i-b-1.1.0.bin
--- more_headers eval
::sign(device => 'L61-A00001', model => 'LS-6100i', hw => 'B',
       version => '1.0.0', path => '/firmware/ls6100i-b-1.1.0.bin')
--- error_code: 403
--- response_headers
X-Fwgate-Reason: model_mismatch



=== TEST 15: hw: a device with no revision and a revision-only image
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6100i-b-1.1.0.bin
--- more_headers eval
::sign(device => 'L61-000001', model => 'LS-6100i',
       version => '1.0.0', path => '/firmware/ls6100i-b-1.1.0.bin')
--- error_code: 403
--- response_headers
X-Fwgate-Reason: incompatible



=== TEST 16: hw: an image for the whole model, any revision
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6200i-1.0.0.bin
--- more_headers eval
::sign(device => 'L62-C00001', model => 'LS-6200i', hw => 'C',
       version => '0.9.0', path => '/firmware/ls6200i-1.0.0.bin')
--- error_code: 200
--- response_headers
X-Fwgate-Reason: ok



=== TEST 17: hw: one entry of several in the models list
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/multi-1.0.0.bin
--- more_headers eval
::sign(device => 'L63-C00001', model => 'LS-6300i', hw => 'C',
       version => '0.9.0', path => '/firmware/multi-1.0.0.bin')
--- error_code: 200
--- response_headers
X-Fwgate-Reason: ok



=== TEST 18: hw: a revision not in the models list
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/multi-1.0.0.bin
--- more_headers eval
::sign(device => 'L63-D00001', model => 'LS-6300i', hw => 'D',
       version => '0.9.0', path => '/firmware/multi-1.0.0.bin')
--- error_code: 403
--- response_headers
X-Fwgate-Reason: incompatible
