# Download tokens for stock updaters (docs/security.md, "Download
# tokens"): the update check mints one when fwgate_token_secret is set;
# a download with only `?fwt=<token>` (no signature, no other header) is
# decided by the token's checks in place of steps 1-8 and then the same
# registry steps 9-16 as a signed one.  Tokens are minted here by an
# independent Perl implementation of the wire form, with the secrets the
# suite writes; TEST 1's init takes the module's own token from a signed
# update check and downloads with it.

use Test::Nginx::Socket 'no_plan';
use t::FwgateTest;
use Digest::SHA qw(sha256 hmac_sha256);
use MIME::Base64 qw(encode_base64);

fw_setup('fwt27:');

our $A6 = 'ls6000i-2.5.0.bin';
our $B6 = 'ls6000i-2.6.0-beta.bin';
our $FW = "/firmware/$A6";
our $SIZE = 100000;

# the edge secrets: A mints, B is the previous one (rotation)
our $SECRET_A = join '', map { chr(65 + ($_ * 7) % 26) } 1 .. 48;
our $SECRET_B = join '', map { chr(97 + ($_ * 5) % 26) } 1 .. 40;
our $SECRET_C = 'c' x 48;       # known to no edge

for my $s (['A', $SECRET_A], ['B', $SECRET_B]) {
    my $f = fw_root() . "/../token-$s->[0].secret";
    open my $fh, '>', $f or die "$f: $!";
    print $fh "$s->[1]\n";      # a final newline is not part of it
    close $fh;
    $ENV{"TEST_NGINX_TOKEN_$s->[0]"} = $f;
}

{
    # 31 bytes and a newline: one byte short
    my $f = fw_root() . "/../token-short.secret";
    open my $fh, '>', $f or die "$f: $!";
    print $fh ('s' x 31) . "\n";
    close $fh;
    $ENV{TEST_NGINX_TOKEN_SHORT} = $f;
}

our @D = map { sprintf 'LS6-27%04d', $_ } 1 .. 8;
device($_, model => 'LS-6000i', alg => 'hmac-sha256') for @D;
our $SHA = artifact($A6, version => '2.5.0', models => 'LS-6000i',
                    file_size => $SIZE);
artifact($B6, version => '2.6.0-beta', models => 'LS-6000i');
rollout('LS-6000i', artifact => $A6, percent => 100);

sub b64u {
    (my $s = encode_base64($_[0], '')) =~ tr{+/}{-_};
    $s =~ s/=+\z//;
    return $s;
}

# tok(device => ..., exp => ..., artifact => ..., secret => ...)
sub tok {
    my (%o) = @_;
    my $sec = defined $o{secret} ? $o{secret} : $SECRET_A;
    my $p = join '|', 1, unpack('H8', sha256($sec)),
                 defined $o{exp} ? int($o{exp}) : int(time) + 3600,
                 $o{device} || $D[0], $o{model} || 'LS-6000i',
                 defined $o{hw} ? $o{hw} : '', $o{version} || '2.4.1',
                 $o{artifact} || $A6;
    return b64u($p) . '.' . b64u(hmac_sha256($p, $sec));
}

our $TOK14;     # TEST 14's, one value for its request and its log check

# one character changed inside the MAC's coverage
sub altered {
    my $t = tok(@_);
    substr($t, 20, 1) = substr($t, 20, 1) eq 'A' ? 'B' : 'A';
    return $t;
}

our $HTTP = http_config(extra => "    fwgate_token_secret "
                                 . "\$TEST_NGINX_TOKEN_A "
                                 . "\$TEST_NGINX_TOKEN_B;\n"
                                 . "    log_format tok '\$request "
                                 . "\$fwgate_auth \$fwgate_reason';\n");

our $CONF = <<'_EOC_';
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
        access_log logs/tok.log tok;
    }
    location = /fw/check {
        fwgate_manifest base_url=http://127.0.0.1:$TEST_NGINX_SERVER_PORT;
        fwgate_expose_reason on;
    }
    location = /tok.log {
        root logs;
    }
_EOC_

# a request from init code that must answer $want
sub must {
    my ($what, $req, $hdrs, $want) = @_;
    my $r = ::http_req($req, $hdrs);
    die "$what: $r->{status} " . ($r->{headers}{'x-fwgate-reason'} || '')
        . ", want $want\n" unless $r->{status} == $want;
    return $r;
}

# TEST 1: the module's own token from a signed update check, checked
# field by field, then downloads with only its token_url
sub flow {
    my $r = must('update check', '/fw/check',
                 ::sign(device => $D[1], path => '/fw/check'), 200);
    my ($tok) = $r->{body} =~ /"token":"([^"]+)"/
        or die "no token in $r->{body}";
    my ($url) = $r->{body} =~ /"token_url":"([^"]+)"/
        or die "no token_url in $r->{body}";
    die "token_url $url\n"
        unless $url eq "http://127.0.0.1:$ENV{TEST_NGINX_SERVER_PORT}"
                       . "$FW?fwt=$tok";
    my ($p64, $m64) = split /\./, $tok;
    (my $p = $p64) =~ tr{-_}{+/};
    $p = MIME::Base64::decode_base64($p);
    my @f = split /\|/, $p, -1;
    die "payload $p\n" unless @f == 8 && $f[0] eq '1'
        && $f[1] eq unpack('H8', sha256($SECRET_A))
        && abs($f[2] - (time + 3600)) <= 2
        && $f[3] eq $D[1] && $f[4] eq 'LS-6000i' && $f[5] eq ''
        && $f[6] eq '2.4.1' && $f[7] eq $A6;
    die "mac\n" unless $m64 eq b64u(hmac_sha256($p, $SECRET_A));
    my $path = "$FW?fwt=$tok";
    $r = must('token download', $path, '', 200);
    die "bytes\n" unless $r->{body} eq ::fw_bytes($A6, 0);
    $r = must('token range', $path, "Range: bytes=65536-99999\n", 206);
    die "range bytes\n" unless $r->{body} eq ::fw_bytes($A6, 65536, 34464);
}

# every device active (keeping its key: signatures were made at load
# time), the rollout at 100%
sub reset {
    ::redis('HSET', "fwt27:device:$_", 'status', 'active') for @D;
    ::rollout('LS-6000i', artifact => $A6, percent => 100);
    ::bump_epoch();
}

# TEST 10/11: a token download allowed, then the registry changes
sub then_change {
    my ($dev, $change) = @_;
    ::rollout('LS-6000i', artifact => $A6, percent => 100);
    ::bump_epoch();
    must('before', "$FW?fwt=" . tok(device => $dev), '', 200);
    $change->();
    ::bump_epoch();
    select undef, undef, undef, 1.5;    # the epoch poll, 1 s
}

$TOK14 = tok(device => $D[7]);

# TEST 16: fwgatectl explain --token, as the edge decides
sub explain_check {
    my $sf = $ENV{TEST_NGINX_TOKEN_A};
    my @cases = (
        [[tok(device => $D[0])], 0, qr/=> 200 ok/],
        [[tok(exp => time - 1)], 3, qr/=> 401 token_expired/],
        [[altered()], 3, qr/=> 401 token_invalid/],
        [['garbage'], 3, qr/=> 400 token_malformed/],
        [[tok(), '--artifact', $B6], 3, qr/=> 403 token_artifact/],
        [[tok(), '--device', $D[3]], 3, qr/=> 403 token_device/],
        [[tok(device => $D[6], model => 'LS-7000i')], 3,
         qr/=> 403 model_mismatch/],
    );
    for my $c (@cases) {
        my ($t, @more) = @{ $c->[0] };
        my ($rc, $out) = ::ctl('explain', '--token', $t, '--token-secret',
                               $sf, @more);
        die "explain @more: exit " . ($rc >> 8) . ", want $c->[1]: $out"
            unless ($rc >> 8) == $c->[1] && $out =~ $c->[2];
    }
}

repeat_each(1);
no_long_string();
no_shuffle();

add_block_preprocessor(sub {
    my ($block) = @_;
    $block->set_value('http_config', $::HTTP)
        unless defined $block->http_config;
    $block->set_value('config', $::CONF) unless defined $block->config;
    $block->set_value('init', <<'_EOI_') unless defined $block->init;
main::reset();
_EOI_
    t::FwgateTest::preprocess($block);
});

run_tests();

__DATA__

=== TEST 1: update check mints a token; token_url alone downloads (200, 206)
--- init
main::reset();
main::flow();
--- request eval
"GET $::FW?fwt=" . ::tok(device => $::D[1])
--- error_code: 200
--- response_headers eval
"X-Fwgate-Reason: ok
X-Firmware-Version: 2.5.0
Content-Length: $::SIZE"



=== TEST 2: only the token and Range: 206 with the range
--- request eval
"GET $::FW?fwt=" . ::tok(device => $::D[0])
--- more_headers
Range: bytes=0-65535
--- error_code: 206
--- response_headers eval
"Content-Range: bytes 0-65535/$::SIZE
X-Fwgate-Reason: ok"
--- response_body eval
::fw_bytes($::A6, 0, 65536)



=== TEST 3: the previous secret still verifies (rotation)
--- request eval
"GET $::FW?fwt=" . ::tok(device => $::D[0], secret => $::SECRET_B)
--- more_headers
Range: bytes=0-9
--- error_code: 206
--- response_body eval
::fw_bytes($::A6, 0, 10)



=== TEST 4: expired: 401 token_expired
--- request eval
"GET $::FW?fwt=" . ::tok(exp => time - 1)
--- error_code: 401
--- response_headers
X-Fwgate-Reason: token_expired
--- error_log eval
qr/reason=token_expired .*request: "GET \/firmware\/ls6000i-2\.5\.0\.bin\?fwt=\*\*\* HTTP\/1\.1"/
--- no_error_log
[error]



=== TEST 5: one character altered: 401 token_invalid
--- request eval
"GET $::FW?fwt=" . ::altered()
--- error_code: 401
--- response_headers
X-Fwgate-Reason: token_invalid



=== TEST 6: a secret no edge knows: 401 token_invalid
--- request eval
"GET $::FW?fwt=" . ::tok(secret => $::SECRET_C)
--- error_code: 401
--- response_headers
X-Fwgate-Reason: token_invalid



=== TEST 7: a token for artifact A used on artifact B: 403 token_artifact
--- request eval
"GET /firmware/$::B6?fwt=" . ::tok(artifact => $::A6)
--- error_code: 403
--- response_headers
X-Fwgate-Reason: token_artifact



=== TEST 8: another device's token (X-Device-Id differs): 403 token_device
--- request eval
"GET $::FW?fwt=" . ::tok(device => $::D[2])
--- more_headers eval
"X-Device-Id: $::D[3]\n"
--- error_code: 403
--- response_headers
X-Fwgate-Reason: token_device



=== TEST 9: malformed: garbage, empty, huge, a bad field under a good MAC
--- request eval
["GET $::FW?fwt=garbage", "GET $::FW?fwt=", "GET $::FW?fwt=" . ('A' x 3000),
 "GET $::FW?fwt=" . ::tok(version => 'not-semver'),
 "GET $::FW?fwt=" . ::tok() . "%2E"]
--- error_code eval
[400, 400, 400, 400, 400]
--- response_headers eval
["X-Fwgate-Reason: token_malformed", "X-Fwgate-Reason: token_malformed",
 "X-Fwgate-Reason: token_malformed", "X-Fwgate-Reason: token_malformed",
 "X-Fwgate-Reason: token_malformed"]



=== TEST 10: the device revoked after a token download: refused
--- init
main::then_change($::D[4], sub {
    ::redis('HSET', "fwt27:device:$::D[4]", 'status', 'revoked') });
--- request eval
"GET $::FW?fwt=" . ::tok(device => $::D[4])
--- error_code: 403
--- response_headers
X-Fwgate-Reason: revoked



=== TEST 11: the rollout halted after a token download: refused
--- init
main::then_change($::D[5], sub {
    ::redis('HSET', 'fwt27:rollout:LS-6000i', 'state', 'halted') });
--- request eval
"GET $::FW?fwt=" . ::tok(device => $::D[5])
--- error_code: 403
--- response_headers
X-Fwgate-Reason: rollout_halted



=== TEST 12: a token does not widen: another model's token, registry says no
--- request eval
"GET $::FW?fwt=" . ::tok(device => $::D[6], model => 'LS-7000i')
--- error_code: 403
--- response_headers
X-Fwgate-Reason: model_mismatch



=== TEST 13: a signature and a token: the signature decides
--- request eval
"GET $::FW?fwt=garbage"
--- more_headers eval
::sign(device => $::D[0], path => $::FW)
--- error_code: 200
--- response_headers
X-Fwgate-Reason: ok



=== TEST 14: the token is masked in the access log ($request)
--- request eval
["GET $::FW?a=1&fwt=$::TOK14&b=2",
 "GET /tok.log"]
--- error_code eval
[200, 200]
--- response_body eval
[::fw_bytes($::A6, 0),
 "GET $::FW?a=1&fwt=***&b=2 HTTP/1.1 token ok\n"]
--- no_error_log eval
[qr/\[(info|notice|warn|error)\].*\Q${\ substr($::TOK14, 0, 40)}\E/,
 "[error]"]



=== TEST 15: a secret file shorter than 32 bytes: nginx -t fails
--- http_config eval
::http_config(extra => "    fwgate_token_secret \$TEST_NGINX_TOKEN_SHORT;\n")
--- must_die
--- error_log
a file of 32 to 4096 bytes expected



=== TEST 16: fwgatectl explain --token: every token reason, then the registry
--- init
main::reset();
main::explain_check();
--- request eval
"GET $::FW?fwt=" . ::tok(device => $::D[0])
--- more_headers
Range: bytes=0-0
--- error_code: 206



=== TEST 17: a token that verified (cached per worker) still expires
--- init
main::reset();
my $t = ::tok(device => $::D[1], exp => int(time) + 2);
main::must('fresh', "$::FW?fwt=$t", "Range: bytes=0-0\n", 206);
main::must('fresh again', "$::FW?fwt=$t", "Range: bytes=0-0\n", 206);
select undef, undef, undef, 2.5;
main::must('expired', "$::FW?fwt=$t", "Range: bytes=0-0\n", 401);
--- request eval
"GET $::FW?fwt=" . ::tok(device => $::D[1], exp => int(time) - 1)
--- error_code: 401
--- response_headers
X-Fwgate-Reason: token_expired



=== TEST 18: token_url joins with '&' when the artifact url has a query
--- init
::device('LS61-000001', model => 'LS-6100', alg => 'hmac-sha256')
    unless $::KEYS61++;
::artifact('ls6100-1.1.0.bin', version => '1.1.0', models => 'LS-6100',
           path => 'https://cdn.example.com/ls6100-1.1.0.bin?v=1');
::rollout('LS-6100', artifact => 'ls6100-1.1.0.bin', percent => 100);
::bump_epoch();
my $r = main::must('check', '/fw/check',
                   ::sign(device => 'LS61-000001', model => 'LS-6100',
                          version => '1.0.0', path => '/fw/check'), 200);
my ($tok) = $r->{body} =~ /"token":"([^"]+)"/ or die "no token: $r->{body}";
$r->{body} =~ m{"token_url":"https://cdn\.example\.com/ls6100-1\.1\.0\.bin\?v=1&fwt=\Q$tok\E"}
    or die "token_url: $r->{body}";
--- request eval
"GET $::FW?fwt=" . ::tok(device => $::D[0])
--- more_headers
Range: bytes=0-0
--- error_code: 206
