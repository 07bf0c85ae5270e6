# The update check, `fwgate_manifest` (SPEC section 6): the gate's own
# decision for the target of the device's rollout; 200 with the artifact's
# description, 204 when there is nothing to install, the gate's refusals
# for the device and the registry.  Registry state for each block is
# written by its `--- init`, so blocks run in any order.

use Test::Nginx::Socket 'no_plan';
use t::FwgateTest;

fw_setup('fwt20:');

our $A6 = 'ls6000i-2.5.0.bin';
our $A7 = 'ls7000i-3.0.0.bin';
our $A5 = 'ls5000-1.0.0.bin';

# a sign() for the update check location
sub chk { ::sign(path => '/fw/check', @_) }

# devices of LS-6000i in and out of a 50% cohort salted by the artifact
our @IN = pick_devices('LS6-%06d', sub { bucket($A6, $_[0]) < 5000 }, 3);
our @OUT = pick_devices('LS6-%06d', sub { bucket($A6, $_[0]) >= 5000 }, 2);

device($_, model => 'LS-6000i', alg => 'hmac-sha256') for @IN, @OUT;
device('LS7-000001', model => 'LS-7000i', alg => 'hmac-sha256');
device('LS5-000001', model => 'LS-5000', alg => 'ed25519');

our $SHA6 = artifact($A6, version => '2.5.0', models => 'LS-6000i',
                     file_size => 5000);
our $SHA7 = artifact($A7, version => '3.0.0', models => 'LS-7000i',
                     file_size => 6000);
our $SHA5 = artifact($A5, version => '1.0.0', models => 'LS-5000',
                     file_size => 3000);

# the usual state: LS-6000i at 50%, LS-7000i at 100%
sub reset_rollouts {
    ::rollout('LS-6000i', artifact => $A6, percent => 50);
    ::rollout('LS-7000i', artifact => $A7, percent => 100);
    ::canary('LS-6000i');
    ::exclude('LS-6000i');
}

sub offer6 {
    return qq({"artifact":"$A6","version":"2.5.0",)
         . qq("url":"https://fw.example.com/firmware/$A6",)
         . qq("sha256":"$SHA6","size":5000}\n);
}

repeat_each(2);
no_long_string();

add_block_preprocessor(sub {
    my ($block) = @_;
    $block->set_value('config', <<'_EOC_') unless defined $block->config;
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
    location = /fw/check {
        fwgate_manifest base_url=https://fw.example.com/;
        fwgate_expose_reason on;
    }
_EOC_
    $block->set_value('init', 'main::reset_rollouts();')
        unless defined $block->init;
    t::FwgateTest::preprocess($block);
});

run_tests();

__DATA__

=== TEST 1: in the cohort: 200 with the artifact, url from base_url
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
    location = /fw/check {
        fwgate_manifest base_url=https://fw.example.com/;
        fwgate_expose_reason on;
    }
--- request
GET /fw/check
--- more_headers eval
::chk(device => $::IN[0], version => '2.4.1')
--- error_code: 200
--- response_headers
Content-Type: application/json
Cache-Control: no-store
X-Fwgate-Reason: ok
--- response_body eval
::offer6()



=== TEST 2: out of the cohort: 204 not_in_cohort
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
    location = /fw/check {
        fwgate_manifest base_url=https://fw.example.com/;
        fwgate_expose_reason on;
    }
--- request
GET /fw/check
--- more_headers eval
::chk(device => $::OUT[0], version => '2.4.1')
--- error_code: 204
--- response_headers
Cache-Control: no-store
X-Fwgate-Reason: not_in_cohort
--- response_body



=== TEST 3: a canary out of the bucket range is offered the update
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
    location = /fw/check {
        fwgate_manifest base_url=https://fw.example.com/;
        fwgate_expose_reason on;
    }
--- init
main::reset_rollouts();
::canary('LS-6000i', $::OUT[1]);
--- request
GET /fw/check
--- more_headers eval
::chk(device => $::OUT[1], version => '2.4.1')
--- error_code: 200
--- response_body eval
::offer6()



=== TEST 4: an excluded device in the bucket range is not
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
    location = /fw/check {
        fwgate_manifest base_url=https://fw.example.com/;
        fwgate_expose_reason on;
    }
--- init
main::reset_rollouts();
::exclude('LS-6000i', $::IN[1]);
--- request
GET /fw/check
--- more_headers eval
::chk(device => $::IN[1], version => '2.4.1')
--- error_code: 204
--- response_headers
X-Fwgate-Reason: not_in_cohort



=== TEST 5: up to date: the device runs the target version
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
    location = /fw/check {
        fwgate_manifest base_url=https://fw.example.com/;
        fwgate_expose_reason on;
    }
--- request
GET /fw/check
--- more_headers eval
::chk(device => $::IN[0], version => '2.5.0')
--- error_code: 204
--- response_headers
X-Fwgate-Reason: up_to_date
Cache-Control: no-store



=== TEST 6: up to date, build metadata aside (SemVer precedence)
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
    location = /fw/check {
        fwgate_manifest base_url=https://fw.example.com/;
        fwgate_expose_reason on;
    }
--- request
GET /fw/check
--- more_headers eval
::chk(device => $::IN[0], version => '2.5.0+build.7')
--- error_code: 204
--- response_headers
X-Fwgate-Reason: up_to_date



=== TEST 7: a pre-release of the target is below it: offered
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
    location = /fw/check {
        fwgate_manifest base_url=https://fw.example.com/;
        fwgate_expose_reason on;
    }
--- request
GET /fw/check
--- more_headers eval
::chk(device => $::IN[0], version => '2.5.0-rc.1')
--- error_code: 200
--- response_body eval
::offer6()



=== TEST 8: an older target is not offered without downgrade=1
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
    location = /fw/check {
        fwgate_manifest base_url=https://fw.example.com/;
        fwgate_expose_reason on;
    }
--- init
::rollout('LS-5000', artifact => $::A5, percent => 100);
--- request
GET /fw/check
--- more_headers eval
::chk(device => 'LS5-000001', model => 'LS-5000', version => '1.2.0')
--- error_code: 204
--- response_headers
X-Fwgate-Reason: downgrade



=== TEST 9: with downgrade=1 the older target is offered
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
    location = /fw/check {
        fwgate_manifest base_url=https://fw.example.com/;
        fwgate_expose_reason on;
    }
--- init
::rollout('LS-5000', artifact => $::A5, percent => 100, downgrade => 1);
--- request
GET /fw/check
--- more_headers eval
::chk(device => 'LS5-000001', model => 'LS-5000', version => '1.2.0')
--- error_code: 200
--- response_body eval
qq({"artifact":"$::A5","version":"1.0.0",)
. qq("url":"https://fw.example.com/firmware/$::A5",)
. qq("sha256":"$::SHA5","size":3000}\n)



=== TEST 10: paused rollout: 204 rollout_paused
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
    location = /fw/check {
        fwgate_manifest base_url=https://fw.example.com/;
        fwgate_expose_reason on;
    }
--- init
main::reset_rollouts();
::rollout('LS-6000i', artifact => $::A6, percent => 100, state => 'paused');
--- request
GET /fw/check
--- more_headers eval
::chk(device => $::IN[0], version => '2.4.1')
--- error_code: 204
--- response_headers
X-Fwgate-Reason: rollout_paused



=== TEST 11: halted rollout: 204 rollout_halted
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
    location = /fw/check {
        fwgate_manifest base_url=https://fw.example.com/;
        fwgate_expose_reason on;
    }
--- init
main::reset_rollouts();
::rollout('LS-6000i', artifact => $::A6, percent => 100, state => 'halted');
--- request
GET /fw/check
--- more_headers eval
::chk(device => $::IN[0], version => '2.4.1')
--- error_code: 204
--- response_headers
X-Fwgate-Reason: rollout_halted



=== TEST 12: the incident: a 6000i rollout pointed at the 7000i image
(204 incompatible; the other model's image is never named)
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
    location = /fw/check {
        fwgate_manifest base_url=https://fw.example.com/;
        fwgate_expose_reason on;
    }
--- init
main::reset_rollouts();
::rollout('LS-6000i', artifact => $::A7, percent => 100);
--- request
GET /fw/check
--- more_headers eval
::chk(device => $::IN[0], version => '2.4.1')
--- error_code: 204
--- response_headers
X-Fwgate-Reason: incompatible
--- response_body_unlike
ls7000i



=== TEST 13: the 7000i itself is offered its image
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
    location = /fw/check {
        fwgate_manifest base_url=https://fw.example.com/;
        fwgate_expose_reason on;
    }
--- request
GET /fw/check
--- more_headers eval
::chk(device => 'LS7-000001', model => 'LS-7000i', version => '2.9.9')
--- error_code: 200
--- response_body eval
qq({"artifact":"$::A7","version":"3.0.0",)
. qq("url":"https://fw.example.com/firmware/$::A7",)
. qq("sha256":"$::SHA7","size":6000}\n)



=== TEST 14: no rollout for the model: 204 not_released
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
    location = /fw/check {
        fwgate_manifest base_url=https://fw.example.com/;
        fwgate_expose_reason on;
    }
--- init
main::reset_rollouts();
::redis('DEL', 'fwt20:rollout:LS-6000i');
--- request
GET /fw/check
--- more_headers eval
::chk(device => $::IN[0], version => '2.4.1')
--- error_code: 204
--- response_headers
X-Fwgate-Reason: not_released



=== TEST 15: a rollout naming a missing artifact: 204 unknown_artifact
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
    location = /fw/check {
        fwgate_manifest base_url=https://fw.example.com/;
        fwgate_expose_reason on;
    }
--- init
main::reset_rollouts();
::rollout('LS-6000i', artifact => 'no-such.bin', percent => 100);
--- request
GET /fw/check
--- more_headers eval
::chk(device => $::IN[0], version => '2.4.1')
--- error_code: 204
--- response_headers
X-Fwgate-Reason: unknown_artifact



=== TEST 16: the from range gates the upgrade path
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
    location = /fw/check {
        fwgate_manifest base_url=https://fw.example.com/;
        fwgate_expose_reason on;
    }
--- init
main::reset_rollouts();
::rollout('LS-6000i', artifact => $::A6, percent => 100, from => '>=2.4.0');
--- request eval
["GET /fw/check", "GET /fw/check"]
--- more_headers eval
[::chk(device => $::IN[0], version => '2.3.9'),
 ::chk(device => $::IN[0], version => '2.4.0')]
--- error_code eval
[204, 200]
--- response_headers eval
["X-Fwgate-Reason: upgrade_path", "X-Fwgate-Reason: ok"]



=== TEST 17: HEAD: the headers of the 200, no body
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
    location = /fw/check {
        fwgate_manifest base_url=https://fw.example.com/;
        fwgate_expose_reason on;
    }
--- request
HEAD /fw/check
--- more_headers eval
::chk(device => $::IN[0], version => '2.4.1', method => 'HEAD')
--- error_code: 200
--- response_headers eval
"Content-Type: application/json\nCache-Control: no-store\n"
. "Content-Length: " . length(::offer6()) . "\n"
--- response_body



=== TEST 18: HEAD when there is nothing to install
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
    location = /fw/check {
        fwgate_manifest base_url=https://fw.example.com/;
        fwgate_expose_reason on;
    }
--- request
HEAD /fw/check
--- more_headers eval
::chk(device => $::OUT[0], version => '2.4.1', method => 'HEAD')
--- error_code: 204
--- response_headers
X-Fwgate-Reason: not_in_cohort



=== TEST 19: POST is not an update check
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
    location = /fw/check {
        fwgate_manifest base_url=https://fw.example.com/;
        fwgate_expose_reason on;
    }
--- request
POST /fw/check
{}
--- more_headers eval
::chk(device => $::IN[0], version => '2.4.1', method => 'POST')
--- error_code: 405



=== TEST 20: unsigned: the gate's 401, not a 204
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
    location = /fw/check {
        fwgate_manifest base_url=https://fw.example.com/;
        fwgate_expose_reason on;
    }
--- request
GET /fw/check
--- more_headers
X-Device-Model: LS-6000i
X-Firmware-Version: 2.4.1
--- error_code: 401
--- response_headers
X-Fwgate-Reason: missing_signature
Cache-Control: no-store



=== TEST 21: a signature for another path: 401 bad_signature
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
    location = /fw/check {
        fwgate_manifest base_url=https://fw.example.com/;
        fwgate_expose_reason on;
    }
--- request
GET /fw/check
--- more_headers eval
::sign(device => $::IN[0], path => '/fw/other')
--- error_code: 401
--- response_headers
X-Fwgate-Reason: bad_signature



=== TEST 22: a device claiming another model: 403 model_mismatch
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
    location = /fw/check {
        fwgate_manifest base_url=https://fw.example.com/;
        fwgate_expose_reason on;
    }
--- request
GET /fw/check
--- more_headers eval
::chk(device => $::IN[0], model => 'LS-7000i', version => '2.4.1')
--- error_code: 403
--- response_headers
X-Fwgate-Reason: model_mismatch



=== TEST 23: an unknown device: 401 unknown_device
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
    location = /fw/check {
        fwgate_manifest base_url=https://fw.example.com/;
        fwgate_expose_reason on;
    }
--- request
GET /fw/check
--- more_headers eval
::chk(device => 'LS6-nobody', signer => $::IN[0], version => '2.4.1')
--- error_code: 401
--- response_headers
X-Fwgate-Reason: unknown_device



=== TEST 24: Redis unreachable and nothing cached: 503 with Retry-After
--- http_config eval
::http_config(addr => '127.0.0.1:1', redis => 'connect_timeout=200ms')
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
    location = /fw/check {
        fwgate_manifest base_url=https://fw.example.com/;
        fwgate_expose_reason on;
    }
--- request
GET /fw/check
--- more_headers eval
::chk(device => $::IN[0], version => '2.4.1')
--- error_code: 503
--- response_headers
X-Fwgate-Reason: registry_unavailable
Retry-After: 1
Cache-Control: no-store
--- no_error_log
[alert]
[crit]



=== TEST 25: url: a path with JSON specials is escaped; an absolute path
stands alone; no base_url leaves the path as it is
--- config
    location = /fw/check {
        fwgate_manifest;
        fwgate_expose_reason on;
    }
    location = /fw/check2 {
        fwgate_manifest base_url=https://fw.example.com;
        fwgate_expose_reason on;
    }
--- init
main::reset_rollouts();
::artifact('odd.bin', version => '9.0.0', models => 'LS-7000i',
           no_file => 1, sha256 => 'ab', size => '12x',
           path => "/fw/a\"b\\c\x01d");
::artifact('abs.bin', version => '9.0.0', models => 'LS-5000',
           no_file => 1, sha256 => 'cd', size => 77,
           path => 'https://cdn.example.net/abs.bin');
::rollout('LS-7000i', artifact => 'odd.bin', percent => 100);
::rollout('LS-5000', artifact => 'abs.bin', percent => 100);
--- request eval
["GET /fw/check", "GET /fw/check2"]
--- more_headers eval
[::chk(device => 'LS7-000001', model => 'LS-7000i', version => '3.0.0'),
 ::sign(path => '/fw/check2', device => 'LS5-000001', model => 'LS-5000',
        version => '1.0.0')]
--- error_code eval
[200, 200]
--- response_body eval
[qq({"artifact":"odd.bin","version":"9.0.0",)
 . qq("url":"/fw/a\\"b\\\\c\\u0001d","sha256":"ab","size":null}\n),
 qq({"artifact":"abs.bin","version":"9.0.0",)
 . qq("url":"https://cdn.example.net/abs.bin","sha256":"cd","size":77}\n)]



=== TEST 26: an update check on the target version clears the download
record; other devices' records stay
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
    location = /fw/check {
        fwgate_manifest base_url=https://fw.example.com/;
        fwgate_expose_reason on;
    }
--- init
main::reset_rollouts();
::redis('DEL', "fwt20:downloads:LS-6000i:$::A6");
::redis('ZADD', "fwt20:downloads:LS-6000i:$::A6", 100, $::IN[0], 100,
        $::IN[1]);
my $r = ::http_req('GET /fw/check',
                   ::chk(device => $::IN[0], version => '2.5.0'));
Test::More::is($r->{status}, 204, 'init: up-to-date check answered');
Test::More::ok(::wait_for(sub {
    ::rv('ZSCORE', "fwt20:downloads:LS-6000i:$::A6", $::IN[0]) eq ''
}, 3), 'init: the download record of the checking device is gone');
Test::More::is(::rv('ZSCORE', "fwt20:downloads:LS-6000i:$::A6",
                       $::IN[1]), '100',
               'init: the other device is still pending');
--- request
GET /fw/check
--- more_headers eval
::chk(device => $::IN[1], version => '2.4.1')
--- error_code: 200



=== TEST 27: an allowed download of the target is recorded once (NX);
a re-download keeps the first time
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
    location = /fw/check {
        fwgate_manifest base_url=https://fw.example.com/;
        fwgate_expose_reason on;
    }
--- init
main::reset_rollouts();
::redis('DEL', "fwt20:downloads:LS-6000i:$::A6",
        "fwt20:stats:LS-6000i:$::A6:devices");
::redis('ZADD', "fwt20:downloads:LS-6000i:$::A6", 100, $::IN[2]);
my $r = ::http_req("GET /firmware/$::A6",
                   ::sign(device => $::IN[0], path => "/firmware/$::A6"));
Test::More::is($r->{status}, 200, 'init: download allowed');
Test::More::ok(::wait_for(sub {
    ::rv('ZSCORE', "fwt20:downloads:LS-6000i:$::A6", $::IN[0]) ne ''
}, 3), 'init: the download is recorded');
Test::More::ok(::rv('SISMEMBER', 'fwt20:rollouts:watch', 'LS-6000i')
               eq '1', 'init: the model is watched for silence');
$r = ::http_req("GET /firmware/$::A6",
                ::sign(device => $::IN[2], path => "/firmware/$::A6"));
Test::More::is($r->{status}, 200, 'init: re-download allowed');
select undef, undef, undef, 0.3;
Test::More::is(::rv('ZSCORE', "fwt20:downloads:LS-6000i:$::A6",
                       $::IN[2]), '100', 'init: first time kept');
--- request eval
"GET /firmware/$::A6"
--- more_headers eval
::sign(device => $::IN[0], path => "/firmware/$::A6")
--- error_code: 200
