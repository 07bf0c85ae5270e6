# The gate's seams with nginx (issue 10): each block is an attack that
# once got around the decision, and now fails closed.
#
#  - files served by name alone: another model's image under the same
#    name in another folder;
#  - the raw URI a proxy forwards: a target whose normalised form names
#    the device's own artifact while its raw form names another model's,
#    through a caching edge in front of an origin that decodes before it
#    drops the query;
#  - the replay store flushed by one device's valid requests;
#  - @authority taken from Host instead of the absolute-form target;
#  - the gate run twice after an internal redirect;
#  - request values that forge fields of the error log line.

use Test::Nginx::Socket 'no_plan';
use t::FwgateTest;
use File::Copy qw(copy);
use File::Path qw(make_path);

fw_setup('fwt18:');

device('LS6-800001', model => 'LS-6000i', alg => 'hmac-sha256');
device('LS6-800002', model => 'LS-6000i', alg => 'hmac-sha256');
device('LS6-800003', model => 'LS-6000i', alg => 'hmac-sha256');
device('LS7-800001', model => 'LS-7000i', alg => 'hmac-sha256');

our $A6 = 'ls6000i-2.5.0.bin';
our $A7 = 'ls7000i-3.0.0.bin';
artifact($A6, version => '2.5.0', models => 'LS-6000i', file_size => 3000);
artifact($A7, version => '3.0.0', models => 'LS-7000i', file_size => 5000);
rollout('LS-6000i', artifact => $A6);
rollout('LS-7000i', artifact => $A7);

# a per-model folder that holds the 7000i image under the 6000i's name
make_path(fw_root() . '/firmware/LS-7000i');
copy(fw_root() . "/firmware/$A7", fw_root() . "/firmware/LS-7000i/$A6")
    or die "copy: $!";

our %S6 = (device => 'LS6-800001', model => 'LS-6000i', version => '2.4.1');

# the raw target of the proxy attack: nginx normalises it to the 6000i's
# own artifact; an origin that decodes %3F and then drops the "query"
# reads the 7000i's
our $RAW = "/firmware/$A7%3F/../$A6";

# an origin that serves by the raw request line, as the attacked one did
our $BAD_ORIGIN = <<'_EOC_';
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1;
        root $TEST_NGINX_FW_ROOT;
        location / {
            if ($request_uri ~ "ls7000i") {
                rewrite ^ /firmware/ls7000i-3.0.0.bin break;
            }
        }
    }
_EOC_

# a request captured on the network, and a device owner with many valid
# requests (fixed here, so that the block replays exactly these bytes)
our $CAPTURED = sign(device => 'LS6-800002', path => "/firmware/$A6",
                     nonce => 'captured-0001');

repeat_each(1);
no_shuffle();
no_long_string();
add_block_preprocessor(\&t::FwgateTest::preprocess);

run_tests();

__DATA__

=== TEST 1: the 7000i image kept in another folder under the 6000i's
artifact name is not served to a 6000i: a download is allowed only at the
artifact's registry path
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/LS-7000i/ls6000i-2.5.0.bin
--- more_headers eval
::sign(%::S6, path => '/firmware/LS-7000i/ls6000i-2.5.0.bin')
--- error_code: 404
--- response_headers
X-Fwgate-Reason: path_mismatch
!X-Firmware-Version
!Repr-Digest
--- response_body_unlike eval
qr/\A\Q${\ ::fw_bytes($::A7, 0, 64)}\E/



=== TEST 2: at its registry path the same device gets its own image
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
--- response_body eval
::fw_bytes($::A6, 0)



=== TEST 3: a target whose raw form differs from the artifact's path is
refused, even where nginx's normalised URI is the path
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request eval
"GET $::RAW"
--- more_headers eval
::sign(%::S6, path => $::RAW)
--- error_code: 404
--- response_headers
X-Fwgate-Reason: path_mismatch
--- error_log
detail: request target not in the artifact path's form



=== TEST 4: the caching edge as shipped (conf-examples/caching-edge.conf):
the upstream request and the cache key are the artifact's registry path;
the raw-URI attack is refused, and the next 6000i gets its own image from
the cache
--- http_config eval
::http_config()
. "    proxy_cache_path $ENV{TEST_NGINX_FW_ROOT}/../cache18 keys_zone=fw18:1m;\n"
. $::BAD_ORIGIN
--- config
    location /firmware/ {
        fwgate on;
        fwgate_expose_reason on;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1$fwgate_path;
        proxy_cache fw18;
        proxy_cache_key $fwgate_path;
        proxy_cache_valid 200 1h;
        add_header X-Cache $upstream_cache_status always;
    }
--- request eval
["GET $::RAW", "GET /firmware/$::A6", "GET /firmware/$::A6"]
--- more_headers eval
[::sign(%::S6, path => $::RAW),
 ::sign(%::S6, path => "/firmware/$::A6"),
 ::sign(%::S6, device => 'LS6-800003', path => "/firmware/$::A6")]
--- error_code eval
[404, 200, 200]
--- response_headers eval
["X-Fwgate-Reason: path_mismatch", "X-Cache: MISS", "X-Cache: HIT"]
--- response_body_like eval
my $b = ::fw_bytes($::A6, 0);
[qr/404 Not Found/, qr/\A\Q$b\E\z/, qr/\A\Q$b\E\z/]
--- no_error_log
[alert]
[crit]



=== TEST 5: even with the path check off, the bytes follow the decision:
the origin is asked for the allowed artifact's path, never the raw URI
--- http_config eval
::http_config() . $::BAD_ORIGIN
--- config
    location /firmware/ {
        fwgate on;
        fwgate_expose_reason on;
        fwgate_match_path off;
        proxy_pass http://127.0.0.1:$TEST_NGINX_RAND_PORT_1$fwgate_path;
    }
--- request eval
"GET $::RAW"
--- more_headers eval
::sign(%::S6, device => 'LS6-800003', path => $::RAW)
--- error_code: 200
--- response_headers
X-Fwgate-Reason: ok
--- response_body eval
::fw_bytes($::A6, 0)
--- no_error_log
[alert]
[crit]



=== TEST 6: @authority is the absolute-form target's authority, which
nginx routes on, not the Host header
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- raw_request eval
"GET http://fw.example.com:8080/firmware/$::A6 HTTP/1.1\r
Host: localhost\r
Connection: close\r
" . join("\r\n", split /\n/, ::sign(%::S6, path => "/firmware/$::A6",
                                    authority => 'fw.example.com:8080'))
. "\r\n\r\n"
--- error_code: 200
--- response_headers
X-Fwgate-Reason: ok



=== TEST 7: a signature over the Host header's authority does not verify
for an absolute-form request to another authority
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- raw_request eval
"GET http://fw.example.com:8080/firmware/$::A6 HTTP/1.1\r
Host: localhost\r
Connection: close\r
" . join("\r\n", split /\n/, ::sign(%::S6, path => "/firmware/$::A6",
                                    authority => 'localhost'))
. "\r\n\r\n"
--- error_code: 401
--- response_headers
X-Fwgate-Reason: bad_signature
--- error_log
reason=bad_signature



=== TEST 8: decided once per request: a refusal that error_page sends to a
gated location keeps its reason and spends the nonce once (no replay on
the second pass, one X-Fwgate-Reason header)
--- config
    fwgate on;
    fwgate_expose_reason on;
    fwgate_require_nonce on;
    error_page 403 /firmware/denied.html;
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
    }
--- request
GET /firmware/ls7000i-3.0.0.bin
--- more_headers eval
::sign(%::S6, path => '/firmware/ls7000i-3.0.0.bin', nonce => 1)
--- error_code: 403
--- response_headers
X-Fwgate-Reason: incompatible
--- raw_response_headers_unlike eval
qr/X-Fwgate-Reason:[^\n]*\n(?s:.*)X-Fwgate-Reason:/i
--- no_error_log
reason=replay
[alert]
[crit]



=== TEST 9: decided once per request: an allowed download that try_files
redirects to another file is refused (path_mismatch), never served the
other bytes, and its version and digest headers are withdrawn
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
        fwgate_require_nonce on;
        try_files /nowhere/$uri /firmware/ls7000i-3.0.0.bin;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(%::S6, path => '/firmware/ls6000i-2.5.0.bin', nonce => 1)
--- error_code: 404
--- response_headers
X-Fwgate-Reason: path_mismatch
!X-Firmware-Version
!Repr-Digest
--- raw_response_headers_unlike eval
qr/X-Fwgate-Reason:[^\n]*\n(?s:.*)X-Fwgate-Reason:/i
--- error_log
internal redirect away from the artifact's path
--- no_error_log
reason=replay
[alert]
[crit]



=== TEST 10: a keyid built to forge fields of the log line is escaped
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(%::S6, path => '/firmware/ls6000i-2.5.0.bin',
       keyid => 'X" reason=ok model="LS-7000i')
--- error_code: 401
--- response_headers
X-Fwgate-Reason: unknown_device
--- error_log
reason=unknown_device device="X\x22 reason=ok model=\x22LS-7000i" model="LS-6000i"
--- no_error_log
device="X" reason=ok



=== TEST 11: a claimed model with quotes and a control byte is refused
before it could reach the log: the line names no model
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(%::S6, path => '/firmware/ls6000i-2.5.0.bin',
       model => "LS\" reason=ok\tx=\"1")
--- error_code: 400
--- response_headers
X-Fwgate-Reason: bad_claims
--- error_log
reason=bad_claims device="LS6-800001" model="" artifact="ls6000i-2.5.0.bin" detail: bad X-Device-Model
--- no_error_log
model="LS" reason=ok



=== TEST 12: one device's valid requests cannot flush the nonce store: a
full store refuses new nonces (503 replay_store_full, Retry-After) and
keeps refusing a captured request as a replay
--- http_config eval
::http_config(replay => 0)
. "    fwgate_replay_zone fwgate_replay18:32k;\n"
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
    location = /status {
        fwgate_status;
    }
--- init
my $r = ::http_req("GET /firmware/$main::A6", $main::CAPTURED);
Test::More::is($r->{status}, 200, 'init: the captured request was served');
my ($ok, $full, $n) = (0, 0, 0);
while ($n < 4000 && $full < 20) {
    $n++;
    my $x = ::http_req("GET /firmware/$main::A6",
                       ::sign(%main::S6, path => "/firmware/$main::A6",
                              nonce => 1));
    if ($x->{status} == 200) { $ok++ }
    elsif ($x->{status} == 503
           && ($x->{headers}{'x-fwgate-reason'} // '') eq 'replay_store_full'
           && defined $x->{headers}{'retry-after'}) { $full++ }
    else { Test::More::diag("init: unexpected $x->{status}"); last }
}
Test::More::ok($full >= 20, "init: after $ok nonces the store refuses new "
               . "ones ($full refused of $n)");
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval: $::CAPTURED
--- error_code: 401
--- response_headers
X-Fwgate-Reason: replay
--- error_log
replay zone full of unexpired nonces, new nonces refused



=== TEST 13: two X-Device-Model field lines, both covered: 400 bad_claims,
the same on nginx before and after 1.23's header lists
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(%::S6, path => '/firmware/ls6000i-2.5.0.bin',
       headers => { 'x-device-model' => ['LS-6000i', 'LS-7000i'] })
--- error_code: 400
--- response_headers
X-Fwgate-Reason: bad_claims
--- error_log
detail: several X-Device-Model



=== TEST 14: two X-Firmware-Version field lines: 400 bad_claims
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(%::S6, path => '/firmware/ls6000i-2.5.0.bin',
       headers => { 'x-firmware-version' => ['2.4.1', '1.0.0'] })
--- error_code: 400
--- response_headers
X-Fwgate-Reason: bad_claims
--- error_log
detail: several X-Firmware-Version



=== TEST 15: Signature and Signature-Input split over several field lines
are combined as RFC 9110 says: the fw label is found and verifies
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
my $h = ::sign(%::S6, path => '/firmware/ls6000i-2.5.0.bin');
"Signature-Input: other=(\"\@method\");created=1\n"
. "Signature: other=:AAAA:\n" . $h
--- error_code: 200
--- response_headers
X-Fwgate-Reason: ok



=== TEST 16: a nonce goes into the less full of its two buckets: a 32k
zone filled to 45 % of its slots refuses no new nonce (in a simulation,
3 fills in 10,000; taking the first free slot refused in two of three)
--- http_config eval
::http_config(replay => 0)
. "    fwgate_replay_zone fwgate_replay18b:32k;\n"
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
    location = /status {
        fwgate_status;
    }
--- init
my $st = ::http_req('GET /status');
my ($slots) = $st->{body} =~ /^fwgate_replay_slots (\d+)$/m;
Test::More::ok($slots && $slots >= 512, "init: the table has $slots slots");
my ($ok, $n) = (0, 0);
while ($n < int($slots * 0.45)) {
    $n++;
    my $x = ::http_req("GET /firmware/$main::A6",
                       ::sign(%main::S6, path => "/firmware/$main::A6",
                              nonce => 1));
    last unless $x->{status} == 200;
    $ok++;
}
Test::More::is($ok, $n, "init: $ok of $n new nonces kept in $slots slots");
--- request
GET /status
--- error_code: 200
--- response_body_like
fwgate_replay_full_total 0
