# Scenario 1: `fwgatectl rollout halt` on the primary; the time until
# every worker of every edge refuses the rollout (403 rollout_halted),
# over several halts (halt, measure, `rollout resume`, wait until every
# worker serves again).  Two modes: pushed invalidation (the edges
# subscribed to <prefix>invalidate on their replica) when the module has
# it, then polling only (the replicas refuse the subscription).

use strict;
use warnings;
no warnings 'once';
use FindBin;
BEGIN { require "$FindBin::Bin/lib.pl" }

my $ROUNDS = $ENV{FLEET_ROUNDS} || 10;
my $F = fleet_start();
my $push = has_push($F);
diag('pushed invalidation: ' . ($push ? 'yes (fwgate_subscription_up in '
     . '/status)' : 'not in this module: poll-only mode only'));

my $served = sub { $_[0]{status} == 200 };
my $halted = sub { $_[0]{status} == 403
                   && $_[0]{reason} eq 'rollout_halted' };
my $reqs = sub {
    my ($round) = @_;
    my @pool = map { ka_signed(dev_id($_)) } 0 .. 15;
    my $k = int rand @pool;
    return sub { $pool[$k++ % @pool] };
};

# warm: every worker of every edge serves
my $T0 = 0;
my $w = probe(edges => $F->{E}, reqs => $reqs->(0), timeout => 5,
              done => done_when_all($F->{E}, $served, \$T0));
my ($f) = first_per_worker($w, $served);
is(scalar keys %$f, scalar(all_workers($F->{E})),
   'every worker of the 3 edges serves the rollout (' . count_status($w)
   . ')');

my %run = (
    change => sub { ('rollout', 'halt', $main::MODEL) },
    undo => sub { ctlq($F->{P}{port}, 'rollout', 'resume', $main::MODEL) },
    is => $halted, served => $served, ok_before => $served, reqs => $reqs,
    rounds => $ROUNDS,
);

if ($push) {
    ok(wait_subscriptions($F, 1), 'push: every edge subscribed');
    my @t = measure_change($F, %run, name => 'halt.push');
    report_times('halt.push', @t);
    cmp_ok(pct(99, @t), '<', 1.0, 'push: p99 halt to every worker < 1 s');
    ok(push_off($F), 'poll-only: the subscriptions refused '
       . '(fwgate_subscription_up 0 on every edge)');
} else {
    diag('SKIP halt.push: the module has no pushed invalidation');
}

my @t = measure_change($F, %run, name => 'halt.poll');
report_times('halt.poll', @t);
cmp_ok(pct(99, @t), '<', $main::POLL_S + $main::DELAY_HI + 0.5,
       "poll-only: p99 halt to every worker < poll ($main::POLL) + lag "
       . '+ 0.35 s');
push_on($F) if $push;

fleet_stop($F);
done_testing();
