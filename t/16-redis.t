# The registry going away, coming back, and going slow (SPEC section 4's
# registry_unavailable, section 7; issue 3's Redis and cache parts).
# The faults are made on a redis-server of this suite's own, on another
# port, so the shared one is left alone.  Requests made while a fault is
# in place are sent from `--- init` code with t::FwgateTest::http_req.

use Test::Nginx::Socket 'no_plan';
use t::FwgateTest;
use POSIX ();
use Time::HiRes qw(time sleep);

our $P = start_extra_redis();
$t::FwgateTest::PORT = $P;
fw_setup('fwt16:');

our $DEAD = free_port();
our $FW = '/firmware/ls6000i-2.5.0.bin';

device('LS6-600001', model => 'LS-6000i', alg => 'hmac-sha256');
device('LS6-600002', model => 'LS-6000i', alg => 'hmac-sha256');
our %K = %t::FwgateTest::KEYS;

# the registry, written again after each restart (no persistence)
sub seed {
    device('LS6-600001', model => 'LS-6000i', key => $K{'LS6-600001'});
    artifact('ls6000i-2.5.0.bin', version => '2.5.0', models => 'LS-6000i');
    rollout('LS-6000i', artifact => 'ls6000i-2.5.0.bin');
    redis('SET', 'fwt16:epoch', 1);
}
seed();

our $H1 = sign(device => 'LS6-600001', path => $FW);
our $H2 = sign(device => 'LS6-600002', path => $FW);

# connect and command timeouts well under the client's
sub cfg {
    my (%o) = @_;
    return http_config(port => $P, prefix => 'fwt16:',
                       redis => 'connect_timeout=200ms timeout=300ms',
                       %o);
}

# the server is stopped by its pid, restarted on the same port
sub redis_down { stop_extra_redis($P) }
sub redis_up { ensure_extra_redis($P); seed() }

# forks `redis-cli DEBUG SLEEP $s`; returns the child's pid
sub redis_sleep {
    my ($s) = @_;
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        open STDOUT, '>', '/dev/null';
        no warnings 'exec';
        exec 'redis-cli', '-p', $P, 'DEBUG', 'SLEEP', $s;
        POSIX::_exit(127);
    }
    sleep 0.1;
    return $pid;
}

sub wait_allowed {
    my ($hdr, $secs) = @_;
    my $t0 = time;
    my $ok = wait_for(sub { http_req($FW, $hdr, 2)->{status} == 200 }, $secs);
    return $ok ? time - $t0 : undef;
}

# Redis up and device 1 allowed (so its records are cached).  nginx may
# have been started while the previous test's Redis was down; its worker
# reconnects after a backoff, so this waits for that rather than race it.
sub warm_up {
    redis_up();
    return wait_allowed($H1, 6) ? 200 : 503;
}

our $CHECKS = "[alert]\n[crit]\n[emerg]\n";

repeat_each(1);
no_shuffle();
no_long_string();
add_block_preprocessor(\&t::FwgateTest::preprocess);

run_tests();

__DATA__

=== TEST 1: Redis stopped, nothing cached: 503 with Retry-After
--- http_config eval: ::cfg()
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- init
::redis_down();
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval: $::H1
--- error_code: 503
--- response_headers
X-Fwgate-Reason: registry_unavailable
!X-Firmware-Version
Retry-After: 1
--- no_error_log eval: $::CHECKS



=== TEST 2: nginx started while Redis is down; Redis comes back
--- http_config eval: ::cfg()
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- init
::redis_down();
my $r = ::http_req($::FW, $::H1);
Test::More::is($r->{status}, 503, 'TEST 2: 503 while Redis is down');
::redis_up();
my $took = ::wait_allowed($::H1, 6);
Test::More::ok(defined $took, 'TEST 2: allowed again after Redis is back'
               . (defined $took ? sprintf(' (%.2f s)', $took) : ''));
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval: $::H1
--- error_code: 200
--- response_headers
X-Fwgate-Reason: ok
--- no_error_log eval: $::CHECKS



=== TEST 3: Redis stopped after the records were cached: stale records serve
--- http_config eval: ::cfg(cache => 'ttl=300ms stale=60s')
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- init
Test::More::is(::warm_up(), 200, 'TEST 3: allowed, cache warm');
::redis_down();
sleep 0.8;
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval: $::H1
--- error_code: 200
--- response_headers
X-Fwgate-Reason: ok
--- no_error_log eval: $::CHECKS



=== TEST 4: ... but not past the stale window
--- http_config eval: ::cfg(cache => 'ttl=300ms stale=300ms')
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- init
Test::More::is(::warm_up(), 200, 'TEST 4: allowed, cache warm');
::redis_down();
sleep 1.5;
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval: $::H1
--- error_code: 503
--- response_headers
X-Fwgate-Reason: registry_unavailable
--- no_error_log eval: $::CHECKS



=== TEST 5: cache ttl: a change shows after the ttl without an epoch bump
--- http_config eval: ::cfg(cache => 'ttl=500ms poll=60s')
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- init
Test::More::is(::warm_up(), 200, 'TEST 5: allowed, cache warm');
::rollout('LS-6000i', artifact => 'ls6000i-2.5.0.bin', state => 'paused');
my $r = ::http_req($::FW, $::H1);
Test::More::is($r->{status}, 200, 'TEST 5: still allowed within the ttl');
sleep 0.9;
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval: $::H1
--- error_code: 403
--- response_headers
X-Fwgate-Reason: rollout_paused
--- no_error_log eval: $::CHECKS



=== TEST 6: negative_ttl: an unknown device stays unknown for a while
--- http_config eval: ::cfg(cache => 'ttl=60s negative_ttl=1s poll=60s')
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- init
::redis_up();
my $r = ::http_req($::FW, $::H2);
Test::More::is($r->{headers}{'x-fwgate-reason'}, 'unknown_device',
               'TEST 6: unknown');
::device('LS6-600002', model => 'LS-6000i', key => $::K{'LS6-600002'});
$r = ::http_req($::FW, $::H2);
Test::More::is($r->{headers}{'x-fwgate-reason'}, 'unknown_device',
               'TEST 6: still unknown within negative_ttl');
sleep 1.4;
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval: $::H2
--- error_code: 200
--- response_headers
X-Fwgate-Reason: ok
--- no_error_log eval: $::CHECKS



=== TEST 7: DEBUG SLEEP: the ungated location stays fast, gated ones 503
--- http_config eval: ::cfg()
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
    location = /plain {
        return 200 "plain\n";
    }
--- init
::redis_up();
my $child = ::redis_sleep(2);
my ($s, $t0) = ::http_send($::FW, $::H1);
my $plain = ::http_req('/plain');
Test::More::is($plain->{status}, 200, 'TEST 7: /plain answered');
Test::More::cmp_ok($plain->{elapsed}, '<', 0.25,
                   'TEST 7: /plain fast while a gated request waits');
my $g = ::http_read($s, $t0, 4);
Test::More::is($g->{status}, 503, 'TEST 7: gated request: 503');
Test::More::is($g->{headers}{'x-fwgate-reason'}, 'registry_unavailable',
               'TEST 7: registry_unavailable');
Test::More::ok(defined $g->{headers}{'retry-after'}, 'TEST 7: Retry-After');
Test::More::cmp_ok($g->{elapsed}, '>=', 0.2, 'TEST 7: waited for the timeout');
Test::More::cmp_ok($g->{elapsed}, '<', 1.5, 'TEST 7: within about the timeout');
waitpid $child, 0;
my $took = ::wait_allowed($::H1, 6);
Test::More::ok(defined $took, 'TEST 7: allowed again once Redis is awake');
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval: $::H1
--- error_code: 200
--- response_headers
X-Fwgate-Reason: ok
--- no_error_log eval: $::CHECKS



=== TEST 8: clients that close while their request waits on Redis
--- http_config eval: ::cfg(redis => 'connect_timeout=200ms timeout=1500ms')
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
    location = /plain {
        return 200 "plain\n";
    }
--- init
::redis_up();
my $child = ::redis_sleep(1);
my @s;
for (1 .. 5) {
    my ($s) = ::http_send($::FW, $::H1);
    push @s, $s;
}
sleep 0.2;
close $_ for @s;
my $plain = ::http_req('/plain');
Test::More::is($plain->{status}, 200, 'TEST 8: /plain answered meanwhile');
waitpid $child, 0;
sleep 0.3;
my $took = ::wait_allowed($::H1, 6);
Test::More::ok(defined $took, 'TEST 8: allowed after the late replies');
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval: $::H1
--- error_code: 200
--- response_headers
X-Fwgate-Reason: ok
--- no_error_log eval: $::CHECKS



=== TEST 9: servers tried in order: the first is down
--- http_config eval: ::cfg(addr => "127.0.0.1:$::DEAD 127.0.0.1:$::P")
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- init
::redis_up();
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval: $::H1
--- error_code: 200
--- response_headers
X-Fwgate-Reason: ok
--- no_error_log eval: $::CHECKS




=== TEST 10: a record over 64k is refused whole: 503, nothing cached
--- http_config eval: ::cfg()
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- init
::redis_up();
::redis('DEL', 'fwt16:device:LS6-600002');
::redis('HSET', 'fwt16:device:LS6-600002', 'model', 'LS-6000i',
        'alg', 'hmac-sha256', 'key', $::K{'LS6-600002'}{key_b64},
        'status', 'active', 'pad', 'x' x 70000);
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval: $::H2
--- error_code: 503
--- response_headers
X-Fwgate-Reason: registry_unavailable
--- error_log
not a registry record or larger than 64k
--- no_error_log eval: $::CHECKS



=== TEST 11: a record larger than a reader's 16k reply block (1,005 fields): read whole, and the next replies reuse the block
--- http_config eval: ::cfg()
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- init
::redis_up();
::redis('DEL', 'fwt16:device:LS6-600002');
::redis('HSET', 'fwt16:device:LS6-600002', 'model', 'LS-6000i',
        'alg', 'hmac-sha256', 'key', $::K{'LS6-600002'}{key_b64},
        'status', 'active', 'pad', 'x' x 20000,
        map { ("f$_", 'v' x 10) } 1 .. 1000);
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval: $::H2
--- error_code: 200
--- response_headers
X-Fwgate-Reason: ok
--- no_error_log eval: $::CHECKS



=== TEST 12: sentinel= with a static address: the static list serves until a Sentinel answers
--- http_config eval
::cfg(redis => "sentinel=127.0.0.1:$::DEAD,[::1]:$::DEAD master=fwgate "
               . 'read=replica connect_timeout=200ms timeout=300ms')
--- init
::redis_up();
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval: $::H1
--- error_code: 200
--- response_headers
X-Fwgate-Reason: ok
--- no_error_log eval: $::CHECKS



=== TEST 13: Sentinels only, none reachable: nothing is known, fail closed
--- http_config eval
"    fwgate_redis sentinel=127.0.0.1:$::DEAD master=fwgate read=primary "
. "prefix=fwt16: connect_timeout=200ms timeout=300ms;\n"
. "    fwgate_cache fwgate_cache:1m;\n"
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval: $::H1
--- error_code: 503
--- response_headers
X-Fwgate-Reason: registry_unavailable
--- error_log eval
qr/fwgate: sentinel 127\.0\.0\.1:\d+ connect failed/
--- no_error_log eval: $::CHECKS



=== TEST 14: sentinel= without master=
--- http_config
    fwgate_redis sentinel=127.0.0.1:26379;
--- must_die
--- error_log
fwgate_redis sentinel= needs master=NAME



=== TEST 15: master= without sentinel=
--- http_config
    fwgate_redis 127.0.0.1:6379 master=fwgate;
--- must_die
--- error_log
fwgate_redis master= needs sentinel=



=== TEST 16: read= must be primary or replica
--- http_config
    fwgate_redis sentinel=127.0.0.1:26379 master=fwgate read=secondary;
--- must_die
--- error_log
invalid fwgate_redis parameter "read=secondary"



=== TEST 17: a Sentinel must be an IP address
--- http_config
    fwgate_redis sentinel=127.0.0.1,sentinel.example:26379 master=fwgate;
--- must_die
--- error_log
fwgate_redis sentinel "sentinel.example:26379": an IP address is required, not a host name



=== TEST 18: a bad Sentinel address: port 0, an empty entry
--- http_config
    fwgate_redis sentinel=127.0.0.1:26379,,127.0.0.1:0 master=fwgate;
--- must_die
--- error_log
invalid fwgate_redis sentinel address ""
