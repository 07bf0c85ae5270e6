# Install reports, `fwgate_report`, and automatic halts (SPEC section 6):
# counting once per device, the thresholds (failures and ratio, silent
# devices counted as failures), the halt reaching the download gate and
# the update check through the epoch poll, malformed reports, and a
# registry that does not take writes.  Each block's `--- init` writes its
# own registry state and drives the devices that come before its request.

use Test::Nginx::Socket 'no_plan';
use t::FwgateTest;
use Time::HiRes ();
use POSIX ();
use Digest::SHA ();
use MIME::Base64 ();

fw_setup('fwt21:');

our $A6 = 'ls6000i-2.5.0.bin';
our $A7 = 'ls7000i-3.0.0.bin';
our $P = 'fwt21:';

our @D = map { sprintf 'LS6-%06d', $_ } 1 .. 12;
device($_, model => 'LS-6000i', alg => 'hmac-sha256') for @D;
device('LS7-000001', model => 'LS-7000i', alg => 'hmac-sha256');
artifact($A6, version => '2.5.0', models => 'LS-6000i');
artifact($A7, version => '3.0.0', models => 'LS-7000i');

# a fresh rollout of $A6 to all LS-6000i, with its counters cleared; the
# devices of @D are marked as served by it (as a download does: only
# reports from devices the rollout served count), except with served => 0
sub fresh {
    my (%o) = @_;
    my $served = exists $o{served} ? delete $o{served} : 1;
    ::fresh_rollout('LS-6000i', $A6, served => $served ? \@D : undef, %o);
}

# headers of a signed report of $body; without $body, of the body
# rep_body('success') gives
sub rep_headers {
    my ($dev, $body, %o) = @_;
    $body = rep_body('success') unless defined $body;
    return ::report_headers($dev, $body, %o);
}

sub digest_headers { rep_headers(@_) }

sub rep_body {
    my ($status, $art) = @_;
    return ::report_json(defined $art ? $art : $A6, $status);
}

# POST a report from init code; returns the response
sub post_report {
    my ($dev, $status, %o) = @_;
    my $body = defined $o{body} ? $o{body} : rep_body($status, $o{artifact});
    return ::report_post($dev, $body);
}

sub download { ::fw_download($A6, @_) }

sub check { ::fw_check(@_) }

# the rollout's effective state: an automatic halt is written by the edge
# to rollout:<model>:halt (edges may not write the rollout itself)
sub state {
    return 'halted'
        if rv('HGET', "${P}rollout:LS-6000i:halt", 'artifact') eq $A6;
    return rv('HGET', "${P}rollout:LS-6000i", 'state');
}

# a read-only replica of the suite's redis, on a port of its own
our ($REPLICA, $REPLICA_PID);

sub replica {
    return $REPLICA if $REPLICA;
    require IO::Socket::INET;
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Listen => 1) or die "no port: $!";
    my $port = $s->sockport;
    close $s;
    my $dir = "/tmp/fwt21-replica-$$";
    mkdir $dir;
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        open STDOUT, '>', '/dev/null';
        open STDERR, '>', '/dev/null';
        { exec 'redis-server', '--port', $port, '--bind', '127.0.0.1',
               '--save', '', '--appendonly', 'no', '--dir', $dir,
               '--replicaof', '127.0.0.1', ::redis_port(); }
        POSIX::_exit(127);
    }
    $REPLICA_PID = $pid;
    ::wait_for(sub {
        rv({ port => $port }, 'INFO', 'replication')
            =~ /master_link_status:up/ }, 10)
        or die "replica on $port did not sync\n";
    $REPLICA = $port;
    return $port;
}

END {
    if ($REPLICA_PID) {
        kill 'TERM', $REPLICA_PID;
        waitpid $REPLICA_PID, 0;
        system('rm', '-rf', "/tmp/fwt21-replica-$$");
    }
}

repeat_each(2);
no_long_string();

add_block_preprocessor(sub { ::report_preprocess($_[0], status => 1) });

run_tests();

__DATA__

=== TEST 1: a success report counts once, however often it is repeated,
and clears the device's download record
--- init
main::fresh();
::redis('ZADD', "${main::P}downloads:LS-6000i:$main::A6", 100, $main::D[0]);
for (1 .. 3) {
    my $r = main::post_report($main::D[0], 'success');
    Test::More::is($r->{status}, 204, "init: report $_ answered 204");
}
Test::More::is(main::rv('HGET', "${main::P}stats:LS-6000i:$main::A6",
                        'success'), '1', 'init: counted once');
Test::More::is(main::rv('HGET', "${main::P}stats:LS-6000i:$main::A6:devices",
                        $main::D[0]), 'success', 'init: the device is known');
Test::More::is(main::rv('ZSCORE', "${main::P}downloads:LS-6000i:$main::A6",
                        $main::D[0]), '', 'init: download record cleared');
--- request eval
"POST /fw/report\n" . main::rep_body('success')
--- more_headers eval
main::rep_headers($main::D[0])
--- error_code: 204
--- response_headers
Cache-Control: no-store
X-Fwgate-Reason: ok
--- response_body



=== TEST 2: a failure then a success moves the device between the counts
--- init
main::fresh();
my $r = main::post_report($main::D[1], 'failure');
Test::More::is($r->{status}, 204, 'init: failure recorded');
Test::More::is(main::rv('HGET', "${main::P}stats:LS-6000i:$main::A6",
                        'failure'), '1', 'init: one failure');
$r = main::post_report($main::D[1], 'success');
Test::More::is($r->{status}, 204, 'init: success recorded');
Test::More::is(main::rv('HMGET', "${main::P}stats:LS-6000i:$main::A6",
                        'success', 'failure'), "1\n0",
               'init: one success, no failure');
--- request eval
"POST /fw/report\n" . main::rep_body('failure')
--- more_headers eval
main::rep_headers($main::D[2], main::rep_body('failure'))
--- error_code: 204



=== TEST 3: the automatic halt: not before both thresholds, then at once;
the halt reaches the download gate and the update check (cached as
active) within the poll interval
--- init
main::fresh(halt_failures => 3, halt_ratio => 0.5);
my @d = @main::D;
Test::More::is(main::download($d[11])->{status}, 200,
               'init: downloads allowed (rollout cached as active)');
Test::More::is(main::check($d[10])->{status}, 200, 'init: update offered');
main::post_report($d[0], 'failure');
Test::More::is(main::state(), 'active', 'init: 1 failure of 1: below count');
main::post_report($d[$_], 'success') for 1 .. 4;
main::post_report($d[5], 'failure');
main::post_report($d[6], 'failure');
Test::More::is(main::state(), 'active',
               'init: 3 failures of 7: count reached, ratio not');
my $epoch = main::rv('GET', "${main::P}epoch");
my $r = main::post_report($d[7], 'failure');
my $t0 = Time::HiRes::time();
Test::More::is($r->{status}, 204, 'init: the halting report is answered');
Test::More::is(main::state(), 'halted', 'init: 4 failures of 8: halted');
Test::More::like(main::rv('HGET', "${main::P}rollout:LS-6000i:halt",
                          'reason'), qr/^auto: 4 failures/,
                 'init: the reason says why');
Test::More::ok(main::rv('HGET', "${main::P}rollout:LS-6000i:halt", 'at')
               =~ /^\d+$/, 'init: the halt\'s time');
Test::More::is(main::rv('HGET', "${main::P}rollout:LS-6000i", 'state'),
               'active', 'init: the rollout record itself is not written');
Test::More::is(main::rv('GET', "${main::P}epoch"), $epoch + 1,
               'init: the epoch was bumped once');
my $ok = ::wait_for(sub { main::download($d[11])->{status} == 403 }, 3);
Test::More::ok($ok, 'init: the gate refuses within the poll interval');
Test::More::diag(sprintf 'report to first refused download: %.0f ms',
                         (Time::HiRes::time() - $t0) * 1000);
Test::More::ok(main::logged(qr/\[warn\] .*fwgate: rollout LS-6000i halted: /
    . qr/artifact "ls6000i-2.5.0.bin", 4 failures and 0 silent devices /
    . qr/against 4 successes \(report from "LS6-000008"\)/),
    'init: the halt is logged at warn');
--- request eval
["GET /firmware/$main::A6", "GET /fw/check"]
--- more_headers eval
[::sign(device => $main::D[11], path => "/firmware/$main::A6"),
 ::sign(device => $main::D[10], path => '/fw/check')]
--- error_code eval
[403, 204]
--- response_headers eval
["X-Fwgate-Reason: rollout_halted", "X-Fwgate-Reason: rollout_halted"]



=== TEST 4: a rollout without thresholds never halts
--- init
main::fresh();
main::post_report($main::D[$_], 'failure') for 0 .. 5;
Test::More::is(main::state(), 'active', 'init: 6 failures, no thresholds');
--- request eval
"GET /firmware/$main::A6"
--- more_headers eval
::sign(device => $main::D[11], path => "/firmware/$main::A6")
--- error_code: 200



=== TEST 5: silence: devices that download and are never heard from again
halt the rollout halt_silence seconds later, from the edge's own poll
--- init
main::fresh(halt_failures => 2, halt_ratio => 0.5, halt_silence => 1);
my $t0 = Time::HiRes::time();
Test::More::is(main::download($main::D[$_])->{status}, 200,
               "init: device $_ downloads") for 0, 1;
Test::More::ok(::wait_for(sub {
    main::rv('ZCARD', "${main::P}downloads:LS-6000i:$main::A6") eq '2' }, 1),
    'init: two downloads pending (recorded after the response)');
Test::More::is(main::state(), 'active', 'init: not yet');
my $ok = ::wait_for(sub { main::state() eq 'halted' }, 6);
Test::More::ok($ok, 'init: halted by silence');
Test::More::diag(sprintf 'silence deadline (first download + 1 s) to '
                 . 'halt: %.0f ms',
                 (Time::HiRes::time() - $t0 - 1) * 1000);
Test::More::like(main::rv('HGET', "${main::P}rollout:LS-6000i:halt",
                          'reason'), qr/0 failures \+ 2 silent/,
                 'init: silent devices are the reason');
Test::More::ok(::wait_for(sub {
    main::logged(qr/\[warn\] .*fwgate: rollout LS-6000i halted: .*0 failures /
                 . qr/and 2 silent devices .*\(silence evaluation\)/) }, 2),
    'init: the halt is logged at warn');
::wait_for(sub { main::download($main::D[11])->{status} == 403 }, 3);
--- request eval
"GET /firmware/$main::A6"
--- more_headers eval
::sign(device => $main::D[11], path => "/firmware/$main::A6")
--- error_code: 403
--- response_headers
X-Fwgate-Reason: rollout_halted



=== TEST 6: devices that come back on the new version do not count:
an update check on the target version, or a success report
--- init
main::fresh(halt_failures => 1, halt_ratio => 0.5, halt_silence => 1);
Test::More::is(main::download($main::D[$_])->{status}, 200,
               "init: device $_ downloads") for 0, 1;
Test::More::is(main::check($main::D[0], version => '2.5.0')->{status}, 204,
               'init: device 0 checks in on 2.5.0: up to date');
Test::More::is(main::post_report($main::D[1], 'success')->{status}, 204,
               'init: device 1 reports success');
Test::More::ok(::wait_for(sub {
    main::rv('ZCARD', "${main::P}downloads:LS-6000i:$main::A6") eq '0' }, 3),
    'init: nobody pending');
Test::More::is(main::download($main::D[1], version => '2.5.0')->{status},
               200, 'init: a re-download on the new version');
select undef, undef, undef, 2;
Test::More::is(main::state(), 'active', 'init: still active after 2 s');
Test::More::is(main::rv('ZCARD', "${main::P}downloads:LS-6000i:$main::A6"),
               '0', 'init: the re-download was not recorded');
--- request eval
"GET /firmware/$main::A6"
--- more_headers eval
::sign(device => $main::D[11], path => "/firmware/$main::A6")
--- error_code: 200



=== TEST 7: malformed reports: 400 bad_report, nothing counted
--- init
main::fresh();
--- request eval
my @b = (
    'not json',
    '{"artifact":"ls6000i-2.5.0.bin"}',
    '{"status":"success"}',
    '{"artifact":"ls6000i-2.5.0.bin","status":"maybe"}',
    '{"artifact":"ls6000i-2.5.0.bin","status":"success","version":"v2"}',
    '["ls6000i-2.5.0.bin","success"]',
    '{"artifact":"ls6000i-2.5.0.bin","status":"success"} x',
    '{"artifact":"a","artifact":"ls6000i-2.5.0.bin","status":"success"}',
    '{"artifact":{"n":"ls6000i-2.5.0.bin"},"status":"success"}',
    '{"artifact":"ls6000i-2.5.0.bin\u0000","status":"success"}',
    '{"artifact":"ls6000i-2.5.0.bin","status":"success","x":[1]}',
    '{"artifact":"ls6000i-2.5.0.bin","status":"success",}',
    '{"artifact":"ls6000i-2.5.0.bin","status":"succ\ud800ess"}',
    "{\"artifact\":\"ls6000i\xff\",\"status\":\"success\"}",
    '{"artifact":"two words","status":"success"}',
    '{"artifact":"ls6000i-2.5.0.bin","status":"success","n":01}',
);
@main::BAD = @b;
$main::NBAD = @b;
[map { "POST /fw/report\n$_" } @b]
--- more_headers eval
[map { main::rep_headers($main::D[3], $_) } @main::BAD]
--- error_code eval
[(400) x $main::NBAD]
--- response_headers eval
[("X-Fwgate-Reason: bad_report") x $main::NBAD]



=== TEST 8: a report with unknown fields and escapes is read; an empty
object is not
--- init
main::fresh();
--- request eval
$main::B8 = '{"note":"fine \"\u00e9\"","n":-1.5e3,"ok":true,'
 . '"x":null,"artifact":"ls6000i\u002d2.5.0.bin","status":"success"}';
["POST /fw/report\n$main::B8", "POST /fw/report\n{}"]
--- more_headers eval
[main::rep_headers($main::D[4], $main::B8),
 main::rep_headers($main::D[4], '{}')]
--- error_code eval
[204, 400]



=== TEST 9: an unknown artifact, or another model's: 400 with the reason
--- request eval
["POST /fw/report\n" . main::rep_body('success', 'nope.bin'),
 "POST /fw/report\n" . main::rep_body('failure', $main::A7)]
--- more_headers eval
[main::rep_headers($main::D[5], main::rep_body('success', 'nope.bin')),
 main::rep_headers($main::D[5], main::rep_body('failure', $main::A7))]
--- error_code eval
[400, 400]
--- response_headers eval
["X-Fwgate-Reason: unknown_artifact", "X-Fwgate-Reason: incompatible"]



=== TEST 10: a body over max_body: 413
--- config
    location = /fw/report {
        fwgate_report max_body=100;
        fwgate_expose_reason on;
    }
--- init
main::fresh();
--- request eval
["POST /fw/report\n" . main::rep_body('success') . (' ' x 40) . 'x',
 "POST /fw/report\n" . main::rep_body('success')]
--- more_headers eval
[main::rep_headers($main::D[6]), main::rep_headers($main::D[6])]
--- error_code eval
[413, 204]



=== TEST 11: unsigned reports and other methods are refused
--- request eval
["POST /fw/report\n" . main::rep_body('success'), "GET /fw/report"]
--- more_headers eval
["Content-Type: application/json\n", main::rep_headers($main::D[7])]
--- error_code eval
[401, 405]



=== TEST 12: a device's report signed for another device: 401
--- request eval
"POST /fw/report\n" . main::rep_body('success')
--- more_headers eval
main::rep_headers($main::D[8], main::rep_body('success'),
                  signer => $main::D[9])
--- error_code: 401
--- response_headers
X-Fwgate-Reason: bad_signature



=== TEST 13: a registry that does not take writes (a replica): 503 with
Retry-After, never a silent loss; downloads still work from it
--- http_config eval
main::replica();
::wait_for(sub {
    main::rv({ port => $main::REPLICA }, 'EXISTS',
             "${main::P}device:$main::D[9]") eq '1' }, 5);
::http_config(port => $main::REPLICA, cache => 'poll=200ms')
--- init
main::fresh();
Test::More::ok(::wait_for(sub {
    main::rv({ port => $main::REPLICA }, 'HGET',
             "${main::P}rollout:LS-6000i", 'state') eq 'active' }, 5),
    'init: the replica has the rollout');
Test::More::is(main::download($main::D[9])->{status}, 200,
               'init: downloads are served from the replica');
--- request eval
"POST /fw/report\n" . main::rep_body('success')
--- more_headers eval
main::rep_headers($main::D[9])
--- error_code: 503
--- response_headers
X-Fwgate-Reason: registry_unavailable
Retry-After: 1
--- error_log
not recorded: no redis server accepts writes
--- no_error_log
[alert]
[crit]



=== TEST 14: reports show in fwgate_status
--- init
main::fresh();
main::post_report($main::D[10], 'success');
main::post_report($main::D[10], 'failure');
main::post_report($main::D[10], 'bogus');
--- request
GET /status
--- response_body_like chomp
(?s)fwgate_reports_total\{status="success"\} 1\n.*fwgate_reports_total\{status="failure"\} 1\n.*fwgate_reports_total\{status="rejected"\} 1\n



=== TEST 15: replica first, primary second: reads from the replica,
reports written to the primary
--- http_config eval
main::replica();
::http_config(addr => "127.0.0.1:$main::REPLICA 127.0.0.1:"
                      . ::redis_port(), cache => 'poll=200ms')
--- init
main::fresh();
::wait_for(sub {
    main::rv({ port => $main::REPLICA }, 'HGET',
             "${main::P}rollout:LS-6000i", 'state') eq 'active' }, 5);
Test::More::ok(::wait_for(sub {
    main::post_report($main::D[11], 'failure')->{status} == 204 }, 3),
    'init: the report is recorded');
Test::More::is(main::rv('HGET', "${main::P}stats:LS-6000i:$main::A6",
                        'failure'), '1', 'init: on the primary');
--- request eval
"POST /fw/report\n" . main::rep_body('failure')
--- more_headers eval
main::rep_headers($main::D[11], main::rep_body('failure'))
--- error_code: 204



=== TEST 16: Content-Digest (RFC 9530) that matches the body: recorded
--- init
main::fresh();
--- request eval
"POST /fw/report\n" . main::rep_body('success')
--- more_headers eval
main::digest_headers($main::D[9], main::rep_body('success'))
--- error_code: 204



=== TEST 17: a body that does not match its signed Content-Digest:
400 bad_digest, nothing counted
--- init
main::fresh();
--- request eval
"POST /fw/report\n" . main::rep_body('failure')
--- more_headers eval
main::digest_headers($main::D[10], main::rep_body('success'))
--- error_code: 400
--- response_headers
X-Fwgate-Reason: bad_digest



=== TEST 18: a report whose signature does not cover content-digest is
refused: a report means its body (a fwgate_report location requires it
whatever fwgate_required_components says)
--- config
    location = /fw/report {
        fwgate_report;
        fwgate_expose_reason on;
        fwgate_required_components @method @path x-device-model
                                   x-firmware-version;
    }
--- init
main::fresh();
--- request eval
"POST /fw/report\n" . main::rep_body('success')
--- more_headers eval
::sign(device => $main::D[0], path => '/fw/report', method => 'POST',
       version => '2.4.1') . "Content-Type: application/json\n"
--- error_code: 401
--- response_headers
X-Fwgate-Reason: insufficient_coverage
--- error_log
detail: "content-digest" not covered



=== TEST 19: a signed success report flipped to failure on the way, its
Content-Digest recomputed by the attacker: the signature no longer
verifies, nothing counted
--- init
main::fresh();
--- request eval
"POST /fw/report\n" . main::rep_body('failure')
--- more_headers eval
my $h = main::rep_headers($main::D[1], main::rep_body('success'));
my $d = 'sha-256=:'
        . MIME::Base64::encode_base64(
              Digest::SHA::sha256(main::rep_body('failure')), '') . ':';
$h =~ s/^content-digest: .*$/content-digest: $d/m;
$h
--- error_code: 401
--- response_headers
X-Fwgate-Reason: bad_signature



=== TEST 20: reports from a device the rollout never served are refused
and not counted: they cannot dilute the failure ratio
--- init
main::fresh(served => 0, halt_failures => 1, halt_ratio => 0.5);
my $r = main::post_report($main::D[3], 'failure');
Test::More::is($r->{status}, 403, 'init: a failure from a device never served');
Test::More::is(main::rv('HGET', "${main::P}stats:LS-6000i:$main::A6",
                        'failure'), '', 'init: not counted');
Test::More::is(main::state(), 'active', 'init: no halt');
--- request eval
"POST /fw/report\n" . main::rep_body('success')
--- more_headers eval
main::rep_headers($main::D[2])
--- error_code: 403
--- response_headers
X-Fwgate-Reason: not_served
--- error_log
fwgate: report refused reason=not_served device="LS6-000003"
--- no_error_log
[error]



=== TEST 21: an automatic halt is cleared by `fwgatectl rollout resume`
(the control plane), after which the gate serves the rollout again
--- init
main::fresh(halt_failures => 1, halt_ratio => 0.5);
main::post_report($main::D[0], 'failure');
Test::More::is(main::state(), 'halted', 'init: halted by one failure');
Test::More::ok(::wait_for(sub { main::download($main::D[11])->{status} == 403 },
                          3), 'init: the gate refuses');
my $out = ::ctl('rollout', 'status', 'LS-6000i');
Test::More::like($out, qr/^state\s+halted\n^halted\s+auto: 1 failures/m,
                 'init: rollout status shows the halt and why');
::ctl('rollout', 'resume', 'LS-6000i');
Test::More::is(main::rv('EXISTS', "${main::P}rollout:LS-6000i:halt"), '0',
               'init: resume cleared the halt');
Test::More::ok(::wait_for(sub { main::download($main::D[11])->{status} == 200 },
                          3), 'init: served again');
--- request eval
"GET /firmware/$main::A6"
--- more_headers eval
::sign(device => $main::D[10], path => "/firmware/$main::A6")
--- error_code: 200



=== TEST 22: fwgate_report replicas=2 with at most one replica: the report
is not confirmed on two, so it is refused (503, the device retries); WAIT
gives up after 3/4 of the timeout (under load the request's own timer may
come first: not confirmed either way)
--- http_config eval
::http_config(redis => 'timeout=1s')
--- config
    location = /fw/report {
        fwgate_report replicas=2;
        fwgate_expose_reason on;
    }
--- init
main::fresh();
--- request eval
"POST /fw/report\n" . main::rep_body('success')
--- more_headers eval
main::rep_headers($main::D[5])
--- error_code: 503
--- response_headers
X-Fwgate-Reason: registry_unavailable
Retry-After: 1
--- error_log eval
qr/not confirmed: [01] of 2 replicas have it|not recorded: timed out/



=== TEST 23: fwgate_report replicas=1 with a replica in sync: answered
204 once the replica has the report (WAIT)
--- http_config eval
main::replica();
::wait_for(sub {
    main::rv({ port => $main::REPLICA }, 'EXISTS',
             "${main::P}device:$main::D[9]") eq '1' }, 5);
::http_config(redis => 'timeout=1s')
--- config
    location = /fw/report {
        fwgate_report replicas=1;
        fwgate_expose_reason on;
    }
--- init
Test::More::ok(::wait_for(sub {
    main::rv({ port => $main::REPLICA }, 'INFO', 'replication')
        =~ /master_link_status:up/ }, 5), 'init: the replica is in sync');
main::fresh();
--- request eval
"POST /fw/report\n" . main::rep_body('success')
--- more_headers eval
main::rep_headers($main::D[6])
--- error_code: 204
--- response_headers
X-Fwgate-Reason: ok
