package t::FwgateCli;

# Shared helpers for the plain Test::More suites of fwgatectl
# (t/cli_registry.t, t/cli_release.t, t/cli_watch.t): a private
# redis-server on a free loopback port (no nginx), fwgatectl run with the
# global options, and a raw RESP client to check what the CLI wrote.
# Usage, from the repository root with `prove -I.`:
#
#     use t::FwgateCli;
#     my ($ctl, $dir, $port, $prefix) = cli_start('fwtrel:');
#
# cli_start skips the whole suite when fwgatectl (FWGATECTL, default
# ./fwgatectl) is not built or redis-server is not installed.  These are
# not Test::Nginx suites, so this is kept apart from t/FwgateTest.pm
# (whose ctl() and redis() talk to the shared suite redis).

use strict;
use warnings;

use Exporter 'import';
use Test::More;
use File::Temp qw(tempdir);
use IO::Socket::INET;

our @EXPORT = qw(cli_start ctl redis read_reply hash_of epoch slurp);

my ($ctl, $dir, $port, $prefix, $redis_pid);
my $parent = $$;

sub free_port {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Listen => 1) or die "no free port: $!";
    return $s->sockport;
}

sub redis_ping {
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Timeout => 1) or return 0;
    print $s "PING\r\n";
    my $line = <$s>;
    return defined $line && $line =~ /^\+PONG/;
}

# checks the prerequisites, starts our own redis; returns
# ($ctl, $dir, $port, $prefix) for the suite
sub cli_start {
    ($prefix) = @_;

    $ctl = $ENV{FWGATECTL} || './fwgatectl';
    -x $ctl or plan skip_all => "$ctl not built (make cli)";

    my ($redis_server) = grep { -x } map { "$_/redis-server" }
        split(/:/, $ENV{PATH} // ''), '/usr/bin', '/usr/sbin';
    $redis_server or plan skip_all => 'redis-server not installed';

    $dir = tempdir(CLEANUP => 1);

    # a free loopback port (retry on a lost race)
    for my $try (1 .. 3) {
        $port = free_port();
        $redis_pid = fork // die "fork: $!";
        if ($redis_pid == 0) {
            open STDOUT, '>', '/dev/null';
            open STDERR, '>', '/dev/null';
            exec $redis_server, '--port', $port, '--bind', '127.0.0.1',
                 '--save', '', '--appendonly', 'no', '--dir', $dir;
            exit 127;
        }
        for (1 .. 100) {
            last if redis_ping();
            select undef, undef, undef, 0.05;
        }
        last if redis_ping();
        kill 'TERM', $redis_pid;
        waitpid $redis_pid, 0;
        undef $redis_pid;
    }

    $redis_pid or BAIL_OUT('redis-server did not start');

    return ($ctl, $dir, $port, $prefix);
}

END {
    # only the test process: a child whose exec failed must not stop it
    if ($redis_pid && $$ == $parent) {
        kill 'TERM', $redis_pid;
        waitpid $redis_pid, 0;
    }
}

# runs fwgatectl with the global options; returns (exit, stdout, stderr)
sub ctl {
    my @args = @_;
    my ($out, $err) = ("$dir/out", "$dir/err");
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>', $out or die;
        open STDERR, '>', $err or die;
        open STDIN, '<', '/dev/null';
        exec $ctl, '--redis', "127.0.0.1:$port", '--prefix', $prefix, @args;
        exit 127;
    }
    waitpid $pid, 0;
    my $rc = $? >> 8;
    local $/;
    open my $fo, '<', $out or die;
    my $o = <$fo>;
    open my $fe, '<', $err or die;
    my $e = <$fe>;
    return ($rc, $o // '', $e // '');
}

# a raw redis command (RESP) for checking what the CLI wrote
sub redis {
    my @args = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port)
        or die "redis: $!";
    my $cmd = '*' . @args . "\r\n";
    $cmd .= '$' . length($_) . "\r\n$_\r\n" for @args;
    print $s $cmd;
    return read_reply($s);
}

sub read_reply {
    my ($s) = @_;
    my $line = <$s>;
    $line =~ s/\r\n$//;
    my ($t, $v) = (substr($line, 0, 1), substr($line, 1));
    return $v if $t eq '+' || $t eq ':';
    return "ERR $v" if $t eq '-';
    if ($t eq '$') {
        return undef if $v < 0;
        my $buf = '';
        read($s, $buf, $v + 2);
        return substr($buf, 0, $v);
    }
    if ($t eq '*') {
        return [ map { read_reply($s) } 1 .. $v ];
    }
    die "bad reply $line";
}

sub hash_of {
    my $a = redis('HGETALL', @_);
    return { @$a };
}

sub epoch { return redis('GET', "${prefix}epoch") // 0 }

sub slurp {
    my ($f) = @_;
    open my $fh, '<', $f or return undef;
    local $/;
    return <$fh>;
}

1;
