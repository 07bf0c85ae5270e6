# Helpers for the fleet scenarios in t/fleet/*.t (run by
# scripts/test-fleet.sh, `make test-fleet`; see docs/faults.md, "The fleet
# test").  Built on t/faults/lib.pl (processes stopped by pid, seeding with
# ./fwgatectl, RFC 9421 signing, nginx masters on free loopback ports).
#
# The topology, all on 127.0.0.1:
#
#   Redis primary P
#     <- delay proxy X1 <- replica R1 <- nginx edge E1 (fwgate_redis R1 P)
#     <- delay proxy X2 <- replica R2 <- nginx edge E2 (fwgate_redis R2 P)
#     <- delay proxy X3 <- replica R3 <- nginx edge E3 (fwgate_redis R3 P)
#
# Each replica's replication link goes through a TCP delay proxy of ours
# (a forked Perl child; no netem here): every chunk is held 50-150 ms
# (random per chunk, order kept per direction).  Stopping a proxy cuts
# the link (its sockets close); starting it again on the same port lets
# the replica reconnect.  Edges: 2 workers, `listen ... reuseport` (the
# kernel spreads connections over both workers), fwgate_cache with
# poll=$POLL, fwgate_max_staleness $MAXSTALE.
#
# probe(): keep-alive connections to every worker of every edge, signed
# requests sent back to back (paced), each answer recorded with the pid
# (X-Pid) of the worker that gave it.

package main;

use strict;
use warnings;
no warnings 'once';
use FindBin ();
BEGIN { require "$FindBin::Bin/../faults/lib.pl" }
use Time::HiRes qw(time sleep);
use IO::Socket::INET;
use IO::Select;
use POSIX qw(:sys_wait_h);
use File::Path qw(make_path);
use Errno qw(EAGAIN EWOULDBLOCK EINTR);

# a scenario killed by the runner's timeout (TERM) or ^C still runs the
# END blocks: everything it started is stopped
$SIG{TERM} = $SIG{INT} = sub { diag("fleet: signal $_[0], stopping"); exit 1 };

# runs before t/faults/lib.pl's END (which KILLs what is left): nginx
# masters get TERM (their workers exit with them), workers still there
# after 2 s are KILLed by pid; the rest is left to the faults END
END {
    local $?;
    for my $p (grep { $_->[1] =~ /^nginx/ } @main::PROCS) {
        my @w = children($p->[0]);
        kill 'TERM', $p->[0];
        my $end = time + 2;
        while (time < $end) {
            last if waitpid($p->[0], WNOHANG) == $p->[0]
                    && !(grep { alive($_) } @w);
            sleep 0.02;
        }
        kill 'KILL', grep { alive($_) } @w;
    }
}

our $POLL = $ENV{FLEET_POLL} || '1s';
our $POLL_S = $POLL =~ /^(\d+)ms$/ ? $1 / 1000 : ($POLL =~ /^(\d+)s?$/)[0];
our $MAXSTALE = 3;          # fwgate_max_staleness, seconds
our $NDEV = 200;
our $DELAY_LO = 0.05;       # the proxies' hold per chunk, seconds
our $DELAY_HI = 0.15;

# --- the delay proxy ------------------------------------------------------

# proxy_start({ to => PORT, port => PORT (0/undef: a free one) })
sub proxy_start {
    my ($x) = @_;
    my $l;
    for (1 .. 50) {
        $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                   LocalPort => $x->{port} || 0,
                                   Listen => 16, ReuseAddr => 1) and last;
        sleep 0.05;     # the old one's port, just released
    }
    die "proxy listen on " . ($x->{port} || 0) . ": $!\n" unless $l;
    $x->{port} = $l->sockport;
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        $SIG{TERM} = sub { POSIX::_exit(0) };
        eval { proxy_loop($l, $x->{to}) };
        POSIX::_exit(0);
    }
    close $l;
    push @main::PROCS, [$pid, "proxy:$x->{port}"];
    $x->{pid} = $pid;
    return $x;
}

sub proxy_stop {
    my ($x) = @_;
    stop_pid($x->{pid}, 'KILL', 2);
    delete $x->{pid};
}

sub proxy_loop {
    my ($l, $to) = @_;
    my $parent = getppid;
    my $sel = IO::Select->new($l);
    my %peer;       # fileno => the other socket
    my %q;          # fileno of the destination => [[release, data], ...]
    my %last;       # fileno of the destination => last release time
    my %sock;       # fileno => socket
    my $end = time + 600;       # stops by itself
    while (time < $end) {
        last if getppid != $parent;
        my $now = time;
        my $wait = 0.2;
        for my $fd (keys %q) {
            next unless @{ $q{$fd} };
            my $d = $q{$fd}[0][0] - $now;
            $wait = $d if $d < $wait;
        }
        $wait = 0 if $wait < 0;
        for my $s ($sel->can_read($wait)) {
            if ($s == $l) {
                my $c = $l->accept or next;
                my $u = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                              PeerPort => $to,
                                              Proto => 'tcp');
                unless ($u) { close $c; next }
                for ([$c, $u], [$u, $c]) {
                    my ($a, $b) = @$_;
                    $peer{fileno $a} = $b;
                    $sock{fileno $a} = $a;
                    $q{fileno $a} = [];
                    $last{fileno $a} = 0;
                    $sel->add($a);
                }
                next;
            }
            my $fd = fileno $s;
            next unless defined $fd && $peer{$fd};
            my $n = sysread $s, my $buf, 65536;
            next if !defined $n && ($! == EAGAIN || $! == EINTR);
            if (!$n) {
                # one side gone: drop the pair
                my $o = $peer{$fd};
                for my $z ($s, $o) {
                    my $zf = fileno $z;
                    next unless defined $zf;
                    $sel->remove($z);
                    delete $peer{$zf};
                    delete $q{$zf};
                    delete $sock{$zf};
                    close $z;
                }
                next;
            }
            my $dst = fileno $peer{$fd};
            my $rel = time + $DELAY_LO + rand($DELAY_HI - $DELAY_LO);
            $rel = $last{$dst} if $last{$dst} > $rel;     # keep the order
            $last{$dst} = $rel;
            push @{ $q{$dst} }, [$rel, $buf];
        }
        $now = time;
        for my $fd (keys %q) {
            my $s = $sock{$fd} or next;
            while (@{ $q{$fd} } && $q{$fd}[0][0] <= $now) {
                my $data = (shift @{ $q{$fd} })->[1];
                while (length $data) {
                    my $w = syswrite $s, $data;
                    last unless defined $w;
                    substr($data, 0, $w) = '';
                }
            }
        }
    }
}

# --- the topology -------------------------------------------------------

sub repl_up {
    my ($r) = @_;
    return rcli($r->{port}, 'INFO', 'replication') =~ /master_link_status:up/;
}

sub wait_synced {
    my ($r, $t) = @_;
    my $end = time + ($t || 15);
    while (time < $end) {
        return 1 if repl_up($r)
                 && rcli($r->{port}, 'EXISTS', "${main::PREFIX}device:"
                         . dev_id($NDEV - 1)) eq '1';
        sleep 0.05;
    }
    return 0;
}

sub edge_http {
    my ($servers, %o) = @_;
    my $extra = $o{redis_extra} // '';
    return "    fwgate_redis $servers prefix=$main::PREFIX timeout=500ms "
         . "connect_timeout=500ms$extra;\n"
         . "    fwgate_cache fleet_cache:4m ttl=60s stale=60s poll=$POLL;\n"
         . "    fwgate_max_staleness ${MAXSTALE}s;\n"
         . "    fwgate_expose_reason on;\n"
         . ($o{http_extra} // '');
}

# fleet_start(): P, X1..3, R1..3 (synced), E1..3.  Returns a hash.
# Options: servers => sub { ($F, $i) -> fwgate_redis servers of edge i },
# before_edges => sub { ($F) } (Sentinels), redis_extra, http_extra.
sub fleet_start {
    my (%o) = @_;
    my $F = {};
    $F->{P} = redis_start();
    seed($F->{P}{port}, $NDEV);
    for my $i (0 .. 2) {
        my $x = proxy_start({ to => $F->{P}{port} });
        push @{ $F->{X} }, $x;
        push @{ $F->{R} }, redis_start(args => ['--replicaof', '127.0.0.1',
                                                $x->{port},
                                                '--repl-ping-replica-period',
                                                '1']);
    }
    for my $i (0 .. 2) {
        wait_synced($F->{R}[$i])
            or die "replica $i not in sync through its proxy\n";
    }
    $o{before_edges}->($F) if $o{before_edges};
    for my $i (0 .. 2) {
        my $servers = $o{servers} ? $o{servers}->($F, $i)
                    : "127.0.0.1:$F->{R}[$i]{port} 127.0.0.1:$F->{P}{port}";
        # a report is acknowledged only once a replica has it: a failover
        # must not lose an answered report (fwgate_report replicas=1)
        push @{ $F->{E} }, nginx_start(listen => 'reuseport',
                                       report => 'replicas=1',
                                       http => edge_http($servers, %o));
    }
    return $F;
}

sub fleet_stop {
    my ($F, %o) = @_;
    for my $e (@{ $F->{E} || [] }) {
        my @bad = bad_log_lines($e);
        ok(!@bad, "$e->{dir}: no alert/crit/crash in error.log")
            or diag(join "\n", @bad[0 .. ($#bad < 9 ? $#bad : 9)]);
        nginx_stop($e);
    }
    proxy_stop($_) for grep { $_->{pid} } @{ $F->{X} || [] };
    stop_pid($_->{pid}, 'TERM') for @{ $F->{S} || [] };
    redis_stop($_) for @{ $F->{R} || [] }, $F->{P};
}

# nginx -t on a minimal configuration with these http lines: (ok, output)
sub nginx_t {
    my ($http) = @_;
    my $dir = "$main::TMP/nginx-t-" . int(rand 1e9);
    make_path("$dir/logs");
    open my $f, '>', "$dir/nginx.conf" or die;
    print $f "error_log $dir/logs/error.log;\npid $dir/logs/nginx.pid;\n"
           . "load_module $main::MODULE;\nevents {}\nhttp {\n$http\n}\n";
    close $f;
    my $out = `$main::NGINX -t -p $dir/ -c $dir/nginx.conf 2>&1`;
    return ($? == 0, $out);
}

# does the module push invalidations?  (fwgate_subscription_up in /status)
sub status_body {
    my ($e) = @_;
    my $r = req($e->{port}, plain_req('/status'));
    return $r->{body} // '';
}

sub has_push {
    my ($F) = @_;
    return status_body($F->{E}[0]) =~ /^fwgate_subscription_up\b/m;
}

sub wait_subscriptions {
    my ($F, $want, $t) = @_;
    my $end = time + ($t || 5);
    while (time < $end) {
        my $n = grep { metric($_, 'fwgate_subscription_up') == $want }
                @{ $F->{E} };
        return 1 if $n == @{ $F->{E} };
        sleep 0.1;
    }
    return 0;
}

# poll-only mode: the replicas' default user loses its channels, so the
# edges' subscriptions are refused (NOPERM) and dropped; push back on:
# allchannels again (the subscriptions come back by themselves)
sub push_off {
    my ($F) = @_;
    for my $r (@{ $F->{R} }) {
        rcli($r->{port}, 'ACL', 'SETUSER', 'default', 'resetchannels');
        rcli($r->{port}, 'CLIENT', 'KILL', 'TYPE', 'pubsub');
    }
    return wait_subscriptions($F, 0, 5);
}

sub push_on {
    my ($F) = @_;
    rcli($_->{port}, 'ACL', 'SETUSER', 'default', 'allchannels')
        for @{ $F->{R} };
    return wait_subscriptions($F, 1, 5);
}

# --- signed keep-alive requests ----------------------------------------------

# a signed GET, keep-alive (no Connection: close)
sub ka_signed {
    my ($dev, %o) = @_;
    my $r = signed($dev, %o);
    $r =~ s/Connection: close\r\n//;
    return $r;
}

# probe(edges => [...], reqs => sub { raw request for a new send },
#       per_worker => 3, gap => 0.004, timeout => S,
#       events => [{ at, code }], done => sub { $results } -> bool,
#       start => time base)
#
# Opens keep-alive connections to every edge until each of its workers
# (children of the master) holds `per_worker` of them (reuseport spreads
# them), then sends requests on each connection back to back, `gap`
# apart, until done->() is true or `timeout`.  Returns an array of
# { e (edge index), pid, t0, t1 (relative to start), status, reason }.
sub probe {
    my (%o) = @_;
    my $edges = $o{edges};
    my $per = $o{per_worker} || 3;
    my $gap = $o{gap} // 0.004;
    my $timeout = $o{timeout} || 5;
    my @events = sort { $a->{at} <=> $b->{at} } @{ $o{events} || [] };
    my $mkreq = $o{reqs};

    # connections: open, learn the worker with one request each
    my @conns;
    for my $ei (0 .. $#$edges) {
        my $e = $edges->[$ei];
        my %want = map { $_ => $per } workers($e);
        my $tries = 0;
        while ((grep { $_ > 0 } values %want) && $tries++ < 40 * $per) {
            my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                          PeerPort => $e->{port},
                                          Proto => 'tcp') or next;
            syswrite $s, plain_req_ka('/plain');
            my $r = read_resp_blocking($s, 2);
            my $pid = $r && $r->{h}{'x-pid'};
            if ($pid && ($want{$pid} // 0) > 0) {
                $want{$pid}--;
                $s->blocking(0);
                push @conns, { s => $s, e => $ei, pid => $pid, buf => '',
                               busy => 0, next => 0 };
            } else {
                close $s;
            }
        }
        my @miss = grep { $want{$_} > 0 } keys %want;
        diag("probe: edge $ei workers @miss got fewer than $per "
             . "connections") if @miss;
    }

    my $start = $o{start} // time;
    my @res;
    my $sel = IO::Select->new(map { $_->{s} } @conns);
    my %byfd = map { fileno($_->{s}) => $_ } @conns;
    my $end = $start + $timeout;
    my $done = $o{done} || sub { 0 };
    my $checked = 0;
    while (time < $end) {
        my $now = time;
        while (@events && $events[0]{at} <= $now - $start) {
            (shift @events)->{code}->();
        }
        if ($now - $checked > 0.01) {
            $checked = $now;
            last if $done->(\@res);
        }
        for my $c (values %byfd) {
            next if $c->{busy} || $c->{next} > $now;
            my $raw = $mkreq->($c);
            $c->{req} = $raw;
            $c->{t0} = time - $start;
            $c->{busy} = 1;
            $c->{buf} = '';
            my $w = syswrite $c->{s}, $raw;
            unless (defined $w && $w == length $raw) {
                $c->{dead} = 1;
            }
        }
        for my $s ($sel->can_read(0.002)) {
            my $c = $byfd{fileno $s} or next;
            my $n = sysread $s, my $chunk, 65536;
            if (defined $n && $n > 0) {
                $c->{buf} .= $chunk;
                my $r = parse_ka($c->{buf});
                next unless $r;
                my $t1 = time - $start;
                push @res, { e => $c->{e}, pid => $r->{h}{'x-pid'} // 0,
                             t0 => $c->{t0}, t1 => $t1,
                             status => $r->{status},
                             reason => $r->{h}{'x-fwgate-reason'} // '' };
                $c->{busy} = 0;
                $c->{next} = time + $gap;
                $c->{dead} = 1 if ($r->{h}{connection} // '') =~ /close/i;
                next;
            }
            next if !defined $n && ($! == EAGAIN || $! == EWOULDBLOCK);
            $c->{dead} = 1;
        }
        # a connection nginx closed (keepalive_requests): reopen; the
        # answer tells which worker it landed on
        for my $c (grep { $_->{dead} } values %byfd) {
            $sel->remove($c->{s});
            delete $byfd{fileno $c->{s}};
            close $c->{s};
            my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                          PeerPort => $edges->[$c->{e}]{port},
                                          Proto => 'tcp') or next;
            $s->blocking(0);
            my $n = { s => $s, e => $c->{e}, pid => 0, buf => '', busy => 0,
                      next => 0 };
            $byfd{fileno $s} = $n;
            $sel->add($s);
        }
    }
    close $_->{s} for values %byfd;
    return \@res;
}

sub plain_req_ka {
    my ($path) = @_;
    return "GET $path HTTP/1.1\r\nHost: localhost\r\n\r\n";
}

# a complete response in $buf (Content-Length bodies only), or undef
sub parse_ka {
    my ($buf) = @_;
    my $i = index $buf, "\r\n\r\n";
    return undef if $i < 0;
    my $r = parse_resp({}, substr($buf, 0, $i) . "\r\n\r\n");
    my $len = $r->{h}{'content-length'} // 0;
    return undef if length($buf) < $i + 4 + $len;
    return $r;
}

sub read_resp_blocking {
    my ($s, $t) = @_;
    my $buf = '';
    my $sel = IO::Select->new($s);
    my $end = time + $t;
    while (time < $end) {
        last unless $sel->can_read($end - time);
        my $n = sysread $s, my $chunk, 65536;
        last unless $n;
        $buf .= $chunk;
        my $r = parse_ka($buf);
        return $r if $r;
    }
    return undef;
}

# every worker of every edge: [e, pid] pairs
sub all_workers {
    my ($edges) = @_;
    return map { my $ei = $_; map { [$ei, $_] } workers($edges->[$ei]) }
           0 .. $#$edges;
}

# per (edge, worker): the first answer matching $is (t1), and whether any
# answer not matching it was sent after that (a flap)
sub first_per_worker {
    my ($res, $is) = @_;
    my (%first, %flap);
    for my $r (sort { $a->{t1} <=> $b->{t1} } @$res) {
        my $k = "$r->{e}/$r->{pid}";
        if ($is->($r)) {
            $first{$k} //= $r->{t1};
        } elsif (defined $first{$k} && $r->{t0} > $first{$k}) {
            $flap{$k}++;
        }
    }
    return (\%first, \%flap);
}

# a done-> for probe(): every (edge, worker) has an answer matching $is
# sent at or after $t_from (relative to the probe's start)
sub done_when_all {
    my ($edges, $is, $t_from) = @_;
    my @w = all_workers($edges);
    return sub {
        my ($res) = @_;
        my %seen;
        for (@$res) {
            $seen{"$_->{e}/$_->{pid}"} = 1
                if $_->{t0} >= $$t_from && $is->($_);
        }
        return !(grep { !$seen{"$_->[0]/$_->[1]"} } @w);
    };
}

sub pct {
    my ($p, @v) = @_;
    return 'NaN' unless @v;
    @v = sort { $a <=> $b } @v;
    my $i = int($p / 100 * @v + 0.999999) - 1;       # nearest rank
    $i = 0 if $i < 0;
    $i = $#v if $i > $#v;
    return $v[$i];
}

# fwgatectl, its output (notes on stderr included) kept in ctl.log
sub ctlq {
    my ($port, @args) = @_;
    my $pid = ctl_bg($port, @args);
    my $rc = reap($pid);
    die "fwgatectl @args: exit $rc\n" if $rc;
}

# a bg fwgatectl (not waited for: the probe keeps running); reaped later
sub ctl_bg {
    my ($port, @args) = @_;
    return spawn("fwgatectl @args", "$main::TMP/ctl.log", $main::CTL,
                 '--redis', "127.0.0.1:$port", '--prefix', $main::PREFIX,
                 @args);
}

sub reap {
    my ($pid) = @_;
    waitpid($pid, 0);
    my $rc = $? >> 8;
    @main::PROCS = grep { $_->[0] != $pid } @main::PROCS;
    return $rc;
}

# measure_change($F, name => 'halt.push', rounds => N, edges => [...],
#     reqs => sub { ($round) -> sub { raw } }, change => [ctl args],
#     is => sub { $res -> refused? }, undo => sub { ($round) },
#     ok_before => sub { $res -> served? })
#
# Each round: probe every worker of every edge; at 0.2 s run the change
# (fwgatectl in the background, the clock starts just before the fork);
# per worker, the time from the change to its first refusal; the round's
# time is the slowest worker's.  Then undo and wait until every worker
# serves again.  Returns the list of round times (99: a round that timed
# out) and checks that no worker served after refusing.
sub measure_change {
    my ($F, %o) = @_;
    my $edges = $o{edges} || $F->{E};
    my @t;
    my ($flaps, $miss, $nbad) = (0, 0, 0);
    for my $round (1 .. $o{rounds}) {
        my $mk = $o{reqs}->($round);
        my $T = 1e9;
        my $start = time;
        my $cpid;
        my $res = probe(edges => $edges, reqs => $mk, start => $start,
                        timeout => $o{timeout} || 4,
                        events => [{ at => 0.2, code => sub {
                            $T = time - $start;
                            $cpid = ctl_bg($F->{P}{port},
                                           $o{change}->($round));
                        } }],
                        done => done_when_all($edges, $o{is}, \$T));
        reap($cpid) if $cpid;
        my @before = grep { $_->{t1} < $T } @$res;
        my @bad = grep { !$o{ok_before}->($_) } @before;
        diag("$o{name} round $round: before the change: "
             . join(' ', map { sprintf '%d %s e%d/%s t0=%.3f', $_->{status},
                                       $_->{reason}, $_->{e}, $_->{pid},
                                       $_->{t0} } @bad[0 .. ($#bad > 4 ? 4 : $#bad)]))
            if @bad;
        $nbad += @bad;
        my ($first, $flap) = first_per_worker($res, $o{is});
        my @w = all_workers($edges);
        my @missing = grep { !defined $first->{"$_->[0]/$_->[1]"} } @w;
        my $worst = 0;
        for (values %$first) {
            $worst = $_ - $T if $_ - $T > $worst;
        }
        $worst = 99 if @missing;
        $miss += @missing;
        $flaps += keys %$flap;
        diag(sprintf "%s round %d: %.3f s (%d answers, %d workers%s)",
             $o{name}, $round, $worst, scalar @$res, scalar keys %$first,
             @missing ? ", missing " . join(' ', map { "$_->[0]/$_->[1]" }
                                               @missing) : '')
            if $ENV{FLEET_DEBUG} || @missing;
        push @t, $worst;
        $o{undo}->($round) if $o{undo};
        # every worker serves again (or the next round's refusals would
        # be left over from this one)
        if ($o{undo} && $o{served}) {
            my $Tu = 0;
            my $r2 = probe(edges => $edges, reqs => $o{reqs}->($round + 1000),
                           timeout => 5,
                           done => done_when_all($edges, $o{served}, \$Tu));
            my ($f2) = first_per_worker($r2, $o{served});
            my $n = keys %$f2;
            diag("$o{name} round $round: only $n workers serve again")
                if $n < @w;
        }
    }
    is($nbad, 0, "$o{name}: every answer before the change served");
    is($flaps, 0, "$o{name}: no worker served after it had refused");
    is($miss, 0, "$o{name}: every worker of every edge refused in every round");
    return @t;
}

sub report_times {
    my ($name, @t) = @_;
    timing("$name.p50_s", sprintf '%.3f', pct(50, @t));
    timing("$name.p99_s", sprintf '%.3f', pct(99, @t));
    timing("$name.max_s", sprintf '%.3f', pct(100, @t));
    timing("$name.rounds", scalar @t);
}

1;
