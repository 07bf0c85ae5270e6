package Test::Nginx::Util;

# Settings and nginx management for our Test::Nginx::Socket work-alike:
# the server root, nginx.conf, starting and stopping nginx, environment
# expansion, free ports and the error log window.  Core Perl only.

use strict;
use warnings;

use Cwd ();
use File::Path qw(make_path remove_tree);
use File::Spec ();
use IO::Socket::INET ();
use POSIX qw(SIGQUIT SIGTERM SIGKILL WNOHANG);
use Time::HiRes qw(sleep time);
use Test::More ();

use Exporter 'import';

our @EXPORT = qw(
    env_to_nginx repeat_each config_preamble worker_connections
    master_process_enabled no_long_string workers master_on master_off
    log_level no_shuffle no_root_location use_hup server_name server_addr
    server_root html_dir server_port server_port_for_client timeout
    no_nginx_manager check_accum_error_log add_block_preprocessor bail_out
    add_test_cleanup_handler add_cleanup_handler is_str
    expand_env_in_text error_log_data parse_time get_nginx_version
    get_canon_version
);

# --- settings (same environment variables as Test::Nginx) ----------------

our $NginxBinary     = $ENV{TEST_NGINX_BINARY} || 'nginx';
our $ServerPort      = $ENV{TEST_NGINX_SERVER_PORT} || $ENV{TEST_NGINX_PORT}
                       || 1984;
our $ServerPortForClient = $ENV{TEST_NGINX_CLIENT_PORT} || $ServerPort;
our $ServerAddr      = '127.0.0.1';
our $ServerName      = 'localhost';
our $LoadModules     = $ENV{TEST_NGINX_LOAD_MODULES};
our $NoShuffle       = $ENV{TEST_NGINX_NO_SHUFFLE} || 0;
our $Timeout         = $ENV{TEST_NGINX_TIMEOUT} || 3;
our $LogLevel        = $ENV{TEST_NGINX_LOG_LEVEL} || 'debug';
our $MasterProcessEnabled = $ENV{TEST_NGINX_MASTER_PROCESS} || 'off';
our $DaemonEnabled   = 'on';
our $Workers         = 1;
our $WorkerConnections = 64;
our $WorkerUser      = $ENV{TEST_NGINX_WORKER_USER};
our $TestNginxSleep  = $ENV{TEST_NGINX_SLEEP} || 0.015;
our $CheckAccumErrLog = $ENV{TEST_NGINX_CHECK_ACCUM_ERR_LOG};
our $Verbose         = $ENV{TEST_NGINX_VERBOSE};
our $UseValgrind     = $ENV{TEST_NGINX_USE_VALGRIND};
our $RepeatEach      = 1;
our $NoRootLocation  = 0;
our $ConfigPreamble  = '';
our $NoLongString    = 0;
our @EnvToNginx;
our @BlockPreprocessors;
our @CleanupHandlers;
our @TestCleanupHandlers;
our $RandPorts       = {};
our $ErrLogFilePos   = 0;
our $NginxVersion;
our $InSubprocess;

our $ServRoot = File::Spec->rel2abs($ENV{TEST_NGINX_SERVROOT}
                                    || 't/servroot');
$ENV{TEST_NGINX_SERVER_ROOT} = $ServRoot;

our $LogDir     = "$ServRoot/logs";
our $ErrLogFile = "$LogDir/error.log";
our $AccLogFile = "$LogDir/access.log";
our $HtmlDir    = "$ServRoot/html";
our $ConfDir    = "$ServRoot/conf";
our $ConfFile   = "$ConfDir/nginx.conf";
our $PidFile    = "$LogDir/nginx.pid";
our $StderrFile = "$LogDir/nginx.stderr";  # inside logs/: the real
                                            # module rmdirs servroot

# TEST_NGINX_USE_VALGRIND, as the real Test::Nginx has it: nginx runs in
# the foreground under valgrind; a number means memcheck with the real
# module's options (and ./valgrind.suppress when present), anything else
# is taken as valgrind's own options.  Everything is slower under
# valgrind: waits get longer.
if ($UseValgrind) {
    $DaemonEnabled = 'off';
    $Timeout = $ENV{TEST_NGINX_TIMEOUT} || 15;
}

if (defined $WorkerUser && $WorkerUser !~ /^\w[-\w]+(?:\s+\w[-\w]+)?$/) {
    die "Bad value in the env TEST_NGINX_WORKER_USER: $WorkerUser\n";
}

# --- the suite-facing setters --------------------------------------------

sub repeat_each { $RepeatEach = shift if @_; return $RepeatEach; }
sub no_shuffle () { $NoShuffle = 1; }
sub no_long_string () { $NoLongString = 1; }
sub no_root_location () { $NoRootLocation = 1; }
sub no_nginx_manager () { }          # not supported: nginx is always managed
sub use_hup () { }                   # accepted; we always restart
sub check_accum_error_log () { $CheckAccumErrLog = 1; }
sub workers { $Workers = shift if @_; return $Workers; }
sub worker_connections { $WorkerConnections = shift if @_;
                         return $WorkerConnections; }
sub log_level { $LogLevel = shift if @_; return $LogLevel; }
sub master_on () { $MasterProcessEnabled = 'on'; }
sub master_off () { $MasterProcessEnabled = 'off'; }
sub master_process_enabled { $MasterProcessEnabled = $_[0] ? 'on' : 'off'
                                 if @_; return $MasterProcessEnabled; }
sub config_preamble ($) { $ConfigPreamble = shift; }
sub timeout { $Timeout = shift if @_; return $Timeout; }
sub server_port { $ServerPort = shift if @_; return $ServerPort; }
sub server_port_for_client { $ServerPortForClient = shift if @_;
                             return $ServerPortForClient; }
sub server_addr { $ServerAddr = shift if @_; return $ServerAddr; }
sub server_name { $ServerName = shift if @_; return $ServerName; }
sub server_root () { $ServRoot }
sub html_dir () { $HtmlDir }
sub env_to_nginx { die "env_to_nginx: no arguments specified\n" unless @_;
                   push @EnvToNginx, @_; }
sub add_block_preprocessor (&) { unshift @BlockPreprocessors, shift; }
sub add_cleanup_handler ($) { push @CleanupHandlers, shift; }
sub add_test_cleanup_handler ($) { push @TestCleanupHandlers, shift; }
sub is_str { goto &Test::More::is }

sub bail_out (@) {
    cleanup();
    Test::More::BAIL_OUT(join '', @_);
}

sub parse_time ($) {
    my $tm = shift;
    return undef unless defined $tm;
    if ($tm =~ s/([^_a-zA-Z])ms$/$1/) {
        $tm = $tm / 1000;
    } else {
        $tm =~ s/([^_a-zA-Z])s$/$1/;
    }
    return $tm;
}

# --- nginx version --------------------------------------------------------

sub get_canon_version (@) {
    sprintf "%d.%03d%03d", $_[0], $_[1], $_[2];
}

sub get_nginx_version () {
    my $out = `$NginxBinary -v 2>&1`;
    if (!defined $out || $out !~ m{(?:nginx|openresty)/(\d+)\.(\d+)\.(\d+)}) {
        return undef;
    }
    return get_canon_version($1, $2, $3);
}

# --- ports and environment -----------------------------------------------

sub port_is_free ($) {
    my $port = shift;
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                  LocalPort => $port, Proto => 'tcp',
                                  Listen => 1, ReuseAddr => 1);
    return 0 unless $s;
    close $s;
    return 1;
}

sub gen_rand_port ($) {
    my $used = shift;
    for (1 .. 1000) {
        # below the ephemeral range: see scripts/lib.sh's free_port
        my $port = 10000 + int(rand(22000));
        next if $used->{$port};
        return $port if port_is_free($port);
    }
    return undef;
}

# Replace $TEST_NGINX_FOO by the environment value; an unset one bails out.
# $TEST_NGINX_RAND_PORT_N gets a free port, the same one within a block.
sub expand_env_in_text ($$$) {
    my ($text, $name, $rand_ports) = @_;
    my %used;

    return $text unless defined $text && !ref $text;

    %used = ($ServerPort => 1, map { $_ => 1 } values %$rand_ports);

    $text =~ s{\$(TEST_NGINX_[_A-Z0-9]+)}{
        my $var = $1;
        my $val;
        if ($var =~ /^TEST_NGINX_RAND_PORT_[0-9]+$/) {
            if (!defined $rand_ports->{$var}) {
                my $p = gen_rand_port(\%used);
                bail_out("$name - Cannot find an available listening port "
                         . "number for $var.\n") unless defined $p;
                $rand_ports->{$var} = $p;
                $used{$p} = 1;
            }
            $val = $rand_ports->{$var};
        } else {
            bail_out("$name - No environment $var defined.\n")
                unless defined $ENV{$var};
            $val = $ENV{$var};
        }
        $val;
    }eg;

    return $text;
}

# --- server root and config -----------------------------------------------

sub setup_server_root () {
    if (-d $ServRoot) {
        remove_tree($ConfDir, $LogDir, $HtmlDir, "$ServRoot/cache",
                    glob("$ServRoot/*_temp"), glob("$ServRoot/*_cache"));
        unlink $StderrFile;
    }
    for my $d ($ServRoot, $LogDir, $HtmlDir, $ConfDir) {
        next if -d $d;
        make_path($d) or bail_out("Failed to do mkdir $d: $!\n");
    }
    open my $out, '>', "$HtmlDir/index.html"
        or bail_out("Can't open $HtmlDir/index.html for writing: $!\n");
    print $out '<html><head><title>It works!</title></head>'
               . '<body>It works!</body></html>';
    close $out;
}

sub write_user_files ($$) {
    my ($block, $rand_ports) = @_;
    my $name = $block->name;
    my $files = $block->user_files;

    return unless $files;

    if (!ref $files) {
        my ($fname, $body, $date, @list);
        for my $line (split /^/m, $files) {
            if ($line =~ /^>>> (\S+)(?:\s+(.+))?/) {
                push @list, [$fname, $body, $date] if defined $fname;
                ($fname, $date, $body) = ($1, $2, undef);
            } else {
                $body .= $line;
            }
        }
        push @list, [$fname, $body, $date] if defined $fname;
        $files = \@list;
    } elsif (ref $files ne 'ARRAY') {
        bail_out("$name - wrong value type for user_files: ", ref $files);
    }

    for my $f (@$files) {
        my ($fname, $body, $date) = @$f;
        my $path = $fname =~ m{^/} ? $fname : "$HtmlDir/$fname";

        $body = '' unless defined $body;
        if ($path =~ m{(.*)/} && !-d $1) {
            make_path($1) or bail_out("$name - Cannot create directory $1");
        }
        $body = expand_env_in_text($body, $name, $rand_ports);
        open my $out, '>', $path
            or bail_out("$name - Cannot open $path for writing: $!\n");
        binmode $out;
        print $out $body;
        close $out;
        if ($date) {
            system('touch', '-t', $date, $path) == 0
                or bail_out("$name - touch -t $date $path failed\n");
        }
    }
}

sub write_config_file ($$$) {
    my ($block, $config, $rand_ports) = @_;
    my $name = $block->name;
    my $http_config = $block->http_config;
    my $main_config = $block->main_config;
    my $post_main_config = $block->post_main_config;
    my $server_name = defined $block->server_name ? $block->server_name
                                                  : $ServerName;
    my $log_level = $block->log_level || $LogLevel;
    my ($temp_paths, $root_loc, $env_lines, $user_line);

    $http_config = '' unless defined $http_config;
    $main_config = '' unless defined $main_config;
    $post_main_config = '' unless defined $post_main_config;
    $config = '' unless defined $config;

    $http_config = expand_env_in_text($http_config, $name, $rand_ports);

    if ($LoadModules) {
        my @mods = map { "load_module $_;" } grep { length } split /\s+/,
                   $LoadModules;
        $main_config = join(" ", @mods, $main_config);
    }
    $main_config = expand_env_in_text($main_config, $name, $rand_ports);
    $post_main_config = expand_env_in_text($post_main_config, $name,
                                           $rand_ports);

    $temp_paths = '';
    for my $t (qw(client_body proxy fastcgi scgi uwsgi)) {
        next if $http_config =~ /\b${t}_temp_path\b/;
        $temp_paths .= " ${t}_temp_path $ServRoot/${t}_temp;";
    }

    $env_lines = '';
    for my $v (@EnvToNginx) {
        my $q = $v =~ /\s/ ? "'$v'" : $v;
        $env_lines .= "env $q;\n";
    }

    $root_loc = $NoRootLocation ? '' : <<_EOC_;
        location / {
            root $HtmlDir;
            index index.html index.htm;
        }
_EOC_

    (my $quoted_name = $server_name) =~ s/\\/\\\\/g;
    $quoted_name =~ s/'/\\'/g;

    $user_line = defined $WorkerUser ? "user $WorkerUser;\n"
               : $> == 0             ? "user root;\n"
               :                       '';

    open my $out, '>', $ConfFile
        or bail_out("Can't open $ConfFile for writing: $!\n");
    print $out <<_EOC_;
worker_processes  $Workers;
daemon $DaemonEnabled;
master_process $MasterProcessEnabled;
error_log $ErrLogFile $log_level;
pid       $PidFile;
env LD_PRELOAD;
env LD_LIBRARY_PATH;
env ASAN_OPTIONS;
$env_lines
$main_config

http {
    access_log $AccLogFile;$temp_paths

    default_type text/plain;
    keepalive_timeout  68000ms;

$http_config
    server {
        listen          $ServerPort;
        server_name     '$quoted_name';
        client_max_body_size 30M;

        # Begin preamble config...
$ConfigPreamble
        # End preamble config...

        # Begin test case config...
$config
        # End test case config.

$root_loc    }
}

$post_main_config

events {
    accept_mutex off;
    worker_connections  $WorkerConnections;
}
$user_line
_EOC_
    close $out;
}

# --- processes ------------------------------------------------------------

sub is_running ($) {
    my $pid = shift;
    my $stat;

    return 0 unless $pid && kill(0, $pid);

    # a daemonised nginx is not our child; where pid 1 does not reap,
    # an exited one stays a zombie that kill(0) still finds
    if (open my $fh, '<', "/proc/$pid/stat") {
        $stat = <$fh>;
        close $fh;
        return 0 if defined $stat && $stat =~ /^\d+ \(.*\) Z/s;
    }
    return 1;
}

sub get_pid_from_pidfile () {
    open my $in, '<', $PidFile or return undef;
    my $pid = <$in>;
    close $in;
    return undef unless defined $pid && $pid =~ /^\s*(\d+)/;
    return $1;
}

# QUIT (graceful), then TERM, then KILL; returns when the process is gone.
sub kill_process ($$) {
    my ($pid, $name) = @_;
    my $left;

    return unless is_running($pid);

    kill($ENV{TEST_NGINX_FAST_SHUTDOWN} ? SIGTERM : SIGQUIT, $pid);
    $left = $UseValgrind ? 4 * $Timeout : $Timeout;
    while ($left > 0 && is_running($pid)) {
        waitpid($pid, WNOHANG);
        sleep 0.02;
        $left -= 0.02;
    }
    return unless is_running($pid);

    warn "$name - nginx $pid did not exit on QUIT; sending TERM\n";
    kill(SIGTERM, $pid);
    $left = 2;
    while ($left > 0 && is_running($pid)) {
        sleep 0.05;
        $left -= 0.05;
    }
    return unless is_running($pid);

    warn "$name - killing nginx $pid with SIGKILL\n";
    kill(SIGKILL, $pid);
    sleep 0.1;
}

sub stop_nginx ($) {
    my $name = shift;
    my $pid = get_pid_from_pidfile();

    if (defined $pid && is_running($pid)) {
        kill_process($pid, $name);
    }
    unlink $PidFile if -f $PidFile;
}

sub slurp ($) {
    my $file = shift;
    open my $in, '<', $file or return '';
    local $/;
    my $s = <$in>;
    close $in;
    return defined $s ? $s : '';
}

# Runs nginx once; returns (exit status, its stderr).  nginx daemonises,
# so the command returns once the configuration is loaded and the
# listening sockets are open.
sub run_nginx_once () {
    my @cmd = ($NginxBinary, '-e', $ErrLogFile, '-p', "$ServRoot/",
               '-c', $ConfFile);
    my $pid;

    unlink $StderrFile;
    warn "command: @cmd\n" if $Verbose;

    $pid = fork();
    bail_out("fork() failed: $!") unless defined $pid;

    if ($pid == 0) {
        open STDOUT, '>', '/dev/null';
        open STDERR, '>', $StderrFile;
        { exec { $cmd[0] } @cmd; }
        print STDERR "exec $cmd[0] failed: $!\n";
        POSIX::_exit(127);
    }

    waitpid($pid, 0);
    return ($?, slurp($StderrFile));
}

# The command line of a valgrind run, as the real Test::Nginx builds it.
sub valgrind_cmd (@) {
    my @cmd = @_;
    my @opts;

    if ($UseValgrind =~ /^\d+$/) {
        @opts = ('--num-callers=100', '-q', '--tool=memcheck',
                 '--leak-check=full', '--keep-debuginfo=yes',
                 '--show-possibly-lost=no', '--gen-suppressions=all');
        push @opts, '--suppressions=valgrind.suppress'
            if -f 'valgrind.suppress';
    } else {
        @opts = ('-q', split(' ', $UseValgrind));
    }

    return ('valgrind', @opts, @cmd);
}

# Under valgrind nginx stays in the foreground, our child: started, then
# awaited until its pid file appears (running) or it exits (refused).
sub start_nginx_valgrind ($) {
    my $name = shift;
    my @cmd = valgrind_cmd($NginxBinary, '-e', $ErrLogFile, '-p',
                           "$ServRoot/", '-c', $ConfFile);
    my $pid;

    unlink $StderrFile;
    unlink $PidFile;
    warn "$name\n";
    warn "command: @cmd\n" if $Verbose;

    $pid = fork();
    bail_out("fork() failed: $!") unless defined $pid;

    if ($pid == 0) {
        $InSubprocess = 1;
        open STDOUT, '>', '/dev/null';
        { exec { $cmd[0] } @cmd; }
        print STDERR "exec $cmd[0] failed: $!\n";
        POSIX::_exit(127);
    }

    for (my $t = 0; $t < 4 * $Timeout; $t += 0.05) {
        if (waitpid($pid, WNOHANG) == $pid) {
            return ($? || 1, "nginx under valgrind exited at start");
        }
        if (-s $PidFile) {
            sleep 0.3;      # the pid file comes just before the listeners
            return (0, '');
        }
        sleep 0.05;
    }

    kill(SIGKILL, $pid);
    waitpid($pid, 0);
    return (1, "nginx under valgrind did not start in " . 4 * $Timeout
               . " s");
}

# Starts nginx for a block.  Returns (status, message): status 0 means
# running.  "Address already in use" (the previous nginx not yet gone)
# is retried for a few seconds; any other refusal is returned at once.
sub start_nginx ($) {
    my $name = shift;
    my $waited = 0;
    my ($status, $err);

    return start_nginx_valgrind($name) if $UseValgrind;

    for (;;) {
        ($status, $err) = run_nginx_once();
        last if $status == 0;
        last if $err !~ /Address already in use/ || $waited >= 5;
        sleep 0.2;
        $waited += 0.2;
    }

    return ($status, $err) if $status != 0;

    # the pid file is written just after daemonising
    for (my $t = 0; $t < $Timeout && !-s $PidFile; $t += 0.01) {
        sleep 0.01;
    }
    sleep $TestNginxSleep;
    return (0, $err);
}

# The error log lines since the last call in this block (the first call of
# a block sees the whole log, which starts fresh with the block's nginx),
# as the real Test::Nginx does.
sub error_log_data () {
    my @lines;

    # lines logged in the log phase come after the response
    sleep $TestNginxSleep * 3;

    open my $in, '<', $ErrLogFile or return [];
    if (!$CheckAccumErrLog && $ErrLogFilePos > 0) {
        seek $in, $ErrLogFilePos, 0;
    }
    @lines = <$in>;
    $ErrLogFilePos = tell($in) unless $CheckAccumErrLog;
    close $in;
    return \@lines;
}

sub cleanup () {
    for my $h (@CleanupHandlers) {
        $h->();
    }
}

END {
    return if $InSubprocess;
    local $?;
    cleanup();
    if (!$ENV{TEST_NGINX_NO_CLEAN}) {
        stop_nginx('END');
    }
}

1;
