# Connection reset mid-reply: a fake "redis" answers the first bytes of
# an HGETALL reply and closes.  With only the fake listed: 503, no crash.
# With `fwgate_redis FAKE REAL`: the first lookup fails, the read
# connection moves on to the real server, later requests are served.

use strict;
use warnings;
no warnings 'once';
use FindBin;
BEGIN { require "$FindBin::Bin/lib.pl" }

my $redis = redis_start();
seed($redis->{port}, 100);
my $fake = fake_redis();
my $dev = 0;

my $conf = sub {
    my ($servers) = @_;
    return "    fwgate_redis $servers prefix=$main::PREFIX timeout=500ms "
         . "connect_timeout=500ms;\n"
         . "    fwgate_cache fwf_cache:4m ttl=60s stale=60s poll=60s;\n";
};

# only the fake
my $ngx = nginx_start(http => $conf->("127.0.0.1:$fake->{port}"));
my @w0 = workers($ngx);
my @plan = map { { at => $_ * 0.1, req => signed(dev_id($dev++)) } } 0 .. 9;
my @res = load($ngx->{port}, \@plan, timeout => 5);
ok(!(grep { $_->{status} != 503 } @res),
   'fake only: every gated request 503 (' . count_status(\@res) . ')');
my ($max) = sort { $b <=> $a } map { $_->{ms} } @res;
timing('reset.503_max_ms', $max);
cmp_ok($max, '<', 600 * $main::SLOW, 'fake only: 503s come fast');
my $cuts = () = slurp("$main::TMP/fake-$fake->{port}.log") =~ /cut/g;
ok($cuts > 0, "the fake cut $cuts replies");
ok(log_count($ngx, qr/redis connection lost/) > 0,
   'error.log: redis connection lost');
is(req($ngx->{port}, plain_req('/plain'))->{status}, 200, 'ungated 200');
is_deeply([workers($ngx)], \@w0, 'fake only: worker pids unchanged');
faults_done($ngx, name => 'reset, fake only');

# the fake first, the real server second
$ngx = nginx_start(http => $conf->("127.0.0.1:$fake->{port} "
                                   . "127.0.0.1:$redis->{port}"));
@w0 = workers($ngx);
@plan = map { { at => $_ * 0.05, req => signed(dev_id($dev++)) } } 0 .. 19;
@res = load($ngx->{port}, \@plan, timeout => 5);
my ($f503) = grep { $_->{status} == 503 } @res;
my ($first) = grep { $_->{status} == 200 } @res;
ok($first, 'fake then real: requests served after the cut');
ok(!(grep { $_->{status} != 200 && $_->{status} != 503 } @res),
   'fake then real: only 200/503 (' . count_status(\@res) . ')');
my @after = grep { $first && $_->{t0} > $first->{t1} && $_->{status} != 200 }
            @res;
ok(!@after, 'fake then real: every request after the first 200 is 200');
timing('reset.failover_s', sprintf '%.3f',
       $first ? $first->{t1} - ($f503 ? $f503->{t1} : 0) : 99);
is_deeply([workers($ngx)], \@w0, 'fake then real: worker pids unchanged');
faults_done($ngx, name => 'reset, fake then real');

stop_pid($fake->{pid}, 'KILL');
redis_stop($redis);
done_testing();
