# Least privilege: an edge authenticates as a Redis 7 ACL user made for
# edges (docs/many-edges.md, "Least privilege"), its password read from a
# file (fwgate_redis ... user= password_file=) so the secret stays out of
# nginx.conf.  Under that user the gate, install reports and the
# automatic halt work, and the registry's device and artifact records
# cannot be written.

use Test::Nginx::Socket 'no_plan';
use t::FwgateTest;
use File::Temp qw(tempdir);

fw_setup('fwt24:');

our @D = map { sprintf 'LS6-24%04d', $_ } 1 .. 4;
device($_, model => 'LS-6000i', alg => 'hmac-sha256') for @D;
our $A6 = 'ls6000i-2.5.0.bin';
artifact($A6, version => '2.5.0', models => 'LS-6000i');
rollout('LS-6000i', artifact => $A6, halt_failures => 2, halt_ratio => 0.5);

# the edge user, as docs/many-edges.md gives it (prefix fwt24:)
our $SECRET = 'edge-secret-' . int(rand(1e9));
redis('ACL', 'DELUSER', 'fwt24-edge');
redis('ACL', 'SETUSER', 'fwt24-edge', 'on', ">$SECRET", 'resetkeys',
      'resetchannels',
      '%R~fwt24:*', '~fwt24:stats:*', '~fwt24:downloads:*',
      '~fwt24:rollouts:watch', '~fwt24:epoch', '~fwt24:rollout:*:halt',
      '&fwt24:invalidate',
      '-@all', '+ping', '+auth', '+hello', '+select', '+role', '+get',
      '+hgetall', '+hget', '+hmget', '+sismember', '+smembers', '+zcount',
      '+subscribe', '+publish', '+eval', '+evalsha', '+hset', '+hsetnx',
      '+hincrby', '+zadd', '+zrem', '+sadd', '+srem', '+incr');

our $DIR = tempdir('fwgate-t24-XXXXXX', TMPDIR => 1, CLEANUP => 1);
{
    open my $f, '>', "$DIR/redis.pass" or die;
    print $f "$SECRET\n";
    close $f;
}
$ENV{TEST_NGINX_PASSFILE} = "$DIR/redis.pass";

# redis-cli as the edge user: its answer (an error names NOPERM)
sub as_edge {
    my @cmd = ('redis-cli', '-p', redis_port(), '--user', 'fwt24-edge',
               '--pass', $SECRET, '--no-auth-warning', @_);
    open my $c, '-|', @cmd or die;
    local $/;
    my $out = <$c>;
    close $c;
    return $out // '';
}

sub report_body {
    my ($st) = @_;
    return qq({"artifact":"$A6","status":"$st","version":"2.5.0"});
}

our $CONF = <<'_EOC_';
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
    location = /fw/report {
        fwgate_report;
        fwgate_expose_reason on;
    }
_EOC_

sub edge_http {
    ::http_config(redis => 'user=fwt24-edge '
                           . 'password_file=$TEST_NGINX_PASSFILE')
}

repeat_each(1);
no_shuffle();
no_long_string();
add_block_preprocessor(\&t::FwgateTest::preprocess);

run_tests();

__DATA__

=== TEST 1: the edge user cannot rewrite what is served: HSET on an
artifact, a device or a rollout record is refused (NOPERM); reading works
--- init
Test::More::like(main::as_edge('HSET', "fwt24:artifact:$main::A6", 'models',
                               'LS-6000i LS-7000i'),
                 qr/NOPERM/, 'init: HSET artifact refused');
Test::More::like(main::as_edge('HSET', "fwt24:device:$main::D[0]", 'status',
                               'active'),
                 qr/NOPERM/, 'init: HSET device refused');
Test::More::like(main::as_edge('DEL', "fwt24:artifact:$main::A6"),
                 qr/NOPERM/, 'init: DEL refused');
Test::More::like(main::as_edge('HSET', 'fwt24:rollout:LS-6000i', 'artifact',
                               'ls7000i-3.0.0.bin'),
                 qr/NOPERM/, 'init: HSET rollout refused (re-point)');
Test::More::like(main::as_edge('HSET', 'fwt24:rollout:LS-6000i', 'percent',
                               '100'),
                 qr/NOPERM/, 'init: HSET rollout refused (widen)');
Test::More::like(main::as_edge('HGET', "fwt24:artifact:$main::A6", 'models'),
                 qr/^LS-6000i$/m, 'init: HGET allowed');
--- request
GET /plain
--- response_body
plain



=== TEST 2: the gate, as the edge user with its password from a file
--- http_config eval: main::edge_http()
--- config eval: $::CONF
--- request
GET /firmware/ls6000i-2.5.0.bin
--- more_headers eval
::sign(device => $::D[0], path => "/firmware/$::A6")
--- error_code: 200
--- response_headers
X-Fwgate-Reason: ok
--- no_error_log
[error]
edge-secret



=== TEST 3: install reports and the automatic halt, as the edge user
--- http_config eval: main::edge_http()
--- config eval: $::CONF
--- init
::rollout('LS-6000i', artifact => $main::A6, halt_failures => 2,
          halt_ratio => 0.5);
::bump_epoch();
::redis('DEL', "fwt24:stats:LS-6000i:$main::A6",
        "fwt24:stats:LS-6000i:$main::A6:devices");
for my $d (@main::D[1 .. 2]) {
    my $r = ::http_req("GET /firmware/$main::A6",
                       ::sign(device => $d, path => "/firmware/$main::A6"));
    Test::More::is($r->{status}, 200, "init: $d downloads");
}
::wait_for(sub { ::redis('HGET', "fwt24:stats:LS-6000i:$main::A6:devices",
                         $main::D[2]) =~ /served/ }, 3);
my $b = main::report_body('failure');
my ($s, $t0) = ::http_send('POST /fw/report',
    ::sign_report(device => $main::D[1], path => '/fw/report', body => $b)
    . "Content-Type: application/json\nContent-Length: " . length($b) . "\n");
print $s $b;
Test::More::is(::http_read($s, $t0)->{status}, 204,
               'init: a failure report recorded');
--- request eval
"POST /fw/report\n" . main::report_body('failure')
--- more_headers eval
::sign_report(device => $::D[2], path => '/fw/report',
              body => main::report_body('failure'))
. "Content-Type: application/json\n"
--- error_code: 204
--- error_log
halted: artifact "ls6000i-2.5.0.bin", 2 failures
--- response_headers
X-Fwgate-Reason: ok
--- no_error_log
NOPERM
[alert]



=== TEST 4: a password_file that cannot be read stops nginx -t
--- http_config eval
::http_config(redis => 'user=fwt24-edge password_file=/nonexistent/pass')
--- config eval: $::CONF
--- must_die
--- error_log
"/nonexistent/pass" failed
