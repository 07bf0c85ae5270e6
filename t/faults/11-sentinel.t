# Redis Sentinel: a primary, one replica and three Sentinels (quorum 2,
# down-after-milliseconds 500, failover-timeout 2000), nginx with
# `fwgate_redis sentinel=S1,S2,S3 master=fwf read=replica` and no static
# address.  Reads go to the replica, reports (writes) to the primary.
# Then the primary is killed (SIGKILL) under a steady load of downloads
# and reports: the Sentinels fail over to the replica, the edge follows
# +switch-master without a reload, reports succeed on the new primary,
# downloads keep being served meanwhile.  Then the old primary comes back
# (Sentinel makes it a replica), nginx runs with read=primary and the new
# primary is killed: the edge follows back, cached devices are served
# from the cache during the failover.

use strict;
use warnings;
no warnings 'once';
use FindBin;
BEGIN { require "$FindBin::Bin/lib.pl" }

my $MASTER = 'fwf';
my $P = redis_start();
my $R = redis_start(args => ['--replicaof', '127.0.0.1', $P->{port}]);
seed($P->{port}, 400);

sub synced {
    my ($r, $m) = @_;
    my $end = time + 15;
    while (time < $end) {
        return 1 if rcli($r->{port}, 'INFO', 'replication')
                    =~ /master_link_status:up/
                 && rcli($r->{port}, 'EXISTS',
                         "${main::PREFIX}device:" . dev_id(399)) eq '1';
        sleep 0.05;
    }
    return 0;
}
ok(synced($R), 'replica in sync with the primary');

# three Sentinels watching $P

my @S = map { sentinel_start($MASTER, $P->{port}, 1) } 1 .. 3;

# the Sentinels find each other and the replica (hello every 2 s)
my $t0 = time;
my $ready = 0;
while (time - $t0 < 20) {
    $ready = !(grep { sentinel_field($_, 'num-other-sentinels') ne '2'
                      || sentinel_field($_, 'num-slaves') ne '1' } @S);
    last if $ready;
    sleep 0.2;
}
ok($ready, sprintf 'three Sentinels know each other and the replica '
                   . '(%.1fs)', time - $t0);

my $dev = 0;
my $sentinels = join ',', map { "127.0.0.1:$_->{port}" } @S;
my $conf = sub {
    my ($read) = @_;
    return "    fwgate_redis sentinel=$sentinels master=$MASTER read=$read "
         . "prefix=$main::PREFIX timeout=500ms connect_timeout=500ms;\n"
         . "    fwgate_cache fwf_cache:4m ttl=60s stale=60s poll=1s;\n";
};
my $body = qq({"artifact":"$main::ART","status":"success","version":"2.5.0"});

sub calls {
    my ($r, $cmd) = @_;
    my ($n) = rcli($r->{port}, 'INFO', 'commandstats')
              =~ /cmdstat_\Q$cmd\E:calls=(\d+)/;
    return $n // 0;
}

sub report {
    my ($ngx, $d) = @_;
    return req($ngx->{port}, signed($d, method => 'POST',
                                    path => '/fw/report', body => $body));
}

sub successes {
    my ($r) = @_;
    return rcli($r->{port}, 'HGET',
                "${main::PREFIX}stats:$main::MODEL:$main::ART", 'success')
           || 0;
}

# --- read=replica: reads on the replica, writes on the primary
my $ngx = nginx_start(http => $conf->('replica'));
my $ok = 0;
for (1 .. 40) {
    $ok = req($ngx->{port}, signed(dev_id(0)))->{status} == 200;
    last if $ok;
    sleep 0.05;
}
ok($ok, 'discovered through Sentinel: a download is served');
# the first epoch poll (poll=1s) would invalidate what is cached before it
sleep 1.2;
rcli($_->{port}, 'CONFIG', 'RESETSTAT') for $P, $R;
my @res = load($ngx->{port}, [map { { at => $_ * 0.02,
                                      req => signed(dev_id($dev++)) } }
                              0 .. 19], timeout => 5);
ok(!(grep { $_->{status} != 200 } @res), 'reads: 200 (' . count_status(\@res)
   . ')');
cmp_ok(calls($R, 'hgetall'), '>=', 15, 'reads: HGETALL served by the replica');
is(calls($P, 'hgetall'), 0, 'reads: none on the primary');

my $rep;
for (1 .. 10) {
    $rep = report($ngx, dev_id(0));
    last if $rep->{status} == 204;
    sleep 0.1;
}
is($rep->{status}, 204, 'report accepted (204)')
    or diag('reason ' . ($rep->{h}{'x-fwgate-reason'} // '-'));
is(successes($P), 1, 'report counted on the primary');

# --- the primary killed under load
my @pids = workers($ngx);
my ($t_kill, $t_switch) = (0.5, undef);
my @plan;
# downloads: half of them devices seen before (cached), half new ones
for my $i (0 .. 159) {
    push @plan, { at => 0.1 + $i * 0.05, tag => $i % 2 ? 'cached' : 'new',
                  req => signed(dev_id($i % 2 ? $i % 20 : $dev++)) };
}
# reports every 100 ms from devices 0..19
for my $i (0 .. 79) {
    push @plan, { at => 0.12 + $i * 0.1, tag => 'rep',
                  req => signed(dev_id($i % 20), method => 'POST',
                                path => '/fw/report', body => $body) };
}
my @events = ({ at => $t_kill, code => sub {
    kill 'KILL', $P->{pid};
    waitpid($P->{pid}, 0);
    @main::PROCS = grep { $_->[0] != $P->{pid} } @main::PROCS;
} });
my $start;
for my $k (0 .. 150) {
    push @events, { at => $t_kill + 0.05 + $k * 0.05, code => sub {
        return if defined $t_switch;
        $t_switch = $t_kill + 0.05 + $k * 0.05
            if master_port($S[0]) == $R->{port};
    } };
}
@res = load($ngx->{port}, \@plan, timeout => 5, events => \@events);
my @cached = grep { $_->{tag} eq 'cached' } @res;
my @new = grep { $_->{tag} eq 'new' } @res;
my @rp = grep { $_->{tag} eq 'rep' } @res;
diag(join "\n", map { sprintf "%.2f %.2f %s %s %s %s", $_->{t0}, $_->{t1},
                      $_->{tag}, $_->{status}, $_->{h}{'x-pid'} // '-',
                      $_->{h}{'x-fwgate-reason'} // '' } @res)
    if $ENV{FAULTS_DEBUG};

ok(defined $t_switch, 'Sentinel failed over to the replica');
$t_switch //= 99;
timing('sentinel.failover_s', sprintf '%.3f', $t_switch - $t_kill);
my ($first) = grep { $_->{t0} > $t_kill && $_->{status} == 204 } @rp;
my $rep_ok = $first ? $first->{t1} - $t_kill : 99;
timing('sentinel.report_ok_after_kill_s', sprintf '%.3f', $rep_ok);
timing('sentinel.report_ok_after_switch_s', sprintf '%.3f',
       $rep_ok - ($t_switch - $t_kill));
cmp_ok($rep_ok, '<=', ($t_switch - $t_kill) + 1.0 * $main::SLOW,
       'reports succeed within 1 s of the failover');
ok(!(grep { $first && $_->{t0} > $first->{t1} && $_->{status} != 204 } @rp),
   'every report after that 204 (' . count_status(\@rp) . ')');
ok(!(grep { $_->{status} != 204 && $_->{status} != 503 } @rp),
   'reports: only 204/503 meanwhile');
# Sentinel's promotion closes the replica's client connections (CLIENT
# KILL): an uncached lookup in that instant fails fast, as any does
# while a connection is down
ok(!(grep { $_->{status} != 200 } @cached),
   'downloads: cached devices all 200 (' . count_status(\@cached) . ')');
my $n503 = grep { $_->{status} == 503 } @new;
timing('sentinel.uncached_503_during_failover', $n503);
ok(!(grep { $_->{status} != 200 && $_->{status} != 503 } @new)
   && $n503 <= 5, 'downloads: new devices served from the replica, at '
   . 'most 5 503 (' . count_status(\@new) . ')');
cmp_ok(successes($R), '>=', 1, 'reports counted on the new primary');
is(join(' ', workers($ngx)), join(' ', @pids), 'no worker replaced');
cmp_ok(log_count($ngx, qr/\+switch-master \Q$MASTER\E /), '>=', 1,
       'the edge saw +switch-master');
faults_done($ngx, name => 'primary killed (read=replica)');

# --- the old primary back as a replica; read=primary; kill the new one
my $P2 = redis_start(port => $P->{port});
my $end = time + 15;
sleep 0.1 until (rcli($P2->{port}, 'INFO', 'replication')
                 =~ /master_link_status:up/) || time > $end;
ok(synced($P2), 'old primary back, made a replica by Sentinel');

$ngx = nginx_start(http => $conf->('primary'));
for (1 .. 40) {
    last if req($ngx->{port}, signed(dev_id(0)))->{status} == 200;
    sleep 0.05;
}
sleep 1.2;
rcli($_->{port}, 'CONFIG', 'RESETSTAT') for $P2, $R;
# warm the cache for devices 0..19
@res = load($ngx->{port}, [map { { at => $_ * 0.02,
                                   req => signed(dev_id($_)) } } 0 .. 19],
            timeout => 5);
ok(!(grep { $_->{status} != 200 } @res), 'read=primary: 200 ('
   . count_status(\@res) . ')');
cmp_ok(calls($R, 'hgetall'), '>=', 1, 'read=primary: reads on the primary');
is(calls($P2, 'hgetall'), 0, 'read=primary: none on the replica');

@pids = workers($ngx);
$t_switch = undef;
@plan = ();
for my $i (0 .. 159) {
    push @plan, { at => 0.1 + $i * 0.05, tag => $i % 2 ? 'cached' : 'new',
                  req => signed(dev_id($i % 2 ? $i % 20 : $dev++)) };
}
for my $i (0 .. 79) {
    push @plan, { at => 0.12 + $i * 0.1, tag => 'rep',
                  req => signed(dev_id($i % 20), method => 'POST',
                                path => '/fw/report', body => $body) };
}
@events = ({ at => $t_kill, code => sub {
    kill 'KILL', $R->{pid};
    waitpid($R->{pid}, 0);
    @main::PROCS = grep { $_->[0] != $R->{pid} } @main::PROCS;
} });
for my $k (0 .. 150) {
    push @events, { at => $t_kill + 0.05 + $k * 0.05, code => sub {
        return if defined $t_switch;
        $t_switch = $t_kill + 0.05 + $k * 0.05
            if master_port($S[1]) == $P2->{port};
    } };
}
@res = load($ngx->{port}, \@plan, timeout => 5, events => \@events);
@cached = grep { $_->{tag} eq 'cached' } @res;
@new = grep { $_->{tag} eq 'new' } @res;
@rp = grep { $_->{tag} eq 'rep' } @res;
diag(join "\n", map { sprintf "%.2f %.2f %s %s %s %s", $_->{t0}, $_->{t1},
                      $_->{tag}, $_->{status}, $_->{h}{'x-pid'} // '-',
                      $_->{h}{'x-fwgate-reason'} // '' } @res)
    if $ENV{FAULTS_DEBUG};

ok(defined $t_switch, 'read=primary: Sentinel failed back');
$t_switch //= 99;
timing('sentinel.primary.failover_s', sprintf '%.3f', $t_switch - $t_kill);
($first) = grep { $_->{t0} > $t_kill && $_->{status} == 204 } @rp;
$rep_ok = $first ? $first->{t1} - $t_kill : 99;
timing('sentinel.primary.report_ok_after_kill_s', sprintf '%.3f', $rep_ok);
cmp_ok($rep_ok, '<=', ($t_switch - $t_kill) + 1.0 * $main::SLOW,
       'read=primary: reports succeed within 1 s of the failover');
ok(!(grep { $_->{status} != 200 } @cached),
   'read=primary: cached devices 200 throughout ('
   . count_status(\@cached) . ')');
ok(!(grep { $_->{status} != 200 && $_->{status} != 503 } @new),
   'read=primary: new devices 200/503 (' . count_status(\@new) . ')');
my ($nfirst) = grep { $_->{t0} > $t_kill + 0.1 && $_->{status} == 200 }
               grep { $_->{t0} > $t_switch } @new;
my $rd_ok = $nfirst ? $nfirst->{t1} - $t_kill : 99;
timing('sentinel.primary.uncached_ok_after_kill_s', sprintf '%.3f', $rd_ok);
ok(!(grep { $nfirst && $_->{t0} > $nfirst->{t1} && $_->{status} != 200 }
     @new), 'read=primary: new devices 200 again after the failover');
is(join(' ', workers($ngx)), join(' ', @pids), 'no worker replaced');
faults_done($ngx, name => 'primary killed (read=primary)');

redis_stop($_) for @S;
redis_stop($P2);
done_testing();
