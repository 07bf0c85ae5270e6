# A primary and a replica (--replicaof on loopback), `fwgate_redis
# REPLICA PRIMARY`: reads are served by the replica, install reports
# (writes) land on the primary; when the replica dies (killed, or stalled
# by DEBUG SLEEP) reads move to the primary within one timeout; with only
# a replica configured a report gets 503.

use strict;
use warnings;
no warnings 'once';
use FindBin;
BEGIN { require "$FindBin::Bin/lib.pl" }

my $TMO = 0.5;
my $P = redis_start();
my $R = redis_start(args => ['--replicaof', '127.0.0.1', $P->{port}]);
seed($P->{port}, 300);

sub synced {
    my ($r) = @_;
    my $end = time + 10;
    while (time < $end) {
        return 1 if rcli($r->{port}, 'INFO', 'replication')
                    =~ /master_link_status:up/
                 && rcli($r->{port}, 'EXISTS',
                         "${main::PREFIX}device:" . dev_id(299)) eq '1';
        sleep 0.05;
    }
    return 0;
}
ok(synced($R), 'replica in sync with the primary');

my $dev = 0;
my $conf = sub {
    my ($servers) = @_;
    return "    fwgate_redis $servers prefix=$main::PREFIX timeout=500ms "
         . "connect_timeout=500ms;\n"
         . "    fwgate_cache fwf_cache:4m ttl=60s stale=60s poll=1s;\n";
};
my $both = "127.0.0.1:$R->{port} 127.0.0.1:$P->{port}";
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

# --- reads on the replica, writes on the primary
my $ngx = nginx_start(http => $conf->($both));
rcli($_->{port}, 'CONFIG', 'RESETSTAT') for $P, $R;
my @res = load($ngx->{port}, [map { { at => $_ * 0.02,
                                      req => signed(dev_id($dev++)) } }
                              0 .. 9], timeout => 5);
ok(!(grep { $_->{status} != 200 } @res), 'reads: 200 (' . count_status(\@res)
   . ')');
cmp_ok(calls($R, 'hgetall'), '>=', 10, 'reads: HGETALL served by the replica');
is(calls($P, 'hgetall'), 0, 'reads: none on the primary');

my $rep;
for (1 .. 10) {
    $rep = report($ngx, dev_id(0));
    last if $rep->{status} == 204;
    sleep 0.1;
}
is($rep->{status}, 204, 'report accepted (204)')
    or diag('reason ' . ($rep->{h}{'x-fwgate-reason'} // '-'));
is(rcli($P->{port}, 'HGET', "${main::PREFIX}stats:$main::MODEL:$main::ART",
        'success'), '1', 'report counted on the primary');
cmp_ok(calls($P, 'evalsha') + calls($P, 'eval'), '>=', 1,
       'the report script ran on the primary');

# --- the replica killed: reads move to the primary
my $t_kill;
my @plan = map { { at => 0.2 + $_ * 0.05, req => signed(dev_id($dev++)) } }
           0 .. 19;
@res = load($ngx->{port}, \@plan, timeout => 5, events => [
    { at => 0.3, code => sub {
        kill 'KILL', $R->{pid};
        waitpid($R->{pid}, 0);
        $t_kill = 0.3;
    } },
]);
my ($first) = grep { $_->{t0} > $t_kill && $_->{status} == 200 } @res;
ok(!(grep { $_->{status} != 200 && $_->{status} != 503 } @res),
   'replica killed: only 200/503 (' . count_status(\@res) . ')');
my $fo = $first ? $first->{t1} - $t_kill : 99;
timing('replica.kill_failover_s', sprintf '%.3f', $fo);
cmp_ok($fo, '<=', $TMO * $main::SLOW, 'replica killed: reads on the primary '
       . 'within one timeout');
ok(!(grep { $first && $_->{t0} > $first->{t1} && $_->{status} != 200 } @res),
   'replica killed: every read after that 200');
is(report($ngx, dev_id(1))->{status}, 204, 'replica killed: reports still 204');
faults_done($ngx, name => 'replica killed');

# --- the replica stalled (DEBUG SLEEP): reads move within one timeout
$R = redis_start(port => $R->{port},
                 args => ['--replicaof', '127.0.0.1', $P->{port}]);
ok(synced($R), 'replica restarted and in sync');
$ngx = nginx_start(http => $conf->($both));
@plan = map { { at => 0.2 + $_ * 0.05, req => signed(dev_id($dev++)) } }
        0 .. 29;
my $t_sleep = 0.3;
@res = load($ngx->{port}, \@plan, timeout => 5, events => [
    { at => $t_sleep, code => sub {
        bg('redis-cli', '-h', '127.0.0.1', '-p', $R->{port},
           'DEBUG', 'SLEEP', '2');
    } },
]);
diag(join "\n", map { sprintf "%.2f %.2f %s %s %s", $_->{t0}, $_->{t1}, $_->{status}, $_->{h}{"x-pid"}, $_->{ms} } @res) if $ENV{FAULTS_DEBUG};
# each worker has its own connection and notices the stall by itself:
# per worker, from its first request stuck on the sleeping replica to
# its first read served by the primary
my %bypid;
push @{ $bypid{ $_->{h}{'x-pid'} // 0 } }, $_ for @res;
my ($worst, $nfo) = (0, 0);
for my $pid (sort keys %bypid) {
    my @r = @{ $bypid{$pid} };
    my ($stuck) = grep { $_->{t0} > $t_sleep && $_->{status} == 503 } @r;
    next unless $stuck;
    my ($ok) = grep { $_->{t0} > $stuck->{t0} && $_->{status} == 200 } @r;
    my $fo = $ok ? $ok->{t1} - $stuck->{t0} : 99;
    $worst = $fo if $fo > $worst;
    $nfo++;
    ok(!(grep { $ok && $_->{t0} > $ok->{t1} && $_->{status} != 200 } @r),
       "replica stalled: worker $pid reads 200 after its failover");
}
ok($nfo >= 1, "replica stalled: $nfo worker(s) failed over ("
              . count_status(\@res) . ')');
timing('replica.stall_failover_s', sprintf '%.3f', $worst);
cmp_ok($worst, '<=', ($TMO + 0.3) * $main::SLOW,
       'replica stalled: each worker reads from the primary within one '
       . 'timeout (+300 ms)');
faults_done($ngx, name => 'replica stalled');
sleep 1.5;

# --- only the replica configured: reads fine, reports refused 503
$ngx = nginx_start(http => $conf->("127.0.0.1:$R->{port}"));
is(req($ngx->{port}, signed(dev_id($dev++)))->{status}, 200,
   'replica only: reads 200');
$rep = report($ngx, dev_id(2));
is($rep->{status}, 503, 'replica only: report 503');
is($rep->{h}{'retry-after'}, '1', 'replica only: Retry-After: 1');
is($rep->{h}{'x-fwgate-reason'}, 'registry_unavailable',
   'replica only: registry_unavailable');
faults_done($ngx, name => 'replica only');

redis_stop($R);
redis_stop($P);
done_testing();
