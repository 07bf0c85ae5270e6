# Rollouts (SPEC sections 3 and 4, steps 13, 15, 16): from-ranges,
# downgrades, and pause/halt/resume reaching a running edge through
# fwgate:epoch within the poll interval, while the cache ttl is long.

use Test::Nginx::Socket 'no_plan';
use t::FwgateTest;

fw_setup('fwt15:');

device('LS6-500001', model => 'LS-6000i', alg => 'hmac-sha256');
device('LSD-500001', model => 'LS-D', alg => 'hmac-sha256');
device('LSG-500001', model => 'LS-G', alg => 'hmac-sha256');
device('LSE-500001', model => 'LS-E', alg => 'hmac-sha256');

artifact('ls6000i-2.5.0.bin', version => '2.5.0', models => 'LS-6000i');
artifact('lsd-2.5.0.bin', version => '2.5.0', models => 'LS-D');
artifact('lsg-2.5.0.bin', version => '2.5.0', models => 'LS-G');
artifact('lse-1.0.0.bin', version => '1.0.0', models => 'LS-E');
artifact('lse-1.1.0.bin', version => '1.1.0', models => 'LS-E');

rollout('LS-6000i', artifact => 'ls6000i-2.5.0.bin',
        from => '>=2.0.0 <2.5.0 || =1.9.9');
rollout('LS-D', artifact => 'lsd-2.5.0.bin');
rollout('LS-G', artifact => 'lsg-2.5.0.bin', downgrade => 1);
rollout('LS-E', artifact => 'lse-1.0.0.bin');
bump_epoch();

# version claimed => expected reason, for one artifact
sub versions {
    my ($dev, $model, $art, @cases) = @_;
    my %c = (req => [], hdr => [], code => [], exp => []);
    while (my ($v, $reason) = splice @cases, 0, 2) {
        push @{ $c{req} }, "GET /firmware/$art";
        push @{ $c{hdr} }, sign(device => $dev, model => $model,
                                version => $v, path => "/firmware/$art");
        push @{ $c{code} }, $reason eq 'ok' ? 200 : 403;
        push @{ $c{exp} }, "X-Fwgate-Reason: $reason\nX-Version: $v";
    }
    return \%c;
}

our $FROM = versions('LS6-500001', 'LS-6000i', 'ls6000i-2.5.0.bin',
    '2.4.1' => 'ok', '2.0.0' => 'ok', '1.9.9' => 'ok',
    '2.5.0-rc.1' => 'ok', '2.4.99' => 'ok',
    '1.9.8' => 'upgrade_path', '2.0.0-beta' => 'upgrade_path',
    '2.5.0+build.7' => 'upgrade_path', '3.0.0' => 'upgrade_path',
    '1.9.10' => 'upgrade_path');

our $DOWN = versions('LSD-500001', 'LS-D', 'lsd-2.5.0.bin',
    '2.6.0' => 'downgrade', '2.5.0' => 'ok', '2.5.0+meta.1' => 'ok',
    '2.5.0-rc.1' => 'ok', '2.5.1-alpha' => 'downgrade',
    '10.0.0' => 'downgrade', '2.10.0' => 'downgrade', '2.4.9' => 'ok');

our $GRADE = versions('LSG-500001', 'LS-G', 'lsg-2.5.0.bin',
    '2.6.0' => 'ok', '10.0.0' => 'ok', '2.5.0' => 'ok');

our %SE = (device => 'LSE-500001', model => 'LS-E', version => '0.9.0',
           path => '/firmware/lse-1.0.0.bin');
our $HE = sign(%SE);

# ttl far longer than the test: only the epoch can make records stale
our $HTTP_POLL = http_config(cache => 'ttl=60s poll=200ms');

repeat_each(2);
no_shuffle();
no_long_string();
add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value('config', <<'_EOC_') unless defined $block->config;
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
        add_header X-Version $fwgate_version always;
    }
_EOC_
    t::FwgateTest::preprocess($block);
});

run_tests();

__DATA__

=== TEST 1: from ">=2.0.0 <2.5.0 || =1.9.9"
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
        add_header X-Version $fwgate_version always;
    }
--- request eval: $::FROM->{req}
--- more_headers eval: $::FROM->{hdr}
--- error_code eval: $::FROM->{code}
--- response_headers eval: $::FROM->{exp}



=== TEST 2: downgrades refused, SemVer precedence
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
        add_header X-Version $fwgate_version always;
    }
--- request eval: $::DOWN->{req}
--- more_headers eval: $::DOWN->{hdr}
--- error_code eval: $::DOWN->{code}
--- response_headers eval: $::DOWN->{exp}



=== TEST 3: downgrade=1 allows them
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
        add_header X-Version $fwgate_version always;
    }
--- request eval: $::GRADE->{req}
--- more_headers eval: $::GRADE->{hdr}
--- error_code eval: $::GRADE->{code}
--- response_headers eval: $::GRADE->{exp}



=== TEST 4: a change without an epoch bump waits for the ttl
(control for the tests below: the record stays cached)
--- http_config eval: $::HTTP_POLL
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
        add_header X-Version $fwgate_version always;
    }
--- init
::rollout('LS-E', artifact => 'lse-1.0.0.bin', state => 'active');
::bump_epoch();
select undef, undef, undef, 0.5;
my $r = ::http_req('/firmware/lse-1.0.0.bin', $::HE);
Test::More::is($r->{status}, 200, 'TEST 4: active before the change');
::rollout('LS-E', artifact => 'lse-1.0.0.bin', state => 'paused');
select undef, undef, undef, 0.7;
--- request
GET /firmware/lse-1.0.0.bin
--- more_headers eval: $::HE
--- error_code: 200
--- response_headers
X-Fwgate-Reason: ok



=== TEST 5: pause reaches the edge through the epoch
--- http_config eval: $::HTTP_POLL
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
        add_header X-Version $fwgate_version always;
    }
--- init
::rollout('LS-E', artifact => 'lse-1.0.0.bin', state => 'active');
::bump_epoch();
select undef, undef, undef, 0.5;
my $r = ::http_req('/firmware/lse-1.0.0.bin', $::HE);
Test::More::is($r->{status}, 200, 'TEST 5: active before the pause');
::rollout('LS-E', artifact => 'lse-1.0.0.bin', state => 'paused');
::bump_epoch();
select undef, undef, undef, 0.7;
--- request
GET /firmware/lse-1.0.0.bin
--- more_headers eval: $::HE
--- error_code: 403
--- response_headers
X-Fwgate-Reason: rollout_paused



=== TEST 6: halt reaches the edge through the epoch
--- http_config eval: $::HTTP_POLL
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
        add_header X-Version $fwgate_version always;
    }
--- init
::rollout('LS-E', artifact => 'lse-1.0.0.bin', state => 'active');
::bump_epoch();
select undef, undef, undef, 0.5;
my $r = ::http_req('/firmware/lse-1.0.0.bin', $::HE);
Test::More::is($r->{status}, 200, 'TEST 6: active before the halt');
::rollout('LS-E', artifact => 'lse-1.0.0.bin', state => 'halted');
::bump_epoch();
select undef, undef, undef, 0.7;
--- request
GET /firmware/lse-1.0.0.bin
--- more_headers eval: $::HE
--- error_code: 403
--- response_headers
X-Fwgate-Reason: rollout_halted



=== TEST 7: resume reaches the edge through the epoch
--- http_config eval: $::HTTP_POLL
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
        add_header X-Version $fwgate_version always;
    }
--- init
::rollout('LS-E', artifact => 'lse-1.0.0.bin', state => 'paused');
::bump_epoch();
select undef, undef, undef, 0.5;
my $r = ::http_req('/firmware/lse-1.0.0.bin', $::HE);
Test::More::is($r->{status}, 403, 'TEST 7: paused before the resume');
::rollout('LS-E', artifact => 'lse-1.0.0.bin', state => 'active');
::bump_epoch();
select undef, undef, undef, 0.7;
--- request
GET /firmware/lse-1.0.0.bin
--- more_headers eval: $::HE
--- error_code: 200
--- response_headers
X-Fwgate-Reason: ok



=== TEST 8: a new target reaches the edge through the epoch
--- http_config eval: $::HTTP_POLL
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
        add_header X-Version $fwgate_version always;
    }
--- init
::rollout('LS-E', artifact => 'lse-1.0.0.bin', state => 'active');
::bump_epoch();
select undef, undef, undef, 0.5;
my $r = ::http_req('/firmware/lse-1.0.0.bin', $::HE);
Test::More::is($r->{status}, 200, 'TEST 8: the old target before');
::rollout('LS-E', artifact => 'lse-1.1.0.bin', state => 'active');
::bump_epoch();
select undef, undef, undef, 0.7;
--- request
GET /firmware/lse-1.0.0.bin
--- more_headers eval: $::HE
--- error_code: 403
--- response_headers
X-Fwgate-Reason: not_released



=== TEST 9: a halt reaches a request served from the canary cache too
(the device is a canary: membership is cached as well)
--- http_config eval: $::HTTP_POLL
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
        add_header X-Version $fwgate_version always;
    }
--- init
::rollout('LS-E', artifact => 'lse-1.0.0.bin', state => 'active',
          percent => 0);
::canary('LS-E', 'LSE-500001');
::bump_epoch();
select undef, undef, undef, 0.5;
my $r = ::http_req('/firmware/lse-1.0.0.bin', $::HE);
Test::More::is($r->{status}, 200, 'TEST 9: canary before the halt');
::rollout('LS-E', artifact => 'lse-1.0.0.bin', state => 'halted',
          percent => 0);
::bump_epoch();
select undef, undef, undef, 0.7;
--- request
GET /firmware/lse-1.0.0.bin
--- more_headers eval: $::HE
--- error_code: 403
--- response_headers
X-Fwgate-Reason: rollout_halted
