# Blackholed Redis: (a) a listener that accepts and never answers, (b) a
# listener that never accepts (its backlog full: connects hang).  Gated
# requests get 503 within the timeout plus a small margin, the ungated
# location stays fast (no worker stall).  (c) With a real server listed
# after the blackhole, reads move on after one timeout, and so must the
# write connection (install reports).

use strict;
use warnings;
no warnings 'once';
use FindBin;
BEGIN { require "$FindBin::Bin/lib.pl" }

my $TMO = 0.3;
my $redis = redis_start();
seed($redis->{port}, 100);
my $dev = 0;

sub probe {
    my ($ngx, $what) = @_;
    my @plan;
    for my $i (0 .. 14) {
        push @plan, { at => $i * 0.1, req => plain_req('/plain'),
                      kind => 'plain' };
        push @plan, { at => $i * 0.1 + 0.01, req => signed(dev_id($dev++)),
                      kind => 'gated' };
    }
    my @res = load($ngx->{port}, \@plan, timeout => 5);
    my @g = grep { $_->{kind} eq 'gated' } @res;
    my @p = grep { $_->{kind} eq 'plain' } @res;
    ok(!(grep { $_->{status} != 503 } @g),
       "$what: gated answers 503 (" . count_status(\@g) . ')');
    my ($gmax) = sort { $b <=> $a } map { $_->{ms} } @g;
    my ($pmax) = sort { $b <=> $a } map { $_->{ms} } @p;
    cmp_ok($gmax, '<=', ($TMO * 1000 + 150) * $main::SLOW,
           "$what: 503 within timeout + 150 ms");
    ok(!(grep { $_->{status} != 200 } @p), "$what: ungated 200");
    cmp_ok($pmax, '<', 100 * $main::SLOW, "$what: ungated < 100 ms");
    timing("blackhole.$what.503_max_ms", $gmax);
    timing("blackhole.$what.ungated_max_ms", $pmax);
}

my $conf = sub {
    my ($servers) = @_;
    return "    fwgate_redis $servers prefix=$main::PREFIX timeout=300ms "
         . "connect_timeout=300ms;\n"
         . "    fwgate_cache fwf_cache:4m ttl=60s stale=60s poll=1s;\n";
};

# (a) accepts, never answers
my $bh = blackhole(mode => 'accept');
my $ngx = nginx_start(http => $conf->("127.0.0.1:$bh->{port}"));
my @w0 = workers($ngx);
probe($ngx, 'accept');
ok(log_count($ngx, qr/timed out, reconnecting/) > 0,
   'accept: the silent connection is dropped and reconnected');
is_deeply([workers($ngx)], \@w0, 'accept: worker pids unchanged');
faults_done($ngx, name => 'blackhole accept');

# (b) never accepts
my $bl = blackhole(mode => 'backlog');
$ngx = nginx_start(http => $conf->("127.0.0.1:$bl->{port}"));
@w0 = workers($ngx);
probe($ngx, 'backlog');
ok(log_count($ngx, qr/timed out \(connect/) > 0,
   'backlog: connect timeouts logged');
is_deeply([workers($ngx)], \@w0, 'backlog: worker pids unchanged');
faults_done($ngx, name => 'blackhole backlog');
close $_ for @{ $bl->{socks} };

# (c) blackhole first, real redis second
$ngx = nginx_start(http => $conf->("127.0.0.1:$bh->{port} "
                                   . "127.0.0.1:$redis->{port}"));
my @plan = map { { at => $_ * 0.05, req => signed(dev_id($dev++)) } }
           0 .. 29;
my @res = load($ngx->{port}, \@plan, timeout => 5);
my ($first) = grep { $_->{status} == 200 } @res;
ok($first, 'reads move to the second server');
timing('blackhole.read_failover_s', sprintf '%.3f', $first ? $first->{t1} : 99);
cmp_ok($first ? $first->{t1} : 99, '<=', ($TMO + 0.3) * $main::SLOW,
       'reads served by the second server within one timeout (+300 ms)');
my @after = grep { $first && $_->{t0} > $first->{t1} && $_->{status} != 200 }
            @res;
ok(!@after, 'after the failover every read 200');

# the write connection asked the blackhole ROLE: it must move on too
# (device 0 marked as served by the rollout, as its download would: only
# such reports count)
my $body = qq({"artifact":"$main::ART","status":"success","version":"2.5.0"});
rcli($redis->{port}, 'HSET', "${main::PREFIX}stats:$main::MODEL:$main::ART:devices",
     dev_id(0), 'served');
my ($rep, $t);
for my $i (1 .. 10) {
    $rep = req($ngx->{port}, signed(dev_id(0), method => 'POST',
                                    path => '/fw/report', body => $body));
    $t = $i * 0.2;
    last if $rep->{status} == 204;
    sleep 0.2;
}
is($rep->{status}, 204, 'report (write) reaches the real primary behind '
   . 'a blackhole listed first') or diag("last report: $rep->{status} "
   . ($rep->{h}{'x-fwgate-reason'} // ''));
timing('blackhole.write_failover_s', $rep->{status} == 204 ? $t : 'never');
faults_done($ngx, name => 'blackhole then real');

stop_pid($bh->{pid}, 'KILL');
redis_stop($redis);
done_testing();
