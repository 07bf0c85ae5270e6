# A reply larger than expected: a device hash with a 1 MiB field, and one
# with 20,000 fields.  The module must refuse it cleanly (fail closed)
# without crashing; other devices stay served.

use strict;
use warnings;
no warnings 'once';
use FindBin;
BEGIN { require "$FindBin::Bin/lib.pl" }

my $redis = redis_start();
seed($redis->{port}, 10);

my $big = dev_id(1);
my $wide = dev_id(2);
my $key = "${main::PREFIX}device:";
rpipe($redis->{port}, ['HSET', "$key$big", 'junk', 'x' x (1024 * 1024)]);
is(rcli($redis->{port}, 'HSTRLEN', "$key$big", 'junk'), 1048576,
   'device record with a 1 MiB field');
rpipe($redis->{port},
      map { ['HSET', "$key$wide", "f$_", "v$_"] } 0 .. 19999);
cmp_ok(rcli($redis->{port}, 'HLEN', "$key$wide"), '>', 20000,
       'device record with 20,000 fields');

my $ngx = nginx_start(http => <<"_EOC_");
    fwgate_redis 127.0.0.1:$redis->{port} prefix=$main::PREFIX timeout=1s connect_timeout=500ms;
    fwgate_cache fwf_cache:4m ttl=60s stale=60s poll=1s;
_EOC_
my @w0 = workers($ngx);

for my $d ($big, $wide) {
    my @res = load($ngx->{port},
                   [map { { at => $_ * 0.05, req => signed($d) } } 0 .. 5],
                   timeout => 5);
    my @st = map { $_->{status} } @res;
    ok(!(grep { $_ == 200 || $_ == 0 || $_ >= 500 && $_ != 503 } @st),
       "$d: refused cleanly, fail closed (" . count_status(\@res) . ')');
    diag("$d: reason " . ($res[0]{h}{'x-fwgate-reason'} // '-')
         . ", $res[0]{ms} ms");
}

my $ok = req($ngx->{port}, signed(dev_id(3)));
is($ok->{status}, 200, 'a normal device is still served');
is(req($ngx->{port}, signed(dev_id(3)))->{status}, 200, 'and again');
ok(log_count($ngx, qr/redis/) >= 1, 'the refusal is logged');
my @l = grep { /fwgate: (unexpected|.*too large)/ }
        split /\n/, slurp($ngx->{log});
diag("error.log: $l[0]") if @l;
is_deeply([workers($ngx)], \@w0, 'worker pids unchanged');
faults_done($ngx, name => 'large reply');
redis_stop($redis);
done_testing();
