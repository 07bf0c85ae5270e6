# Pushed invalidation (docs/many-edges.md, "Pushed invalidation"): every
# registry write also PUBLISHes on <prefix>invalidate, and the edge's
# subscription drops its cached records at once.  The epoch poll is 30 s
# and the ttl 60 s here, so a refusal within a fraction of a second can
# only come from the push.  Changes are made with fwgatectl (::ctl) where
# the suite says so, by hand (redis-cli) elsewhere.

use Test::Nginx::Socket 'no_plan';
use t::FwgateTest;
use Time::HiRes qw(time sleep);
use POSIX ();

fw_setup('fwt22:');

our $FW = '/firmware/lsp-2.0.0.bin';

device('LSP-220001', model => 'LS-P', alg => 'hmac-sha256');
device('LSP-220002', model => 'LS-P', alg => 'hmac-sha256');
artifact('lsp-2.0.0.bin', version => '2.0.0', models => 'LS-P');
rollout('LS-P', artifact => 'lsp-2.0.0.bin');
bump_epoch();

sub hdr { ::sign(device => $_[0] || 'LSP-220001', model => 'LS-P',
                 version => '1.0.0',
                 path => $::FW) }

# the status page's value of one sample, or undef
sub metric {
    my ($name) = @_;
    my $r = ::http_req('/status');
    return $r->{body} =~ /^\Q$name\E (\S+)$/m ? $1 : undef;
}

sub sub_up {
    return ::wait_for(sub { (metric('fwgate_subscription_up') // 0) == 1 },
                      5);
}

# requests every 5 ms from now until one is refused; the seconds it took
sub refused_after {
    my ($t0, $dev) = @_;
    while (time - $t0 < 3) {
        my $r = ::http_req($::FW, hdr($dev));
        return (time - $t0, $r) if $r->{status} == 403;
        sleep 0.005;
    }
    return (undef, undef);
}

# a fresh rollout and device, cached by two allowed requests
sub warm {
    my ($name, $dev) = @_;
    ::rollout('LS-P', artifact => 'lsp-2.0.0.bin');
    ::redis('HSET', "fwt22:device:$dev", 'status', 'active');
    ::redis('PUBLISH', 'fwt22:invalidate', '*');
    Test::More::ok(sub_up(), "$name: subscribed");
    sleep 0.1;
    for (1, 2) {
        my $r = ::http_req($::FW, hdr($dev));
        Test::More::is($r->{status}, 200, "$name: allowed ($_)");
    }
}

our $HTTP = http_config(cache => 'ttl=60s poll=30s');

repeat_each(1);
no_shuffle();
no_long_string();
add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value('http_config', $::HTTP)
        unless defined $block->http_config;
    $block->set_value('config', <<'_EOC_') unless defined $block->config;
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
    location = /status {
        fwgate_status;
    }
_EOC_
    t::FwgateTest::preprocess($block);
});

run_tests();

__DATA__

=== TEST 1: fwgatectl rollout halt reaches the edge by push, not poll
--- init
::warm('TEST 1', 'LSP-220001');
# a record cached without a change stays: the control
::redis('HSET', 'fwt22:rollout:LS-P', 'percent', '100');
my $r = ::http_req($::FW, ::hdr());
Test::More::is($r->{status}, 200, 'TEST 1: still cached');
my @lat;
for my $i (1 .. 3) {
    ::rollout('LS-P', artifact => 'lsp-2.0.0.bin') if $i > 1;
    ::redis('PUBLISH', 'fwt22:invalidate', '*') if $i > 1;
    Time::HiRes::sleep(0.1);
    $r = ::http_req($::FW, ::hdr());
    Test::More::is($r->{status}, 200, "TEST 1: run $i: allowed before");
    my $t0 = Time::HiRes::time();
    my ($rc, $out) = ::ctl('rollout', 'halt', 'LS-P');
    Test::More::is($rc, 0, "TEST 1: run $i: fwgatectl rollout halt");
    my ($lat, $res) = ::refused_after($t0);
    Test::More::ok(defined $lat && $lat < 0.5,
                   "TEST 1: run $i: refused after "
                   . (defined $lat ? sprintf('%.0f ms', $lat * 1000) : '-'));
    Test::More::is($res && $res->{headers}{'x-fwgate-reason'},
                   'rollout_halted', "TEST 1: run $i: rollout_halted");
    push @lat, $lat if defined $lat;
}
Test::More::diag(sprintf('halt to first refusal (fwgatectl included): %s',
                 join(' ', map { sprintf '%.0fms', $_ * 1000 } @lat)))
    if $ENV{FWGATE_PUSH_VERBOSE};
--- request
GET /status
--- response_body_like
fwgate_invalidations_total\{source="push"\} [1-9]
--- no_error_log
[error]
[alert]



=== TEST 2: fwgatectl device revoke reaches the edge by push
--- init
::warm('TEST 2', 'LSP-220002');
my $t0 = Time::HiRes::time();
my ($rc) = ::ctl('device', 'revoke', 'LSP-220002');
Test::More::is($rc, 0, 'TEST 2: fwgatectl device revoke');
my ($lat, $res) = ::refused_after($t0, 'LSP-220002');
Test::More::ok(defined $lat && $lat < 0.5, 'TEST 2: refused after '
               . (defined $lat ? sprintf('%.0f ms', $lat * 1000) : '-'));
Test::More::is($res && $res->{headers}{'x-fwgate-reason'}, 'revoked',
               'TEST 2: revoked');
--- request
GET /status
--- response_body_like
fwgate_subscription_up 1
--- no_error_log
[error]
[alert]



=== TEST 3: a PUBLISH by hand invalidates; without it the record stays
--- init
::warm('TEST 3', 'LSP-220001');
::rollout('LS-P', artifact => 'lsp-2.0.0.bin', state => 'paused');
Time::HiRes::sleep(0.2);
my $r = ::http_req($::FW, ::hdr());
Test::More::is($r->{status}, 200, 'TEST 3: no message, still cached');
my $m0 = ::metric('fwgate_subscription_messages_total');
::redis('PUBLISH', 'fwt22:invalidate', 'rollout:LS-P');
Time::HiRes::sleep(0.1);
Test::More::is(::metric('fwgate_subscription_messages_total'), $m0 + 1,
               'TEST 3: one message counted');
Test::More::ok(::metric('fwgate_subscription_last_message_seconds')
               >= Time::HiRes::time() - 5, 'TEST 3: last message time');
--- request eval
"GET $::FW"
--- more_headers eval: ::hdr()
--- error_code: 403
--- response_headers
X-Fwgate-Reason: rollout_paused
--- no_error_log
[error]
[alert]



=== TEST 4: the subscription killed: polling works meanwhile, it comes back
--- http_config eval: ::http_config(cache => 'ttl=60s poll=300ms')
--- init
::warm('TEST 4', 'LSP-220001');
my $c0 = ::metric('fwgate_redis_connects_total');
my $p0 = ::metric('fwgate_invalidations_total{source="poll"}');
# kill every subscriber for 1.5 s while a change comes with no message
my $pid = fork;
die "fork: $!" unless defined $pid;
if ($pid == 0) {
    my $end = Time::HiRes::time() + 1.5;
    while (Time::HiRes::time() < $end) {
        ::redis('CLIENT', 'KILL', 'TYPE', 'pubsub');
        Time::HiRes::sleep(0.01);
    }
    POSIX::_exit(0);
}
Time::HiRes::sleep(0.2);
::rollout('LS-P', artifact => 'lsp-2.0.0.bin', state => 'paused');
::bump_epoch();
my ($lat, $res) = ::refused_after(Time::HiRes::time());
Test::More::ok(defined $lat && $lat < 1, 'TEST 4: the poll saw the change');
Test::More::is($res && $res->{headers}{'x-fwgate-reason'}, 'rollout_paused',
               'TEST 4: rollout_paused');
Test::More::ok(::metric('fwgate_invalidations_total{source="poll"}') > $p0,
               'TEST 4: counted as the poll\'s');
waitpid $pid, 0;
Test::More::ok(::sub_up(), 'TEST 4: subscribed again');
Test::More::ok(::metric('fwgate_redis_connects_total') > $c0,
               'TEST 4: by reconnecting');
# and the new subscription works
::rollout('LS-P', artifact => 'lsp-2.0.0.bin');
::redis('PUBLISH', 'fwt22:invalidate', '*');
Time::HiRes::sleep(0.1);
$res = ::http_req($::FW, ::hdr());
Test::More::is($res->{status}, 200, 'TEST 4: resumed by push');
::rollout('LS-P', artifact => 'lsp-2.0.0.bin', state => 'halted');
::redis('PUBLISH', 'fwt22:invalidate', 'rollout:LS-P');
Time::HiRes::sleep(0.1);
--- request eval
"GET $::FW"
--- more_headers eval: ::hdr()
--- error_code: 403
--- response_headers
X-Fwgate-Reason: rollout_halted
--- error_log
invalidation subscription lost



=== TEST 5: a lower epoch (a failover) is a change too
--- http_config eval: ::http_config(cache => 'ttl=60s poll=200ms')
--- init
::warm('TEST 5', 'LSP-220001');
::redis('SET', 'fwt22:epoch', 1000);
::redis('PUBLISH', 'fwt22:invalidate', '*');
Time::HiRes::sleep(0.5);
my $r = ::http_req($::FW, ::hdr());
Test::More::is($r->{status}, 200, 'TEST 5: allowed at epoch 1000');
::rollout('LS-P', artifact => 'lsp-2.0.0.bin', state => 'paused');
::redis('SET', 'fwt22:epoch', 7);
Time::HiRes::sleep(0.7);
--- request eval
"GET $::FW"
--- more_headers eval: ::hdr()
--- error_code: 403
--- response_headers
X-Fwgate-Reason: rollout_paused
