# Shadow mode (fwgate_dry_run): the whole decision runs, is logged and
# counted, and the request is served; and the staleness bound
# (fwgate_max_staleness): an edge whose registry is not confirmed fresh
# (its replica cut off from the primary) stops serving rollout downloads
# and offers nothing in the update check, until the link returns.

use Test::Nginx::Socket 'no_plan';
use t::FwgateTest;

fw_setup('fwt23:');

device('LS6-230001', model => 'LS-6000i', alg => 'hmac-sha256');
device('LS7-230001', model => 'LS-7000i', alg => 'hmac-sha256');
artifact('ls6000i-2.5.0.bin', version => '2.5.0', models => 'LS-6000i');
artifact('ls7000i-3.0.0.bin', version => '3.0.0', models => 'LS-7000i');
rollout('LS-6000i', artifact => 'ls6000i-2.5.0.bin');

our %S6 = (device => 'LS6-230001', path => '/firmware/ls6000i-2.5.0.bin');

# a replica of the suite's redis (synced), and a port nobody listens on
our $R = start_extra_redis();
our $DEAD = free_port();

sub link_to_primary {
    redis({ port => $main::R }, 'REPLICAOF', '127.0.0.1', redis_port());
    wait_for(sub {
        redis({ port => $main::R }, 'INFO', 'replication')
            =~ /master_link_status:up/
        && redis({ port => $main::R }, 'EXISTS', 'fwt23:device:LS6-230001')
           =~ /1/ }, 10)
        or die "the replica did not sync\n";
}

# cut the replica off: it keeps its data and answers (Debian's default
# replica-serve-stale-data yes), but can no longer hear of a halt
sub cut_off {
    redis({ port => $main::R }, 'REPLICAOF', '127.0.0.1', $main::DEAD);
}

link_to_primary();

our $SHADOW = <<'_EOC_';
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
        fwgate_dry_run on;
    }
    location = /status {
        fwgate_status;
    }
_EOC_

our $STALE_CONF = <<'_EOC_';
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
    location = /fw/check {
        fwgate_manifest;
        fwgate_expose_reason on;
    }
    location = /status {
        fwgate_status;
    }
_EOC_

repeat_each(1);
no_shuffle();
no_long_string();
add_block_preprocessor(\&t::FwgateTest::preprocess);

run_tests();

__DATA__

=== TEST 1: shadow mode: a refusal is served, with the reason logged and in
$fwgate_decision/$fwgate_reason, and counted as dry_run_deny
--- config eval
$::SHADOW . '
    location = /var { return 200 "$fwgate_decision $fwgate_reason\n"; }'
--- request
GET /firmware/ls7000i-3.0.0.bin
--- more_headers eval
::sign(%::S6, path => '/firmware/ls7000i-3.0.0.bin')
--- error_code: 200
--- response_headers
X-Fwgate-Reason: incompatible
!Retry-After
--- response_body eval
::fw_bytes('ls7000i-3.0.0.bin', 0)
--- error_log
fwgate: dry run, would deny reason=incompatible device="LS6-230001"



=== TEST 2: shadow mode: $fwgate_decision is dry_run_deny in the access log
--- http_config eval
::http_config()
. "    log_format fwt23 'decision=\$fwgate_decision reason=\$fwgate_reason';\n"
--- config eval
$::SHADOW . '
    access_log logs/fwt23.log fwt23;'
--- request
GET /firmware/ls6000i-2.5.0.bin
--- error_code: 200
--- response_headers
X-Fwgate-Reason: missing_signature
!Accept-Signature
--- error_log
fwgate: dry run, would deny reason=missing_signature



=== TEST 3: shadow mode: an allowed download is an ordinary allow
--- config eval: $::SHADOW
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(%::S6)
--- error_code: 200
--- response_headers
X-Fwgate-Reason: ok
X-Firmware-Version: 2.5.0
--- no_error_log
dry run
[error]



=== TEST 4: shadow mode: the registry unavailable is served too, logged at
error as a would-be refusal
--- http_config eval
::http_config(port => $::DEAD)
--- config eval: $::SHADOW
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(%::S6)
--- error_code: 200
--- response_headers
X-Fwgate-Reason: registry_unavailable
!Retry-After
--- error_log
fwgate: dry run, would deny reason=registry_unavailable



=== TEST 5: shadow mode: the counters name dry_run_deny
--- config eval: $::SHADOW
--- init
::http_req('GET /firmware/ls7000i-3.0.0.bin',
           ::sign(%main::S6, path => '/firmware/ls7000i-3.0.0.bin'));
--- request
GET /status
--- response_body_like
fwgate_requests_total\{decision="dry_run_deny",reason="incompatible"\} [1-9]



=== TEST 6: a linked replica confirms the registry fresh: served, and the
metrics say so
--- http_config eval
::http_config(port => $::R, cache => 'poll=100ms')
. "    fwgate_max_staleness 500ms;\n"
--- config eval: $::STALE_CONF
--- init
main::link_to_primary();
select undef, undef, undef, 0.8;
--- request eval
["GET /firmware/ls6000i-2.5.0.bin", "GET /status"]
--- more_headers eval
[::sign(%::S6), ""]
--- error_code eval
[200, 200]
--- response_body_like eval
[qr/\A/, qr/fwgate_registry_source\{role="replica"\} 1\n/]



=== TEST 7: a replica cut off from its primary: past fwgate_max_staleness
downloads get 503 registry_stale with Retry-After, and the update check
offers nothing (204)
--- http_config eval
::http_config(port => $::R, cache => 'poll=100ms')
. "    fwgate_max_staleness 500ms;\n"
--- config eval: $::STALE_CONF
--- init
main::cut_off();
select undef, undef, undef, 0.9;
--- request eval
["GET /firmware/ls6000i-2.5.0.bin", "GET /fw/check", "GET /status"]
--- more_headers eval
[::sign(%::S6), ::sign(%::S6, path => '/fw/check'), ""]
--- error_code eval
[503, 204, 200]
--- response_headers eval
["X-Fwgate-Reason: registry_stale\nRetry-After: 1",
 "X-Fwgate-Reason: registry_stale", ""]
--- response_body_like eval
[qr/503/, qr/\A\z/, qr/fwgate_registry_source\{role="cut_off_replica"\} 1\n/]
--- no_error_log
[alert]
[crit]



=== TEST 8: the link back: the next poll confirms, downloads are served
--- http_config eval
::http_config(port => $::R, cache => 'poll=100ms')
. "    fwgate_max_staleness 500ms;\n"
--- config eval: $::STALE_CONF
--- init
main::cut_off();
select undef, undef, undef, 0.8;
Test::More::is(::http_req('GET /firmware/ls6000i-2.5.0.bin',
                          ::sign(%main::S6))->{status}, 503,
               'init: cut off: 503');
main::link_to_primary();
Test::More::ok(::wait_for(sub {
    ::http_req('GET /firmware/ls6000i-2.5.0.bin',
               ::sign(%main::S6))->{status} == 200 }, 3),
    'init: served again once the link is up');
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(%::S6)
--- error_code: 200
--- no_error_log
[alert]
[crit]



=== TEST 9: fwgate_max_staleness must be longer than the poll interval
--- http_config eval
::http_config(cache => 'poll=1s') . "    fwgate_max_staleness 500ms;\n"
--- config eval: $::STALE_CONF
--- must_die
--- error_log
"fwgate_max_staleness" 500 must be longer than the cache's poll interval 1000
