# Redis slow: DEBUG SLEEP 3 on the server while requests arrive.
#
# Meanwhile an ungated location answers at once, cached devices are
# served (fresh records need no round trip), uncached ones get 503 within
# about the command timeout (500 ms), and afterwards service recovers.

use strict;
use warnings;
no warnings 'once';
use FindBin;
BEGIN { require "$FindBin::Bin/lib.pl" }

my $TIMEOUT = 0.5;
my $SLEEP = 3;

my $redis = redis_start();
seed($redis->{port}, 100);

my $ngx = nginx_start(http => <<"_EOC_");
    fwgate_redis 127.0.0.1:$redis->{port} prefix=$main::PREFIX timeout=500ms connect_timeout=500ms;
    fwgate_cache fwf_cache:4m ttl=60s stale=60s poll=1s;
_EOC_
my @w0 = workers($ngx);

for my $i (0 .. 9) {
    req($ngx->{port}, signed(dev_id($i)));
}

my @plan;
my $k = 0;
for my $i (0 .. 44) {
    my $at = 0.1 + $i * 0.1;
    push @plan, { at => $at, req => plain_req('/plain'), kind => 'plain' };
    push @plan, { at => $at + 0.02, req => signed(dev_id($i % 10)),
                  kind => 'cached' };
    push @plan, { at => $at + 0.04, req => signed(dev_id(10 + $k++)),
                  kind => 'uncached' };
}

my $t_sleep;
my @res = load($ngx->{port}, \@plan, timeout => 6, events => [
    { at => 0, code => sub {
        bg('redis-cli', '-h', '127.0.0.1', '-p', $redis->{port},
           'DEBUG', 'SLEEP', $SLEEP);
        $t_sleep = 0;
    } },
]);
my $t_wake = $t_sleep + $SLEEP;

my @plain = grep { $_->{kind} eq 'plain' } @res;
my ($pmax) = sort { $b <=> $a } map { $_->{ms} } @plain;
ok(!(grep { $_->{status} != 200 } @plain), 'ungated location: all 200');
cmp_ok($pmax, '<', 100 * $main::SLOW, 'ungated location: every answer < 100 ms');
timing('slow.ungated_max_ms', $pmax);

my @cached = grep { $_->{kind} eq 'cached' } @res;
ok(!(grep { $_->{status} != 200 } @cached),
   'cached devices: all 200 while redis sleeps');

my @during = grep { $_->{kind} eq 'uncached' && $_->{t0} > 0.05
                    && $_->{t1} < $t_wake - 0.05 } @res;
ok(@during >= 10, 'uncached requests answered during the sleep: '
                  . scalar @during);
ok(!(grep { $_->{status} != 503 } @during),
   'uncached during the sleep: 503 (' . count_status(\@during) . ')');
my ($umax) = sort { $b <=> $a } map { $_->{ms} } @during;
cmp_ok($umax, '<=', ($TIMEOUT + 0.25) * 1000 * $main::SLOW,
       'uncached 503 within timeout + 250 ms');
timing('slow.503_max_ms', $umax);

my ($first) = grep { $_->{kind} eq 'uncached' && $_->{t1} >= $t_wake
                     && $_->{status} == 200 } @res;
ok($first, 'uncached devices served after the sleep');
my $rec = $first ? $first->{t1} - $t_wake : 99;
timing('slow.recovery_after_wake_s', sprintf '%.3f', $rec);
cmp_ok($rec, '<=', 1.0 * $main::SLOW, 'recovered within 1 s of redis waking');
my @late = grep { $_->{kind} eq 'uncached' && $first
                  && $_->{t0} > $first->{t1} && $_->{status} != 200 } @res;
ok(!@late, 'every uncached request after recovery: 200');

ok(log_count($ngx, qr/redis .* timed out, reconnecting/) > 0,
   'error.log: the stuck connection was dropped and reconnected');
is_deeply([workers($ngx)], \@w0, 'worker pids unchanged');

faults_done($ngx, name => 'redis slow');
redis_stop($redis);
done_testing();
