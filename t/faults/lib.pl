# Helpers for the fault scenarios in t/faults/*.t (run by
# scripts/test-faults.sh, `make test-faults`).  Plain Perl: each scenario
# starts its own redis-server(s) and a real nginx master with workers on
# free loopback ports in a temp dir, and stops them by pid.
#
# Requests are signed here with t/FwgateTest.pm's RFC 9421 signer using
# hmac-sha256 device keys (pure Perl, fast enough to pre-sign thousands).
# The registry is seeded with ./fwgatectl (device import, artifact add,
# rollout start).  All load is bounded in count and time, on 127.0.0.1.
#
# FAULTS_VALGRIND=1: nginx runs under valgrind (master_process off, one
# worker process) and faults_done() checks the valgrind log for errors.
# FAULTS_KEEP=1 keeps the temp dirs.

package main;

use strict;
use warnings;

use FindBin ();
use Cwd ();
use lib "$FindBin::Bin/../..";
use Test::More;
use File::Temp qw(tempdir);
use File::Path qw(make_path);
use IO::Socket::INET;
use IO::Select;
use Socket qw(SOL_SOCKET SO_LINGER);
use POSIX qw(:sys_wait_h);
use Errno qw(EAGAIN EWOULDBLOCK EINPROGRESS);
use Time::HiRes qw(time sleep);
use MIME::Base64 qw(encode_base64);
use Digest::SHA ();
# free_port comes from t/FwgateTest.pm
use t::FwgateTest qw(sig_parts free_port);

our $ROOT = Cwd::abs_path("$FindBin::Bin/../..");
our $NGINX = $ENV{NGINX_BIN} || '/usr/sbin/nginx';
our $MODULE = "$ROOT/build/ngx_http_fwgate_module.so";
our $CTL = "$ROOT/fwgatectl";
our $VALGRIND = $ENV{FAULTS_VALGRIND} ? 1 : 0;
our $TMP = tempdir('fwgate-faults-XXXXXX', TMPDIR => 1,
                   CLEANUP => !$ENV{FAULTS_KEEP});
chmod 0755, $TMP;
our $PREFIX = 'fwf:';
our $MODEL = 'LS-6000i';
our $ART = 'ls6000i-2.5.0.bin';
our %SECRET;            # device id => raw hmac secret
our @PROCS;             # [pid, what] started here, stopped at the end
our $NGX_SEQ = 0;


BAIL_OUT("build first: make module cli") unless -f $MODULE && -x $CTL;

$SIG{PIPE} = 'IGNORE';


# --- processes -------------------------------------------------------------

sub spawn {
    my ($what, $out, @cmd) = @_;
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        setpgrp(0, 0);
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', $out;
        open STDERR, '>&', \*STDOUT;
        exec @cmd or POSIX::_exit(127);
    }
    push @PROCS, [$pid, $what];
    return $pid;
}

# stop a process: signal, wait up to $wait seconds, then KILL; works for
# our children (reaped) and for others (a new master after a binary
# upgrade: polled with kill 0)
sub stop_pid {
    my ($pid, $sig, $wait) = @_;
    return unless $pid;
    kill $sig || 'TERM', $pid;
    my $end = time + (defined $wait ? $wait : 5);
    while (time < $end) {
        my $r = waitpid($pid, WNOHANG);
        last if $r == $pid;
        last if $r == -1 && !alive($pid);
        sleep 0.02;
    }
    if (alive($pid)) {
        kill 'KILL', $pid;
        waitpid($pid, 0);
    }
    @PROCS = grep { $_->[0] != $pid } @PROCS;
}

# a process that runs (not gone, not a zombie nobody reaps)
sub alive {
    my ($pid) = @_;
    return 0 unless kill 0, $pid;
    open my $f, '<', "/proc/$pid/stat" or return 0;
    my $st = <$f>;
    return !(defined $st && $st =~ /\)\s+Z/);
}

# a background command (redis-cli DEBUG SLEEP ...), not waited for
sub bg {
    my (@cmd) = @_;
    return spawn("bg:@cmd", '/dev/null', @cmd);
}

our $SLOW = $VALGRIND ? 10 : 1;     # timing margins under valgrind

END {
    local $?;
    for my $p (reverse @PROCS) {
        kill 'KILL', $p->[0];
        waitpid($p->[0], 0);
    }
}

sub rcli {
    my ($port, @args) = @_;
    my $pid = open my $fh, '-|';
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        open STDERR, '>', '/dev/null';
        exec('redis-cli', '-h', '127.0.0.1', '-p', $port, @args)
            or POSIX::_exit(127);
    }
    local $/;
    my $r = <$fh>;
    close $fh;
    $r = '' unless defined $r;
    $r =~ s/\s+\z//;
    return $r;
}

# many commands through redis-cli --pipe (arguments of any size)
sub rpipe {
    my ($port, @cmds) = @_;
    my $pid = open my $p, '|-';
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        open STDOUT, '>', '/dev/null';
        exec('redis-cli', '-h', '127.0.0.1', '-p', $port, '--pipe')
            or POSIX::_exit(127);
    }
    binmode $p;
    for my $c (@cmds) {
        print $p '*' . @$c . "\r\n"
                 . join('', map { '$' . length($_) . "\r\n$_\r\n" } @$c);
    }
    close $p;
}

# redis_start(port => P, rdb => 1, args => [...], wait => 1)
sub redis_start {
    my (%o) = @_;
    my $port = $o{port} || free_port();
    my $dir = "$TMP/redis-$port";
    make_path($dir);
    my @cmd = ('redis-server', '--port', $port, '--bind', '127.0.0.1',
               '--daemonize', 'no', '--appendonly', 'no', '--dir', $dir,
               '--dbfilename', 'dump.rdb', '--enable-debug-command', 'yes',
               '--save', '', '--logfile', "$dir/redis.log",
               @{ $o{args} || [] });
    my $pid = spawn("redis:$port", "$dir/stdout", @cmd);
    my $r = { pid => $pid, port => $port, dir => $dir };
    return $r if defined $o{wait} && !$o{wait};
    redis_wait($r) or die "redis-server on $port did not start\n";
    return $r;
}

sub redis_wait {
    my ($r, $t) = @_;
    my $end = time + ($t || 5);
    while (time < $end) {
        return 1 if rcli($r->{port}, 'PING') eq 'PONG';
        sleep 0.02;
    }
    return 0;
}

sub redis_stop {
    my ($r, $sig) = @_;
    stop_pid($r->{pid}, $sig || 'TERM');
}


# --- registry seeding ---------------------------------------------------------

sub ctl {
    my ($port, @args) = @_;
    open my $fh, '-|', $CTL, '--redis', "127.0.0.1:$port", '--prefix',
         $PREFIX, @args
        or die "fwgatectl: $!";
    local $/;
    my $r = <$fh>;
    close $fh;
    die "fwgatectl @args: exit " . ($? >> 8) . ": " . ($r // '') . "\n"
        if $?;
    return $r;
}

sub dev_id { sprintf 'LS6-%06d', $_[0] }

# seed($port, $ndevices): hmac devices LS6-000000.., the artifact (a small
# file under $TMP/www/firmware) and a 100% rollout, all with fwgatectl
sub seed {
    my ($port, $n) = @_;
    make_path("$TMP/www/firmware");
    my $csv = "$TMP/devices.csv";
    open my $f, '>', $csv or die "$csv: $!";
    open my $u, '<', '/dev/urandom' or die;
    for my $i (0 .. $n - 1) {
        my $id = dev_id($i);
        unless (defined $SECRET{$id}) {
            read $u, my $s, 32;
            $SECRET{$id} = $s;
        }
        print $f "$id,$MODEL,,hmac-sha256,"
                 . encode_base64($SECRET{$id}, '') . "\n";
    }
    close $f;
    close $u;
    my $out = ctl($port, 'device', 'import', $csv, '--replace');
    die "import: $out" unless $out =~ /imported $n\b/;

    my $fw = "$TMP/www/firmware/$ART";
    unless (-f $fw) {
        open my $w, '>', $fw or die;
        print $w 'F' x 256;
        close $w;
    }
    ctl($port, 'artifact', 'add', $ART, '--version', '2.5.0', '--models',
        $MODEL, '--file', $fw, '--path', "/firmware/$ART")
        unless rcli($port, 'EXISTS', "${PREFIX}artifact:$ART") eq '1';
    ctl($port, 'rollout', 'start', $MODEL, '--artifact', $ART,
        '--percent', '100');
}


# --- requests -------------------------------------------------------------------

# a raw signed HTTP/1.1 request (Connection: close)
sub signed {
    my ($dev, %o) = @_;
    my $method = $o{method} || 'GET';
    my $path = $o{path} || "/firmware/$ART";
    my $body = defined $o{body} ? $o{body} : '';
    my %digest;
    if ($method eq 'POST') {
        # a report means its body: its signature covers Content-Digest
        %digest = (headers => { 'content-digest' => 'sha-256=:'
                       . encode_base64(Digest::SHA::sha256($body), '') . ':' },
                   components => ['@method', '@path', '@authority',
                                  'x-device-model', 'x-firmware-version',
                                  'content-digest']);
    }
    my $p = sig_parts(device => $dev, path => $path, method => $method,
                      model => $MODEL, version => '2.4.1',
                      key => { alg => 'hmac-sha256',
                               secret => $SECRET{$dev} }, %digest);
    my $h = $p->{headers};
    $h =~ s/\n/\r\n/g;
    my $req = "$method $path HTTP/1.1\r\nHost: localhost\r\n"
            . "Connection: close\r\n$h"
            . "Signature-Input: $p->{input}\r\n"
            . "Signature: $p->{signature}\r\n";
    $req .= "Content-Type: application/json\r\nContent-Length: "
            . length($body) . "\r\n" if $method eq 'POST';
    return "$req\r\n$body";
}

sub plain_req {
    my ($path) = @_;
    return "GET $path HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
}

sub parse_resp {
    my ($res, $buf) = @_;
    my ($head, $body) = split /\r\n\r\n/, $buf, 2;
    $res->{status} = 0;
    return $res unless defined $head && $head =~ m{^HTTP/1\.\d (\d+)};
    $res->{status} = $1;
    for my $l (split /\r\n/, $head) {
        $res->{h}{lc $1} = $2 if $l =~ /^([^:]+):\s*(.*)$/;
    }
    $res->{body} = defined $body ? $body : '';
    return $res;
}

# one request, synchronously
sub req {
    my ($port, $raw, $timeout) = @_;
    my @r = load($port, [{ at => 0, req => $raw }], timeout => $timeout);
    return $r[0];
}

# load($port, \@plan, timeout => S, events => [{at, code}], concurrency => N)
#
# plan items: { at => seconds from start (or undef: as soon as fewer than
# `concurrency` are in flight), req => raw request, tag => anything,
# abort => seconds after sending to close the socket }.  Returns the
# items with t0 (sent, relative), t1 (done), ms, status (0: no HTTP
# answer), h (headers), err ('reset', 'timeout', 'closed', 'aborted').
sub load {
    my ($port, $plan, %o) = @_;
    my $timeout = $o{timeout} || 5;
    my $conc = $o{concurrency} || 1e9;
    my @queue = sort { ($a->{at} // 0) <=> ($b->{at} // 0) } @$plan;
    my @events = sort { $a->{at} <=> $b->{at} } @{ $o{events} || [] };
    my (%fly, @done);
    my $sel = IO::Select->new;
    my $start = time;

    while (@queue || %fly || @events) {
        my $now = time - $start;

        while (@events && $events[0]{at} <= $now) {
            (shift @events)->{code}->();
            $now = time - $start;
        }

        while (@queue && (!defined $queue[0]{at} || $queue[0]{at} <= $now)
               && keys(%fly) < $conc)
        {
            my $it = shift @queue;
            $it->{t0} = time - $start;
            my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                          PeerPort => $port, Proto => 'tcp');
            unless ($s) {
                $it->{status} = 0;
                $it->{err} = "connect: $!";
                $it->{t1} = $it->{t0};
                push @done, $it;
                next;
            }
            $s->blocking(0);
            syswrite $s, $it->{req};
            $it->{sock} = $s;
            $it->{buf} = '';
            $fly{fileno $s} = $it;
            $sel->add($s);
        }

        my $wait = 0.05;
        $wait = 0.002 if @queue && defined $queue[0]{at}
                         && $queue[0]{at} - $now < 0.05;
        $wait = 0.002 if @events && $events[0]{at} - $now < 0.05;

        for my $s ($sel->can_read($wait)) {
            my $it = $fly{fileno $s};
            my $n = sysread $s, my $chunk, 65536;
            if (defined $n && $n > 0) {
                $it->{buf} .= $chunk;
                next;
            }
            next if !defined $n && ($! == EAGAIN || $! == EWOULDBLOCK);
            $it->{err} = 'reset' unless defined $n;
            _finish($it, $sel, \%fly, \@done, $start);
        }

        $now = time - $start;
        for my $it (values %fly) {
            if (defined $it->{abort} && $now - $it->{t0} >= $it->{abort}) {
                # an RST, as a client that gives up does
                setsockopt($it->{sock}, SOL_SOCKET, SO_LINGER,
                           pack('ii', 1, 0));
                $it->{err} = 'aborted';
                _finish($it, $sel, \%fly, \@done, $start);
            } elsif ($now - $it->{t0} > $timeout) {
                $it->{err} = 'timeout';
                _finish($it, $sel, \%fly, \@done, $start);
            }
        }
    }

    return sort { $a->{t0} <=> $b->{t0} } @done;
}

sub _finish {
    my ($it, $sel, $fly, $done, $start) = @_;
    my $s = delete $it->{sock};
    delete $fly->{fileno $s};
    $sel->remove($s);
    close $s;
    $it->{t1} = time - $start;
    $it->{ms} = int(($it->{t1} - $it->{t0}) * 1000 + 0.5);
    parse_resp($it, delete $it->{buf});
    $it->{err} ||= 'closed' unless $it->{status};
    push @$done, $it;
}


# --- nginx ------------------------------------------------------------------------

# nginx_start(http => 'fwgate_* lines', server => 'locations', workers => 2,
#             listen => 'reuseport' (extra listen parameters))
# returns { dir, port, pid (master), log }
sub nginx_start {
    my (%o) = @_;
    my $n = ++$NGX_SEQ;
    my $dir = "$TMP/nginx$n";
    make_path("$dir/conf", "$dir/logs", "$dir/tmp");
    my $port = $o{port} || free_port();
    my $workers = $VALGRIND ? 1 : ($o{workers} || 2);
    my $master = $VALGRIND ? 'off' : 'on';

    my $daemon = $o{daemon} && !$VALGRIND ? 'on' : 'off';
    my $conf = <<"_EOC_";
daemon $daemon;
master_process $master;
worker_processes $workers;
user root;
pid $dir/logs/nginx.pid;
error_log $dir/logs/error.log info;
load_module $MODULE;
events {
    worker_connections 1024;
    accept_mutex off;
}
http {
    log_format f '\$pid \$status \$fwgate_reason \$fwgate_device \$request_time';
    access_log $dir/logs/access.log f;
    client_body_temp_path $dir/tmp/body;
    proxy_temp_path $dir/tmp/proxy;
    fastcgi_temp_path $dir/tmp/fastcgi;
    scgi_temp_path $dir/tmp/scgi;
    uwsgi_temp_path $dir/tmp/uwsgi;
    default_type application/octet-stream;
    keepalive_timeout 10s;
$o{http}
    server {
        listen 127.0.0.1:$port@{[ $o{listen} ? " $o{listen}" : "" ]};
        server_name localhost;
        add_header X-Pid \$pid always;
        location /firmware/ {
            root $TMP/www;
            fwgate on;
            fwgate_expose_reason on;
        }
        location = /plain {
            return 200 "plain\\n";
        }
        location = /status {
            fwgate_status;
        }
        location = /fw/report {
            fwgate_report@{[ $o{report} ? " $o{report}" : "" ]};
            fwgate_expose_reason on;
        }
@{[ $o{server} // '' ]}
    }
}
_EOC_

    open my $f, '>', "$dir/conf/nginx.conf" or die;
    print $f $conf;
    close $f;

    my @cmd = ($NGINX, '-p', "$dir/", '-c', "$dir/conf/nginx.conf");
    if ($VALGRIND) {
        unshift @cmd, 'valgrind', '-q', '--error-exitcode=99',
            '--leak-check=full', '--show-leak-kinds=definite',
            '--num-callers=30',
            "--suppressions=$ROOT/t/faults/valgrind.supp",
            "--log-file=$dir/logs/valgrind.log";
    }
    my $pid = spawn("nginx$n", "$dir/logs/stderr", @cmd);
    if ($daemon eq 'on') {
        # the master is the daemon's child: find it through the pid file
        waitpid($pid, 0);
        @PROCS = grep { $_->[0] != $pid } @PROCS;
        my $end = time + 5;
        sleep 0.02 until slurp("$dir/logs/nginx.pid") =~ /\d/ || time > $end;
        ($pid) = slurp("$dir/logs/nginx.pid") =~ /(\d+)/
            or die "nginx did not start\n" . slurp("$dir/logs/error.log");
        push @PROCS, [$pid, "nginx$n"];
    }
    my $ngx = { dir => $dir, port => $port, pid => $pid,
                log => "$dir/logs/error.log" };

    my $end = time + ($VALGRIND ? 30 : 5);
    while (time < $end) {
        my $r = eval { req($port, plain_req('/plain'), 2) };
        if ($r && $r->{status} == 200) {
            # workers up and connected to redis
            sleep($VALGRIND ? 1 : 0.2);
            $ngx->{exe} = readlink("/proc/$pid/exe");
            return $ngx;
        }
        die "nginx exited: " . slurp("$dir/logs/stderr") . slurp($ngx->{log})
            if waitpid($pid, WNOHANG) == $pid;
        sleep 0.05;
    }
    die "nginx did not start\n" . slurp($ngx->{log});
}

sub nginx_stop {
    my ($ngx) = @_;
    stop_pid($ngx->{pid}, 'QUIT', $VALGRIND ? 20 : 5);
}

sub slurp {
    my ($file) = @_;
    open my $f, '<', $file or return '';
    local $/;
    my $d = <$f>;
    return defined $d ? $d : '';
}

# pids of the children of $ppid (nginx workers of a master)
sub children {
    my ($ppid) = @_;
    my @c;
    opendir my $d, '/proc' or return ();
    for my $p (grep { /^\d+$/ } readdir $d) {
        open my $f, '<', "/proc/$p/stat" or next;
        my $st = <$f>;
        close $f;
        next unless defined $st && $st =~ /\)\s+\S+\s+(\d+)/;
        push @c, $p if $1 == $ppid;
    }
    return sort { $a <=> $b } @c;
}

sub workers {
    my ($ngx) = @_;
    return ($ngx->{pid}) if $VALGRIND;
    return children($ngx->{pid});
}

# lines of the error log that signal a crash or a module fault
sub bad_log_lines {
    my ($ngx, %o) = @_;
    my @bad;
    for my $l (split /\n/, slurp($ngx->{log})) {
        push @bad, $l if $l =~ /\[(alert|crit|emerg)\]/
                         || $l =~ /exited on signal|core dumped/
                         || $l =~ /AddressSanitizer|runtime error/;
    }
    return @bad;
}

sub log_count {
    my ($ngx, $re) = @_;
    return scalar grep { $_ =~ $re } split /\n/, slurp($ngx->{log});
}

# the worker-independent metrics, from /status
sub metric {
    my ($ngx, $name) = @_;
    my $r = req($ngx->{port}, plain_req('/status'));
    my $sum = 0;
    for my $l (split /\n/, $r->{body} // '') {
        next unless $l =~ /^\Q$name\E(?:\{[^}]*\})?\s+([\d.eE+-]+)$/;
        $sum += $1;
    }
    return $sum;
}

# common end-of-scenario checks: no crash, no alert; valgrind clean
sub faults_done {
    my ($ngx, %o) = @_;
    my @bad = bad_log_lines($ngx);
    ok(!@bad, "$o{name}: no alert/crit/crash in error.log")
        or diag(join "\n", @bad[0 .. ($#bad < 9 ? $#bad : 9)]);
    nginx_stop($ngx);
    if ($VALGRIND) {
        like($ngx->{exe} // '', qr/memcheck|valgrind/,
             "$o{name}: nginx ran under valgrind");
        my $v = slurp("$ngx->{dir}/logs/valgrind.log");
        my @err = $v =~ /^(==\d+== (?:Invalid|Conditional|Syscall|Use of|Mismatched|Source and|Argument).*)$/mg;
        ok(!@err, "$o{name}: valgrind reports no errors")
            or diag(substr($v, 0, 4000));
        my @lost = grep { /fwgate|redis/ }
                   split /\n==\d+== \n/, $v;
        @lost = grep { /definitely lost/ } @lost;
        ok(!@lost, "$o{name}: no definite leak in fwgate or hiredis code")
            or diag(join "\n", @lost);
    }
}

# "TIMING name value": collected by scripts/test-faults.sh
sub timing {
    my ($name, $v) = @_;
    diag(sprintf "TIMING %s %s", $name, $v);
}

sub count_status {
    my ($res, @st) = @_;
    my %c;
    $c{ $_->{status} }++ for @$res;
    return join ' ', map { "$_:$c{$_}" } sort keys %c;
}

# --- Sentinels (t/faults/11-sentinel.t, t/fleet/03-failover.t) ---------------

# sentinel_start($master, $primary_port, $replicas): a redis-server
# --sentinel on a free port watching $master (quorum 2, down after 500 ms)
sub sentinel_start {
    my ($master, $mport, $replicas) = @_;
    my $port = free_port();
    my $dir = "$main::TMP/sentinel-$port";
    make_path($dir);
    open my $f, '>', "$dir/sentinel.conf" or die;
    print $f <<"_EOC_";
port $port
bind 127.0.0.1
daemonize no
dir $dir
logfile $dir/sentinel.log
sentinel monitor $master 127.0.0.1 $mport 2
sentinel down-after-milliseconds $master 500
sentinel failover-timeout $master 2000
sentinel parallel-syncs $master $replicas
_EOC_
    close $f;
    my $pid = spawn("sentinel:$port", "$dir/stdout", 'redis-server',
                    "$dir/sentinel.conf", '--sentinel');
    my $s = { pid => $pid, port => $port, dir => $dir, master => $master };
    redis_wait($s) or die "sentinel on $port did not start\n";
    return $s;
}

# a field of SENTINEL MASTER, as the Sentinel $s sees its master
sub sentinel_field {
    my ($s, $field) = @_;
    my @l = split /\n/, rcli($s->{port}, 'SENTINEL', 'master', $s->{master});
    for my $i (0 .. $#l - 1) {
        return $l[$i + 1] if $l[$i] eq $field;
    }
    return '';
}

# the primary's port, as the Sentinel $s names it
sub master_port {
    my ($s) = @_;
    my @a = split /\n/, rcli($s->{port}, 'SENTINEL',
                             'get-master-addr-by-name', $s->{master});
    return $a[1] // 0;
}


# --- fake servers --------------------------------------------------------------

# blackhole(mode => 'accept'): a listener in a child process that accepts
# connections and never answers; mode => 'backlog': a listener that never
# accepts, its backlog filled here, so new connects hang in SYN_SENT.
# Returns { port, pid, socks }.
sub blackhole {
    my (%o) = @_;
    my $mode = $o{mode} || 'accept';
    my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Listen => ($mode eq 'backlog' ? 0 : 128),
                                  ReuseAddr => 1)
        or die "listen: $!";
    my $bh = { port => $l->sockport };

    if ($mode eq 'backlog') {
        my @s;
        for (1 .. 8) {
            my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                          PeerPort => $bh->{port},
                                          Blocking => 0);
            push @s, $c if $c;
        }
        sleep 0.1;
        $bh->{socks} = [$l, @s];
        return $bh;
    }

    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        my @keep;
        my $end = time + 120;
        while (time < $end) {
            my $c = $l->accept or next;
            push @keep, $c;
        }
        POSIX::_exit(0);
    }
    close $l;
    push @PROCS, [$pid, 'blackhole'];
    $bh->{pid} = $pid;
    return $bh;
}

# fake_redis(): answers ROLE as a primary would, and to anything else the
# first bytes of a hash reply, then closes the connection (a reset
# mid-reply).  Returns { port, pid }; the child counts connections in
# $TMP/fake-<port>.log.
sub fake_redis {
    my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Listen => 128, ReuseAddr => 1)
        or die "listen: $!";
    my $port = $l->sockport;
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        open my $log, '>>', "$TMP/fake-$port.log";
        $log->autoflush(1);
        my $sel = IO::Select->new($l);
        my %buf;
        my $end = time + 120;
        while (time < $end) {
            for my $s ($sel->can_read(0.5)) {
                if ($s == $l) {
                    my $c = $l->accept or next;
                    $sel->add($c);
                    $buf{fileno $c} = '';
                    print $log "accept\n";
                    next;
                }
                my $n = sysread $s, my $chunk, 65536;
                if (!$n) {
                    $sel->remove($s);
                    close $s;
                    next;
                }
                $buf{fileno $s} .= $chunk;
                my $b = $buf{fileno $s};
                if ($b =~ /ROLE\r\n/i && $b !~ /HGETALL|SISMEMBER|GET/i) {
                    syswrite $s, "*3\r\n\$6\r\nmaster\r\n:0\r\n*0\r\n";
                    $buf{fileno $s} = '';
                    next;
                }
                print $log "cut\n";
                syswrite $s, "*10\r\n\$5\r\nmodel\r\n\$8\r\nLS-6";
                $sel->remove($s);
                close $s;
            }
        }
        POSIX::_exit(0);
    }
    close $l;
    push @PROCS, [$pid, 'fake redis'];
    return { port => $port, pid => $pid };
}

1;
