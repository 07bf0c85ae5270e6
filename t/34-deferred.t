# Deferred installs and progress reports (docs/fleet-guide.md, "Deferred
# installs"): statuses deferred, downloading and installing are accepted,
# counted in their own stats fields and the metrics; they refresh the
# device's time in the downloads set (heard from, not cleared), so the
# silence rule does not halt a rollout whose devices keep deferring; an
# unknown status is refused 400.

use Test::Nginx::Socket 'no_plan';
use t::FwgateTest;

fw_setup('fwt34:');

our $A6 = 'ls6000i-2.5.0.bin';
our $P = 'fwt34:';

our @D = map { sprintf 'LS6-%06d', $_ } 1 .. 6;
device($_, model => 'LS-6000i', alg => 'hmac-sha256') for @D;
artifact($A6, version => '2.5.0', models => 'LS-6000i');

# a fresh rollout of $A6 to every LS-6000i, nothing recorded yet; the
# edge sees the change within its poll interval (200 ms)
sub fresh { ::fresh_rollout('LS-6000i', $A6, settle => 0.5, @_) }

sub post_report { ::report_post($_[0], ::report_json($A6, $_[1])) }

sub check { ::fw_check(@_) }

sub download { ::fw_download($A6, @_) }

sub rep_headers { ::report_headers($_[0], ::report_json($A6, $_[1])) }

# the rollout's effective state (an automatic halt is in :halt)
sub state {
    return 'halted'
        if rv('HGET', "${P}rollout:LS-6000i:halt", 'artifact') eq $A6;
    return rv('HGET', "${P}rollout:LS-6000i", 'state');
}

repeat_each(1);
no_long_string();

add_block_preprocessor(sub { ::report_preprocess($_[0], status => 1) });

run_tests();

__DATA__

=== TEST 1: deferred, downloading and installing are accepted and counted
each in its own field and in the metrics; the outcome is left alone
--- init
main::fresh();
Test::More::is(main::download($main::D[0])->{status}, 200, 'init: served');
for my $st (qw(downloading installing deferred deferred)) {
    Test::More::is(main::post_report($main::D[0], $st)->{status}, 204,
                   "init: $st accepted");
}
Test::More::is(main::rv('HMGET', "${main::P}stats:LS-6000i:$main::A6",
                        'deferred', 'downloading', 'installing'),
               "2\n1\n1", 'init: counted per state');
Test::More::is(main::rv('HGET', "${main::P}stats:LS-6000i:$main::A6",
                        'success'), '', 'init: no outcome counted');
Test::More::is(main::rv('HGET', "${main::P}stats:LS-6000i:$main::A6:devices",
                        $main::D[0]), 'served', 'init: outcome unchanged');
Test::More::ok(main::rv('ZSCORE', "${main::P}downloads:LS-6000i:$main::A6",
                        $main::D[0]) ne '', 'init: still in the downloads set');
Test::More::is(main::post_report($main::D[0], 'success')->{status}, 204,
               'init: then success');
Test::More::is(main::rv('ZSCORE', "${main::P}downloads:LS-6000i:$main::A6",
                        $main::D[0]), '', 'init: success clears it');
--- request
GET /status
--- error_code: 200
--- response_body_like
fwgate_reports_total\{status="deferred"\} 2\n(?s:.*)fwgate_reports_total\{status="installing"\} 1



=== TEST 2: a deferred report refreshes the device's download time (only
while it is in the set: a device that reported success is not re-added)
--- init
main::fresh();
Test::More::is(main::download($main::D[1])->{status}, 200, 'init: served');
::redis('ZADD', "${main::P}downloads:LS-6000i:$main::A6", 1000, $main::D[1]);
Test::More::is(main::post_report($main::D[1], 'deferred')->{status}, 204,
               'init: deferred');
my $t = main::rv('ZSCORE', "${main::P}downloads:LS-6000i:$main::A6",
                 $main::D[1]);
Test::More::ok($t > time() - 5, "init: refreshed to $t");
Test::More::is(main::post_report($main::D[1], 'success')->{status}, 204,
               'init: success');
Test::More::is(main::post_report($main::D[1], 'installing')->{status}, 204,
               'init: a late progress report');
Test::More::is(main::rv('ZSCORE', "${main::P}downloads:LS-6000i:$main::A6",
                        $main::D[1]), '', 'init: not re-added');
--- request eval
"POST /fw/report\n" . qq({"artifact":"$main::A6","status":"downloading","version":"2.5.0"})
--- more_headers eval
main::rep_headers($main::D[1], 'downloading')
--- error_code: 204



=== TEST 3: the silence rule does not halt for a device that keeps
deferring (its time is its last deferred report)
--- init
main::fresh(halt_failures => 1, halt_ratio => 0.5, halt_silence => 2);
Test::More::is(main::download($main::D[2])->{status}, 200, 'init: served');
for (1 .. 4) {
    Test::More::is(main::post_report($main::D[2], 'deferred')->{status}, 204,
                   "init: deferred $_");
    select(undef, undef, undef, 0.8);
}
Test::More::is(main::state(), 'active', 'init: not halted after 3.2 s');
--- request eval
"GET /firmware/$main::A6"
--- more_headers eval
::sign(device => $main::D[3], path => "/firmware/$main::A6")
--- error_code: 200



=== TEST 4: the same rollout without the deferred reports halts on
silence (the check of TEST 3 can fail)
--- init
main::fresh(halt_failures => 1, halt_ratio => 0.5, halt_silence => 2);
Test::More::is(main::download($main::D[4])->{status}, 200, 'init: served');
my $ok = ::wait_for(sub { main::state() eq 'halted' }, 6);
Test::More::ok($ok, 'init: halted on silence');
select(undef, undef, undef, 0.5);
--- request eval
"GET /firmware/$main::A6"
--- more_headers eval
::sign(device => $main::D[5], path => "/firmware/$main::A6")
--- error_code: 403
--- response_headers
X-Fwgate-Reason: rollout_halted



=== TEST 5: an unknown status is refused 400 bad_report
--- init
main::fresh();
Test::More::is(main::download($main::D[5])->{status}, 200, 'init: served');
--- request eval
"POST /fw/report\n" . qq({"artifact":"$main::A6","status":"paused","version":"2.5.0"})
--- more_headers eval
main::rep_headers($main::D[5], 'paused')
--- error_code: 400
--- response_headers
X-Fwgate-Reason: bad_report
