# The $fwgate_* variables (SPEC section 5) read in a later location, after
# an internal redirect (try_files to a named location on an allow,
# error_page on a deny), in an access log line, and empty where the gate
# did not run; and the per-worker coalescing of registry reads: concurrent
# misses for one key share one Redis round trip (counted with redis-cli
# MONITOR while Redis is held busy, so every request waits on the same
# fetch).

use Test::Nginx::Socket 'no_plan';
use t::FwgateTest;
use Time::HiRes ();
use POSIX ();

fw_setup('fwt32:');

our $A6 = 'ls6000i-2.5.0.bin';
our $A7 = 'ls7000i-3.0.0.bin';
our $D = 'V6-000001';

device($D, model => 'LS-6000i', alg => 'hmac-sha256');
device('V6-000002', model => 'LS-6000i', alg => 'ed25519', hw => 'B');
artifact($A6, version => '2.5.0', models => 'LS-6000i');
artifact($A7, version => '3.0.0', models => 'LS-7000i');
rollout('LS-6000i', artifact => $A6, percent => 100, from => '>=2.0.0');
canary('LS-6000i');
exclude('LS-6000i');

our $B1 = bucket($A6, $D);
our $B2 = bucket($A6, 'V6-000002');

sub dl {
    my ($art, %o) = @_;
    return ::sign(path => "/firmware/$art", device => $D, %o);
}

# every variable, in the order of SPEC section 5
our $ALL = '$fwgate_decision|$fwgate_reason|$fwgate_device|$fwgate_model|'
         . '$fwgate_version|$fwgate_artifact|$fwgate_target_version|'
         . '$fwgate_bucket';

# fresh device ids, never cached by any nginx of this run
our $RUN = sprintf '%05d%04d', $$ % 100000, int(rand 10000);
our $SEQ = 0;
sub fresh_device {
    my $id = sprintf 'VC-%s-%03d', $RUN, ++$SEQ;
    ::device($id, model => 'LS-6000i', alg => 'hmac-sha256');
    return $id;
}

# holds Redis busy for $ms milliseconds (a Lua loop on TIME) in a child;
# returns its pid once the script has had time to start
sub hold_redis {
    my ($ms) = @_;
    # TIME only every 100000 turns: MONITOR shows the script's calls too
    my $lua = 'local s = redis.call("TIME") '
            . 'local t0 = s[1] * 1000000 + s[2] '
            . 'local t '
            . 'repeat for i = 1, 100000 do end '
            . 't = redis.call("TIME") '
            . 'until t[1] * 1000000 + t[2] - t0 > tonumber(ARGV[1]) * 1000 '
            . 'return 1';
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        open STDOUT, '>', '/dev/null';
        open STDERR, '>', '/dev/null';
        { exec 'redis-cli', '-h', '127.0.0.1', '-p', ::redis_port(),
               'EVAL', $lua, '0', $ms; }
        POSIX::_exit(127);
    }
    # let redis-cli start and the script begin
    Time::HiRes::sleep(0.15);
    return $pid;
}

# the MONITOR lines reading $key with HGETALL
sub hgetalls {
    my ($lines, $key) = @_;
    return scalar grep { /"HGETALL" "\Q$key\E"/i } @$lines;
}

# N signed requests sent together while Redis is held busy for $ms;
# returns (responses, monitor lines)
sub burst {
    my ($devices, $ms) = @_;
    my @reqs = map { ["GET /firmware/$A6", ::dl($A6, device => $_)] }
               @$devices;
    my $m = ::redis_monitor_start();
    my $pid = hold_redis($ms);
    my $res = ::http_parallel(\@reqs, 5);
    waitpid $pid, 0;
    my $lines = ::redis_monitor_stop($m);
    return ($res, $lines);
}

repeat_each(1);
no_long_string();
add_block_preprocessor(\&t::FwgateTest::preprocess);

run_tests();

__DATA__

=== TEST 1: allow: every variable in a named location after try_files
--- config eval
"location /firmware/ {
    root \$TEST_NGINX_FW_ROOT;
    fwgate on;
    try_files /no-such-file \@show;
}
location \@show {
    add_header X-Vars \"$::ALL\" always;
    return 200 \"$::ALL\\n\";
}"
--- request eval
["GET /firmware/$::A6", "GET /firmware/$::A6"]
--- more_headers eval
[::dl($::A6), ::dl($::A6, device => 'V6-000002', hw => 'B', version => '2.1.0-rc.1+b7')]
--- error_code eval
[200, 200]
--- response_headers eval
["X-Vars: allow|ok|$::D|LS-6000i|2.4.1|$::A6|2.5.0|$::B1",
 "X-Vars: allow|ok|V6-000002|LS-6000i|2.1.0-rc.1+b7|$::A6|2.5.0|$::B2"]
--- response_body eval
["allow|ok|$::D|LS-6000i|2.4.1|$::A6|2.5.0|$::B1\n",
 "allow|ok|V6-000002|LS-6000i|2.1.0-rc.1+b7|$::A6|2.5.0|$::B2\n"]



=== TEST 2: deny: reason and decision survive error_page to a location
--- config eval
"location /firmware/ {
    root \$TEST_NGINX_FW_ROOT;
    fwgate on;
    error_page 401 403 404 = /denied;
}
location = /denied {
    internal;
    add_header X-Decision \$fwgate_decision always;
    add_header X-Reason \$fwgate_reason always;
    return 200 \"$::ALL\\n\";
}"
--- request eval
["GET /firmware/$::A7", "GET /firmware/$::A6", "GET /firmware/none.bin",
 "GET /firmware/$::A6"]
--- more_headers eval
[::dl($::A7), ::dl($::A6, version => '2.6.0'),
 ::dl('none.bin'), "X-Device-Model: LS-6000i\nX-Firmware-Version: 2.4.1\n"]
--- error_code eval
[200, 200, 200, 200]
--- response_headers eval
["X-Decision: deny\nX-Reason: incompatible",
 "X-Decision: deny\nX-Reason: downgrade",
 "X-Decision: deny\nX-Reason: unknown_artifact",
 "X-Decision: deny\nX-Reason: missing_signature"]
--- response_body_like eval
["^deny\\|incompatible\\|\Q$::D\E\\|LS-6000i\\|2\\.4\\.1\\|\Q$::A7\E\\|3\\.0\\.0\\|\\d*\n\\z",
 "^deny\\|downgrade\\|\Q$::D\E\\|LS-6000i\\|2\\.6\\.0\\|\Q$::A6\E\\|2\\.5\\.0\\|$::B1\n\\z",
 "^deny\\|unknown_artifact\\|\Q$::D\E\\|LS-6000i\\|2\\.4\\.1\\|none\\.bin\\|\\|\n\\z",
 "^deny\\|missing_signature\\|[^|]*\\|[^|]*\\|[^|]*\\|\Q$::A6\E\\|[^|]*\\|\\d*\n\\z"]



=== TEST 3: deny: the same through a named location, status kept
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        error_page 403 @denied;
    }
    location @denied {
        add_header X-Vars "$fwgate_decision|$fwgate_reason|$fwgate_artifact" always;
        return 403 "refused: $fwgate_reason\n";
    }
--- request eval
"GET /firmware/$::A7"
--- more_headers eval
::dl($::A7)
--- error_code: 403
--- response_headers eval
"X-Vars: deny|incompatible|$::A7"
--- response_body
refused: incompatible



=== TEST 4: empty where the gate did not run
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
    }
    location = /plain {
        return 200 "[$fwgate_decision][$fwgate_reason][$fwgate_device][$fwgate_model][$fwgate_version][$fwgate_artifact][$fwgate_target_version][$fwgate_bucket]\n";
    }
--- request
GET /plain
--- more_headers eval
::dl($::A6)
--- error_code: 200
--- response_body
[][][][][][][][]



=== TEST 5: a log_format with the variables writes the expected lines
--- http_config eval
::http_config() . <<'_EOC_'
    log_format fwg '$fwgate_decision $fwgate_reason $fwgate_device '
                   '$fwgate_model $fwgate_version $fwgate_artifact '
                   '$fwgate_target_version $fwgate_bucket $status';
_EOC_
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        access_log logs/fwgate.log fwg;
    }
    location = /plain {
        access_log logs/fwgate.log fwg;
        return 200 "plain\n";
    }
    location = /fwlog {
        access_log off;
        default_type text/plain;
        alias logs/fwgate.log;
    }
--- request eval
["GET /firmware/$::A6", "GET /firmware/$::A7", "GET /plain",
 "GET /firmware/$::A6", "GET /fwlog"]
--- more_headers eval
[::dl($::A6), ::dl($::A7), "", "", ""]
--- error_code eval
[200, 403, 200, 401, 200]
--- response_body_like eval
["", "403", "plain", "401",
 "^allow ok \Q$::D\E LS-6000i 2\\.4\\.1 \Q$::A6\E 2\\.5\\.0 $::B1 200\n"
 . "deny incompatible \Q$::D\E LS-6000i 2\\.4\\.1 \Q$::A7\E 3\\.0\\.0 - 403\n"
 . "- - - - - - - - 200\n"
 # the gate names the artifact before step 1 (docs/variables.md)
 . "deny missing_signature - - - \Q$::A6\E - - 401\n\\z"]



=== TEST 6: concurrent misses for one device share one Redis round trip
(eight requests of a never-cached device sent together while Redis is
busy: one HGETALL of the device, one of the artifact; a control burst of
three distinct new devices reads each once; no epoch poll in between,
since the first one after a start makes every cached record stale)
--- http_config eval
::http_config(cache => 'poll=60s')
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- init
my $dev = main::fresh_device();
my ($res, $lines) = main::burst([($dev) x 8], 700);
Test::More::is(join(' ', map { $_->{status} } @$res), join(' ', (200) x 8),
               'init: burst: all eight allowed');
my @slow = grep { $_->{elapsed} >= 0.2 } @$res;
Test::More::is(scalar @slow, 8,
               'init: burst: every request waited for the busy Redis');
Test::More::is(main::hgetalls($lines, "fwt32:device:$dev"), 1,
               'init: burst: one HGETALL of the device key')
    or Test::More::diag(join '', grep { /fwt32:/ } @$lines);
Test::More::is(main::hgetalls($lines, "fwt32:artifact:$::A6"), 1,
               'init: burst: one HGETALL of the artifact key');
Test::More::is(main::hgetalls($lines, 'fwt32:rollout:LS-6000i'), 1,
               'init: burst: one HGETALL of the rollout key');
my @three = map { main::fresh_device() } 1 .. 3;
($res, $lines) = main::burst(\@three, 600);
Test::More::is(join(' ', map { $_->{status} } @$res), '200 200 200',
               'init: control: all three allowed');
Test::More::is(join(' ', map { main::hgetalls($lines, "fwt32:device:$_") }
                         @three), '1 1 1',
               'init: control: one HGETALL for each distinct device');
Test::More::is(main::hgetalls($lines, "fwt32:artifact:$::A6"), 0,
               'init: control: the artifact came from the cache');
--- request eval
"GET /firmware/$::A6"
--- more_headers eval
::dl($::A6)
--- error_code: 200
--- response_headers
X-Fwgate-Reason: ok



=== TEST 7: a value read before the decision is read again after it
--- config eval
"location /firmware/ {
    root \$TEST_NGINX_FW_ROOT;
    set \$early \"[\$fwgate_reason]\";
    fwgate on;
    add_header X-Early \$early always;
    add_header X-Late \"[\$fwgate_reason|\$fwgate_decision]\" always;
}"
--- request eval
"GET /firmware/$::A6"
--- more_headers eval
::dl($::A6)
--- error_code: 200
--- response_headers
X-Early: []
X-Late: [ok|allow]
