# A halt that reaches the edge while a fetch is on its way, and then the
# fetch fails: the stale copy from before the halt must not serve.
#
# nginx talks to Redis through a relay of our own.  A device's records
# are cached, then age out (ttl=1s, stale=60s: a stale copy would serve
# a Redis failure).  The relay then holds the read connection's next
# HGETALL/SISMEMBER (the command never reaches Redis), the device asks,
# `rollout halt` is written to Redis directly and its PUBLISH reaches the
# edge on the subscription, which the relay passes.  The relay then
# closes the held connection: the fetch fails and the decision falls
# back to the cache.  Its copy is from before the halt, so the answer is
# 503 registry_unavailable, never 200.  (Before 0.4.5 the copy was taken
# when the fetch was sent, and served.)  A device whose copy merely aged
# out, with no change since, is still served from it.

use strict;
use warnings;
no warnings 'once';
use FindBin;
BEGIN { require "$FindBin::Bin/lib.pl" }

my $redis = redis_start();
seed($redis->{port}, 4);

my $HOLD = "$main::TMP/relay-hold";
my $CUT = "$main::TMP/relay-cut";

# the relay: 127.0.0.1:port -> redis, holding and cutting on those files
sub relay_start {
    my ($to) = @_;
    my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Listen => 64, ReuseAddr => 1)
        or die "listen: $!";
    my $port = $l->sockport;
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        my $sel = IO::Select->new($l);
        my (%peer, %held);
        my $end = time + 60;
        while (time < $end) {
            if (-e $CUT) {
                for my $c (grep { $held{$_} } keys %held) {
                    my ($s) = grep { fileno($_) == $c } $sel->handles;
                    next unless $s;
                    my $u = $peer{$c};
                    $sel->remove($s, $u);
                    close $s;
                    close $u;
                    delete $held{$c};
                }
            }
            for my $s ($sel->can_read(0.02)) {
                if ($s == $l) {
                    my $c = $l->accept or next;
                    my $u = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                                  PeerPort => $to)
                        or do { close $c; next };
                    $peer{fileno $c} = $u;
                    $peer{fileno $u} = $c;
                    $held{fileno $c} = 0;
                    $sel->add($c, $u);
                    next;
                }
                my $n = sysread $s, my $chunk, 65536;
                my $other = $peer{fileno $s};
                if (!$n) {
                    $sel->remove($s, $other);
                    close $s;
                    close $other;
                    next;
                }
                if (exists $held{fileno $s}) {
                    # from nginx: held once a registry read meets the hold
                    $held{fileno $s} = 1
                        if -e $HOLD && $chunk =~ /HGETALL|SISMEMBER/;
                    next if $held{fileno $s};
                }
                syswrite $other, $chunk;
            }
        }
        POSIX::_exit(0);
    }
    close $l;
    push @main::PROCS, [$pid, 'relay'];
    return $port;
}

my $relay = relay_start($redis->{port});

my $ngx = nginx_start(workers => 1, http => <<"_EOC_");
    fwgate_redis 127.0.0.1:$relay prefix=$main::PREFIX timeout=3s connect_timeout=500ms;
    fwgate_cache fwf_cache:4m ttl=1s stale=60s poll=30s;
_EOC_

# both devices cached, then aged out with no change since
for my $d (0, 1) {
    my $r = req($ngx->{port}, signed(dev_id($d)));
    is($r->{status}, 200, "device $d served and cached");
}
sleep 1.3;

open my $h, '>', $HOLD or die;
close $h;

my @res = load($ngx->{port},
               [ { at => 0, req => signed(dev_id(0)), kind => 'halted' } ],
               timeout => 6,
               events => [
    { at => 0.3, code => sub {
        ctl($redis->{port}, 'rollout', 'halt', $main::MODEL);
    } },
    { at => 0.8, code => sub {
        open my $c, '>', $CUT or die;
        close $c;
    } },
]);

my $r = $res[0];
isnt($r->{status}, 200, 'halt pushed while the fetch was held, then the '
     . "fetch failed: not served from the copy before the halt "
     . "($r->{status} " . ($r->{h}{'x-fwgate-reason'} // '') . ')');
is($r->{status}, 503, '503');
is($r->{h}{'x-fwgate-reason'} // '', 'registry_unavailable',
   'registry_unavailable');

unlink $HOLD, $CUT;
sleep 0.6;      # the read connection comes back (backoff)

$r = req($ngx->{port}, signed(dev_id(0)));
is($r->{h}{'x-fwgate-reason'} // '', 'rollout_halted',
   'Redis reachable again: rollout_halted');

# no change since: an aged-out copy still serves a failed fetch
ctl($redis->{port}, 'rollout', 'resume', $main::MODEL);
sleep 0.3;
$r = req($ngx->{port}, signed(dev_id(1)));
is($r->{status}, 200, 'resumed: device 1 served and cached again');
sleep 1.3;

open $h, '>', $HOLD or die;
close $h;
@res = load($ngx->{port}, [ { at => 0, req => signed(dev_id(1)) } ],
            timeout => 6,
            events => [ { at => 0.5, code => sub {
                open my $c, '>', $CUT or die;
                close $c;
            } } ]);
is($res[0]{status}, 200, 'no change since the copy: the stale copy serves '
   . "a failed fetch ($res[0]{status})");

faults_done($ngx, name => 'halt mid-fetch');
redis_stop($redis);
done_testing();
