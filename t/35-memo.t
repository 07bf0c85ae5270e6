# The worker's decision memo (issue 16): an allow is kept per device,
# claims, artifact, URI and registry generation, and must never outlive
# what it was decided from:
#
#  - a registry change seen by the epoch poll ends it (revoke, halt);
#  - a record's ttl ends it, even when nobody bumped the epoch;
#  - a hit still verifies the request's own signature and nonce;
#  - another URI, another location or other claims are other entries;
#  - fwgate_decision_memo off keeps nothing;
#  - fwgate_decision_memo_size bounds the entries of a worker: a fleet
#    larger than it still gets memoized, evicting others' entries, and
#    never serves one device's decision to another (TESTS 11-13);
#  - the model's automatic-halt record, cached for negative_ttl while
#    absent, is read again on every hit: an entry outlives its expiry, a
#    halt written without an epoch bump does not go unseen (TESTS 14-15).
#
# Every block first makes the memo hold the decision (two allowed
# downloads in the block's --- init), then changes one thing.

use Test::Nginx::Socket 'no_plan';
use t::FwgateTest;
use MIME::Base64 ();

fw_setup('fwt35:');

our @D = map { sprintf 'LS6-835%03d', $_ } 0 .. 11;
device($_, model => 'LS-6000i', alg => 'hmac-sha256') for @D;

our $A6 = 'ls6000i-2.5.0.bin';
our $FW = "/firmware/$A6";
our $SHA6 = artifact($A6, version => '2.5.0', models => 'LS-6000i',
                     file_size => 2000);
rollout('LS-6000i', artifact => $A6, percent => 100);

sub must {
    my ($what, $dev, $want, %o) = @_;
    my $path = $o{path} || $FW;
    my $r = ::http_req("GET $path",
                       ::sign(device => $dev, path => $path, %o));
    die "$what: $r->{status} " . ($r->{headers}{'x-fwgate-reason'} || '')
        . ", want $want\n" unless $r->{status} == $want;
    return $r;
}

# two allowed downloads (the second is a memo hit), then the change
sub then_change {
    my ($dev, $change, $wait) = @_;
    must('first', $dev, 200);
    must('second', $dev, 200);
    $change->() if $change;
    select undef, undef, undef, $wait if $wait;
}

our $SEEN = ::sign(device => $D[4], path => $FW, nonce => 'memo-replay-1');

# TESTS 11-12: a memo of 16 entries, and fleets of 40 devices of two models
# (the second model's artifact is another version: a decision served from
# another device's entry would show in X-Firmware-Version)
our $A7 = 'ls6100-3.1.0.bin';
our $SHA7 = artifact($A7, version => '3.1.0', models => 'LS-6100',
                     file_size => 1500);
rollout('LS-6100', artifact => $A7, percent => 100);

our %FOR = ('LS-6000i' => [$FW, '2.5.0', $SHA6],
            'LS-6100' => ["/firmware/$A7", '3.1.0', $SHA7]);

sub fleet {
    my ($fmt) = @_;
    return map {
        my $m = $_ % 2 ? 'LS-6100' : 'LS-6000i';
        device(sprintf($fmt, $_), model => $m, alg => 'hmac-sha256');
        [sprintf($fmt, $_), $m];
    } 0 .. 39;
}

our @E = fleet('LS6-836%03d');          # TEST 11
our @F = fleet('LS6-837%03d');          # TEST 12
our $X = device('LS6-838000', model => 'LS-6000i', alg => 'hmac-sha256');
our $R = device('LS6-838001', model => 'LS-6000i', alg => 'hmac-sha256',
                status => 'revoked');

our $STATUS_CONF = <<'_EOC_';
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
    location = /status {
        fwgate_status;
    }
_EOC_

# the fwgate_memo_total counters, from /status
sub memo_counts {
    my $r = ::http_req('GET /status');
    die "/status: $r->{status}\n" unless $r->{status} == 200;
    my %c = $r->{body} =~ /^fwgate_memo_total\{result="(\w+)"\} (\d+)$/mg;
    die "/status: no fwgate_memo_total\n" unless keys %c == 4;
    return \%c;
}

# a device of @E or @F downloads its model's artifact: allowed, and the
# version of its own model's artifact whether decided or remembered
sub download {
    my ($what, $d) = @_;
    my ($path, $version, $sha) = @{ $FOR{ $d->[1] } };
    my $r = must($what, $d->[0], 200, model => $d->[1], path => $path);
    my $got = $r->{headers}{'x-firmware-version'} || '';
    die "$what: $d->[0] was answered version $got, want $version\n"
        unless $got eq $version;
    # the two models' artifacts alternate: the worker's kept Repr-Digest
    # value must follow the artifact served
    my $want = 'sha-256=:' . MIME::Base64::encode_base64(pack('H*', $sha), '')
               . ':';
    $got = $r->{headers}{'repr-digest'} || '';
    die "$what: $d->[0] was answered Repr-Digest $got, want $want\n"
        unless $got eq $want;
}

# each device's downloads in a row: the first decides in full, the next
# are hits; returns the counters' increases over them.  A device's very
# first download waits for its record from Redis, and what was fetched is
# not memoized: a pass before brings every record into the cache.
sub downloads_in_a_row {
    my ($fleet, $n, $between) = @_;
    download("$_->[0] fetched", $_) for @$fleet;
    my $c0 = memo_counts();
    for my $d (@$fleet) {
        download("$d->[0] download $_", $d) for 1 .. $n;
        $between->() if $between;
    }
    my $c1 = memo_counts();
    return { map { $_ => $c1->{$_} - $c0->{$_} } keys %$c1 };
}

# TEST 10 left admission limits: the rollout as it was, and the epoch poll
# that ends every entry (the first after a start does too) seen before
# the block counts
sub fresh {
    ::rollout('LS-6000i', artifact => $A6, percent => 100);
    ::bump_epoch();
    select undef, undef, undef, 1.5;
}

our $MEMO16 = ::http_config(extra => "    fwgate_decision_memo_size 16;\n");

repeat_each(1);
no_shuffle();
no_long_string();
add_block_preprocessor(\&t::FwgateTest::preprocess);

run_tests();

__DATA__

=== TEST 1: a warm allow is a memo hit, and still allowed
--- log_level: debug
--- init
main::then_change($::D[0]);
--- request eval
"GET $::FW"
--- more_headers eval
::sign(device => $::D[0], path => $::FW)
--- error_code: 200
--- response_headers
X-Fwgate-Reason: ok
X-Firmware-Version: 2.5.0
--- error_log
fwgate: decision memo hit



=== TEST 2: revoked after a memo hit, the epoch bumped: refused within the
poll
--- init
main::then_change($::D[1], sub {
    ::redis('HSET', "fwt35:device:$::D[1]", 'status', 'revoked');
    ::bump_epoch() }, 1.5);
--- request eval
"GET $::FW"
--- more_headers eval
::sign(device => $::D[1], path => $::FW)
--- error_code: 403
--- response_headers
X-Fwgate-Reason: revoked



=== TEST 3: the rollout halted after a memo hit: refused within the poll
--- init
main::then_change($::D[2], sub {
    ::redis('HSET', 'fwt35:rollout:LS-6000i', 'state', 'halted');
    ::bump_epoch() }, 1.5);
--- request eval
"GET $::FW"
--- more_headers eval
::sign(device => $::D[2], path => $::FW)
--- error_code: 403
--- response_headers
X-Fwgate-Reason: rollout_halted



=== TEST 4: no epoch bump at all: the memo ends with its records' ttl
--- http_config eval
::http_config(cache => 'ttl=1s')
--- init
::rollout('LS-6000i', artifact => $::A6, percent => 100);
::bump_epoch();
select undef, undef, undef, 1.5;
main::then_change($::D[3], sub {
    ::redis('HSET', "fwt35:device:$::D[3]", 'status', 'revoked') }, 1.5);
--- request eval
"GET $::FW"
--- more_headers eval
::sign(device => $::D[3], path => $::FW)
--- error_code: 403
--- response_headers
X-Fwgate-Reason: revoked



=== TEST 5: a memo hit still checks the request's signature
--- init
main::then_change($::D[5]);
--- request eval
"GET $::FW"
--- more_headers eval
my $h = ::sign(device => $::D[5], path => $::FW);
$h =~ s/(Signature: fw=:)(.)/$1 . ($2 eq 'A' ? 'B' : 'A')/e;
$h
--- error_code: 401
--- response_headers
X-Fwgate-Reason: bad_signature



=== TEST 6: a memo hit still refuses a replayed nonce
--- init
main::then_change($::D[4]);
main::http_req("GET $::FW", $::SEEN);
--- request eval
"GET $::FW"
--- more_headers eval
$::SEEN
--- error_code: 401
--- response_headers
X-Fwgate-Reason: replay



=== TEST 7: another URI is another decision: the image kept in another
folder under the artifact's name is not served from the memo
--- init
main::then_change($::D[6]);
--- request eval
"GET /firmware/x/$::A6"
--- more_headers eval
::sign(device => $::D[6], path => "/firmware/x/$::A6")
--- error_code: 404
--- response_headers
X-Fwgate-Reason: path_mismatch



=== TEST 8: other claims are another decision: a claimed model the record
does not have
--- init
main::then_change($::D[7]);
--- request eval
"GET $::FW"
--- more_headers eval
::sign(device => $::D[7], path => $::FW, model => 'LS-7000i')
--- error_code: 403
--- response_headers
X-Fwgate-Reason: model_mismatch



=== TEST 9: fwgate_decision_memo off: every request decides in full
--- log_level: debug
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
        fwgate_decision_memo off;
    }
--- init
main::then_change($::D[8]);
--- request eval
"GET $::FW"
--- more_headers eval
::sign(device => $::D[8], path => $::FW)
--- error_code: 200
--- no_error_log
decision memo hit



=== TEST 10: admission still applies on a hit: with one start a minute, a
second device is throttled on its first download and again on the next
which the memo answers
--- log_level: debug
--- init
::redis('DEL', 'fwt35:starts:LS-6000i:ls6000i-2.5.0.bin',
        'fwt35:downloads:LS-6000i:ls6000i-2.5.0.bin');
::rollout('LS-6000i', artifact => $::A6, percent => 100,
          max_starts_per_min => 1);
::bump_epoch();
select undef, undef, undef, 1.5;
main::must('first device', $::D[10], 200);
main::must('second device', $::D[11], 503);
main::must('second device, decided from cached records', $::D[11], 503);
--- request eval
"GET $::FW"
--- more_headers eval
::sign(device => $::D[11], path => $::FW)
--- error_code: 503
--- response_headers
X-Fwgate-Reason: rollout_throttled
--- error_log
fwgate: decision memo hit



=== TEST 11: fwgate_decision_memo_size 16 and 40 devices: each one's second
download in a row is a hit while the entries of the others are taken over
--- http_config eval: $::MEMO16
--- config eval: $::STATUS_CONF
--- log_level: debug
--- init
main::fresh();
my $d = main::downloads_in_a_row(\@::E, 2);
Test::More::is($d->{hit}, 40, 'TEST 11: 40 second downloads were hits');
Test::More::is($d->{stored}, 40, 'TEST 11: 40 allows stored');
Test::More::cmp_ok($d->{evicted}, '>=', 24,
                   'TEST 11: 16 entries held 40 devices: 24 evicted or more');
--- request eval
"GET $::FW"
--- more_headers eval
::sign(device => $::E[38][0], path => $::FW)
--- error_code: 200
--- response_headers
X-Fwgate-Reason: ok
X-Firmware-Version: 2.5.0
--- error_log
fwgate: decision memo hit



=== TEST 12: eviction never serves a wrong decision: past a full memo each
device gets its own model's version, a revoked device is refused, and a
device evicted then revoked is refused after the epoch bump
--- http_config eval: $::MEMO16
--- config eval: $::STATUS_CONF
--- init
main::fresh();
main::download("$::X first", [$::X, 'LS-6000i']);
main::download("$::X second", [$::X, 'LS-6000i']);
my $n = 0;
my $d = main::downloads_in_a_row(\@::F, 3, sub {
    main::must('revoked device', $::R, 403) if ++$n % 8 == 0 });
Test::More::is($d->{hit}, 80, 'TEST 12: every device hit twice');
Test::More::is($d->{stored}, 40, 'TEST 12: 40 allows stored');
Test::More::cmp_ok($d->{evicted}, '>=', 24, 'TEST 12: entries evicted');
::redis('HSET', "fwt35:device:$::X", 'status', 'revoked');
::bump_epoch();
select undef, undef, undef, 1.5;
--- request eval
"GET $::FW"
--- more_headers eval
::sign(device => $::X, path => $::FW)
--- error_code: 403
--- response_headers
X-Fwgate-Reason: revoked



=== TEST 13: fwgate_decision_memo_size 3: nginx -t fails, naming the bounds
--- http_config eval
::http_config(extra => "    fwgate_decision_memo_size 3;\n")
--- must_die
--- error_log
"fwgate_decision_memo_size" 3: a worker's memo holds 16 to 16777216 entries



=== TEST 14: an automatic halt written with no epoch bump: a memo hit sees
it once the absent record's negative_ttl has run out
--- http_config eval
::http_config(cache => 'ttl=60s negative_ttl=1s')
--- init
::rollout('LS-6000i', artifact => $::A6, percent => 100);
::bump_epoch();
select undef, undef, undef, 1.5;
main::then_change($::D[6], sub {
    ::redis('HSET', "fwt35:rollout:LS-6000i:halt", 'artifact', $::A6,
            'reason', 'memo test', 'at', time) }, 1.5);
# another device's full decision brings the halt record into the cache:
# the entry of $D[6] is within its time, the halt record fresh and present
main::must('another device', $::D[8], 403);
--- request eval
"GET $::FW"
--- more_headers eval
::sign(device => $::D[6], path => $::FW)
--- error_code: 403
--- response_headers
X-Fwgate-Reason: rollout_halted



=== TEST 15: past the halt record's negative_ttl, with no halt, the entry
still answers: a hit, not the full path
--- http_config eval
::http_config(cache => 'ttl=60s negative_ttl=1s')
--- config eval: $::STATUS_CONF
--- init
::redis('DEL', "fwt35:rollout:LS-6000i:halt");
::rollout('LS-6000i', artifact => $::A6, percent => 100);
::bump_epoch();
select undef, undef, undef, 1.5;
main::then_change($::D[7], undef, 1.5);
# the first past negative_ttl fetches the halt record again (a wait, not
# memoized); the entry itself is still good for the next
main::must('refetch', $::D[7], 200);
my $c0 = main::memo_counts();
main::must('after', $::D[7], 200);
my $c1 = main::memo_counts();
Test::More::is($c1->{hit} - $c0->{hit}, 1,
               'TEST 15: a hit past the halt record\'s negative_ttl');
--- request eval
"GET $::FW"
--- more_headers eval
::sign(device => $::D[7], path => $::FW)
--- error_code: 200
