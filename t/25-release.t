# Signed release metadata (docs/security.md, "Signed release metadata"):
# with fwgate_release_keys an artifact record must carry a release
# signature over its canonical form, so a registry writer cannot widen an
# image's models list (the LockState incident); a rollout's security floor
# refuses older artifacts whatever `downgrade` says, and must be signed
# when keys are on; verification happens once per record, not per request.

use Test::Nginx::Socket 'no_plan';
use t::FwgateTest;
use File::Temp qw(tempdir);

fw_setup('fwt25:');

our $REL = tempdir(CLEANUP => 1);
$ENV{TEST_NGINX_REL} = $REL;

for my $k (qw(k1 k2)) {
    my ($rc, $out) = ctl('release-key', 'gen', '--out', "$REL/$k");
    die "release-key gen: $out" if $rc;
}

device('LS6-250001', model => 'LS-6000i', alg => 'hmac-sha256');
device('LS7-250001', model => 'LS-7000i', alg => 'hmac-sha256');
device('LS5-250001', model => 'LS-5000i', alg => 'hmac-sha256');
device('LS8-250001', model => 'LS-8000i', alg => 'hmac-sha256');

our $A6 = 'ls6000i-2.5.0.bin';
our $A7 = 'ls7000i-3.0.0.bin';
our $A5 = 'ls5000i-1.2.0.bin';
our $A8 = 'ls8000i-1.0.0.bin';

artifact($A6, version => '2.5.0', models => 'LS-6000i', file_size => 3000);
artifact($A7, version => '3.0.0', models => 'LS-7000i', file_size => 5000);
artifact($A5, version => '1.2.0', models => 'LS-5000i', file_size => 2000);
artifact($A8, version => '1.0.0', models => 'LS-8000i', file_size => 1000);

sub sign_artifact {
    my ($name, $key) = @_;
    my ($rc, $out) = ctl('artifact', 'sign', $name, '--key', "$REL/$key.key");
    die "artifact sign $name: $out" if $rc;
}

sign_artifact($A7, 'k1');
sign_artifact($A5, 'k2');
sign_artifact($A8, 'k1');

rollout('LS-6000i', artifact => $A6);
rollout('LS-7000i', artifact => $A7);
rollout('LS-5000i', artifact => $A5);
rollout('LS-8000i', artifact => $A8, downgrade => 1);

our %S6 = (device => 'LS6-250001', model => 'LS-6000i', version => '2.4.1');
our %S7 = (device => 'LS7-250001', model => 'LS-7000i', version => '2.9.0');
our %S5 = (device => 'LS5-250001', model => 'LS-5000i', version => '1.1.0');
our %S8 = (device => 'LS8-250001', model => 'LS-8000i', version => '2.0.0');

# what an attacker with write access to Redis does: the 7000i image now
# claims to fit the 6000i, and the 6000i's rollout points at it
sub lockstate {
    redis('HSET', fw_prefix() . "artifact:$A7", 'models',
          'LS-7000i LS-6000i');
    rollout('LS-6000i', artifact => $A7);
    bump_epoch();
}

repeat_each(1);
no_shuffle();
# TEST 17 counts log lines over all of its pipelined requests
check_accum_error_log();
no_long_string();
add_block_preprocessor(\&t::FwgateTest::preprocess);

run_tests();

__DATA__

=== TEST 1: keys on: an artifact signed by the release key is served
--- config
    fwgate_release_keys $TEST_NGINX_REL/k1.pub;
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
--- response_body eval
::fw_bytes($::A7, 0)



=== TEST 2: keys on: an unsigned artifact is refused unsigned_artifact
--- config
    fwgate_release_keys $TEST_NGINX_REL/k1.pub;
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
X-Fwgate-Reason: unsigned_artifact
!X-Firmware-Version
--- error_log
release signature of artifact "ls6000i-2.5.0.bin" not valid: no sig



=== TEST 3: keys off: the unsigned artifact is served as before
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(%::S6, path => '/firmware/ls6000i-2.5.0.bin')
--- error_code: 200
--- response_headers
X-Fwgate-Reason: ok
--- response_body eval
::fw_bytes($::A6, 0)



=== TEST 4: LockState without release keys: after the registry write
(models "LS-7000i LS-6000i", 6000i rollout on the 7000i image) a 6000i
gets the 7000i image: what this feature is for
--- init
::lockstate()
--- request
GET /firmware/ls7000i-3.0.0.bin
--- more_headers eval
::sign(%::S6, path => '/firmware/ls7000i-3.0.0.bin')
--- error_code: 200
--- response_body eval
::fw_bytes($::A7, 0)



=== TEST 5: LockState with release keys: the signed 6000i request for the
rewritten 7000i record is refused unsigned_artifact, no byte served
--- init
::lockstate()
--- config
    fwgate_release_keys $TEST_NGINX_REL/k1.pub $TEST_NGINX_REL/k2.pub;
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
X-Fwgate-Reason: unsigned_artifact
!X-Firmware-Version
!Repr-Digest
--- response_body_unlike eval
qr/\A\Q${\ ::fw_bytes($::A7, 0, 64)}\E/
--- error_log
release signature of artifact "ls7000i-3.0.0.bin" not valid: signature does not verify



=== TEST 6: LockState with release keys: the update check offers the 6000i
nothing (204)
--- init
::lockstate()
--- config
    fwgate_release_keys $TEST_NGINX_REL/k1.pub;
    location = /fw/manifest {
        fwgate_manifest;
        fwgate_expose_reason on;
    }
--- request
GET /fw/manifest
--- more_headers eval
::sign(%::S6, path => '/fw/manifest')
--- error_code: 204
--- response_headers
X-Fwgate-Reason: unsigned_artifact
--- response_body eval
''



=== TEST 7: LockState without keys, for contrast: the update check offers
the 6000i the 7000i image
--- init
::lockstate()
--- config
    location = /fw/manifest {
        fwgate_manifest;
        fwgate_expose_reason on;
    }
--- request
GET /fw/manifest
--- more_headers eval
::sign(%::S6, path => '/fw/manifest')
--- error_code: 200
--- response_body_like: "artifact":"ls7000i-3\.0\.0\.bin"



=== TEST 8: the tampered record is refused to its own model too, until it
is signed again
--- init
::lockstate()
--- config
    fwgate_release_keys $TEST_NGINX_REL/k1.pub;
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls7000i-3.0.0.bin
--- more_headers eval
::sign(%::S7, path => '/firmware/ls7000i-3.0.0.bin')
--- error_code: 403
--- response_headers
X-Fwgate-Reason: unsigned_artifact
--- error_log
not valid



=== TEST 9: rotation: two key files, the artifact signed by the second
key, is served
--- config
    fwgate_release_keys $TEST_NGINX_REL/k1.pub $TEST_NGINX_REL/k2.pub;
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls5000i-1.2.0.bin
--- more_headers eval
::sign(%::S5, path => '/firmware/ls5000i-1.2.0.bin')
--- error_code: 200
--- response_headers
X-Fwgate-Reason: ok
--- response_body eval
::fw_bytes($::A5, 0)



=== TEST 10: rotation: with only the first key, the artifact signed by the
second is refused (unknown keyid)
--- config
    fwgate_release_keys $TEST_NGINX_REL/k1.pub;
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls5000i-1.2.0.bin
--- more_headers eval
::sign(%::S5, path => '/firmware/ls5000i-1.2.0.bin')
--- error_code: 403
--- response_headers
X-Fwgate-Reason: unsigned_artifact
--- error_log
not valid: unknown keyid



=== TEST 11: a location may turn the check off under an http-level key set
(the artifact is signed by k2, the http level trusts only k1)
--- http_config eval
::http_config(extra => "    fwgate_release_keys $::REL/k1.pub;\n")
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
        fwgate_release_keys off;
    }
--- request
GET /firmware/ls5000i-1.2.0.bin
--- more_headers eval
::sign(%::S5, path => '/firmware/ls5000i-1.2.0.bin')
--- error_code: 200



=== TEST 12: floor: a downgrade=1 rollout to a version below the signed
floor is refused below_floor (keys on)
--- init
my ($rc, $out) = ::ctl('rollout', 'floor', 'LS-8000i', '1.5.0',
                       '--sign-key', "$::REL/k1.key");
die $out if $rc;
::bump_epoch();
--- config
    fwgate_release_keys $TEST_NGINX_REL/k1.pub;
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls8000i-1.0.0.bin
--- more_headers eval
::sign(%::S8, path => '/firmware/ls8000i-1.0.0.bin')
--- error_code: 403
--- response_headers
X-Fwgate-Reason: below_floor



=== TEST 13: floor: refused below_floor without release keys too
--- request
GET /firmware/ls8000i-1.0.0.bin
--- more_headers eval
::sign(%::S8, path => '/firmware/ls8000i-1.0.0.bin')
--- error_code: 403
--- response_headers
X-Fwgate-Reason: below_floor



=== TEST 14: an unsigned floor is refused unsigned_floor with keys on
(fail closed), even one the artifact is above
--- init
my ($rc, $out) = ::ctl('rollout', 'floor', 'LS-8000i', '0.9.0', '--force');
die $out if $rc;
::bump_epoch();
--- config
    fwgate_release_keys $TEST_NGINX_REL/k1.pub;
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls8000i-1.0.0.bin
--- more_headers eval
::sign(%::S8, path => '/firmware/ls8000i-1.0.0.bin')
--- error_code: 403
--- response_headers
X-Fwgate-Reason: unsigned_floor



=== TEST 15: without keys the unsigned floor below the artifact lets the
allowed downgrade through
--- request
GET /firmware/ls8000i-1.0.0.bin
--- more_headers eval
::sign(%::S8, path => '/firmware/ls8000i-1.0.0.bin')
--- error_code: 200
--- response_body eval
::fw_bytes($::A8, 0)



=== TEST 16: a floor signed for another version does not verify
--- init
my $p = ::fw_prefix();
my ($rc, $out) = ::ctl('rollout', 'floor', 'LS-8000i', '0.9.0', '--force',
                       '--sign-key', "$::REL/k1.key");
die $out if $rc;
::redis('HSET', "${p}rollout:LS-8000i", 'floor', '0.8.0');
::bump_epoch();
--- config
    fwgate_release_keys $TEST_NGINX_REL/k1.pub;
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request
GET /firmware/ls8000i-1.0.0.bin
--- more_headers eval
::sign(%::S8, path => '/firmware/ls8000i-1.0.0.bin')
--- error_code: 403
--- response_headers
X-Fwgate-Reason: unsigned_floor



=== TEST 17: the warm path does not verify per request: five downloads of
a signed artifact, one "release signature verified" in the log
--- config
    fwgate_release_keys $TEST_NGINX_REL/k1.pub $TEST_NGINX_REL/k2.pub;
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- more_headers eval
::sign(%::S5, path => '/firmware/ls5000i-1.2.0.bin')
--- pipelined_requests eval
[("GET /firmware/ls5000i-1.2.0.bin") x 5]
--- error_code eval
[(200) x 5]
--- grep_error_log: release signature verified
--- grep_error_log_out
release signature verified



=== TEST 18: a release key file that is not one is refused at startup
--- config
    fwgate_release_keys $TEST_NGINX_REL/k1.key;
    location /firmware/ {
        fwgate on;
    }
--- must_die
--- error_log
fwgate_release_keys



=== TEST 19: the update check refuses to offer under an unsigned floor
(204 unsigned_floor), as the gate does
--- config
    fwgate_release_keys $TEST_NGINX_REL/k1.pub;
    location = /fw/manifest {
        fwgate_manifest;
        fwgate_expose_reason on;
    }
--- request
GET /fw/manifest
--- more_headers eval
::sign(%::S8, path => '/fw/manifest')
--- error_code: 204
--- response_headers
X-Fwgate-Reason: unsigned_floor



=== TEST 20: the update check honours a signed floor: below_floor (204)
--- init
my ($rc, $out) = ::ctl('rollout', 'floor', 'LS-8000i', '1.1.0',
                       '--sign-key', "$::REL/k2.key");
die $out if $rc;
::bump_epoch();
--- config
    fwgate_release_keys $TEST_NGINX_REL/k1.pub $TEST_NGINX_REL/k2.pub;
    location = /fw/manifest {
        fwgate_manifest;
        fwgate_expose_reason on;
    }
--- request
GET /fw/manifest
--- more_headers eval
::sign(%::S8, path => '/fw/manifest')
--- error_code: 204
--- response_headers
X-Fwgate-Reason: below_floor
