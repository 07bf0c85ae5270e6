# The phased-rollout simulation driven by scripts/test-rollout.sh: two
# edges, one redis, SIM_DEVICES devices; see that script.  Requests are
# signed with the test suites' signer (t/FwgateTest.pm, HMAC-SHA256).

use strict;
use warnings;

use Digest::SHA qw(sha256 sha256_hex);
use MIME::Base64 qw(encode_base64);
use IO::Socket::INET;
use File::Path qw(make_path);
use File::Temp qw(tempdir);
use POSIX ();
use Time::HiRes qw(time sleep);

BEGIN { $ENV{TEST_NGINX_REDIS_PORT} = $ENV{SIM_REDIS_PORT} }
use t::FwgateTest ();

my $RPORT = $ENV{SIM_REDIS_PORT} or die "SIM_REDIS_PORT not set\n";
my $NDEV = $ENV{SIM_DEVICES} || 10000;
my $NPROC = $ENV{SIM_PROCS} || 4;
my $NGINX = $ENV{NGINX_BIN} || '/usr/sbin/nginx';
my $MODULE = Cwd::abs_path('build/ngx_http_fwgate_module.so');
my $CTL = Cwd::abs_path('fwgatectl');
my $PREFIX = 'sim:';
my $MODEL = 'SIM-1';
my $ART = 'sim-2.0.0.bin';
my $TMP = tempdir('fwgate-sim-XXXXXX', TMPDIR => 1, CLEANUP => !$ENV{SIM_KEEP});
my $FAIL_PCT = 20;          # run 2: devices reporting failure in phase 2
my $DEADLINE = $ENV{SIM_DEADLINE} || 150;   # seconds per run

require Cwd;
$t::FwgateTest::PREFIX = $PREFIX;

my @DEV = map { sprintf 'SIM-%05d', $_ } 1 .. $NDEV;
# deterministic HMAC secrets: the simulation needs no key files
my %SECRET = map { ($_ => sha256("sim-secret:$_")) } @DEV;
$t::FwgateTest::KEYS{$_} = { alg => 'hmac-sha256', secret => $SECRET{$_} }
    for @DEV;

# --- redis ------------------------------------------------------------------

my $R;
sub redis {
    my @a = @_;
    # a connection per command: the client processes fork from here
    $R = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $RPORT)
        or die "redis: $!";
    my $c = '*' . @a . "\r\n";
    $c .= '$' . length($_) . "\r\n$_\r\n" for @a;
    print $R $c;
    return _reply();
}
sub _reply {
    my $l = <$R>;
    $l =~ s/\r\n\z//;
    my ($t, $v) = (substr($l, 0, 1), substr($l, 1));
    return $v if $t eq '+' || $t eq ':';
    die "redis: $v\n" if $t eq '-';
    if ($t eq '$') {
        return undef if $v < 0;
        read $R, my $b, $v + 2;
        return substr($b, 0, $v);
    }
    return [ map { _reply() } 1 .. $v ] if $t eq '*';
    die "redis: bad reply $l\n";
}
sub hget { redis('HGET', "${PREFIX}rollout:$MODEL" . ($_[1] // ''), $_[0]) }

sub ctl {
    my $cmd = join ' ', map { "'$_'" } $CTL, '--redis', "127.0.0.1:$RPORT",
        '--prefix', $PREFIX, @_;
    my $out = qx($cmd 2>&1);
    die "fwgatectl @_: $out" if $?;
    return $out;
}

# --- edges ------------------------------------------------------------------

my $www = "$TMP/www";
make_path("$www/firmware");
chmod 0755, $TMP;      # nginx workers run as nobody when started as root
open my $fw, '>', "$www/firmware/$ART" or die;
print $fw 'x' x 4096;
close $fw;

my @EDGE;
for my $i (1 .. 2) {
    my $dir = "$TMP/edge$i";
    make_path("$dir/logs");
    my $port = t::FwgateTest::free_port();
    open my $f, '>', "$dir/nginx.conf" or die;
    print $f <<"_EOC_";
load_module $MODULE;
worker_processes 1;
error_log $dir/logs/error.log notice;
pid $dir/logs/nginx.pid;
events { worker_connections 1024; }
http {
    access_log off;
    log_format sim '\$msec \$status \$fwgate_decision \$fwgate_device';
    fwgate_redis 127.0.0.1:$RPORT prefix=$PREFIX;
    fwgate_cache sim_cache:8m poll=100ms;
    fwgate_replay_zone sim_replay:8m;
    server {
        listen 127.0.0.1:$port;
        server_name localhost;
        location /firmware/ {
            root $www;
            fwgate on;
            fwgate_expose_reason on;
            access_log $dir/logs/downloads.log sim;
        }
        location = /fw/check {
            fwgate_manifest base_url=http://localhost;
            fwgate_expose_reason on;
        }
        location = /fw/report {
            fwgate_report;
        }
    }
}
_EOC_
    close $f;
    system($NGINX, '-p', "$dir/", '-c', "$dir/nginx.conf") == 0
        or die "edge $i did not start\n";
    push @EDGE, { port => $port, dir => $dir };
}

my $PARENT = $$;
# a timeout or ^C still stops the edges (END)
$SIG{TERM} = $SIG{INT} = sub { exit 1 };
END {
    return unless $$ == $PARENT;
    for my $e (@EDGE) {
        system($NGINX, '-p', "$e->{dir}/", '-c', "$e->{dir}/nginx.conf",
               '-s', 'stop') if $e->{dir};
    }
}

# --- registry -------------------------------------------------------------

my $t0 = time;
open my $csv, '>', "$TMP/devices.csv" or die;
print $csv "$_,$MODEL,,hmac-sha256," . encode_base64($SECRET{$_}, '') . "\n"
    for @DEV;
close $csv;
my $imp = ctl('device', 'import', "$TMP/devices.csv", '--replace');
$imp =~ s/\s+\z//;
printf "setup: %s (%.1f s)\n", $imp, time - $t0;
ctl('artifact', 'add', $ART, '--version', '2.0.0', '--models', $MODEL,
    '--file', "$www/firmware/$ART", '--path', "/firmware/$ART");

# --- devices --------------------------------------------------------------

sub req {
    my ($edge, $method, $path, $hdrs, $body) = @_;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $EDGE[$edge]{port})
        or return 0;
    $hdrs =~ s/\n+\z//;
    $hdrs =~ s/\n/\r\n/g;
    $body //= '';
    print $s "$method $path HTTP/1.0\r\nHost: localhost\r\n$hdrs\r\n"
             . ($method eq 'POST' ? 'Content-Length: ' . length($body)
                                    . "\r\n" : '')
             . "\r\n$body";
    local $/;
    my $r = <$s>;
    close $s;
    print STDERR "$path: ", ($r =~ m{^HTTP/1\.\d (\d+)})[0] // "-", " ", ($r =~ /(X-Fwgate-Reason: \S+)/)[0] // '', "\n"
        if $ENV{SIM_DEBUG};
    return defined $r && $r =~ m{^HTTP/1\.\d (\d+)} ? $1 : 0;
}

# one device's turn: update check, download when offered, report
sub device_turn {
    my ($dev, $edge, $fail) = @_;
    my %c = (device => $dev, model => $MODEL, version => '1.0.0');
    my $st = req($edge, 'GET', '/fw/check',
                 t::FwgateTest::sign(%c, path => '/fw/check'));
    return 'none' unless $st == 200;
    $st = req($edge, 'GET', "/firmware/$ART",
              t::FwgateTest::sign(%c, path => "/firmware/$ART"));
    return 'refused' unless $st == 200;
    my $status = $fail ? 'failure' : 'success';
    my $body = qq({"artifact":"$ART","status":"$status","version":"2.0.0"});
    req($edge, 'POST', '/fw/report',
        t::FwgateTest::sign_report(%c, body => $body, path => '/fw/report')
        . "Content-Type: application/json\n", $body);
    return $status;
}

# a round: every pending device takes its turn, NPROC processes; returns
# the devices that are done
sub round {
    my ($pending, $inject) = @_;
    my @kids;
    for my $k (0 .. $NPROC - 1) {
        my $pid = fork // die "fork: $!";
        if ($pid == 0) {
            # never the parent's END (it stops the edges): _exit, also
            # when something dies
            local $SIG{__DIE__} = sub { print STDERR @_; POSIX::_exit(1) };
            open my $o, '>', "$TMP/round.$k" or POSIX::_exit(1);
            # the spike starts with phase 2 (index 1), as seen by the
            # devices: the phase re-read every quarter second
            my ($ph, $pt) = (0, 0);
            for (my $i = $k; $i < @$pending; $i += $NPROC) {
                my $d = $pending->[$i];
                ($ph, $pt) = (hget('phase'), time) if time - $pt > 0.25;
                my $fail = $inject && $ph >= 1
                    && unpack('N', sha256("fail:$d")) % 100 < $FAIL_PCT;
                my $r = device_turn($d, $i % 2, $fail);
                print $o "$d $r\n" if $r eq 'success' || $r eq 'failure';
            }
            close $o;
            POSIX::_exit(0);
        }
        push @kids, $pid;
    }
    waitpid $_, 0 for @kids;
    my %done;
    for my $k (0 .. $NPROC - 1) {
        open my $f, '<', "$TMP/round.$k" or next;
        while (<$f>) { $done{$1} = $2 if /^(\S+) (\S+)$/ }
    }
    return \%done;
}

# allowed downloads from both edges' logs: [msec, device]
sub downloads {
    my @d;
    for my $e (@EDGE) {
        open my $f, '<', "$e->{dir}/logs/downloads.log" or next;
        while (<$f>) {
            push @d, [$1, $2] if /^(\d+\.\d+) 200 allow (\S+)/;
        }
        truncate "$e->{dir}/logs/downloads.log", 0;
    }
    return \@d;
}

# --- the runs ---------------------------------------------------------------

my $FAILED = 0;

sub run {
    my ($name, $inject) = @_;
    redis('DEL', "${PREFIX}stats:$MODEL:$ART", "${PREFIX}stats:$MODEL:$ART:devices",
          "${PREFIX}downloads:$MODEL:$ART");
    downloads();
    ctl('rollout', 'start', $MODEL, '--artifact', $ART, '--phases',
        '1,5,25,100', '--hold', '2s', '--min-reports', '40',
        '--max-failure-ratio', '0.05', '--allow-downgrade');
    print "\n$name: rollout 1,5,25,100 %, hold 2 s, min 40 reports, max "
        . "failure ratio 0.05\n";
    my @pending = @DEV;
    my $start = time;
    my ($rounds, $end) = (0, '');
    while (time - $start < $DEADLINE) {
        my $done = round(\@pending, $inject);
        $rounds++;
        @pending = grep { !$done->{$_} } @pending;
        if ((hget('artifact', ':halt') // '') eq $ART) {
            $end = 'halted';
            # the edges must refuse from now on: one more round
            round(\@pending, 0);
            last;
        }
        if (hget('phase') == 3) {
            my $left = hget('phase_at') + hget('hold') - time;
            sleep($left + 0.1) if $left > 0;
            round(\@pending, 0);
            $end = 'complete';
            last;
        }
        sleep 0.2 unless keys %$done;
    }
    my $dl = downloads();
    my $h = redis('LRANGE', "${PREFIX}rollout:$MODEL:history", 0, -1);
    printf "%s: %d rounds, %.1f s, %d downloads, %s\n", $name, $rounds,
           time - $start, scalar(@$dl), $end || 'TIMED OUT';
    print "phase timeline:\n";
    for my $e (@$h) {
        my ($ts, $ph, $pc, $why) = split / /, $e, 4;
        printf "  +%5.1f s  phase %d  %6s %%  %s\n", $ts - $h->[0] =~ s/ .*//r,
               $ph + 1, $pc, $why;
    }
    my $st = ctl('rollout', 'status', $MODEL);
    print map { "  $_\n" } grep { /^(stats|gate|halted)/ } split /\n/, $st;
    my $lim = hget('max_starts_per_min');
    if (defined $lim) {
        my @t = sort { $a <=> $b } map { $_->[0] } @$dl;
        my ($peak, $j) = (0, 0);
        for my $i (0 .. $#t) {
            $j++ while $t[$i] - $t[$j] > 60;
            $peak = $i - $j + 1 if $i - $j + 1 > $peak;
        }
        print "  starts per minute, both edges: peak $peak (limit $lim)\n";
    }
    return ($end, $dl);
}

my ($end, $dl) = run('run 1', 0);
my @hist = map { (split / /)[1] }
    @{ redis('LRANGE', "${PREFIX}rollout:$MODEL:history", 0, -1) };
if ($end ne 'complete') {
    print "FAIL run 1: the rollout did not reach 100 % on its own\n";
    $FAILED++;
} elsif ("@hist" ne '0 1 2 3') {
    # two edges run the phase script: each phase must begin once
    print "FAIL run 1: phase history '@hist', not '0 1 2 3'\n";
    $FAILED++;
} else {
    print "ok run 1: reached 100 % on its own\n";
}

($end, $dl) = run('run 2', 1);
my $at = hget('at_ms', ':halt');
if ($end ne 'halted' || !defined $at) {
    print "FAIL run 2: the failure spike did not halt the rollout\n";
    $FAILED++;
} else {
    my $after = grep { $_->[0] * 1000 > $at } @$dl;
    my $late = grep { $_->[0] * 1000 > $at + 1000 } @$dl;
    printf "run 2: halted in phase %d: %s\n", hget('phase') + 1,
           hget('reason', ':halt');
    printf "run 2: %d downloads allowed after the halt's recorded time, "
           . "%d more than 1 s after\n", $after, $late;
    if ($late) {
        print "FAIL run 2: downloads allowed more than 1 s after the halt\n";
        $FAILED++;
    } else {
        print "ok run 2: halted on the failure spike\n";
    }
}

print $FAILED ? "\ntest-rollout: FAIL\n" : "\ntest-rollout: PASS\n";
exit($FAILED ? 1 : 0);
