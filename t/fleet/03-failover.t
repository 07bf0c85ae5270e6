# Scenario 3: the primary killed (SIGKILL); three Sentinels (quorum 2,
# down-after 500 ms) promote a replica.  The edges use
# `fwgate_redis sentinel=S1,S2,S3 master=NAME read=replica`.  Install
# reports are sent throughout (a device whose report gets 503 retries
# it): every report answered 2xx must be in the new primary's counters
# (none silently lost), refusals are 503 with Retry-After.  Then an
# automatic halt crossing its threshold on the new primary still halts
# every edge.  Skipped (with the reason) when the module has no
# `sentinel=`.

use strict;
use warnings;
no warnings 'once';
use FindBin;
BEGIN { require "$FindBin::Bin/lib.pl" }

my $MASTER = 'fleet';
my ($has, $out) = nginx_t("fwgate_redis sentinel=127.0.0.1:26379 "
                          . "master=$MASTER read=replica prefix=fwf:;\n"
                          . "fwgate_cache t:1m poll=1s;");
unless ($has) {
    my ($why) = $out =~ /\[emerg\][^\n]*?(\S*fwgate_redis[^\n]*|invalid[^\n]*)/;
    plan skip_all => 'the module has no Sentinel support yet (nginx -t '
                   . 'refuses fwgate_redis sentinel=... master=...: '
                   . ($why // (split /\n/, $out)[0] // '?') . ')';
}


my $ready_t;
my $F = fleet_start(
    before_edges => sub {
        my ($F) = @_;
        $F->{S} = [map { sentinel_start($MASTER, $F->{P}{port}, 3) } 1 .. 3];
        my $t0 = time;
        while (time - $t0 < 20) {
            last unless grep { sentinel_field($_, 'num-other-sentinels') ne '2'
                               || sentinel_field($_, 'num-slaves') ne '3' }
                        @{ $F->{S} };
            sleep 0.2;
        }
        $ready_t = time - $t0;
    },
    servers => sub {
        my ($F) = @_;
        return 'sentinel=' . join(',', map { "127.0.0.1:$_->{port}" }
                                      @{ $F->{S} })
             . " master=$MASTER read=replica";
    });
ok(!(grep { sentinel_field($_, 'num-other-sentinels') ne '2'
            || sentinel_field($_, 'num-slaves') ne '3' } @{ $F->{S} }),
   sprintf 'three Sentinels know each other and the 3 replicas (%.1f s)',
   $ready_t);

my $served = sub { $_[0]{status} == 200 };
my $halted = sub { $_[0]{status} == 403
                   && $_[0]{reason} eq 'rollout_halted' };
my $mkreqs = sub {
    my @p = map { ka_signed(dev_id($_)) } 0 .. 15;
    my $i = 0;
    return sub { $p[$i++ % @p] };
};
my $T0 = 0;
my $w = probe(edges => $F->{E}, reqs => $mkreqs->(), timeout => 5,
              done => done_when_all($F->{E}, $served, \$T0));
my ($first) = first_per_worker($w, $served);
is(scalar keys %$first, scalar(my @aw = all_workers($F->{E})),
   'every worker of the 3 edges serves (' . count_status($w) . ')');

my $stats = "${main::PREFIX}stats:$main::MODEL:$main::ART";
my $body = sub {
    qq({"artifact":"$main::ART","status":"$_[0]","version":"2.5.0"});
};
my $base = rcli($F->{P}{port}, 'HGET', $stats, 'success') || 0;

# a device reports what it was served: every reporting device downloads
# first (the download record is on the primary, replicated)
sub download_all {
    my ($from, $to) = @_;
    my $n = 0;
    for my $d ($from .. $to) {
        my $r = req($F->{E}[$d % 3]{port}, signed(dev_id($d)), 3);
        $n++ if $r->{status} == 200;
    }
    return $n;
}
is(download_all(20, 169), 150, 'the 150 reporting devices downloaded');
sleep 0.3;      # their download records reach the replicas

# --- reports and downloads while the primary dies -----------------------
my $P = $F->{P};
my ($n2xx, $n503, @other, @dl, @rep) = (0, 0);
my @queue = map { { dev => dev_id(20 + $_), e => $_ % 3, at => $_ * 0.04 } }
            0 .. 149;
my ($Tkill, $Tswitch, $newport);
my $start = time;
while (@queue && time - $start < 20) {
    my $now = time - $start;
    if (!$Tkill && $now >= 1.0) {
        $Tkill = time - $start;
        kill 'KILL', $P->{pid};
        waitpid($P->{pid}, 0);
    }
    if ($Tkill && !$Tswitch) {
        my $mp = master_port($F->{S}[0]);
        if ($mp && $mp != $P->{port}) {
            $Tswitch = time - $start;
            $newport = $mp;
        }
    }
    my ($it) = grep { $_->{at} <= $now } @queue;
    unless ($it) { sleep 0.01; next }
    @queue = grep { $_ != $it } @queue;
    my $E = $F->{E}[$it->{e}];
    my $t0 = time - $start;
    my $r = req($E->{port}, signed($it->{dev}, method => 'POST',
                                   path => '/fw/report',
                                   body => $body->('success')), 3);
    push @rep, { t0 => $t0, t1 => time - $start, status => $r->{status},
                 ra => $r->{h}{'retry-after'} };
    if ($r->{status} >= 200 && $r->{status} < 300) {
        $n2xx++;
    } elsif ($r->{status} == 503) {
        $n503++;
        # the device retries after Retry-After (1 s), on the same edge
        push @queue, { %$it, at => $now + 1, tries => ($it->{tries} // 0) + 1 }
            if ($it->{tries} // 0) < 15;
    } else {
        push @other, "$r->{status}:" . ($r->{h}{'x-fwgate-reason'} // '-');
    }
    my $d = req($E->{port}, signed(dev_id(int rand 16)), 3);
    push @dl, $d;
}
my ($gap) = map { $_->{t1} - $Tkill }
            grep { $_->{t0} > $Tkill && $_->{status} == 204 } @rep;
my @bad503 = grep { $_->{status} == 503 && ($_->{ra} // '') eq '' } @rep;
timing('failover.sentinel_switch_s', sprintf '%.3f',
       $Tswitch ? $Tswitch - $Tkill : 99);
timing('failover.write_gap_s', sprintf '%.3f', $gap // 99);
timing('failover.reports_2xx', $n2xx);
timing('failover.reports_503', $n503);
ok($newport, "Sentinel promoted a replica (port " . ($newport // '-') . ')');
is(scalar @queue, 0, 'every report was finally answered 2xx');
is(scalar @other, 0, 'report refusals are 503 only ('
   . join(' ', @other[0 .. ($#other > 5 ? 5 : $#other)]) . ')');
is(scalar @bad503, 0, 'every 503 with Retry-After');
ok(!(grep { $_->{status} != 200 && $_->{status} != 503 } @dl),
   'downloads during the failover: 200 or 503 (' . count_status(\@dl) . ')');

SKIP: {
    skip 'no new primary', 4 unless $newport;
    my $end = time + 5;
    sleep 0.1 until rcli($newport, 'ROLE') =~ /^master/ || time > $end;
    my $got = rcli($newport, 'HGET', $stats, 'success') || 0;
    cmp_ok($got, '>=', $base + $n2xx, "every 2xx report is in the new "
           . "primary's counters ($got >= $base + $n2xx)");
    my @late = grep { $_->{status} == 204 && $_->{t1} <= $Tkill
                      && $_->{t1} > $Tkill - 0.2 } @rep;
    diag(sprintf '%d reports answered 204 in the 200 ms before the kill '
         . '(the replicas lag %d-%d ms behind the primary)', scalar @late,
         $main::DELAY_LO * 1000, $main::DELAY_HI * 1000)
        if $got < $base + $n2xx;
    timing('failover.reports_lost', ($base + $n2xx > $got)
                                    ? $base + $n2xx - $got : 0);
    timing('failover.reports_counted_twice', ($got > $base + $n2xx)
                                             ? $got - $base - $n2xx : 0);

    # --- an automatic halt on the new primary ----------------------------
    rcli($newport, 'DEL', $stats);
    ctlq($newport, 'rollout', 'start', $main::MODEL, '--artifact',
         $main::ART, '--percent', '100', '--halt-failures', '3',
         '--halt-ratio', '0.5');
    $T0 = 0;
    $w = probe(edges => $F->{E}, reqs => $mkreqs->(), timeout => 5,
               done => done_when_all($F->{E}, $served, \$T0));
    ($first) = first_per_worker($w, $served);
    is(scalar keys %$first, scalar @aw,
       'after the failover: every worker serves the new rollout');
    download_all(180, 182);
    sleep 0.3;
    my @fail;
    for my $i (0 .. 2) {
        my $r;
        for (1 .. 10) {
            $r = req($F->{E}[$i]{port}, signed(dev_id(180 + $i),
                     method => 'POST', path => '/fw/report',
                     body => $body->('failure')), 3);
            last if $r->{status} < 300;
            sleep 0.2;
        }
        push @fail, $r->{status};
    }
    my $Th = 0;
    $start = time;
    $w = probe(edges => $F->{E}, reqs => $mkreqs->(), timeout => 4,
               start => $start,
               done => done_when_all($F->{E}, $halted, \$Th));
    ($first) = first_per_worker($w, $halted);
    my $ah = 0;
    for (values %$first) { $ah = $_ if $_ > $ah }
    $ah = 99 unless keys %$first == @aw;
    timing('failover.autohalt_s', sprintf '%.3f', $ah);
    # the halt flag: the rollout's state, or (newer module) a key of its
    # own, rollout:<model>:halt
    my $rk = "${main::PREFIX}rollout:$main::MODEL";
    ok(rcli($newport, 'HGET', $rk, 'state') eq 'halted'
       || rcli($newport, 'HGET', "$rk:halt", 'artifact') eq $main::ART,
       'three failure reports (' . join(' ', @fail) . ') halt the rollout '
       . 'on the new primary');
    cmp_ok($ah, '<', 1.0, 'every worker of every edge refuses it within 1 s');
}

fleet_stop($F);
done_testing();
