# nginx reload (HUP) and binary upgrade (USR2, then QUIT to the old
# master) while requests wait on a sleeping Redis.  The old workers must
# finish the waiting requests (no reset connections), new workers serve
# what comes after.  Not run under FAULTS_VALGRIND (needs a master).

use strict;
use warnings;
no warnings 'once';
use FindBin;
BEGIN { require "$FindBin::Bin/lib.pl" }

plan skip_all => 'needs master_process (valgrind mode)' if $main::VALGRIND;

my $redis = redis_start();
seed($redis->{port}, 200);
my $dev = 0;

my $ngx = nginx_start(http => <<"_EOC_");
    fwgate_redis 127.0.0.1:$redis->{port} prefix=$main::PREFIX timeout=3s connect_timeout=500ms;
    fwgate_cache fwf_cache:4m ttl=60s stale=60s poll=1s;
_EOC_

sub waiting_round {
    my ($what, $signal) = @_;
    my @old = workers($ngx);
    my %old = map { $_ => 1 } @old;
    my @plan;
    # waiting on the sleeping redis (1.5 s), sent before the signal
    push @plan, map { { at => 0.1 + $_ * 0.04, req => signed(dev_id($dev++)),
                        kind => 'waiting' } } 0 .. 9;
    # after the signal
    push @plan, map { { at => 1.2 + $_ * 0.1, req => signed(dev_id($dev++)),
                        kind => 'after' } } 0 .. 9;
    my @res = load($ngx->{port}, \@plan, timeout => 6, events => [
        { at => 0, code => sub {
            bg('redis-cli', '-h', '127.0.0.1', '-p', $redis->{port},
               'DEBUG', 'SLEEP', '1.5');
        } },
        { at => 0.6, code => $signal },
    ]);
    my @w = grep { $_->{kind} eq 'waiting' } @res;
    my @a = grep { $_->{kind} eq 'after' } @res;
    ok(!(grep { $_->{status} != 200 } @w),
       "$what: waiting requests finished 200 (" . count_status(\@w) . ')')
        or diag(join ' ', map { "$_->{status}/" . ($_->{err} // '') } @w);
    ok(!(grep { !$old{ $_->{h}{'x-pid'} // 0 } } @w),
       "$what: ... by the old workers");
    my ($wmax) = sort { $b <=> $a } map { $_->{t1} } @w;
    timing("$what.waiting_done_at_s", sprintf '%.3f', $wmax);
    ok(!(grep { $_->{status} != 200 } @a),
       "$what: requests after the signal 200 (" . count_status(\@a) . ')');
    my @late = grep { $_->{t0} > 1.5 } @a;
    ok(@late && !(grep { $old{ $_->{h}{'x-pid'} // 0 } } @late),
       "$what: ... by new workers");
    return @res;
}

# reload
waiting_round('reload', sub { kill 'HUP', $ngx->{pid} });
sleep 0.5;
my @after_reload = workers($ngx);
is(scalar @after_reload, 2, 'reload: two workers remain (old ones exited)');

my @bad = bad_log_lines($ngx);
ok(!@bad, 'reload: no alert/crit/crash in error.log') or diag(join "\n", @bad);
nginx_stop($ngx);

# binary upgrade: same binary, as an operator's upgrade would run it.
# nginx ignores USR2 while the master's parent is the process that
# started it, so this master runs as a daemon.
$ngx = nginx_start(daemon => 1, http => <<"_EOC_");
    fwgate_redis 127.0.0.1:$redis->{port} prefix=$main::PREFIX timeout=3s connect_timeout=500ms;
    fwgate_cache fwf_cache:4m ttl=60s stale=60s poll=1s;
_EOC_
my $pidf = "$ngx->{dir}/logs/nginx.pid";
my ($newmaster, $saw_oldbin);
waiting_round('upgrade', sub {
    kill 'USR2', $ngx->{pid};
    my $end = time + 3;
    sleep 0.05 until -f "$pidf.oldbin" || time > $end;
    $saw_oldbin = -f "$pidf.oldbin";
    sleep 0.05 until ((slurp($pidf) =~ /(\d+)/)[0] // $ngx->{pid})
                     != $ngx->{pid} || time > $end;
    ($newmaster) = slurp($pidf) =~ /(\d+)/;
    # the new master's workers up before the old master is told to quit
    sleep 0.05 until (() = children($newmaster // 0)) >= 2 || time > $end;
    kill 'QUIT', $ngx->{pid};
});
ok($saw_oldbin, 'upgrade: the old pid file renamed to .oldbin');
ok($newmaster && $newmaster != $ngx->{pid}, "upgrade: new master $newmaster");
my $end = time + 5;
sleep 0.05 while alive($ngx->{pid}) && time < $end;
ok(!alive($ngx->{pid}), 'upgrade: old master exited');
my $r = req($ngx->{port}, signed(dev_id($dev++)));
is($r->{status}, 200, 'upgrade: the new master serves');

@bad = bad_log_lines($ngx);
ok(!@bad, 'upgrade: no alert/crit/crash in error.log')
    or diag(join "\n", @bad);
stop_pid($newmaster, 'QUIT', 5) if $newmaster;
redis_stop($redis);
done_testing();
