# Clients that give up while their request waits on Redis (DEBUG SLEEP 1,
# each client resets its connection after 100 ms).  Redis answers after
# they have gone: no crash, no [alert], later requests fine.

use strict;
use warnings;
no warnings 'once';
use FindBin;
BEGIN { require "$FindBin::Bin/lib.pl" }

my $redis = redis_start();
seed($redis->{port}, 100);
my $dev = 0;

my $ngx = nginx_start(http => <<"_EOC_");
    fwgate_redis 127.0.0.1:$redis->{port} prefix=$main::PREFIX timeout=2s connect_timeout=500ms;
    fwgate_cache fwf_cache:4m ttl=60s stale=60s poll=1s;
_EOC_
my @w0 = workers($ngx);

for my $round (1 .. 2) {
    my @plan;
    # distinct devices, and several clients waiting on one same device
    # (one shared fetch with several waiters, some of them gone)
    push @plan, map { { at => 0.1 + $_ * 0.02, req => signed(dev_id($dev++)),
                        abort => 0.1 } } 0 .. 9;
    my $shared = dev_id($dev++);
    push @plan, map { { at => 0.3 + $_ * 0.02, req => signed($shared),
                        abort => ($_ % 2 ? 0.1 : undef), shared => 1 } }
                0 .. 5;
    my @res = load($ngx->{port}, \@plan, timeout => 5, events => [
        { at => 0, code => sub {
            bg('redis-cli', '-h', '127.0.0.1', '-p', $redis->{port},
               'DEBUG', 'SLEEP', '1');
        } },
    ]);
    my @ab = grep { ($_->{err} // '') eq 'aborted' } @res;
    is(scalar @ab, 13, "round $round: 13 clients gave up after 100 ms");
    my @stay = grep { $_->{shared} && !defined $_->{abort} } @res;
    ok(!(grep { $_->{status} != 200 } @stay),
       "round $round: the clients that stayed on the shared fetch: 200 ("
       . count_status(\@stay) . ')');
    sleep 0.3;
}

my @after = load($ngx->{port},
                 [map { { at => $_ * 0.02, req => signed(dev_id($dev++)) } }
                  0 .. 9], timeout => 5);
ok(!(grep { $_->{status} != 200 } @after),
   'later requests: 200 (' . count_status(\@after) . ')');
is(req($ngx->{port}, plain_req('/plain'))->{status}, 200, 'ungated 200');
ok(log_count($ngx, qr/client (prematurely )?closed connection/) >= 10,
   'error.log: the aborts were noticed while waiting');
is_deeply([workers($ngx)], \@w0, 'worker pids unchanged');
faults_done($ngx, name => 'client abort');
redis_stop($redis);
done_testing();
