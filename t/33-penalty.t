# The penalty box (docs/fleet-guide.md, "Penalty box"): a rollout's
# device_failures and penalty; the report script counts a device's
# failure reports per artifact and, at N, writes penalty:<artifact> into
# the device record with the epoch bump and invalidation; the download
# gate refuses it (403 penalized, after the cohort), the update check
# answers 204; `fwgatectl device pardon` lets it out; other artifacts and
# other devices are not affected.

use Test::Nginx::Socket 'no_plan';
use t::FwgateTest;

fw_setup('fwt33:');

our $A6 = 'ls6000i-2.5.0.bin';
our $A6B = 'ls6000i-2.6.0.bin';
our $P = 'fwt33:';

our @D = map { sprintf 'LS6-%06d', $_ } 1 .. 6;
device($_, model => 'LS-6000i', alg => 'hmac-sha256') for @D;
artifact($A6, version => '2.5.0', models => 'LS-6000i');
artifact($A6B, version => '2.6.0', models => 'LS-6000i');

# a fresh rollout of $A6 to every LS-6000i, nothing recorded yet; the
# edge sees the change within its poll interval (200 ms)
sub fresh { ::fresh_rollout('LS-6000i', $A6, settle => 0.5, @_) }

sub post_report { ::report_post($_[0], ::report_json($A6, $_[1])) }

sub check { ::fw_check(@_) }

sub download {
    my ($dev, %o) = @_;
    return ::fw_download(delete $o{artifact} || $A6, $dev, %o);
}

# the device's penalty entry for $A6, its failure count
sub boxed { rv('HGET', "${P}device:$_[0]", "penalty:" . ($_[1] || $A6)) }
sub fails { rv('HGET', "${P}devfail:LS-6000i:" . ($_[1] || $A6), $_[0]) }

# served by a download, then $n failure reports
sub fail_n {
    my ($dev, $n) = @_;
    Test::More::is(download($dev)->{status}, 200, "init: $dev downloads");
    for (1 .. $n) {
        Test::More::is(post_report($dev, 'failure')->{status}, 204,
                       "init: $dev failure report $_");
    }
    select(undef, undef, undef, 0.5);
}

repeat_each(1);
no_long_string();

add_block_preprocessor(sub { ::report_preprocess($_[0]) });

run_tests();

__DATA__

=== TEST 1: two failure reports box the device: download 403 penalized,
update check 204 penalized
--- init
main::fresh(device_failures => 2, penalty => 3600);
::redis('HDEL', "${main::P}device:$main::D[0]", "penalty:$main::A6");
my $e0 = main::rv('GET', "${main::P}epoch");
main::fail_n($main::D[0], 1);
Test::More::is(main::boxed($main::D[0]), '', 'init: one failure: not boxed');
Test::More::is(main::fails($main::D[0]), 1, 'init: one failure counted');
Test::More::is(main::download($main::D[0])->{status}, 200,
               'init: still served');
Test::More::is(main::post_report($main::D[0], 'failure')->{status}, 204,
               'init: second failure');
my $until = main::boxed($main::D[0]);
Test::More::ok($until =~ /^\d+$/ && $until > time() + 3500
               && $until <= time() + 3601, "init: boxed until $until");
Test::More::ok(main::rv('GET', "${main::P}epoch") > $e0,
               'init: the epoch was bumped');
select(undef, undef, undef, 0.5);
--- request eval
["GET /firmware/$main::A6", "GET /fw/check", "GET /firmware/$main::A6"]
--- more_headers eval
[::sign(device => $main::D[0], path => "/firmware/$main::A6"),
 ::sign(device => $main::D[0], path => '/fw/check'),
 ::sign(device => $main::D[1], path => "/firmware/$main::A6")]
--- error_code eval
[403, 204, 200]
--- response_headers eval
["X-Fwgate-Reason: penalized", "X-Fwgate-Reason: penalized",
 "X-Fwgate-Reason: ok"]



=== TEST 2: other artifacts are not affected: the next rollout's target
is served to the boxed device
--- init
main::fresh(device_failures => 1);
::redis('HDEL', "${main::P}device:$main::D[2]", "penalty:$main::A6");
main::fail_n($main::D[2], 1);
Test::More::ok(main::boxed($main::D[2]) > time(), 'init: boxed for A6');
Test::More::is(main::download($main::D[2])->{status}, 403,
               'init: A6 refused');
::rollout('LS-6000i', artifact => $main::A6B, percent => 100,
          device_failures => 1);
::bump_epoch();
select(undef, undef, undef, 0.5);
--- request eval
["GET /firmware/$main::A6B", "GET /fw/check"]
--- more_headers eval
[::sign(device => $main::D[2], path => "/firmware/$main::A6B"),
 ::sign(device => $main::D[2], path => '/fw/check')]
--- error_code eval
[200, 200]



=== TEST 3: `fwgatectl device pardon` clears the box and the count; the
edge serves the device again at once (epoch and invalidation)
--- init
main::fresh(device_failures => 1);
::redis('HDEL', "${main::P}device:$main::D[3]", "penalty:$main::A6");
main::fail_n($main::D[3], 1);
Test::More::is(main::download($main::D[3])->{status}, 403, 'init: boxed');
my $out = ::ctl('device', 'show', $main::D[3]);
Test::More::like($out, qr/penalty: \Q$main::A6\E until \d+ .*failures 1/,
                 'init: device show lists the penalty');
$out = ::ctl('device', 'pardon', $main::D[3]);
Test::More::like($out, qr/pardoned/, 'init: pardoned');
Test::More::is(main::boxed($main::D[3]), '', 'init: penalty field gone');
Test::More::is(main::fails($main::D[3]), '', 'init: count reset');
select(undef, undef, undef, 0.5);
--- request eval
"GET /firmware/$main::A6"
--- more_headers eval
::sign(device => $main::D[3], path => "/firmware/$main::A6")
--- error_code: 200



=== TEST 4: an expired penalty no longer refuses; a rollout without
device_failures boxes nobody
--- init
main::fresh();
::redis('HSET', "${main::P}device:$main::D[4]", "penalty:$main::A6",
        time() - 5);
::bump_epoch();
select(undef, undef, undef, 0.5);
main::fail_n($main::D[5], 3);
Test::More::is(main::boxed($main::D[5]), '', 'init: no limit, no box');
Test::More::is(main::fails($main::D[5]), '',
               'init: no count either (no device_failures)');
--- request eval
["GET /firmware/$main::A6", "GET /firmware/$main::A6"]
--- more_headers eval
[::sign(device => $main::D[4], path => "/firmware/$main::A6"),
 ::sign(device => $main::D[5], path => "/firmware/$main::A6")]
--- error_code eval
[200, 200]
