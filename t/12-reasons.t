# Every reason code of SPEC section 4 with its status, the X-Fwgate-Reason
# header (fwgate_expose_reason on), the deny line in the error log, and on
# allow the X-Firmware-Version and Repr-Digest headers and the $fwgate_*
# variables.

use Test::Nginx::Socket 'no_plan';
use t::FwgateTest;
use Digest::SHA qw(sha256);
use MIME::Base64 qw(encode_base64);

fw_setup('fwt12:');

device('LS6-200001', model => 'LS-6000i', alg => 'hmac-sha256');
device('LS6-200002', model => 'LS-6000i', alg => 'hmac-sha256',
       status => 'revoked');
device('LS6-200003', model => 'LS-6000i', alg => 'ed25519', hw => 'B');
device('LSP-000001', model => 'LS-P', alg => 'hmac-sha256');
device('LSH-000001', model => 'LS-H', alg => 'hmac-sha256');
device('LSC-000001', model => 'LS-C', alg => 'hmac-sha256');
device('LSN-000001', model => 'LS-N', alg => 'hmac-sha256');

our $SHA = artifact('ls6000i-2.5.0.bin', version => '2.5.0',
                    models => 'LS-6000i');
our $DIGEST = 'sha-256=:' . encode_base64(pack('H*', $SHA), '') . ':';
artifact('ls6000i-2.4.0.bin', version => '2.4.0', models => 'LS-6000i');
artifact('ls7000i-3.0.0.bin', version => '3.0.0', models => 'LS-7000i');
artifact('lsp-1.0.0.bin', version => '1.0.0', models => 'LS-P');
artifact('lsh-1.0.0.bin', version => '1.0.0', models => 'LS-H');
artifact('lsc-1.0.0.bin', version => '1.0.0', models => 'LS-C');
artifact('lsn-1.0.0.bin', version => '1.0.0', models => 'LS-N');

rollout('LS-6000i', artifact => 'ls6000i-2.5.0.bin', percent => 100,
        from => '>=2.0.0');
rollout('LS-P', artifact => 'lsp-1.0.0.bin', state => 'paused');
rollout('LS-H', artifact => 'lsh-1.0.0.bin', state => 'halted');
rollout('LS-C', artifact => 'lsc-1.0.0.bin', percent => 0);

our $FW = '/firmware/ls6000i-2.5.0.bin';
our %S = (device => 'LS6-200001', path => $FW);
our $BUCKET = bucket('ls6000i-2.5.0.bin', 'LS6-200001');
our $DEAD = free_port();

sub deny_re {
    my ($reason, $dev, $model, $art) = @_;
    return qr/\[info\] .*fwgate: deny reason=\Q$reason\E device="?\Q$dev\E"? model="?\Q$model\E"? artifact="?\Q$art\E"?/;
}

repeat_each(1);
no_long_string();
add_block_preprocessor(\&t::FwgateTest::preprocess);

run_tests();

__DATA__

=== TEST 1: allowed: headers, variables
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
        add_header X-Vars "$fwgate_decision|$fwgate_reason|$fwgate_device|$fwgate_model|$fwgate_version|$fwgate_artifact|$fwgate_target_version|$fwgate_bucket" always;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(%::S)
--- error_code: 200
--- response_headers eval
"X-Fwgate-Reason: ok
X-Firmware-Version: 2.5.0
Repr-Digest: $::DIGEST
X-Vars: allow|ok|LS6-200001|LS-6000i|2.4.1|ls6000i-2.5.0.bin|2.5.0|$::BUCKET
Content-Length: " . (-s "$ENV{TEST_NGINX_FW_ROOT}/firmware/ls6000i-2.5.0.bin")
--- response_body eval
::fw_bytes('ls6000i-2.5.0.bin', 0)
--- no_error_log
fwgate: deny
[error]



=== TEST 2: missing_signature
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers
X-Device-Model: LS-6000i
X-Firmware-Version: 2.4.1
--- error_code: 401
--- response_headers
X-Fwgate-Reason: missing_signature
Accept-Signature: fw=("@method" "@path" "x-device-model" "x-firmware-version")
!X-Firmware-Version
!Repr-Digest
--- grep_error_log eval: qr/fwgate: deny reason=\w+/
--- grep_error_log_out
fwgate: deny reason=missing_signature



=== TEST 3: malformed_signature, logged once
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
my $p = ::sig_parts(%::S);
"$p->{headers}Signature-Input: $p->{input}\nSignature: fw=:!!!:\n"
--- error_code: 400
--- response_headers
X-Fwgate-Reason: malformed_signature
--- grep_error_log eval: qr/fwgate: deny reason=\w+/
--- grep_error_log_out
fwgate: deny reason=malformed_signature



=== TEST 4: insufficient_coverage
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(%::S, components => ['@method', '@path', 'x-device-model'])
--- error_code: 401
--- response_headers
X-Fwgate-Reason: insufficient_coverage
--- grep_error_log eval: qr/fwgate: deny reason=\w+/
--- grep_error_log_out
fwgate: deny reason=insufficient_coverage



=== TEST 5: unsupported_alg
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(%::S, alg => 'rsa-v1_5-sha256')
--- error_code: 401
--- response_headers
X-Fwgate-Reason: unsupported_alg
--- grep_error_log eval: qr/fwgate: deny reason=\w+/
--- grep_error_log_out
fwgate: deny reason=unsupported_alg



=== TEST 6: stale
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(%::S, created => time - 3600)
--- error_code: 401
--- response_headers
X-Fwgate-Reason: stale
--- error_log eval
qr/\[info\] .*fwgate: deny reason=stale device="?LS6-200001"? model="?[^" ]*"? artifact="?ls6000i-2\.5\.0\.bin"?/



=== TEST 7: bad_claims: version is not SemVer
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(%::S, version => '2.4')
--- error_code: 400
--- response_headers
X-Fwgate-Reason: bad_claims
--- grep_error_log eval: qr/fwgate: deny reason=\w+/
--- grep_error_log_out
fwgate: deny reason=bad_claims



=== TEST 8: bad_claims: model name with characters outside the set
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(%::S, model => 'LS 6000i/../x')
--- error_code: 400
--- response_headers
X-Fwgate-Reason: bad_claims



=== TEST 9: bad_claims: model claim covered but absent
(coverage is configured without the model header, so only the claim
check can refuse it)
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
        fwgate_required_components "@method" "@path";
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(%::S, components => ['@method', '@path', 'x-firmware-version'],
       omit => ['x-device-model'])
--- error_code: 400
--- response_headers
X-Fwgate-Reason: bad_claims



=== TEST 10: bad_claims: a claim header present but not covered
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
        fwgate_required_components "@method" "@path" "x-device-model";
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(%::S, components => ['@method', '@path', 'x-device-model'])
--- error_code: 400
--- response_headers
X-Fwgate-Reason: bad_claims



=== TEST 11: unknown_device
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(%::S, keyid => 'LS6-999999')
--- error_code: 401
--- response_headers
X-Fwgate-Reason: unknown_device
--- error_log eval
::deny_re('unknown_device', 'LS6-999999', 'LS-6000i', 'ls6000i-2.5.0.bin')



=== TEST 12: bad_signature, and neither key nor signature in the log
--- log_level: info
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(%::S, signer => 'LSP-000001')
--- error_code: 401
--- response_headers
X-Fwgate-Reason: bad_signature
--- error_log eval
::deny_re('bad_signature', 'LS6-200001', 'LS-6000i', 'ls6000i-2.5.0.bin')
--- no_error_log eval
[$t::FwgateTest::KEYS{'LS6-200001'}{key_b64},
 $t::FwgateTest::KEYS{'LSP-000001'}{key_b64},
 ::sig_parts(%::S, signer => 'LSP-000001')->{sig_b64} =~ s/=+$//r,
 'Signature:']



=== TEST 13: replay
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



=== TEST 14: revoked
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(%::S, device => 'LS6-200002')
--- error_code: 403
--- response_headers
X-Fwgate-Reason: revoked
--- error_log eval
::deny_re('revoked', 'LS6-200002', 'LS-6000i', 'ls6000i-2.5.0.bin')



=== TEST 15: model_mismatch: a 6000i claiming to be a 7000i
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls7000i-3.0.0.bin
--- more_headers eval
::sign(%::S, path => '/firmware/ls7000i-3.0.0.bin', model => 'LS-7000i')
--- error_code: 403
--- response_headers
X-Fwgate-Reason: model_mismatch
--- error_log eval
::deny_re('model_mismatch', 'LS6-200001', 'LS-7000i', 'ls7000i-3.0.0.bin')



=== TEST 16: model_mismatch: the hw claim differs from the record
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(%::S, device => 'LS6-200003', hw => 'A')
--- error_code: 403
--- response_headers
X-Fwgate-Reason: model_mismatch



=== TEST 17: unknown_artifact
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-9.9.9.bin
--- more_headers eval
::sign(%::S, path => '/firmware/ls6000i-9.9.9.bin')
--- error_code: 404
--- response_headers
X-Fwgate-Reason: unknown_artifact
--- error_log eval
::deny_re('unknown_artifact', 'LS6-200001', 'LS-6000i', 'ls6000i-9.9.9.bin')



=== TEST 18: incompatible
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls7000i-3.0.0.bin
--- more_headers eval
::sign(%::S, path => '/firmware/ls7000i-3.0.0.bin')
--- error_code: 403
--- response_headers
X-Fwgate-Reason: incompatible
!X-Firmware-Version
--- error_log eval
::deny_re('incompatible', 'LS6-200001', 'LS-6000i', 'ls7000i-3.0.0.bin')



=== TEST 19: not_released: the rollout targets another artifact
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.4.0.bin
--- more_headers eval
::sign(%::S, path => '/firmware/ls6000i-2.4.0.bin', version => '2.3.0')
--- error_code: 403
--- response_headers
X-Fwgate-Reason: not_released



=== TEST 20: not_released: the model has no rollout
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/lsn-1.0.0.bin
--- more_headers eval
::sign(device => 'LSN-000001', model => 'LS-N', version => '0.9.0',
       path => '/firmware/lsn-1.0.0.bin')
--- error_code: 403
--- response_headers
X-Fwgate-Reason: not_released
--- error_log eval
::deny_re('not_released', 'LSN-000001', 'LS-N', 'lsn-1.0.0.bin')



=== TEST 21: rollout_paused
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/lsp-1.0.0.bin
--- more_headers eval
::sign(device => 'LSP-000001', model => 'LS-P', version => '0.9.0',
       path => '/firmware/lsp-1.0.0.bin')
--- error_code: 403
--- response_headers
X-Fwgate-Reason: rollout_paused



=== TEST 22: rollout_halted
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/lsh-1.0.0.bin
--- more_headers eval
::sign(device => 'LSH-000001', model => 'LS-H', version => '0.9.0',
       path => '/firmware/lsh-1.0.0.bin')
--- error_code: 403
--- response_headers
X-Fwgate-Reason: rollout_halted



=== TEST 23: not_in_cohort (percent 0)
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
        add_header X-Vars "$fwgate_decision|$fwgate_reason|$fwgate_bucket" always;
    }
--- request
GET /firmware/lsc-1.0.0.bin
--- more_headers eval
::sign(device => 'LSC-000001', model => 'LS-C', version => '0.9.0',
       path => '/firmware/lsc-1.0.0.bin')
--- error_code: 403
--- response_headers eval
"X-Fwgate-Reason: not_in_cohort
X-Vars: deny|not_in_cohort|" . ::bucket('lsc-1.0.0.bin', 'LSC-000001')



=== TEST 24: upgrade_path
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(%::S, version => '1.9.9')
--- error_code: 403
--- response_headers
X-Fwgate-Reason: upgrade_path



=== TEST 25: downgrade
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(%::S, version => '2.6.0')
--- error_code: 403
--- response_headers
X-Fwgate-Reason: downgrade
--- error_log eval
::deny_re('downgrade', 'LS6-200001', 'LS-6000i', 'ls6000i-2.5.0.bin')



=== TEST 26: registry_unavailable: nothing listens on the Redis port
--- http_config eval
::http_config(addr => "127.0.0.1:$::DEAD", redis => 'connect_timeout=200ms timeout=200ms')
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
--- error_code: 503
--- response_headers
X-Fwgate-Reason: registry_unavailable
Retry-After: 1
--- no_error_log
[alert]
[crit]



=== TEST 27: the reason header is off by default
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
    }
--- request
GET /firmware/ls7000i-3.0.0.bin
--- more_headers eval
::sign(%::S, path => '/firmware/ls7000i-3.0.0.bin')
--- error_code: 403
--- response_headers
!X-Fwgate-Reason



=== TEST 28: variables on a deny
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        add_header X-Vars "$fwgate_decision|$fwgate_reason|$fwgate_device|$fwgate_model|$fwgate_version|$fwgate_artifact" always;
    }
--- request
GET /firmware/ls7000i-3.0.0.bin
--- more_headers eval
::sign(%::S, path => '/firmware/ls7000i-3.0.0.bin')
--- error_code: 403
--- response_headers
X-Vars: deny|incompatible|LS6-200001|LS-6000i|2.4.1|ls7000i-3.0.0.bin



=== TEST 29: fwgate_artifact from a regex capture names the artifact, but
a download is served only at the artifact's registry path: the same name
under another folder is path_mismatch
--- config
    location ~ ^/dl/([a-z0-9.-]+)$ {
        alias $TEST_NGINX_FW_ROOT/firmware/$1;
        fwgate on;
        fwgate_expose_reason on;
        fwgate_artifact $1;
    }
--- request
GET /dl/ls6000i-2.5.0.bin
--- more_headers eval
::sign(%::S, path => '/dl/ls6000i-2.5.0.bin')
--- error_code: 404
--- response_headers
X-Fwgate-Reason: path_mismatch
!X-Firmware-Version



=== TEST 30: fwgate_artifact names the artifact whatever the file, and
that artifact's path is not the file asked for: path_mismatch
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
        fwgate_artifact ls7000i-3.0.0.bin;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(%::S)
--- error_code: 404
--- response_headers
X-Fwgate-Reason: path_mismatch



=== TEST 31: error_page takes the refusal
--- config
    error_page 403 /denied.html;
    location = /denied.html {
        internal;
        root $TEST_NGINX_FW_ROOT;
    }
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
    }
--- init
open my $f, '>', "$ENV{TEST_NGINX_FW_ROOT}/denied.html" or die $!;
print $f "not for this lock\n";
close $f;
--- request
GET /firmware/ls7000i-3.0.0.bin
--- more_headers eval
::sign(%::S, path => '/firmware/ls7000i-3.0.0.bin')
--- error_code: 403
--- response_body
not for this lock



=== TEST 32: satisfy any with allow: the address alone lets it through
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        satisfy any;
        allow 127.0.0.1;
        deny all;
        fwgate on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- error_code: 200



=== TEST 33: deny all refuses even a good signature
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        deny all;
        fwgate on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(%::S)
--- error_code: 403
--- no_error_log
[alert]
[crit]



=== TEST 34: fwgate off in a nested location
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        location /firmware/open/ {
            fwgate off;
            return 200 "open\n";
        }
    }
--- request
GET /firmware/open/x
--- error_code: 200
--- response_body
open



=== TEST 35: fwgate on at server level reaches the locations
--- config
    fwgate on;
    fwgate_expose_reason on;
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- error_code: 401
--- response_headers
X-Fwgate-Reason: missing_signature
