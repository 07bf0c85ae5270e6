# RFC 9421 signatures at the edge (SPEC section 2, steps 1-3 and 7 of
# section 4): parsing, coverage, the three algorithms, labels, and hostile
# headers.  Signatures are made by t/FwgateTest.pm's own signer.

use Test::Nginx::Socket 'no_plan';
use t::FwgateTest;

fw_setup('fwt10:');

device('LS6-000001', model => 'LS-6000i', alg => 'ed25519');
device('LS6-000002', model => 'LS-6000i', alg => 'hmac-sha256');
device('LS6-000003', model => 'LS-6000i', alg => 'ecdsa-p256-sha256');
device('LS6-000004', model => 'LS-6000i', alg => 'ecdsa-p256-sha256',
       sec1 => 1);
device('LS6-000005', model => 'LS-6000i', alg => 'ed25519', no_alg => 1);
device('LS6-000006', model => 'LS-6000i', alg => 'hmac-sha256');
artifact('ls6000i-2.5.0.bin', version => '2.5.0', models => 'LS-6000i');
rollout('LS-6000i', artifact => 'ls6000i-2.5.0.bin', percent => 100);

our $FW = '/firmware/ls6000i-2.5.0.bin';

# fwgatectl's own keygen and sign, checked against the module too
our %CTL;
for my $alg (qw(ed25519 hmac-sha256)) {
    my $prefix = t::FwgateTest::fw_root() . "/../ctl-$alg";
    my $key = `$ENV{FWGATECTL} sig keygen --alg $alg --out $prefix 2>/dev/null`;
    ($key) = split /\n/, $key;
    my $file = $alg eq 'hmac-sha256' ? "$prefix.key" : "$prefix.pem";
    my $id = "CTL-$alg";
    redis_cmds(['DEL', "fwt10:device:$id"],
               ['HSET', "fwt10:device:$id", model => 'LS-6000i',
                alg => $alg, key => $key, status => 'active']);
    $CTL{$alg} = "X-Device-Model: LS-6000i\nX-Firmware-Version: 2.4.1\n"
        . ctl_sign('--key', $file, '--keyid', $id,
                   '-H', 'X-Device-Model: LS-6000i',
                   '-H', 'X-Firmware-Version: 2.4.1',
                   'GET', "http://localhost$FW");
}

our $ONE = sig_parts(device => 'LS6-000001', path => $FW);
our $TWO = sig_parts(device => 'LS6-000002', path => $FW);

repeat_each(2);
no_long_string();
add_block_preprocessor(\&t::FwgateTest::preprocess);

run_tests();

__DATA__

=== TEST 1: ed25519 signature: allowed
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(device => 'LS6-000001', path => $::FW)
--- error_code: 200
--- response_headers
X-Fwgate-Reason: ok
X-Firmware-Version: 2.5.0



=== TEST 2: hmac-sha256 signature: allowed
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(device => 'LS6-000002', path => $::FW)
--- error_code: 200
--- response_headers
X-Fwgate-Reason: ok



=== TEST 3: ecdsa-p256-sha256 with an SPKI key: allowed
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(device => 'LS6-000003', path => $::FW)
--- error_code: 200
--- response_headers
X-Fwgate-Reason: ok



=== TEST 4: ecdsa-p256-sha256 with a SEC1 key: allowed
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(device => 'LS6-000004', path => $::FW)
--- error_code: 200
--- response_headers
X-Fwgate-Reason: ok



=== TEST 5: no alg parameter, the record names the algorithm
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(device => 'LS6-000002', path => $::FW, no_alg => 1)
--- error_code: 200
--- response_headers
X-Fwgate-Reason: ok



=== TEST 6: a record without its alg field fails closed
(the SPEC's schema requires alg; the request names ed25519, the key's)
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(device => 'LS6-000005', path => $::FW)
--- error_code: 401
--- response_headers
X-Fwgate-Reason: unsupported_alg



=== TEST 7: alg parameter differs from the record's algorithm
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(device => 'LS6-000002', path => $::FW, alg => 'ed25519')
--- error_code: 401
--- response_headers
X-Fwgate-Reason: bad_signature



=== TEST 8: an algorithm nobody supports
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(device => 'LS6-000002', path => $::FW, alg => 'rsa-pss-sha512')
--- error_code: 401
--- response_headers
X-Fwgate-Reason: unsupported_alg



=== TEST 9: fwgate_algorithms excludes hmac-sha256
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
        fwgate_algorithms ed25519 ecdsa-p256-sha256;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(device => 'LS6-000002', path => $::FW)
--- error_code: 401
--- response_headers
X-Fwgate-Reason: unsupported_alg



=== TEST 10: fwgate_algorithms excludes hmac-sha256, no alg parameter
(the record's algorithm is refused just the same)
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
        fwgate_algorithms ed25519;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(device => 'LS6-000002', path => $::FW, no_alg => 1)
--- error_code: 401
--- response_headers
X-Fwgate-Reason: unsupported_alg



=== TEST 11: no signature: 401 with Accept-Signature naming the defaults
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



=== TEST 12: Accept-Signature follows the configured components and label
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
        fwgate_signature_label dev;
        fwgate_required_components "@method" "@target-uri" "x-device-model"
                                   "x-firmware-version";
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- error_code: 401
--- response_headers
X-Fwgate-Reason: missing_signature
Accept-Signature: dev=("@method" "@target-uri" "x-device-model" "x-firmware-version")



=== TEST 13: Signature-Input without Signature
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
"X-Device-Model: LS-6000i\nX-Firmware-Version: 2.4.1\n"
. "Signature-Input: $::ONE->{input}\n"
--- error_code: 401
--- response_headers
X-Fwgate-Reason: missing_signature



=== TEST 14: Signature without Signature-Input
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
"X-Device-Model: LS-6000i\nX-Firmware-Version: 2.4.1\n"
. "Signature: $::ONE->{signature}\n"
--- error_code: 401
--- response_headers
X-Fwgate-Reason: missing_signature



=== TEST 15: coverage without x-firmware-version
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(device => 'LS6-000001', path => $::FW,
       components => ['@method', '@path', 'x-device-model'])
--- error_code: 401
--- response_headers
X-Fwgate-Reason: insufficient_coverage



=== TEST 16: coverage without @path
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(device => 'LS6-000001', path => $::FW,
       components => ['@method', 'x-device-model', 'x-firmware-version'])
--- error_code: 401
--- response_headers
X-Fwgate-Reason: insufficient_coverage



=== TEST 17: configured components: @query covered, allowed
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
        fwgate_required_components "@method" "@path" "@query"
                                   "x-device-model" "x-firmware-version";
    }
--- request
GET /firmware/ls6000i-2.5.0.bin?boot=2&slot=b
--- more_headers eval
::sign(device => 'LS6-000001', path => $::FW, query => 'boot=2&slot=b',
       components => ['@method', '@path', '@query', 'x-device-model',
                      'x-firmware-version'])
--- error_code: 200
--- response_headers
X-Fwgate-Reason: ok



=== TEST 18: configured components: @query missing
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
        fwgate_required_components "@method" "@path" "@query"
                                   "x-device-model" "x-firmware-version";
    }
--- request
GET /firmware/ls6000i-2.5.0.bin?boot=2
--- more_headers eval
::sign(device => 'LS6-000001', path => $::FW, query => 'boot=2')
--- error_code: 401
--- response_headers
X-Fwgate-Reason: insufficient_coverage



=== TEST 19: every derived component the SPEC names, signed and verified
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin?slot=b&boot=2
--- more_headers eval
::sign(device => 'LS6-000002', path => $::FW, query => 'slot=b&boot=2',
       components => ['@method', '@path', '@authority', '@scheme',
                      '@target-uri', '@request-target', '@query',
                      '"@query-param";name="boot"', 'x-device-model',
                      'x-firmware-version'])
--- error_code: 200
--- response_headers
X-Fwgate-Reason: ok



=== TEST 20: a covered header with ;sf
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(device => 'LS6-000002', path => $::FW,
       headers => { 'X-Boot' => '1' },
       components => ['@method', '@path', 'x-device-model',
                      'x-firmware-version', '"x-boot";sf'])
--- error_code: 200
--- response_headers
X-Fwgate-Reason: ok



=== TEST 21: a claim changed after signing
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(device => 'LS6-000001', path => $::FW,
       tamper => sub { $_[0]{headers}{'x-firmware-version'} = '2.4.2' })
--- error_code: 401
--- response_headers
X-Fwgate-Reason: bad_signature



=== TEST 22: signed for another path
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(device => 'LS6-000001', path => '/firmware/other.bin')
--- error_code: 401
--- response_headers
X-Fwgate-Reason: bad_signature



=== TEST 23: signed for another method
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(device => 'LS6-000002', path => $::FW, method => 'HEAD')
--- error_code: 401
--- response_headers
X-Fwgate-Reason: bad_signature



=== TEST 24: signed with another device's key
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(device => 'LS6-000002', signer => 'LS6-000006', path => $::FW)
--- error_code: 401
--- response_headers
X-Fwgate-Reason: bad_signature



=== TEST 25: a signature of the wrong length
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(device => 'LS6-000001', path => $::FW, sig_b64 => 'AAAAAAAAAAAAAAAA')
--- error_code: 401
--- response_headers
X-Fwgate-Reason: bad_signature



=== TEST 26: Signature-Input that is not a dictionary
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
"X-Device-Model: LS-6000i\nX-Firmware-Version: 2.4.1\n"
. "Signature-Input: fw=(\"\@method\" \"\@path\";created=1\n"
. "Signature: $::ONE->{signature}\n"
--- error_code: 400
--- response_headers
X-Fwgate-Reason: malformed_signature



=== TEST 27: truncated Signature (unterminated byte sequence)
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
my $s = $::ONE->{signature};
$s =~ s/:$//;
"$::ONE->{headers}Signature-Input: $::ONE->{input}\nSignature: $s\n"
--- error_code: 400
--- response_headers
X-Fwgate-Reason: malformed_signature



=== TEST 28: Signature that is a string, not a byte sequence
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
"$::ONE->{headers}Signature-Input: $::ONE->{input}\n"
. "Signature: fw=\"$::ONE->{sig_b64}\"\n"
--- error_code: 400
--- response_headers
X-Fwgate-Reason: malformed_signature



=== TEST 29: bad base64 inside the byte sequence
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
"$::ONE->{headers}Signature-Input: $::ONE->{input}\n"
. "Signature: fw=:!!!notbase64***:\n"
--- error_code: 400
--- response_headers
X-Fwgate-Reason: malformed_signature



=== TEST 30: created is not an integer
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
(my $i = $::ONE->{input}) =~ s/created=\d+/created="soon"/;
"$::ONE->{headers}Signature-Input: $i\nSignature: $::ONE->{signature}\n"
--- error_code: 400
--- response_headers
X-Fwgate-Reason: malformed_signature



=== TEST 31: huge Signature-Input over two field lines (past 8 KiB)
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
"$::ONE->{headers}"
. "Signature-Input: pad1=(\"" . ('a' x 5000) . "\")\n"
. "Signature-Input: pad2=(\"" . ('b' x 5000) . "\"), $::ONE->{input}\n"
. "Signature: $::ONE->{signature}\n"
--- error_code: 400
--- response_headers
X-Fwgate-Reason: malformed_signature



=== TEST 32: huge Signature (past 8 KiB)
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
"$::ONE->{headers}Signature-Input: $::ONE->{input}\n"
. "Signature: pad1=:" . ('A' x 6000) . ":\n"
. "Signature: pad2=:" . ('B' x 4000) . ":, $::ONE->{signature}\n"
--- error_code: 400
--- response_headers
X-Fwgate-Reason: malformed_signature



=== TEST 33: a long signature byte sequence (over the 512-byte limit)
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(device => 'LS6-000001', path => $::FW, sig_b64 => 'QUFB' x 300)
--- error_code: 400
--- response_headers
X-Fwgate-Reason: malformed_signature



=== TEST 34: too many components (40), all of them really signed
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
my %h = map { ("x-c$_" => "v$_") } 1 .. 36;
::sign(device => 'LS6-000002', path => $::FW, headers => \%h,
       components => ['@method', '@path', 'x-device-model',
                      'x-firmware-version', map { "x-c$_" } 1 .. 36])
--- error_code: 400
--- response_headers
X-Fwgate-Reason: malformed_signature



=== TEST 35: many components within the limit (30), all signed: allowed
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
my %h = map { ("x-c$_" => "v$_") } 1 .. 26;
::sign(device => 'LS6-000002', path => $::FW, headers => \%h,
       components => ['@method', '@path', 'x-device-model',
                      'x-firmware-version', map { "x-c$_" } 1 .. 26])
--- error_code: 200
--- response_headers
X-Fwgate-Reason: ok



=== TEST 36: a component covered twice
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(device => 'LS6-000002', path => $::FW,
       components => ['@method', '@path', 'x-device-model',
                      'x-firmware-version', '@path'])
--- error_code: 400
--- response_headers
X-Fwgate-Reason: malformed_signature



=== TEST 37: a covered header that is not in the request
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(device => 'LS6-000002', path => $::FW,
       headers => { 'X-Gone' => 'here' }, omit => ['x-gone'],
       components => ['@method', '@path', 'x-device-model',
                      'x-firmware-version', 'x-gone'])
--- error_code: 400
--- response_headers
X-Fwgate-Reason: malformed_signature



=== TEST 38: an unknown derived component
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
my $p = ::sig_parts(device => 'LS6-000002', path => $::FW);
(my $i = $p->{input}) =~ s/\("\@method"/("\@method" "\@bogus"/;
"$p->{headers}Signature-Input: $i\nSignature: $p->{signature}\n"
--- error_code: 400
--- response_headers
X-Fwgate-Reason: malformed_signature



=== TEST 39: two labels, the default label fw is the one verified
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
my $o = ::sig_parts(device => 'LS6-000002', path => $::FW, label => 'proxy',
                    sig_b64 => 'AAAA');
"$::ONE->{headers}Signature-Input: $o->{input}, $::ONE->{input}\n"
. "Signature: $o->{signature}, $::ONE->{signature}\n"
--- error_code: 200
--- response_headers
X-Fwgate-Reason: ok



=== TEST 40: labels over two field lines of each header
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
my $o = ::sig_parts(device => 'LS6-000002', path => $::FW, label => 'proxy');
"$::ONE->{headers}Signature-Input: $o->{input}\n"
. "Signature-Input: $::ONE->{input}\n"
. "Signature: $::ONE->{signature}\nSignature: $o->{signature}\n"
--- error_code: 200
--- response_headers
X-Fwgate-Reason: ok



=== TEST 41: two labels, neither is fw
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
my $a = ::sig_parts(device => 'LS6-000001', path => $::FW, label => 'a');
my $b = ::sig_parts(device => 'LS6-000002', path => $::FW, label => 'b');
"$a->{headers}Signature-Input: $a->{input}, $b->{input}\n"
. "Signature: $a->{signature}, $b->{signature}\n"
--- error_code: 400
--- response_headers
X-Fwgate-Reason: malformed_signature



=== TEST 42: one label, not named fw: it is the one verified
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(device => 'LS6-000001', path => $::FW, label => 'sig1')
--- error_code: 200
--- response_headers
X-Fwgate-Reason: ok



=== TEST 43: fwgate_signature_label picks the second of two
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
        fwgate_signature_label dev;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
my $a = ::sig_parts(device => 'LS6-000001', path => $::FW, label => 'fw',
                    sig_b64 => 'AAAA');
my $b = ::sig_parts(device => 'LS6-000002', path => $::FW, label => 'dev');
"$b->{headers}Signature-Input: $a->{input}, $b->{input}\n"
. "Signature: $a->{signature}, $b->{signature}\n"
--- error_code: 200
--- response_headers
X-Fwgate-Reason: ok



=== TEST 44: fwgate_signature_label names a label that is absent
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
        fwgate_signature_label dev;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(device => 'LS6-000001', path => $::FW)
--- error_code: 400
--- response_headers
X-Fwgate-Reason: malformed_signature



=== TEST 45: duplicate label, the last one counts (RFC 8941): valid last
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
"$::ONE->{headers}Signature-Input: fw=(\"\@method\");created=1, "
. "$::ONE->{input}\n"
. "Signature: fw=:AAAA:, $::ONE->{signature}\n"
--- error_code: 200
--- response_headers
X-Fwgate-Reason: ok



=== TEST 46: duplicate label, the last one counts: junk last
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
"$::ONE->{headers}Signature-Input: $::ONE->{input}\n"
. "Signature: $::ONE->{signature}, fw=:AAAAAAAAAAAAAAAA:\n"
--- error_code: 401
--- response_headers
X-Fwgate-Reason: bad_signature



=== TEST 47: Signature label missing for the Signature-Input label
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
(my $s = $::ONE->{signature}) =~ s/^fw=/other=/;
"$::ONE->{headers}Signature-Input: $::ONE->{input}\nSignature: $s\n"
--- error_code: 400
--- response_headers
X-Fwgate-Reason: malformed_signature



=== TEST 48: empty Signature-Input and Signature
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
Signature-Input:
Signature:
--- error_code: 400
--- response_headers
X-Fwgate-Reason: malformed_signature



=== TEST 49: binary junk and high bytes in the headers
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
"X-Device-Model: LS-6000i\nX-Firmware-Version: 2.4.1\n"
. "Signature-Input: fw=(\"\xff\xfe\x01\");keyid=\"\xc3\xa9\"\n"
. "Signature: fw=:\xff\xff:\n"
--- error_code: 400
--- response_headers
X-Fwgate-Reason: malformed_signature



=== TEST 50: a keyid of 2000 characters
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(device => 'LS6-000002', path => $::FW, keyid => 'k' x 2000)
--- error_code: 400
--- response_headers
X-Fwgate-Reason: malformed_signature



=== TEST 51: a keyid full of Redis-looking characters
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(device => 'LS6-000002', path => $::FW,
       keyid => 'LS6-000002 *1 $8 FLUSHALL ../device:LS6-000001 *')
--- error_code: 401
--- response_headers
X-Fwgate-Reason: unknown_device



=== TEST 52: unsigned parameters of every bare type added: parsed, refused
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
my $p = ::sig_parts(device => 'LS6-000002', path => $::FW);
(my $i = $p->{input}) =~ s/;keyid=/;x=?1;y=1.5;z=:AA==:;w=tok\/en;keyid=/;
"$p->{headers}Signature-Input: $i\nSignature: $p->{signature}\n"
--- error_code: 401
--- response_headers
X-Fwgate-Reason: bad_signature



=== TEST 53: more parameters (tag, odd types), signed: allowed
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(device => 'LS6-000002', path => $::FW,
       params => ';tag="fwgate";x;y=1.5;z=:AA==:;w=tok/en')
--- error_code: 200
--- response_headers
X-Fwgate-Reason: ok



=== TEST 54: the gate leaves other locations alone
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
    location = /plain {
        return 200 "plain\n";
    }
--- request
GET /plain
--- error_code: 200
--- response_body
plain
--- response_headers
!X-Fwgate-Reason



=== TEST 55: fwgatectl sig keygen/sign, ed25519: allowed
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval: $::CTL{'ed25519'}
--- error_code: 200
--- response_headers
X-Fwgate-Reason: ok



=== TEST 56: fwgatectl sig keygen/sign, hmac-sha256: allowed
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval: $::CTL{'hmac-sha256'}
--- error_code: 200
--- response_headers
X-Fwgate-Reason: ok
