# Scenario 4: a replica's replication link cut (its delay proxy stopped).
# Its edge (E1) keeps answering from its replica and cache, then stops
# serving rollout downloads within fwgate_max_staleness (503
# registry_stale), and recovers when the link returns.  A halt is made
# during the cut: the other edges refuse at once; E1 cannot see it (its
# replica is cut off) and serves until the bound; once the link is back
# E1 refuses the halted rollout, and never serves it again meanwhile.

use strict;
use warnings;
no warnings 'once';
use FindBin;
BEGIN { require "$FindBin::Bin/lib.pl" }

my $F = fleet_start();
my ($E1, $E2) = @{ $F->{E} };
my $B = $main::MAXSTALE;

my $served = sub { $_[0]{status} == 200 };
my $stale = sub { $_[0]{status} == 503 && $_[0]{reason} eq 'registry_stale' };
my $halted = sub { $_[0]{status} == 403
                   && $_[0]{reason} eq 'rollout_halted' };
my @pool = map { ka_signed(dev_id($_)) } 0 .. 15;
my $k = 0;
my $reqs = sub { $pool[$k++ % @pool] };
my $body = qq({"artifact":"$main::ART","status":"success","version":"2.5.0"});

my $T0 = 0;
my $w = probe(edges => [$E1], reqs => $reqs, timeout => 5,
              done => done_when_all([$E1], $served, \$T0));
ok(!(grep { !$served->($_) } @$w), 'E1 serves before the cut ('
   . count_status($w) . ')');

# --- the cut, a halt during it --------------------------------------------
my ($Tcut, $Thalt, $hpid) = (1e9, 1e9);
my $start = time;
my $res = probe(edges => [$E1, $E2], reqs => $reqs, start => $start,
                timeout => $B + 3,
                events => [
    { at => 0.3, code => sub { $Tcut = time - $start;
                               proxy_stop($F->{X}[0]) } },
    { at => 0.8, code => sub { $Thalt = time - $start;
                               $hpid = ctl_bg($F->{P}{port}, 'rollout',
                                              'halt', $main::MODEL) } },
                ],
                done => done_when_all([$E1], $stale, \$Tcut));
reap($hpid) if $hpid;

my @r1 = grep { $_->{e} == 0 } @$res;
my @r2 = map { { %$_, e => 0 } } grep { $_->{e} == 1 } @$res;
my ($first, $flap) = first_per_worker(\@r1, $stale);
my @w1 = workers($E1);
my @miss = grep { !defined $first->{"0/$_"} } @w1;
ok(!@miss, 'every worker of E1 stops serving: 503 registry_stale');
my $cut = 0;
for (values %$first) { $cut = $_ - $Tcut if $_ - $Tcut > $cut }
$cut = 99 if @miss;
my ($firstany) = sort { $a <=> $b } values %$first;
timing('linkcut.max_staleness_s', $B);
timing('linkcut.cutoff_s', sprintf '%.3f', $cut);
timing('linkcut.cutoff_first_worker_s', sprintf '%.3f',
       defined $firstany ? $firstany - $Tcut : 99);
cmp_ok($cut, '<=', $B + 0.3, "cut-off within fwgate_max_staleness ($B s) "
       . '+ 0.3 s');
cmp_ok($cut, '>=', $B - $main::POLL_S - 0.3,
       'and not before the bound minus one poll');
my $until = $B - $main::POLL_S - 0.3;
my @early = grep { $_->{t0} > $Tcut && $_->{t1} < $Tcut + $until } @r1;
ok(@early && !(grep { !$served->($_) } @early),
   sprintf('E1 keeps serving from its replica and cache for %.1f s after '
           . 'the cut (%s)', $until, count_status(\@early)));
is(scalar keys %$flap, 0, 'E1: no worker serves again once stale');
my ($f2) = first_per_worker(\@r2, $halted);
my $h2 = 0;
for (values %$f2) { $h2 = $_ - $Thalt if $_ - $Thalt > $h2 }
my @w2 = workers($E2);
$h2 = 99 unless keys %$f2 == @w2;
timing('linkcut.halt_other_edge_s', sprintf '%.3f', $h2);
cmp_ok($h2, '<', 1.0, 'the halt during the cut: E2 refuses within 1 s');

like(status_body($E1), qr/^fwgate_registry_source\{role="cut_off_replica"\} 1/m,
     'E1 /status: fwgate_registry_source cut_off_replica');
my $rep = req($E1->{port}, signed(dev_id(3), method => 'POST',
                                  path => '/fw/report', body => $body));
is($rep->{status}, 204, 'E1 during the cut: a report goes to the primary '
   . '(204)');

# --- the link back --------------------------------------------------------
my $Tback = 1e9;
$start = time;
$res = probe(edges => [$E1], reqs => $reqs, start => $start, timeout => 8,
             events => [{ at => 0.1, code => sub {
                 $Tback = time - $start;
                 proxy_start($F->{X}[0]);
             } }],
             done => done_when_all([$E1], $halted, \$Tback));
($first) = first_per_worker($res, $halted);
my $back = 0;
for (values %$first) { $back = $_ - $Tback if $_ - $Tback > $back }
$back = 99 unless keys %$first == @w1;
timing('linkcut.recover_s', sprintf '%.3f', $back);
cmp_ok($back, '<', 4, 'link back: every worker of E1 answers from a fresh '
       . 'registry (the halt: 403 rollout_halted) within 4 s');
my @served_halted = grep { $_->{t0} > $Tback && $served->($_) } @$res;
is(scalar @served_halted, 0, 'link back: E1 never serves the rollout '
   . 'halted during the cut (' . count_status($res) . ')');

ctlq($F->{P}{port}, 'rollout', 'resume', $main::MODEL);
$T0 = 0;
$res = probe(edges => [$E1], reqs => $reqs, timeout => 4,
             done => done_when_all([$E1], $served, \$T0));
($first) = first_per_worker($res, $served);
is(scalar keys %$first, scalar @w1, 'resumed: every worker of E1 serves');

fleet_stop($F);
done_testing();
