# Admission limits (docs/fleet-guide.md, "Admission"): a rollout's
# max_starts_per_min and max_in_flight, counted in Redis by one script on
# a device's first download; a throttled device gets 503
# rollout_throttled with Retry-After and is not recorded; an admitted
# device's re-downloads pass; the update check says "not now" to a device
# a download would throttle; a report frees an in-flight slot; rollouts
# without limits keep the one fire-and-forget record.

use Test::Nginx::Socket 'no_plan';
use t::FwgateTest;

fw_setup('fwt29:');

our $A6 = 'ls6000i-2.5.0.bin';
our $P = 'fwt29:';

our @D = map { sprintf 'LS6-%06d', $_ } 1 .. 15;
device($_, model => 'LS-6000i', alg => 'hmac-sha256') for @D;
artifact($A6, version => '2.5.0', models => 'LS-6000i');

# a fresh rollout of $A6 to every LS-6000i, nothing recorded yet; the
# edge sees the change within its poll interval (200 ms)
sub fresh { ::fresh_rollout('LS-6000i', $A6, settle => 0.5, @_) }

sub post_report { ::report_post($_[0], ::report_json($A6, $_[1])) }

sub check { ::fw_check(@_) }

sub download { ::fw_download($A6, @_) }

repeat_each(1);
no_long_string();

add_block_preprocessor(sub { ::report_preprocess($_[0]) });

run_tests();

__DATA__

=== TEST 1: max_starts_per_min 3: three new devices start, the fourth is
throttled (503, Retry-After, not recorded); an admitted device's Range
re-download passes; the update check says not now to a new device
--- init
main::fresh(max_starts_per_min => 3);
for my $i (0 .. 2) {
    my $r = main::download($main::D[$i]);
    Test::More::is($r->{status}, 200, "init: device $i admitted");
}
Test::More::is(main::rv('ZCARD', "${main::P}starts:LS-6000i:$main::A6"), 3,
               'init: three starts recorded');
Test::More::is(main::rv('ZCARD', "${main::P}downloads:LS-6000i:$main::A6"), 3,
               'init: three downloads recorded');
my $r = main::download($main::D[3]);
Test::More::is($r->{status}, 503, 'init: the fourth is throttled');
Test::More::is($r->{headers}{'x-fwgate-reason'}, 'rollout_throttled',
               'init: reason rollout_throttled');
Test::More::ok($r->{headers}{'retry-after'} =~ /^\d+$/
               && $r->{headers}{'retry-after'} >= 1
               && $r->{headers}{'retry-after'} <= 60,
               "init: Retry-After $r->{headers}{'retry-after'}");
Test::More::is(main::rv('ZSCORE', "${main::P}downloads:LS-6000i:$main::A6",
                        $main::D[3]), '', 'init: not recorded as downloading');
Test::More::is(main::rv('HEXISTS', "${main::P}stats:LS-6000i:$main::A6:devices",
                        $main::D[3]), '0', 'init: not marked served');
Test::More::is(main::rv('HGET', "${main::P}stats:LS-6000i:$main::A6",
                        'throttled'), '1', 'init: counted as throttled');
$r = main::download($main::D[3]);
Test::More::is($r->{status}, 503, 'init: still throttled (no memo)');
$r = main::download($main::D[0], headers => "Range: bytes=0-9\n");
Test::More::is($r->{status}, 206, 'init: admitted device, Range, passes');
--- request eval
["GET /firmware/$main::A6", "GET /fw/check", "GET /fw/check"]
--- more_headers eval
[::sign(device => $main::D[1], path => "/firmware/$main::A6")
 . "Range: bytes=10-19\n",
 ::sign(device => $main::D[4], path => '/fw/check'),
 ::sign(device => $main::D[2], path => '/fw/check')]
--- error_code eval
[206, 503, 200]
--- response_headers_like eval
["X-Fwgate-Reason: ok", "Retry-After: [1-9][0-9]*", "X-Fwgate-Reason: ok"]



=== TEST 2: the update check's "not now" is a probe: nothing recorded
--- init
main::fresh(max_starts_per_min => 1);
Test::More::is(main::download($main::D[0])->{status}, 200, 'init: one start');
my $r = main::check($main::D[5]);
Test::More::is($r->{status}, 503, 'init: not now');
Test::More::is($r->{headers}{'x-fwgate-reason'}, 'rollout_throttled',
               'init: reason rollout_throttled');
Test::More::is(main::rv('HGET', "${main::P}stats:LS-6000i:$main::A6",
                        'throttled'), '', 'init: a probe counts nothing');
Test::More::is(main::rv('ZCARD', "${main::P}starts:LS-6000i:$main::A6"), 1,
               'init: a probe records no start');
--- request eval
"GET /fw/check"
--- more_headers eval
::sign(device => $main::D[6], path => '/fw/check')
--- error_code: 503
--- response_headers
X-Fwgate-Reason: rollout_throttled
Cache-Control: no-store



=== TEST 3: max_in_flight 2: the third device waits until a report frees
a slot
--- init
main::fresh(max_in_flight => 2);
Test::More::is(main::download($main::D[0])->{status}, 200, 'init: 1 in flight');
Test::More::is(main::download($main::D[1])->{status}, 200, 'init: 2 in flight');
my $r = main::download($main::D[2]);
Test::More::is($r->{status}, 503, 'init: the third is throttled');
Test::More::is($r->{headers}{'x-fwgate-reason'}, 'rollout_throttled',
               'init: reason rollout_throttled');
$r = main::post_report($main::D[0], 'success');
Test::More::is($r->{status}, 204, 'init: a success report');
Test::More::is(main::rv('ZCARD', "${main::P}downloads:LS-6000i:$main::A6"), 1,
               'init: one in flight left');
--- request eval
"GET /firmware/$main::A6"
--- more_headers eval
::sign(device => $main::D[2], path => "/firmware/$main::A6")
--- error_code: 200
--- response_headers
X-Fwgate-Reason: ok



=== TEST 4: in_flight_expiry: a download older than it no longer counts
--- init
main::fresh(max_in_flight => 1, in_flight_expiry => 60);
::redis('HSET', "${main::P}stats:LS-6000i:$main::A6:devices",
        $main::D[0], 'served');
::redis('ZADD', "${main::P}downloads:LS-6000i:$main::A6", time() - 120,
        $main::D[0]);
--- request eval
"GET /firmware/$main::A6"
--- more_headers eval
::sign(device => $main::D[7], path => "/firmware/$main::A6")
--- error_code: 200



=== TEST 5: a rollout without limits keeps today's path: no start is
recorded, the download record is still written
--- init
main::fresh();
--- request eval
"GET /firmware/$main::A6"
--- more_headers eval
::sign(device => $main::D[8], path => "/firmware/$main::A6")
--- error_code: 200
--- response_headers
X-Fwgate-Reason: ok
--- no_error_log
[error]



=== TEST 6: unreadable limits fail closed (one start); the limits hold
however many requests race for the last slot
--- init
main::fresh(max_starts_per_min => 'x');
Test::More::is(main::download($main::D[0])->{status}, 200, 'init: one start');
Test::More::is(main::download($main::D[1])->{status}, 503,
               'init: then throttled');
main::fresh(max_starts_per_min => 4);
my $r = ::http_parallel([map {
    ["GET /firmware/$main::A6",
     ::sign(device => $main::D[$_], path => "/firmware/$main::A6")] } 0 .. 11]);
my $ok = grep { $_->{status} == 200 } @$r;
Test::More::is($ok, 4, 'init: 4 of 12 racing devices admitted');
Test::More::is(main::rv('ZCARD', "${main::P}starts:LS-6000i:$main::A6"), 4,
               'init: 4 starts');
--- request eval
"GET /firmware/$main::A6"
--- more_headers eval
::sign(device => $main::D[12], path => "/firmware/$main::A6")
--- error_code: 503
--- response_headers
X-Fwgate-Reason: rollout_throttled



=== TEST 7: `fwgatectl rollout set` writes the limits; `rollout status`
shows reports by state, in flight and throttled
--- init
main::fresh();
my ($rc, $out) = ::ctl('rollout', 'set', 'LS-6000i', '--max-starts-per-min',
                       '1', '--max-in-flight', '5');
Test::More::is($rc, 0, 'init: rollout set exits 0');
Test::More::is(main::rv('HMGET', "${main::P}rollout:LS-6000i",
                        'max_starts_per_min', 'max_in_flight'), "1\n5",
               'init: limits written');
($rc, $out) = ::ctl('rollout', 'set', 'LS-6000i', '--max-in-flight', '-1');
Test::More::is($rc >> 8, 2, 'init: a bad limit is refused');
select(undef, undef, undef, 0.5);
Test::More::is(main::download($main::D[9])->{status}, 200, 'init: one start');
Test::More::is(main::download($main::D[10])->{status}, 503,
               'init: the second is throttled');
$out = ::ctl('rollout', 'status', 'LS-6000i');
Test::More::like($out, qr/admission in flight 1 \(expiry 3600 s\), throttled 1/,
                 'init: status shows in flight and throttled');
Test::More::like($out, qr/reports\s+success 0 failure 0 deferred 0/,
                 'init: status shows reports by state');
$out = ::ctl('rollout', 'status', 'LS-6000i', '--json');
Test::More::like($out, qr/"admission":\{"success":0,.*"throttled":1,"in_flight":1,"max_starts_per_min":"1"/,
                 'init: --json too');
--- request eval
"GET /fw/check"
--- more_headers eval
::sign(device => $main::D[11], path => '/fw/check')
--- error_code: 503
--- response_headers
X-Fwgate-Reason: rollout_throttled



=== TEST 8: with ttl=0 (no registry cache) a device's download record is
sent once per epoch, not on every download (an EVAL each); a registry
change sends it again
--- http_config eval
::http_config(cache => 'ttl=0 poll=200ms')
--- init
main::fresh();
my $d = $main::D[13];
my $dl = "${main::P}downloads:LS-6000i:$main::A6";
my $sv = "${main::P}stats:LS-6000i:$main::A6:devices";
Test::More::is(main::download($d)->{status}, 200, 'init: first download');
select(undef, undef, undef, 0.3);
Test::More::ok(main::rv('ZSCORE', $dl, $d) ne '', 'init: recorded');
# gone from Redis behind the edge's back: only a resend brings it back
::redis('DEL', $dl, $sv);
Test::More::is(main::download($d)->{status}, 200, 'init: again');
select(undef, undef, undef, 0.3);
Test::More::is(main::rv('ZSCORE', $dl, $d), '', 'init: not sent again');
::bump_epoch();
select(undef, undef, undef, 0.6);
Test::More::is(main::download($d)->{status}, 200, 'init: after a change');
select(undef, undef, undef, 0.3);
Test::More::ok(main::rv('ZSCORE', $dl, $d) ne '',
               'init: a registry change sends it again');
--- request eval
"GET /firmware/$main::A6"
--- more_headers eval
::sign(device => $main::D[13], path => "/firmware/$main::A6")
--- error_code: 200
--- response_headers
X-Fwgate-Reason: ok



=== TEST 9: with the cache and the decision memo, a memo hit does not
send the download record again; a registry change ends that, so the
record is sent again
--- init
main::fresh();
my $d = $main::D[14];
my $dl = "${main::P}downloads:LS-6000i:$main::A6";
my $sv = "${main::P}stats:LS-6000i:$main::A6:devices";
Test::More::is(main::download($d)->{status}, 200, 'init: first download');
select(undef, undef, undef, 0.3);
Test::More::ok(main::rv('ZSCORE', $dl, $d) ne '', 'init: recorded');
::redis('DEL', $dl, $sv);
for my $i (1 .. 3) {
    Test::More::is(main::download($d)->{status}, 200, "init: again ($i)");
}
select(undef, undef, undef, 0.3);
Test::More::is(main::rv('ZSCORE', $dl, $d), '', 'init: not sent again');
::bump_epoch();
select(undef, undef, undef, 0.6);
Test::More::is(main::download($d)->{status}, 200, 'init: after a change');
select(undef, undef, undef, 0.3);
Test::More::ok(main::rv('ZSCORE', $dl, $d) ne '',
               'init: a registry change sends it again');
--- request eval
"GET /firmware/$main::A6"
--- more_headers eval
::sign(device => $main::D[14], path => "/firmware/$main::A6")
--- error_code: 200
--- response_headers
X-Fwgate-Reason: ok
