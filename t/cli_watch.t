# `fwgatectl rollout watch` on a terminal (tmux) and on a pipe, against a
# private redis-server (no nginx: the test writes what an edge's phase
# script would).  Plain Test::More: `prove -I. t/cli_watch.t` from the
# repository root.  FWGATECTL names the binary (default ./fwgatectl).

use strict;
use warnings;

use Test::More;
use t::FwgateCli;

my ($ctl, $dir, $port, $prefix) = cli_start('fwtw:');

my ($tmux) = grep { -x } map { "$_/tmux" }
    split(/:/, $ENV{PATH} // ''), '/usr/bin';

my $sock = "$dir/tmux.sock";

sub tmux { system($tmux, '-S', $sock, @_) }

sub screen {
    my $cmd = "'$tmux' -S '$sock' capture-pane -p -t fwgw 2>/dev/null";
    return scalar qx($cmd);
}

sub wait_for {
    my ($cond, $t) = @_;
    for (1 .. $t * 20) {
        my $r = $cond->();
        return $r if $r;
        select undef, undef, undef, 0.05;
    }
    return 0;
}

open my $fw, '>', "$dir/fw.bin" or die;
print $fw "firmware\n";
close $fw;

my ($rc, $out, $err) = ctl('artifact', 'add', 'w-1.0.0.bin', '--version',
                           '1.0.0', '--models', 'W-1', '--file',
                           "$dir/fw.bin", '--path', '/firmware/w-1.0.0.bin');
is($rc, 0, 'artifact added') or diag "$out$err";

sub start {
    redis('DEL', "${prefix}stats:W-1:w-1.0.0.bin");
    my ($rc, $out, $err) = ctl('rollout', 'start', 'W-1', '--artifact',
                               'w-1.0.0.bin', '--phases', '1,5,25,100',
                               '--hold', '30m', '--min-reports', '20',
                               '--max-failure-ratio', '0.02');
    is($rc, 0, 'phased rollout started') or diag "$out$err";
    redis('HSET', "${prefix}stats:W-1:w-1.0.0.bin", 'success', 7,
          'failure', 1, 'deferred', 2);
}

# --- on a pipe: one line per refresh; exits 3 on a halt ---------------------

start();
my $pid = open(my $pipe, '-|', $ctl, '--redis', "127.0.0.1:$port",
               '--prefix', $prefix, 'rollout', 'watch', 'W-1',
               '--interval', '0.2') or die "watch: $!";
my $first = <$pipe>;
like($first, qr/^W-1 w-1\.0\.0\.bin phase=1\/4 percent=1 state=active /,
     'pipe: a plain line');
like($first, qr/success=7 failure=1 deferred=2 silent=0 /,
     'pipe: the counters');
like($first, qr/phase_reports=8 phase_failures=1 ratio=0\.1250 limit=0\.02 /,
     'pipe: the phase figures');
like($first, qr/throttled=0$/, 'pipe: a missing counter shows 0');
unlike($first, qr/\e/, 'pipe: no escape sequences');
redis('HSET', "${prefix}rollout:W-1:halt", 'artifact', 'w-1.0.0.bin',
      'reason', 'phase_failure_ratio: test', 'at', time);
my @rest = <$pipe>;
close $pipe;
is($? >> 8, 3, 'pipe: exits 3 when the rollout halts');
like($rest[-1] // '', qr/state=halted/, 'pipe: the last line says halted');

# --- on a terminal, under tmux: full-screen redraw -------------------------

SKIP: {
    skip 'tmux not installed (scripts/deps.sh installs it)', 9 unless $tmux;

    start();
    my $cmd = "'$ctl' --redis 127.0.0.1:$port --prefix '$prefix' "
            . "rollout watch W-1; echo EXIT=\$?; sleep 30";
    tmux('new-session', '-d', '-s', 'fwgw', '-x', 120, '-y', 30, $cmd);

    my $s = wait_for(sub { my $x = screen(); $x =~ /next phase/ ? $x : 0 },
                     5);
    ok($s, 'tty: the view is drawn') or diag screen();
    like($s, qr/^fwgatectl rollout watch W-1/m, 'tty: the title at the top');
    like($s, qr/phase +1 of 4 +\(\[1\] 5 25 100\)/, 'tty: the phase');
    like($s, qr/percent +1% \[#\.{49}\]/, 'tty: the percent with a bar');
    like($s, qr/successes +7\n.*failures +1\n.*deferred +2\n.*silent +0\n/s,
         'tty: the counters');
    like($s, qr/ratio +0\.1250 \(limit 0\.02\)  OVER/,
         'tty: the ratio against its limit');

    # the edge advances it to the last phase, already held: complete
    redis('HSET', "${prefix}rollout:W-1", 'phase', 3, 'percent', 100,
          'phase_at', time - 3600, 'phase_success', 7, 'phase_failure', 1);
    $s = wait_for(sub { my $x = screen(); $x =~ /EXIT=\d/ ? $x : 0 }, 5);
    like($s, qr/rollout W-1 complete/, 'tty: says complete');
    like($s, qr/EXIT=0/, 'tty: exits 0 when the last phase has held');
    my $n = () = $s =~ /^fwgatectl rollout watch/mg;
    is($n, 1, 'tty: redrawn in place, not scrolled');
    tmux('kill-server');
}

done_testing();
