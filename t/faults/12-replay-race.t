# One captured request sent many times at once to an nginx with two
# workers: the replay store admits it exactly once, whichever worker
# takes each copy (accept_mutex off), and the bucket locks
# (src/ngx/ngx_http_fwgate_replay.c) never wedge: different nonces sent
# at the same moment all pass.  The window the locks close, between a
# check's look at its two buckets and its write, is a few nanoseconds:
# this run did not hit it with the locks taken out (3 runs of 30
# rounds), so it checks the store's behaviour under two workers, not the
# lock order itself, which replay.c argues.

use strict;
use warnings;
no warnings 'once';
use FindBin;
BEGIN { require "$FindBin::Bin/lib.pl" }

plan skip_all => 'needs two workers (valgrind mode runs one)' if $main::VALGRIND;

my $redis = redis_start();
seed($redis->{port}, 50);

my $ngx = nginx_start(http => <<"_EOC_");
    fwgate_redis 127.0.0.1:$redis->{port} prefix=$main::PREFIX;
    fwgate_cache fwf_cache:4m ttl=60s;
    fwgate_replay_zone fwf_replay:1m;
_EOC_

# a signed request with a nonce of its own
sub nonced {
    my ($dev) = @_;
    my $p = sig_parts(device => $dev, path => "/firmware/$main::ART",
                      model => $main::MODEL, version => '2.4.1', nonce => 1,
                      key => { alg => 'hmac-sha256',
                               secret => $main::SECRET{$dev} });
    my $h = $p->{headers};
    $h =~ s/\n/\r\n/g;
    return "GET /firmware/$main::ART HTTP/1.1\r\nHost: localhost\r\n"
           . "Connection: close\r\n$h"
           . "Signature-Input: $p->{input}\r\n"
           . "Signature: $p->{signature}\r\n\r\n";
}

# the records cached in both workers first
load($ngx->{port}, [ map { { at => 0, req => nonced(dev_id($_ % 50)) } }
                     0 .. 99 ]);

my ($rounds, $copies) = (30, 24);
my (%pids, @bad, $ok);

for my $round (1 .. $rounds) {
    my $req = nonced(dev_id($round % 50));
    my @res = load($ngx->{port},
                   [ map { { at => 0, req => $req } } 1 .. $copies ]);
    $pids{ $_->{h}{'x-pid'} // 0 }++ for @res;
    my @ok = grep { $_->{status} == 200 } @res;
    my @replay = grep { $_->{status} == 401
                        && ($_->{h}{'x-fwgate-reason'} // '') eq 'replay' }
                 @res;
    $ok++ if @ok == 1 && @replay == $copies - 1;
    push @bad, "round $round: " . count_status(\@res) if @ok != 1;
}

is($ok, $rounds, "$rounds requests sent $copies times at once: each "
                 . "admitted once, the other copies refused as replays")
    or diag(join "\n", @bad);
ok(keys(%pids) >= 2, 'both workers answered copies ('
                     . join(' ', map { "$_:$pids{$_}" } sort keys %pids)
                     . ')');

# 200 different nonces at once: every one admitted
my @res = load($ngx->{port},
               [ map { { at => 0, req => nonced(dev_id($_ % 50)) } }
                 0 .. 199 ]);
my @ok = grep { $_->{status} == 200 } @res;
is(scalar @ok, 200, '200 fresh nonces at once: all admitted ('
                    . count_status(\@res) . ')');

faults_done($ngx, name => 'replay race');
redis_stop($redis);
done_testing();
