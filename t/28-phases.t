# Phased rollouts that advance themselves (docs/fleet-guide.md, "Phased
# rollouts"): `fwgatectl rollout start --phases` stores the plan; the
# edge's epoch poll (poll=100ms here, the phase script at most once a
# second) advances the rollout when the phase has held, has enough
# reports made during it and a failure ratio within the limit, and halts
# it (phase_failure_ratio) on a failure spike.  Cohorts stay monotonic:
# devices allowed in a phase stay allowed in the next.

use Test::Nginx::Socket 'no_plan';
use t::FwgateTest;
use Time::HiRes ();
use Digest::SHA ();
use MIME::Base64 ();

fw_setup('fwt28:');

our $A = 'ph6000i-2.5.0.bin';
our $M = 'PH-6000i';
our $P = 'fwt28:';

our @D = map { sprintf 'PH6-%06d', $_ } 1 .. 40;
device($_, model => $M, alg => 'hmac-sha256') for @D;
artifact($A, version => '2.5.0', models => $M);

sub bkt { ::bucket($A, $_[0]) }

# devices by bucket: in phase 1 (< 10 %), only from phase 2 (10-50 %)
our @IN10 = grep { bkt($_) < 1000 } @D;
our @IN50 = grep { bkt($_) >= 1000 && bkt($_) < 5000 } @D;

# a phased rollout through fwgatectl, counters cleared, every device
# marked served (reports count only from devices the rollout served)
sub start {
    my (@plan) = @_;
    ::redis('DEL', "${P}stats:$M:$A", "${P}stats:$M:$A:devices",
            "${P}downloads:$M:$A");
    ::redis('HSET', "${P}stats:$M:$A:devices", map { ($_, 'served') } @D);
    my ($rc, $out) = ::ctl('rollout', 'start', $M, '--artifact', $A, @plan);
    die "rollout start: $out" if $rc;
}

sub rep_body {
    my ($status) = @_;
    return qq({"artifact":"$A","status":"$status","version":"2.5.0"});
}

sub report {
    my ($dev, $status) = @_;
    my $body = rep_body($status);
    my $hdrs = ::sign_report(body => $body, device => $dev, model => $M,
                             path => '/fw/report', version => '2.4.1')
               . "Content-Type: application/json\n"
               . 'Content-Length: ' . length($body) . "\n";
    my ($s, $t0) = ::http_send('POST /fw/report', $hdrs);
    print $s $body;
    return ::http_read($s, $t0)->{status};
}

sub download {
    my ($dev) = @_;
    return ::http_req("GET /firmware/$A",
                      ::sign(device => $dev, model => $M,
                             path => "/firmware/$A"));
}

# rollout watch on a pipe, bounded
sub watch {
    return scalar qx(timeout 10 $ENV{FWGATECTL} --redis 127.0.0.1:@{[
        ::redis_port() ]} --prefix $P rollout watch $M --interval 0.2);
}

sub field { rv('HGET', "${P}rollout:$M", $_[0]) }

# the least-privilege edge user of docs/many-edges.md (as t/24-acl.t)
our $SECRET = 'edge-secret-' . int(rand(1e9));
::redis('ACL', 'DELUSER', 'fwt28-edge');
::redis('ACL', 'SETUSER', 'fwt28-edge', 'on', ">$SECRET", 'resetkeys',
        'resetchannels',
        '%R~fwt28:*', '~fwt28:stats:*', '~fwt28:downloads:*',
        '~fwt28:rollouts:watch', '~fwt28:epoch', '~fwt28:rollout:*:halt',
        '&fwt28:invalidate',
        '-@all', '+ping', '+auth', '+hello', '+select', '+role', '+get',
        '+hgetall', '+hget', '+hmget', '+sismember', '+smembers', '+zcount',
        '+subscribe', '+publish', '+eval', '+evalsha', '+hset', '+hsetnx',
        '+hincrby', '+zadd', '+zrem', '+sadd', '+srem', '+incr');
END { ::redis('ACL', 'DELUSER', 'fwt28-edge') }

no_long_string();

add_block_preprocessor(sub {
    my ($block) = @_;
    $block->set_value('http_config', ::http_config(cache => 'poll=100ms'))
        unless defined $block->http_config;
    t::FwgateTest::preprocess($block);
});

run_tests();

__DATA__

=== TEST 1: the rollout advances on its own once the phase has held with
enough healthy reports; phase 1's devices stay allowed in phase 2, and the
devices phase 2 adds are allowed once it begins
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
    location = /fw/report {
        fwgate_report;
        fwgate_expose_reason on;
    }
--- init
Test::More::ok(@main::IN10 >= 2 && @main::IN50 >= 2,
               'init: devices on both sides of 10 %');
main::start('--phases', '10,50,100', '--hold', '2s', '--min-reports', '3',
            '--max-failure-ratio', '0.34');
Test::More::is(main::field('percent'), '10', 'init: percent = first phase');
Test::More::is(main::field('phase'), '0', 'init: phase index 0');
Test::More::is(main::rv('SISMEMBER', "${main::P}rollouts:watch", $main::M),
               '1', 'init: the model is watched by the edges');
my %before = map { ($_ => main::download($_)->{status}) } @main::D;
Test::More::is(scalar(grep { $before{$_} == 200 } @main::IN10),
               scalar(@main::IN10), 'init: phase 1 cohort allowed');
Test::More::is(scalar(grep { $before{$_} == 403 } @main::IN50),
               scalar(@main::IN50), 'init: phase 2 devices not yet');
main::report($main::IN10[0], 'success');
main::report($main::IN10[1], 'success');
main::report($_, 'success')
    for (grep { main::bkt($_) >= 1000 } @main::D)[0, 1];
my $epoch = main::rv('GET', "${main::P}epoch");
Test::More::is(main::field('phase'), '0', 'init: not before the hold');
my $ok = ::wait_for(sub { main::field('phase') eq '1' }, 6);
Test::More::ok($ok, 'init: advanced to phase index 1 on its own');
Test::More::is(main::field('percent'), '50', 'init: percent 50');
Test::More::is(main::field('phase_success'), '4',
               'init: the new phase\'s baseline');
Test::More::ok(main::rv('GET', "${main::P}epoch") > $epoch,
               'init: the epoch was bumped');
Test::More::like(main::field('advance_reason'), qr/^healthy: 4 reports, 0/,
                 'init: advance_reason');
my @h = split /\n/, main::rv('LRANGE', "${main::P}rollout:$main::M:history",
                              0, -1);
Test::More::is(scalar(@h), 2, 'init: two history entries');
Test::More::like($h[1], qr/^\d+ 1 50 healthy$/, 'init: history entry');
Test::More::ok(main::logged(qr/\[notice\] .*fwgate: rollout PH-6000i advanced/
                            . qr/ to phase index 1 \(50%\)/),
               'init: the advance is logged');
# monotonic: every device allowed before is still allowed, and the
# devices phase 2 adds are allowed
my $all = ::wait_for(sub {
    !grep { main::download($_)->{status} != 200 } @main::IN10, @main::IN50
}, 3);
Test::More::ok($all, 'init: phase 1 and phase 2 devices allowed');
# not again before the next hold, even with reports
Time::HiRes::sleep(1.2);
Test::More::is(main::field('phase'), '1', 'init: the hold starts again');
--- request eval
"GET /firmware/$main::A"
--- more_headers eval
::sign(device => $main::IN50[0], model => $main::M,
       path => "/firmware/$main::A")
--- error_code: 200
--- response_headers
X-Fwgate-Reason: ok



=== TEST 2: no advance without min_reports made during the phase:
reports from before the phase began do not count
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
    location = /fw/report {
        fwgate_report;
        fwgate_expose_reason on;
    }
--- init
main::start('--phases', '10,50,100', '--hold', '1s', '--min-reports', '5',
            '--max-failure-ratio', '0.5');
main::report($main::D[$_], 'success') for 0 .. 5;
Test::More::ok(::wait_for(sub { main::field('phase') eq '1' }, 5),
               'init: six reports: advanced');
main::report($main::D[$_], 'success') for 10 .. 13;
Time::HiRes::sleep(2.5);
Test::More::is(main::field('phase'), '1', 'init: 4 of 5 reports: no advance');
Test::More::is(main::field('percent'), '50', 'init: percent unchanged');
my ($rc, $out) = ::ctl('rollout', 'status', $main::M);
Test::More::like($out, qr/gate +4 reports in phase \(min 5\), 0 failures/,
                 'init: status shows the phase\'s figures');
Test::More::like($out, qr/next +blocked: waiting for 1 more report/,
                 'init: status says what blocks it');
--- request eval
"GET /firmware/$main::A"
--- more_headers eval
::sign(device => (grep { main::bkt($_) >= 5000 } @main::D)[0],
       model => $main::M, path => "/firmware/$main::A")
--- error_code: 403
--- response_headers
X-Fwgate-Reason: not_in_cohort



=== TEST 3: a failure spike during a phase halts the rollout
(phase_failure_ratio) as automatic halts do
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
    location = /fw/report {
        fwgate_report;
        fwgate_expose_reason on;
    }
--- init
main::start('--phases', '10,50,100', '--hold', '30s', '--min-reports', '4',
            '--max-failure-ratio', '0.25');
Test::More::is(main::download($main::IN10[0])->{status}, 200,
               'init: allowed before the spike');
main::report($main::D[0], 'success');
main::report($main::D[1], 'failure');
main::report($main::D[2], 'failure');
Time::HiRes::sleep(1.3);
Test::More::is(main::rv('EXISTS', "${main::P}rollout:$main::M:halt"), '0',
               'init: 2 failures of 3 reports: below min_reports, no halt');
main::report($main::D[3], 'success');
my $ok = ::wait_for(sub {
    main::rv('HGET', "${main::P}rollout:$main::M:halt", 'artifact')
        eq $main::A }, 4);
Test::More::ok($ok, 'init: halted by the phase gate');
Test::More::like(main::rv('HGET', "${main::P}rollout:$main::M:halt",
                          'reason'),
                 qr/^phase_failure_ratio: 2 failures of 4 reports in phase 1/,
                 'init: the halt\'s reason');
Test::More::is(main::rv('HGET', "${main::P}rollout:$main::M:halt", 'code'),
               'phase_failure_ratio', 'init: the halt\'s code');
Test::More::is(main::field('phase'), '0', 'init: not advanced');
Test::More::like((split /\n/, main::rv('LRANGE',
                     "${main::P}rollout:$main::M:history", -1, -1))[0],
                 qr/^\d+ 0 10 phase_failure_ratio$/, 'init: history entry');
Test::More::ok(::wait_for(sub {
                   main::download($main::IN10[0])->{status} == 403 }, 3),
               'init: downloads refused within the poll');
Test::More::ok(main::logged(qr/\[warn\] .*fwgate: rollout PH-6000i halted: /
                            . qr/artifact "ph6000i-2.5.0.bin", /
                            . qr/phase_failure_ratio: 2 failures of 4/),
               'init: the halt is logged at warn');
--- request eval
"GET /firmware/$main::A"
--- more_headers eval
::sign(device => $main::IN10[1], model => $main::M,
       path => "/firmware/$main::A")
--- error_code: 403
--- response_headers
X-Fwgate-Reason: rollout_halted



=== TEST 4: the last phase is the end: the rollout stays there; a paused
rollout does not advance
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
    location = /fw/report {
        fwgate_report;
        fwgate_expose_reason on;
    }
--- init
main::start('--phases', '10,100', '--hold', '1s', '--min-reports', '1',
            '--max-failure-ratio', '0');
main::ctl('rollout', 'pause', $main::M);
main::report($main::D[0], 'success');
Time::HiRes::sleep(2.2);
Test::More::is(main::field('phase'), '0', 'init: paused: no advance');
main::ctl('rollout', 'resume', $main::M);
Test::More::ok(::wait_for(sub { main::field('phase') eq '1' }, 4),
               'init: resumed: advanced to the last phase');
main::report($main::D[1], 'success');
Time::HiRes::sleep(2.2);
Test::More::is(main::field('phase'), '1', 'init: stays in the last phase');
Test::More::is(main::field('percent'), '100', 'init: percent 100');
my $out = main::watch();
Test::More::is($? >> 8, 0, 'init: rollout watch exits 0 when complete');
Test::More::like($out, qr/phase=2\/2 percent=100 state=complete/,
                 'init: watch, one line on a pipe');
--- request eval
"GET /firmware/$main::A"
--- more_headers eval
::sign(device => (grep { main::bkt($_) >= 5000 } @main::D)[0],
       model => $main::M, path => "/firmware/$main::A")
--- error_code: 200



=== TEST 5: cohorts stay monotonic across phases (SPEC 3): for 2000
device ids and the plan 1,5,25,100, every device in a phase's cohort is in
every later phase's, by the edge's rule computed independently here
--- config
    location = /t {
        return 200 "ok\n";
    }
--- init
my @p = (1, 5, 25, 100);
my $bad = 0;
for my $i (1 .. 2000) {
    my $id = sprintf 'MONO-%05d', $i;
    for my $k (0 .. $#p - 1) {
        $bad++ if ::in_cohort($main::A, $id, $p[$k])
                  && !::in_cohort($main::A, $id, $p[$k + 1]);
    }
}
Test::More::is($bad, 0, 'init: no device leaves the cohort');
--- request
GET /t
--- response_body
ok



=== TEST 6: an edge whose Redis user may not write rollouts (the
least-privilege user) does not advance them, and logs no error for it
--- http_config eval
::http_config(cache => 'poll=100ms',
              redis => "user=fwt28-edge password=$main::SECRET")
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
    location = /fw/report {
        fwgate_report;
        fwgate_expose_reason on;
    }
--- init
main::start('--phases', '10,50,100', '--hold', '1s', '--min-reports', '1',
            '--max-failure-ratio', '0.5');
Test::More::is(main::report($main::D[0], 'success'), 204,
               'init: the report counts (the edge user may write stats)');
Time::HiRes::sleep(2.5);
Test::More::is(main::field('phase'), '0', 'init: not advanced');
--- request eval
"GET /firmware/$main::A"
--- more_headers eval
::sign(device => $main::IN10[0], model => $main::M,
       path => "/firmware/$main::A")
--- error_code: 200
--- no_error_log
[error]
[alert]
