# Scenario 2: `fwgatectl device revoke` on the primary; the time until
# every worker of every edge refuses that device (403 revoked).  Each
# round revokes another device, served (and cached) by every worker just
# before.  Pushed invalidation (when the module has it), then polling
# only, as in scenario 1.

use strict;
use warnings;
no warnings 'once';
use FindBin;
BEGIN { require "$FindBin::Bin/lib.pl" }

my $ROUNDS = $ENV{FLEET_ROUNDS} ? int(($ENV{FLEET_ROUNDS} + 1) / 2) + 1 : 6;
my $F = fleet_start();
my $push = has_push($F);

my $served = sub { $_[0]{status} == 200 };
my $revoked = sub { $_[0]{status} == 403 && $_[0]{reason} eq 'revoked' };
my $base = 100;
my %run = (
    change => sub { ('device', 'revoke', dev_id($base + $_[0])) },
    reqs => sub {
        my ($round) = @_;
        my @pool = map { ka_signed(dev_id($base + $round)) } 1 .. 4;
        my $k = 0;
        return sub { $pool[$k++ % @pool] };
    },
    is => $revoked, ok_before => $served, rounds => $ROUNDS,
);

if ($push) {
    ok(wait_subscriptions($F, 1), 'push: every edge subscribed');
    my @t = measure_change($F, %run, name => 'revoke.push');
    report_times('revoke.push', @t);
    cmp_ok(pct(99, @t), '<', 1.0, 'push: p99 revoke to every worker < 1 s');
    ok(push_off($F), 'poll-only: the subscriptions refused');
} else {
    diag('SKIP revoke.push: the module has no pushed invalidation');
}

$base = 150;
my @t = measure_change($F, %run, name => 'revoke.poll');
report_times('revoke.poll', @t);
cmp_ok(pct(99, @t), '<', $main::POLL_S + $main::DELAY_HI + 0.5,
       "poll-only: p99 revoke to every worker < poll ($main::POLL) + lag "
       . '+ 0.35 s');

fleet_stop($F);
done_testing();
