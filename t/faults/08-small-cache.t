# A cache zone too small for the working set: fwgate_cache of 32k with
# 2,000 devices cycling.  Evictions are counted in fwgate_status and
# every request is still answered 200.

use strict;
use warnings;
no warnings 'once';
use FindBin;
BEGIN { require "$FindBin::Bin/lib.pl" }

my $N = 2000;
my $redis = redis_start();
seed($redis->{port}, $N);

my $ngx = nginx_start(http => <<"_EOC_");
    fwgate_redis 127.0.0.1:$redis->{port} prefix=$main::PREFIX timeout=1s connect_timeout=500ms;
    fwgate_cache fwf_small:32k ttl=60s stale=60s poll=1s;
_EOC_
my @w0 = workers($ngx);

my @reqs = map { signed(dev_id($_ % $N)) } 0 .. $N + 499;
my $t0 = time;
my @res = load($ngx->{port}, [map { { req => $_ } } @reqs],
               concurrency => 8, timeout => 5);
my $dt = time - $t0;
timing('small_cache.requests', scalar @res);
timing('small_cache.req_per_s', sprintf '%.0f', @res / $dt);
ok(!(grep { $_->{status} != 200 } @res),
   'every request 200 (' . count_status(\@res) . ')');
my $ev = metric($ngx, 'fwgate_cache_evictions_total');
timing('small_cache.evictions', $ev);
cmp_ok($ev, '>', 0, 'fwgate_cache_evictions_total counts evictions');
cmp_ok(metric($ngx, 'fwgate_cache_misses_total'), '>', $N,
       'misses beyond the working set (records did not all fit)');
is_deeply([workers($ngx)], \@w0, 'worker pids unchanged');
faults_done($ngx, name => 'small cache');
redis_stop($redis);
done_testing();
