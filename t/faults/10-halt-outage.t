# A revoke or halt that a Redis outage must not undo (issue 10, item 1).
#
# A device's records are cached fresh; the fleet owner revokes the device
# (or halts the rollout), which bumps fwgate:epoch; the edge's poll sees
# the new epoch; then Redis stalls (SIGSTOP) before the device's next
# request.  The cached records were invalidated by that epoch: they must
# never serve as a fallback, so the answer is 503 registry_unavailable with
# Retry-After, never 200.  A record that merely aged out in the current
# epoch (no change seen) still serves as a stale copy: that is what
# `stale=` is for.

use strict;
use warnings;
no warnings 'once';
use FindBin;
BEGIN { require "$FindBin::Bin/lib.pl" }

my $POLL_MS = 100;

my $redis = redis_start();
seed($redis->{port}, 10);

my $ngx = nginx_start(http => <<"_EOC_");
    fwgate_redis 127.0.0.1:$redis->{port} prefix=$main::PREFIX timeout=300ms connect_timeout=300ms;
    fwgate_cache fwf_cache:4m ttl=60s stale=60s poll=${POLL_MS}ms;
_EOC_

# warm: every worker's copy and the zone hold each device's records
sub warm {
    my (@devs) = @_;
    for my $d (@devs) {
        for (1 .. 6) {
            my $r = req($ngx->{port}, signed(dev_id($d)));
            return 0 unless $r->{status} == 200;
        }
    }
    return 1;
}

# the answers while Redis is stopped, and whether any was a 200
sub during_stall {
    my ($dev, $n) = @_;
    my @r = map { req($ngx->{port}, signed(dev_id($dev)), 3) } 1 .. $n;
    return @r;
}

sub epoch { rcli($redis->{port}, 'GET', "${main::PREFIX}epoch") }

# wait until the edge has polled the epoch at least twice
sub seen { sleep(3 * $POLL_MS / 1000) }

# --- revoke, then Redis stalls ----------------------------------------------

ok(warm(0, 1), 'devices 0 and 1 served and cached');

ctl($redis->{port}, 'device', 'revoke', dev_id(0));
seen();
kill 'STOP', $redis->{pid};
my $t0 = time;
my @rev = during_stall(0, 6);
my @other = during_stall(1, 6);
kill 'CONT', $redis->{pid};

ok(!(grep { $_->{status} == 200 } @rev),
   'revoked device, redis stalled: never 200 (' . count_status(\@rev) . ')');
ok(!(grep { $_->{status} != 503 } @rev),
   'revoked device, redis stalled: 503 registry_unavailable');
ok(!(grep { ($_->{h}{'x-fwgate-reason'} // '') ne 'registry_unavailable' }
     @rev), 'reason registry_unavailable');
ok(!(grep { !defined $_->{h}{'retry-after'} } @rev), 'with Retry-After');
ok(!(grep { $_->{status} != 503 } @other),
   'another device cached before the epoch change: 503 too, its copy was '
   . 'invalidated (' . count_status(\@other) . ')');

sleep 0.3;
my $after = req($ngx->{port}, signed(dev_id(0)));
is($after->{status}, 403, 'redis back: the revoked device is refused');
is($after->{h}{'x-fwgate-reason'}, 'revoked', 'reason revoked');

# --- halt, then Redis stalls ------------------------------------------------

ok(warm(2, 3), 'devices 2 and 3 served and cached');
ctl($redis->{port}, 'rollout', 'halt', $main::MODEL);
seen();
kill 'STOP', $redis->{pid};
my @halt = (during_stall(2, 6), during_stall(3, 6));
kill 'CONT', $redis->{pid};

ok(!(grep { $_->{status} == 200 } @halt),
   'halted rollout, redis stalled: never 200 (' . count_status(\@halt) . ')');
ok(!(grep { $_->{status} != 503 } @halt), 'halted rollout: 503');

sleep 0.3;
$after = req($ngx->{port}, signed(dev_id(2)));
is($after->{h}{'x-fwgate-reason'}, 'rollout_halted',
   'redis back: rollout_halted');

# --- no change seen: an aged-out copy still serves -------------------------

ctl($redis->{port}, 'rollout', 'resume', $main::MODEL);
nginx_stop($ngx);

$ngx = nginx_start(http => <<"_EOC_");
    fwgate_redis 127.0.0.1:$redis->{port} prefix=$main::PREFIX timeout=300ms connect_timeout=300ms;
    fwgate_cache fwf_cache2:4m ttl=1s stale=60s poll=${POLL_MS}ms;
_EOC_

ok(warm(4), 'device 4 served and cached (ttl 1s)');
sleep 1.3;
kill 'STOP', $redis->{pid};
my @aged = during_stall(4, 4);
kill 'CONT', $redis->{pid};
ok(!(grep { $_->{status} != 200 } @aged),
   'aged out, no epoch change seen: the stale copy serves ('
   . count_status(\@aged) . ')');
ok(metric($ngx, 'fwgate_cache_stale_total') > 0,
   'counted as stale fallbacks');

# and once the epoch moves, even the aged-out copy is gone
sleep 1.3;
rcli($redis->{port}, 'INCR', "${main::PREFIX}epoch");
seen();
kill 'STOP', $redis->{pid};
@aged = during_stall(4, 4);
kill 'CONT', $redis->{pid};
ok(!(grep { $_->{status} != 503 } @aged),
   'aged-out copy after an epoch change: 503 (' . count_status(\@aged) . ')');

faults_done($ngx, name => 'halt during outage');
redis_stop($redis);
done_testing();
