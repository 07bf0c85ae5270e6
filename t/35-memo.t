# The worker's decision memo (issue 16): an allow is kept per device,
# claims, artifact, URI and registry generation, and must never outlive
# what it was decided from:
#
#  - a registry change seen by the epoch poll ends it (revoke, halt);
#  - a record's ttl ends it, even when nobody bumped the epoch;
#  - a hit still verifies the request's own signature and nonce;
#  - another URI, another location or other claims are other entries;
#  - fwgate_decision_memo off keeps nothing.
#
# Every block first makes the memo hold the decision (two allowed
# downloads in the block's --- init), then changes one thing.

use Test::Nginx::Socket 'no_plan';
use t::FwgateTest;

fw_setup('fwt35:');

our @D = map { sprintf 'LS6-835%03d', $_ } 0 .. 11;
device($_, model => 'LS-6000i', alg => 'hmac-sha256') for @D;

our $A6 = 'ls6000i-2.5.0.bin';
our $FW = "/firmware/$A6";
artifact($A6, version => '2.5.0', models => 'LS-6000i', file_size => 2000);
rollout('LS-6000i', artifact => $A6, percent => 100);

sub must {
    my ($what, $dev, $want, %o) = @_;
    my $path = $o{path} || $FW;
    my $r = ::http_req("GET $path",
                       ::sign(device => $dev, path => $path, %o));
    die "$what: $r->{status} " . ($r->{headers}{'x-fwgate-reason'} || '')
        . ", want $want\n" unless $r->{status} == $want;
    return $r;
}

# two allowed downloads (the second is a memo hit), then the change
sub then_change {
    my ($dev, $change, $wait) = @_;
    must('first', $dev, 200);
    must('second', $dev, 200);
    $change->() if $change;
    select undef, undef, undef, $wait if $wait;
}

our $SEEN = ::sign(device => $D[4], path => $FW, nonce => 'memo-replay-1');

repeat_each(1);
no_shuffle();
no_long_string();
add_block_preprocessor(\&t::FwgateTest::preprocess);

run_tests();

__DATA__

=== TEST 1: a warm allow is a memo hit, and still allowed
--- log_level: debug
--- init
main::then_change($::D[0]);
--- request eval
"GET $::FW"
--- more_headers eval
::sign(device => $::D[0], path => $::FW)
--- error_code: 200
--- response_headers
X-Fwgate-Reason: ok
X-Firmware-Version: 2.5.0
--- error_log
fwgate: decision memo hit



=== TEST 2: revoked after a memo hit, the epoch bumped: refused within the
poll
--- init
main::then_change($::D[1], sub {
    ::redis('HSET', "fwt35:device:$::D[1]", 'status', 'revoked');
    ::bump_epoch() }, 1.5);
--- request eval
"GET $::FW"
--- more_headers eval
::sign(device => $::D[1], path => $::FW)
--- error_code: 403
--- response_headers
X-Fwgate-Reason: revoked



=== TEST 3: the rollout halted after a memo hit: refused within the poll
--- init
main::then_change($::D[2], sub {
    ::redis('HSET', 'fwt35:rollout:LS-6000i', 'state', 'halted');
    ::bump_epoch() }, 1.5);
--- request eval
"GET $::FW"
--- more_headers eval
::sign(device => $::D[2], path => $::FW)
--- error_code: 403
--- response_headers
X-Fwgate-Reason: rollout_halted



=== TEST 4: no epoch bump at all: the memo ends with its records' ttl
--- http_config eval
::http_config(cache => 'ttl=1s')
--- init
::rollout('LS-6000i', artifact => $::A6, percent => 100);
::bump_epoch();
select undef, undef, undef, 1.5;
main::then_change($::D[3], sub {
    ::redis('HSET', "fwt35:device:$::D[3]", 'status', 'revoked') }, 1.5);
--- request eval
"GET $::FW"
--- more_headers eval
::sign(device => $::D[3], path => $::FW)
--- error_code: 403
--- response_headers
X-Fwgate-Reason: revoked



=== TEST 5: a memo hit still checks the request's signature
--- init
main::then_change($::D[5]);
--- request eval
"GET $::FW"
--- more_headers eval
my $h = ::sign(device => $::D[5], path => $::FW);
$h =~ s/(Signature: fw=:)(.)/$1 . ($2 eq 'A' ? 'B' : 'A')/e;
$h
--- error_code: 401
--- response_headers
X-Fwgate-Reason: bad_signature



=== TEST 6: a memo hit still refuses a replayed nonce
--- init
main::then_change($::D[4]);
main::http_req("GET $::FW", $::SEEN);
--- request eval
"GET $::FW"
--- more_headers eval
$::SEEN
--- error_code: 401
--- response_headers
X-Fwgate-Reason: replay



=== TEST 7: another URI is another decision: the image kept in another
folder under the artifact's name is not served from the memo
--- init
main::then_change($::D[6]);
--- request eval
"GET /firmware/x/$::A6"
--- more_headers eval
::sign(device => $::D[6], path => "/firmware/x/$::A6")
--- error_code: 404
--- response_headers
X-Fwgate-Reason: path_mismatch



=== TEST 8: other claims are another decision: a claimed model the record
does not have
--- init
main::then_change($::D[7]);
--- request eval
"GET $::FW"
--- more_headers eval
::sign(device => $::D[7], path => $::FW, model => 'LS-7000i')
--- error_code: 403
--- response_headers
X-Fwgate-Reason: model_mismatch



=== TEST 9: fwgate_decision_memo off: every request decides in full
--- log_level: debug
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
        fwgate_decision_memo off;
    }
--- init
main::then_change($::D[8]);
--- request eval
"GET $::FW"
--- more_headers eval
::sign(device => $::D[8], path => $::FW)
--- error_code: 200
--- no_error_log
decision memo hit



=== TEST 10: admission still applies on a hit: with one start a minute, a
second device is throttled on its first download and again on the next
which the memo answers
--- log_level: debug
--- init
::redis('DEL', 'fwt35:starts:LS-6000i:ls6000i-2.5.0.bin',
        'fwt35:downloads:LS-6000i:ls6000i-2.5.0.bin');
::rollout('LS-6000i', artifact => $::A6, percent => 100,
          max_starts_per_min => 1);
::bump_epoch();
select undef, undef, undef, 1.5;
main::must('first device', $::D[10], 200);
main::must('second device', $::D[11], 503);
main::must('second device, decided from cached records', $::D[11], 503);
--- request eval
"GET $::FW"
--- more_headers eval
::sign(device => $::D[11], path => $::FW)
--- error_code: 503
--- response_headers
X-Fwgate-Reason: rollout_throttled
--- error_log
fwgate: decision memo hit
