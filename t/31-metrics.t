# `fwgate_status` (SPEC sections 5 and 6): the counters move as requests
# are made (decisions by reason, update checks, reports, cache hits and
# misses, Redis commands, errors and latency, replays), and the exposition
# parses with Prometheus' own parser (Debian's python3-prometheus-client,
# text_string_to_metric_families).
#
# How: a block's `--- init` (run by both runners once nginx is up) scrapes
# /status, makes one request, scrapes again and checks the deltas, step by
# step.  The block's own request then GETs /status, and a response body
# check (add_response_body_check, which both runners call) parses that
# body and compares it with the last scrape of the init.

use Test::Nginx::Socket 'no_plan';
use t::FwgateTest;

fw_setup('fwt31:');

our $A6 = 'ls6000i-2.5.0.bin';
our $A7 = 'ls7000i-3.0.0.bin';

device('M6-000001', model => 'LS-6000i', alg => 'hmac-sha256');
device('M6-000002', model => 'LS-6000i', alg => 'ed25519');
device('M6-000003', model => 'LS-6000i', alg => 'hmac-sha256');
device('M6-000004', model => 'LS-6000i', alg => 'hmac-sha256',
       status => 'revoked');
artifact($A6, version => '2.5.0', models => 'LS-6000i');
artifact($A7, version => '3.0.0', models => 'LS-7000i');
rollout('LS-6000i', artifact => $A6, percent => 100, from => '>=2.0.0');
canary('LS-6000i');
exclude('LS-6000i');

our $DEAD = free_port();

sub rq { 'fwgate_requests_total{decision="' . $_[0] . '",reason="' . $_[1]
         . '"}' }

# the series every exposition must have, with their family types
our %FAMILIES = (
    fwgate_requests => 'counter',
    fwgate_manifest => 'counter',
    fwgate_reports => 'counter',
    fwgate_auto_halts => 'counter',
    fwgate_redis_commands => 'counter',
    fwgate_redis_errors => 'counter',
    fwgate_redis_timeouts => 'counter',
    fwgate_redis_connects => 'counter',
    fwgate_redis_latency_seconds => 'histogram',
    fwgate_cache_hits => 'counter',
    fwgate_cache_misses => 'counter',
    fwgate_cache_stale => 'counter',
    fwgate_cache_evictions => 'counter',
    fwgate_cache_entries => 'gauge',
    fwgate_cache_zone_used_bytes => 'gauge',
    fwgate_cache_zone_size_bytes => 'gauge',
    fwgate_replay_rejects => 'counter',
    fwgate_replay_full => 'counter',
    fwgate_memo => 'counter',
    fwgate_registry_staleness_seconds => 'gauge',
    fwgate_registry_max_staleness_seconds => 'gauge',
    fwgate_registry_source => 'gauge',
);

our @REASONS = qw(missing_signature malformed_signature insufficient_coverage
                  unsupported_alg stale bad_claims unknown_device
                  bad_signature replay revoked model_mismatch
                  unknown_artifact incompatible not_released rollout_paused
                  rollout_halted not_in_cohort upgrade_path downgrade
                  registry_unavailable replay_store_full path_mismatch
                  registry_stale unsigned_artifact unsigned_floor
                  below_floor token_malformed token_expired
                  token_invalid token_artifact token_device);

our $LAST;      # the last scrape of a block's init

sub val {
    my ($s, $k) = @_;
    return defined $s->{samples}{$k} ? $s->{samples}{$k} : 0;
}

# step($what, $req, $hdrs, $body, $code, \%exact, \%min, $strict):
# scrape, send one request (expecting status $code), scrape again; every
# series in %exact moved by exactly that much, every one in %min by at
# least that much; $strict: no other fwgate_requests_total series moved
sub step {
    my ($what, $req, $hdrs, $body, $code, $exact, $min, $strict) = @_;
    my $before = ::prom_scrape();
    Test::More::ok(!$before->{error}, "init: $what: scrape before")
        or Test::More::diag($before->{error});
    my $r = ::http_parallel([[$req, $hdrs, $body]])->[0];
    Test::More::is($r->{status}, $code, "init: $what: status $code");
    my $after = ::prom_scrape();
    Test::More::ok(!$after->{error}, "init: $what: scrape after")
        or Test::More::diag($after->{error});
    for my $k (sort keys %{ $exact || {} }) {
        Test::More::is(val($after, $k) - val($before, $k), $exact->{$k},
                       "init: $what: $k +$exact->{$k}");
    }
    for my $k (sort keys %{ $min || {} }) {
        Test::More::cmp_ok(val($after, $k) - val($before, $k), '>=',
                           $min->{$k}, "init: $what: $k +>=$min->{$k}");
    }
    if ($strict) {
        my @moved = grep {
            /^fwgate_requests_total\{/ && !exists $exact->{$_}
            && val($after, $_) != val($before, $_)
        } sort keys %{ $after->{samples} };
        Test::More::is("@moved", '',
                       "init: $what: no other decision counter moved");
    }
    $LAST = $after;
    return $r;
}

sub dl {
    my ($art, %o) = @_;
    return ("GET /firmware/$art",
            ::sign(path => "/firmware/$art", device => 'M6-000001', %o));
}

# checks of a parsed exposition: every family with its type, every reason
# with both decisions where they apply, a sane histogram
sub check_exposition {
    my ($name, $p) = @_;
    Test::More::ok(!$p->{error}, "$name - exposition parses")
        or Test::More::diag($p->{error});
    my @bad = grep {
        !defined $p->{families}{$_} || $p->{families}{$_} ne $FAMILIES{$_}
    } sort keys %FAMILIES;
    Test::More::is("@bad", '', "$name - every family with its type");
    my @missing = grep { !exists $p->{samples}{rq('deny', $_)} } @REASONS;
    push @missing, 'allow/ok' unless exists $p->{samples}{rq('allow', 'ok')};
    Test::More::is("@missing", '', "$name - a series for every reason");
    my @neg = grep { $p->{samples}{$_} < 0 || $p->{samples}{$_} != int $p->{samples}{$_} }
              grep { !/_sum$/ && !/_seconds$/ } keys %{ $p->{samples} };
    Test::More::is("@neg", '', "$name - counts are non-negative integers");
    my @b = grep { /^fwgate_redis_latency_seconds_bucket/ }
            @{ $p->{order} || [] };
    my ($prev, $mono) = (0, 1);
    for (@b) { $mono = 0 if $p->{samples}{$_} < $prev;
               $prev = $p->{samples}{$_} }
    Test::More::ok(@b >= 2 && $mono && $b[-1] =~ /le="\+Inf"/
                   && $p->{samples}{$b[-1]}
                      == val($p, 'fwgate_redis_latency_seconds_count'),
                   "$name - latency buckets cumulative, +Inf = count");
}

add_response_body_check(sub {
    my ($block, $body, $req_idx, $rep, $dry_run) = @_;
    return unless $block->name =~ /\[exposition\]/;
    my $name = $block->name;
    my $p = ::prom_parse($body);
    check_exposition($name, $p);
    return unless $LAST;
    # nothing the gate decides happened since the init's last scrape
    my @moved = grep {
        /^fwgate_(requests|manifest|reports)_total\{/
        && val($p, $_) != val($LAST, $_)
    } sort keys %{ $LAST->{samples} };
    Test::More::is("@moved", '',
                   "$name - the counters are those the init saw last");
    my @back = grep { val($p, $_) < val($LAST, $_) }
               sort keys %{ $LAST->{samples} };
    Test::More::is("@back", '', "$name - no counter went back");
});

repeat_each(1);
no_long_string();

add_block_preprocessor(sub {
    my ($block) = @_;
    $block->set_value('config', <<'_EOC_') unless defined $block->config;
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
    location = /fw/check {
        fwgate_manifest;
        fwgate_expose_reason on;
    }
    location = /fw/report {
        fwgate_report;
    }
    location = /status {
        fwgate_status;
    }
_EOC_
    # no epoch poll inside a block: the first one after a start makes
    # every cached record stale, which would move the cache counters
    $block->set_value('http_config', ::http_config(cache => 'poll=60s'))
        unless defined $block->http_config;
    $LAST = undef;
    t::FwgateTest::preprocess($block);
});

run_tests();

__DATA__

=== TEST 1: decisions by reason, cache, redis, replay, update checks and reports [exposition]
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
    location = /fw/check {
        fwgate_manifest;
        fwgate_expose_reason on;
    }
    location = /fw/report {
        fwgate_report;
    }
    location = /status {
        fwgate_status;
    }
--- init
::rollout('LS-6000i', artifact => $::A6, percent => 100, from => '>=2.0.0');
::redis('DEL', "fwt31:stats:LS-6000i:$::A6", "fwt31:stats:LS-6000i:$::A6:devices",
        "fwt31:downloads:LS-6000i:$::A6");
Test::More::ok(::prom_python(), 'init: python3 with prometheus_client');
::step('first allowed download', ::dl($::A6), undef, 200,
       { ::rq('allow', 'ok') => 1 },
       { fwgate_cache_misses_total => 1, fwgate_redis_commands_total => 1,
         fwgate_redis_latency_seconds_count => 1,
         fwgate_cache_entries => 4, fwgate_cache_zone_used_bytes => 1 }, 1);
::step('the same download again, from the cache', ::dl($::A6), undef, 200,
       { ::rq('allow', 'ok') => 1, fwgate_cache_misses_total => 0,
         fwgate_cache_entries => 0 },
       { fwgate_cache_hits_total => 1 }, 1);
Test::More::cmp_ok(::val($::LAST, 'fwgate_cache_zone_size_bytes'), '==',
                   1048576, 'init: the cache zone size gauge is the zone');
Test::More::cmp_ok(::val($::LAST, 'fwgate_cache_zone_used_bytes'), '<',
                   ::val($::LAST, 'fwgate_cache_zone_size_bytes'),
                   'init: the zone in use is within its size');
::step('incompatible', ::dl($::A7), undef, 403,
       { ::rq('deny', 'incompatible') => 1 }, {}, 1);
::step('incompatible again', ::dl($::A7), undef, 403,
       { ::rq('deny', 'incompatible') => 1 }, {}, 1);
::step('missing_signature', "GET /firmware/$::A6", '', undef, 401,
       { ::rq('deny', 'missing_signature') => 1 }, {}, 1);
::step('unknown_device', ::dl($::A6, keyid => 'M6-nobody'), undef, 401,
       { ::rq('deny', 'unknown_device') => 1 },
       { fwgate_cache_misses_total => 1 }, 1);
::step('revoked', ::dl($::A6, device => 'M6-000004'), undef, 403,
       { ::rq('deny', 'revoked') => 1 }, {}, 1);
::step('upgrade_path', ::dl($::A6, version => '1.0.0'), undef, 403,
       { ::rq('deny', 'upgrade_path') => 1 }, {}, 1);
::step('downgrade', ::dl($::A6, version => '2.6.0'), undef, 403,
       { ::rq('deny', 'downgrade') => 1 }, {}, 1);
::step('stale', ::dl($::A6, created => CORE::time() - 3600), undef, 401,
       { ::rq('deny', 'stale') => 1 }, {}, 1);
::step('bad_claims', ::dl($::A6, version => 'x'), undef, 400,
       { ::rq('deny', 'bad_claims') => 1 }, {}, 1);
my @once = ::dl($::A6, nonce => 'fwt31-nonce-' . time);
::step('a nonce the first time', @once, undef, 200,
       { ::rq('allow', 'ok') => 1, fwgate_replay_rejects_total => 0 }, {}, 1);
::step('the same nonce again', @once, undef, 401,
       { ::rq('deny', 'replay') => 1, fwgate_replay_rejects_total => 1 },
       {}, 1);
::step('update check with an offer', 'GET /fw/check',
       ::sign(path => '/fw/check', device => 'M6-000002'), undef, 200,
       { 'fwgate_manifest_total{status="200"}' => 1,
         'fwgate_manifest_total{status="204"}' => 0 }, {});
::step('update check, up to date', 'GET /fw/check',
       ::sign(path => '/fw/check', device => 'M6-000003',
              version => '2.5.0'), undef, 204,
       { 'fwgate_manifest_total{status="204"}' => 1,
         'fwgate_manifest_total{status="200"}' => 0 }, {});
my $rep = qq({"artifact":"$::A6","status":"success","version":"2.5.0"});
# the rollout served it (as its download does): its reports count
::redis('HSET', "fwt31:stats:LS-6000i:$::A6:devices", 'M6-000001', 'served');
::step('install report', 'POST /fw/report',
       ::sign_report(path => '/fw/report', device => 'M6-000001',
                     version => '2.5.0', body => $rep)
       . "Content-Type: application/json\n",
       $rep, 204,
       { 'fwgate_reports_total{status="success"}' => 1,
         'fwgate_reports_total{status="failure"}' => 0 }, {});
::step('a malformed report', 'POST /fw/report',
       ::sign_report(path => '/fw/report', device => 'M6-000001',
                     version => '2.5.0', body => '{"artifact":')
       . "Content-Type: application/json\n",
       '{"artifact":', 400,
       { 'fwgate_reports_total{status="rejected"}' => 1,
         'fwgate_reports_total{status="success"}' => 0 }, {});
--- request
GET /status
--- error_code: 200
--- response_headers_like
Content-Type: ^text/plain; version=0\.0\.4; charset=utf-8$
--- response_body_like
^# HELP fwgate_requests_total (?=.*\nfwgate_requests_total\{decision="allow",reason="ok"\} 3\n)(?=.*\nfwgate_requests_total\{decision="deny",reason="incompatible"\} 2\n)(?=.*\nfwgate_requests_total\{decision="deny",reason="stale"\} 1\n)(?=.*\nfwgate_manifest_total\{status="200"\} 1\n)(?=.*\nfwgate_reports_total\{status="success"\} 1\n)Gate decisions by outcome\.



=== TEST 2: Redis unreachable: errors, connects and registry_unavailable [exposition]
--- http_config eval
::http_config(addr => "127.0.0.1:$::DEAD",
              redis => 'connect_timeout=200ms timeout=200ms')
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
    location = /fw/check {
        fwgate_manifest;
        fwgate_expose_reason on;
    }
    location = /fw/report {
        fwgate_report;
    }
    location = /status {
        fwgate_status;
    }
--- init
::step('registry_unavailable', ::dl($::A6), undef, 503,
       { ::rq('deny', 'registry_unavailable') => 1,
         ::rq('allow', 'ok') => 0 },
       { fwgate_redis_errors_total => 1 }, 1);
select undef, undef, undef, 0.3;
::step('registry_unavailable again', ::dl($::A6), undef, 503,
       { ::rq('deny', 'registry_unavailable') => 1 }, {}, 1);
Test::More::cmp_ok(::val($::LAST, 'fwgate_redis_connects_total'), '>=', 1,
                   'init: connection attempts counted');
--- request
GET /status
--- error_code: 200
--- response_body_like
fwgate_requests_total\{decision="deny",reason="registry_unavailable"\} 2
--- no_error_log
[alert]
[crit]
[emerg]



=== TEST 3: a fresh node: everything zero but what it did itself [exposition]
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
    location = /fw/check {
        fwgate_manifest;
        fwgate_expose_reason on;
    }
    location = /fw/report {
        fwgate_report;
    }
    location = /status {
        fwgate_status;
    }
--- request
GET /status
--- error_code: 200
--- response_body_like
fwgate_requests_total\{decision="allow",reason="ok"\} 0\n.*fwgate_manifest_total\{status="200"\} 0\n.*fwgate_cache_hits_total 0



=== TEST 4: HEAD answers the headers only; POST is refused
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
    location = /fw/check {
        fwgate_manifest;
        fwgate_expose_reason on;
    }
    location = /fw/report {
        fwgate_report;
    }
    location = /status {
        fwgate_status;
    }
--- request eval
["HEAD /status", "POST /status\nx=1"]
--- error_code eval
[200, 405]
