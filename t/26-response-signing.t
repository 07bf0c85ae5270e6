# Signed update-check answers, `fwgate_response_signing` (docs/update-
# check.md, "The answer's signature"): 200 and 204 answers (and the gate's
# refusals of a signed request) carry Content-Digest, Signature-Input and
# Signature covering "@status", "content-digest" and the device's request
# signature.  Each answer is fetched in `--- init` and checked with
# `fwgatectl sig verify-response` and with docs/examples/verify_answer.c
# (compiled here so the guide's example cannot rot); tampered answers and
# answers checked against another request's signature must fail.

use Test::Nginx::Socket 'no_plan';
use t::FwgateTest;
use Digest::SHA qw(sha256);
use MIME::Base64 qw(encode_base64);
use File::Temp qw(tempdir);

fw_setup('fwt26:');

our $A6 = 'ls6000i-2.5.0.bin';
our $DIR = tempdir('fwgate-t26-XXXXXX', TMPDIR => 1, CLEANUP => 1);

# the edge's keys, made by fwgatectl as an operator would
for my $k (['ed', 'ed25519'], ['p256', 'ecdsa-p256-sha256'],
           ['other', 'ed25519'])
{
    my ($rc, $out) = ::ctl('sig', 'keygen', '--alg', $k->[1],
                           '--out', "$DIR/edge-$k->[0]");
    die "sig keygen $k->[1]: $out" if $rc || !-s "$DIR/edge-$k->[0].pub";
}
$ENV{TEST_NGINX_RSIG_ED} = "$DIR/edge-ed.pem";
$ENV{TEST_NGINX_RSIG_P256} = "$DIR/edge-p256.pem";

# the device guide's example, built as a device developer would
our $EXAMPLE = "$DIR/verify_answer";
system('cc', '-Wall', '-Werror', '-o', $EXAMPLE,
       'docs/examples/verify_answer.c', '-lcrypto') == 0
    or die "docs/examples/verify_answer.c does not compile\n";

# a download-token secret (fwgate_token_secret): the 200 then carries a
# token, and the signature must cover the body with it
our $TOKEN_SECRET = "$DIR/token.secret";
{
    open my $f, '>', $TOKEN_SECRET or die "$TOKEN_SECRET: $!";
    print $f encode_base64(join('', map { chr(int(rand(256))) } 1 .. 48), '');
    close $f;
    chmod 0600, $TOKEN_SECRET;
}
our $HTTP_TOKEN = http_config(extra =>
                              "    fwgate_token_secret $TOKEN_SECRET;\n");

our @IN = pick_devices('LS6-%06d', sub { bucket($A6, $_[0]) < 5000 }, 2);
our @OUT = pick_devices('LS6-%06d', sub { bucket($A6, $_[0]) >= 5000 }, 1);

device($_, model => 'LS-6000i', alg => 'hmac-sha256') for @IN, @OUT;

our $SHA6 = artifact($A6, version => '2.5.0', models => 'LS-6000i',
                     file_size => 5000);

sub reset_rollouts {
    ::rollout('LS-6000i', artifact => $A6, percent => 50);
    ::canary('LS-6000i');
    ::exclude('LS-6000i');
}

sub offer6 {
    return qq({"artifact":"$A6","version":"2.5.0",)
         . qq("url":"https://fw.example.com/firmware/$A6",)
         . qq("sha256":"$SHA6","size":5000}\n);
}

sub cd { 'sha-256=:' . encode_base64(sha256($_[0]), '') . ':' }

# ask(device => ...): (the answer, the request's Signature value)
sub ask {
    my (%o) = @_;
    my $p = ::sig_parts(path => '/fw/check', %o);
    my $h = $p->{headers} . "Signature-Input: $p->{input}\n"
          . "Signature: $p->{signature}\n";
    return (::http_req(($o{uri} || 'GET /fw/check'), $h), $p->{signature});
}

our $N = 0;

# the raw answer in a file
sub save {
    my ($raw) = @_;
    my $f = "$DIR/answer" . ++$N;
    open my $fh, '>', $f or die "$f: $!";
    binmode $fh;
    print $fh $raw;
    close $fh;
    return $f;
}

# (exit status, output) of fwgatectl sig verify-response
sub vr {
    my ($pub, $file, $reqsig, @more) = @_;
    my ($rc, $out) = ::ctl('sig', 'verify-response', '--pub', $pub,
                           '--response', $file, '--request-signature',
                           $reqsig, @more);
    $out =~ s/\s+\z//;
    return ($rc >> 8, $out);
}

# (exit status, output) of the guide's example
sub ex {
    my ($pub, $file, $reqsig) = @_;
    my $out = `'$EXAMPLE' '$pub' '$reqsig' '$file' 2>&1`;
    my $rc = $? >> 8;
    $out =~ s/\s+\z//;
    return ($rc, $out);
}

repeat_each(1);
no_long_string();

add_block_preprocessor(sub {
    my ($block) = @_;
    $block->set_value('config', <<'_EOC_') unless defined $block->config;
    location = /fw/check {
        fwgate_manifest base_url=https://fw.example.com/;
        fwgate_response_signing $TEST_NGINX_RSIG_ED;
    }
    location = /fw/check-p256 {
        fwgate_manifest base_url=https://fw.example.com/;
        fwgate_response_signing $TEST_NGINX_RSIG_P256 keyid=edge-1
                                label=edge;
    }
    location = /fw/plain-check {
        fwgate_manifest base_url=https://fw.example.com/;
    }
_EOC_
    $block->set_value('init', 'main::reset_rollouts();')
        unless defined $block->init;
    t::FwgateTest::preprocess($block);
});

run_tests();

__DATA__

=== TEST 1: 200 answer: signed, verified by fwgatectl and by the guide's example
--- init
main::reset_rollouts();
my ($r, $rs) = main::ask(device => $::IN[0], version => '2.4.1');
Test::More::is($r->{status}, 200, 'init: 200');
Test::More::is($r->{body}, main::offer6(), 'init: the offer');
Test::More::is($r->{headers}{'content-digest'}, main::cd(main::offer6()),
               'init: Content-Digest is sha-256 of the body');
Test::More::like($r->{headers}{'signature-input'},
    qr/^fwgate=\("\@status" "content-digest" "signature";req;key="fw"\);created=\d+;keyid="fwg-[0-9a-f]{16}";alg="ed25519"\z/,
    'init: Signature-Input');
my $f = main::save($r->{raw});
Test::More::is_deeply([main::vr("$main::DIR/edge-ed.pub", $f, $rs)],
                      [0, 'verified'], 'init: fwgatectl: verified');
Test::More::is_deeply([main::ex("$main::DIR/edge-ed.pub", $f, $rs)],
                      [0, 'verified'], 'init: verify_answer.c: verified');
# another edge's key
my ($rc, $out) = main::vr("$main::DIR/edge-other.pub", $f, $rs);
Test::More::is($rc, 1, 'init: another key: exit 1');
Test::More::is($out, 'not verified: bad signature', 'init: another key');
($rc, $out) = main::ex("$main::DIR/edge-other.pub", $f, $rs);
Test::More::is($rc, 1, 'init: another key: the example says no');
--- request
GET /fw/check
--- more_headers eval
::sign(device => $::IN[0], version => '2.4.1', path => '/fw/check')
--- error_code: 200
--- response_headers eval
"Content-Type: application/json\nContent-Digest: " . main::cd(main::offer6())
--- response_body eval
main::offer6()



=== TEST 2: 204 answer: signed over the empty body, verified
--- init
main::reset_rollouts();
my ($r, $rs) = main::ask(device => $::OUT[0], version => '2.4.1');
Test::More::is($r->{status}, 204, 'init: 204');
Test::More::is($r->{headers}{'content-digest'},
               'sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:',
               'init: Content-Digest of nothing');
my $f = main::save($r->{raw});
Test::More::is_deeply([main::vr("$main::DIR/edge-ed.pub", $f, $rs)],
                      [0, 'verified'], 'init: fwgatectl: verified');
Test::More::is_deeply([main::ex("$main::DIR/edge-ed.pub", $f, $rs)],
                      [0, 'verified'], 'init: verify_answer.c: verified');
# the same answer shown as a 200 does not verify
(my $as200 = $r->{raw}) =~ s{^HTTP/1\.1 204 No Content}{HTTP/1.1 200 OK};
my ($rc, $out) = main::vr("$main::DIR/edge-ed.pub", main::save($as200), $rs);
Test::More::is_deeply([$rc, $out], [1, 'not verified: bad signature'],
                      'init: another status: bad signature');
--- request
GET /fw/check
--- more_headers eval
::sign(device => $::OUT[0], version => '2.4.1', path => '/fw/check')
--- error_code: 204
--- response_headers
Content-Digest: sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:
--- response_body



=== TEST 3: a tampered body fails, with or without a matching Content-Digest
--- init
main::reset_rollouts();
my ($r, $rs) = main::ask(device => $::IN[0], version => '2.4.1');
Test::More::is($r->{status}, 200, 'init: 200');
# the artifact's name swapped for another model's, same length
(my $t = $r->{raw}) =~ s/ls6000i-2\.5\.0\.bin","version"/ls7000i-2.5.0.bin","version"/;
Test::More::isnt($t, $r->{raw}, 'init: tampered');
my ($rc, $out) = main::vr("$main::DIR/edge-ed.pub", main::save($t), $rs);
Test::More::is_deeply([$rc, $out],
    [1, 'not verified: Content-Digest does not match the body'],
    'init: fwgatectl: digest mismatch');
($rc, $out) = main::ex("$main::DIR/edge-ed.pub", main::save($t), $rs);
Test::More::is_deeply([$rc, $out],
    [1, 'not verified: Content-Digest does not match the body'],
    'init: verify_answer.c: digest mismatch');
# the attacker recomputes Content-Digest: the signature covers it
my ($head, $body) = split /\r\n\r\n/, $t, 2;
my $d = main::cd($body);
$head =~ s/^Content-Digest: .*$/Content-Digest: $d/m;
($rc, $out) = main::vr("$main::DIR/edge-ed.pub",
                       main::save("$head\r\n\r\n$body"), $rs);
Test::More::is_deeply([$rc, $out], [1, 'not verified: bad signature'],
                      'init: fwgatectl: re-digested body: bad signature');
($rc, $out) = main::ex("$main::DIR/edge-ed.pub",
                       main::save("$head\r\n\r\n$body"), $rs);
Test::More::is_deeply([$rc, $out], [1, 'not verified: bad signature'],
                      'init: verify_answer.c: re-digested: bad signature');
# --body replaces the body of the file
my $bf = main::save($t =~ s/\A.*?\r\n\r\n//sr);
($rc, $out) = main::vr("$main::DIR/edge-ed.pub", main::save($r->{raw}), $rs,
                       '--body', $bf);
Test::More::is($rc, 1, 'init: --body with a tampered body: exit 1');
--- request
GET /fw/check
--- more_headers eval
::sign(device => $::IN[0], version => '2.4.1', path => '/fw/check')
--- error_code: 200



=== TEST 4: the answer to request A does not verify against request B's signature
--- init
main::reset_rollouts();
my ($ra, $sa) = main::ask(device => $::IN[0], version => '2.4.1', nonce => 1);
my ($rb, $sb) = main::ask(device => $::IN[0], version => '2.4.1', nonce => 1);
Test::More::is($ra->{status}, 200, 'init: A 200');
Test::More::is($rb->{status}, 200, 'init: B 200');
Test::More::isnt($sa, $sb, 'init: two request signatures');
Test::More::is($ra->{body}, $rb->{body}, 'init: the same offer');
my $fa = main::save($ra->{raw});
Test::More::is_deeply([main::vr("$main::DIR/edge-ed.pub", $fa, $sa)],
                      [0, 'verified'], 'init: A with A');
Test::More::is_deeply([main::vr("$main::DIR/edge-ed.pub", $fa, $sb)],
                      [1, 'not verified: bad signature'], 'init: A with B');
my ($rc, $out) = main::ex("$main::DIR/edge-ed.pub", $fa, $sb);
Test::More::is($rc, 1, 'init: verify_answer.c: A with B fails');
# B's answer with A's headers swapped in: still bound to A only
my ($hb, $bb) = split /\r\n\r\n/, $rb->{raw}, 2;
Test::More::is_deeply([main::vr("$main::DIR/edge-ed.pub",
                                main::save($rb->{raw}), $sb)],
                      [0, 'verified'], 'init: B with B');
--- request
GET /fw/check
--- more_headers eval
::sign(device => $::IN[0], version => '2.4.1', path => '/fw/check')
--- error_code: 200



=== TEST 5: no fwgate_response_signing: no signature headers
--- request
GET /fw/plain-check
--- more_headers eval
::sign(device => $::IN[0], version => '2.4.1', path => '/fw/plain-check')
--- error_code: 200
--- response_headers
!Content-Digest
!Signature-Input
!Signature
--- response_body eval
main::offer6()



=== TEST 6: P-256 key, keyid= and label=; verified from separate fields too
--- init
main::reset_rollouts();
my ($r, $rs) = main::ask(device => $::IN[1], version => '2.4.1',
                         path => '/fw/check-p256',
                         uri => 'GET /fw/check-p256');
Test::More::is($r->{status}, 200, 'init: 200');
my $h = $r->{headers};
Test::More::like($h->{'signature-input'},
    qr/^edge=\("\@status" "content-digest" "signature";req;key="fw"\);created=\d+;keyid="edge-1";alg="ecdsa-p256-sha256"\z/,
    'init: Signature-Input');
Test::More::like($h->{signature}, qr/^edge=:[A-Za-z0-9+\/]{86}==:\z/,
                 'init: a 64-byte r||s signature');
my $f = main::save($r->{raw});
Test::More::is_deeply([main::vr("$main::DIR/edge-p256.pub", $f, $rs)],
                      [0, 'verified'], 'init: fwgatectl --response');
Test::More::is_deeply([main::vr("$main::DIR/edge-p256.pub", $f, $rs,
                                '--label', 'edge')],
                      [0, 'verified'], 'init: fwgatectl --label edge');
my $bf = main::save($r->{body});
my ($rc, $out) = ::ctl('sig', 'verify-response',
    '--pub', "$main::DIR/edge-p256.pub", '--request-signature', $rs,
    '--status', 200, '--content-digest', $h->{'content-digest'},
    '--signature-input', $h->{'signature-input'},
    '--signature', $h->{signature}, '--body', $bf);
Test::More::is_deeply([$rc >> 8, $out], [0, "verified\n"],
                      'init: fwgatectl with separate fields');
($rc, $out) = ::ctl('sig', 'verify-response',
    '--pub', "$main::DIR/edge-ed.pub", '--request-signature', $rs,
    '--response', $f);
Test::More::is($rc >> 8, 1, 'init: the ed25519 key does not verify it');
--- request
GET /fw/check-p256
--- more_headers eval
::sign(device => $::IN[1], version => '2.4.1', path => '/fw/check-p256')
--- error_code: 200



=== TEST 7: a refusal of a signed request is signed; an unsigned one is not
--- init
main::reset_rollouts();
my ($r, $rs) = main::ask(device => $::IN[0], version => '2.4.1',
                         model => 'LS-7000i');
Test::More::is($r->{status}, 403, 'init: model_mismatch 403');
Test::More::is_deeply([main::vr("$main::DIR/edge-ed.pub",
                                main::save($r->{raw}), $rs)],
                      [0, 'verified'], 'init: the 403 verifies');
my $u = ::http_req('GET /fw/check', '');
Test::More::is($u->{status}, 401, 'init: unsigned request: 401');
Test::More::ok(!exists $u->{headers}{signature},
               'init: nothing to bind to: no Signature');
--- request
GET /fw/check
--- error_code: 401
--- response_headers
!Signature
!Signature-Input



=== TEST 8: HEAD: no body to digest, answered unsigned
--- request
HEAD /fw/check
--- more_headers eval
::sign(device => $::IN[0], version => '2.4.1', path => '/fw/check',
       method => 'HEAD')
--- error_code: 200
--- response_headers
!Signature
!Content-Digest
--- response_body



=== TEST 9: set at server level, inherited; off in a location
--- config
    fwgate_response_signing $TEST_NGINX_RSIG_ED label=srv;
    location = /fw/check {
        fwgate_manifest base_url=https://fw.example.com/;
    }
    location = /fw/plain-check {
        fwgate_manifest base_url=https://fw.example.com/;
        fwgate_response_signing off;
    }
--- init
main::reset_rollouts();
my ($r, $rs) = main::ask(device => $::IN[0], version => '2.4.1');
Test::More::like($r->{headers}{'signature-input'} // '',
                 qr/^srv=\("\@status"/, 'init: inherited, label srv');
Test::More::is_deeply([main::vr("$main::DIR/edge-ed.pub",
                                main::save($r->{raw}), $rs)],
                      [0, 'verified'], 'init: verified');
--- request
GET /fw/plain-check
--- more_headers eval
::sign(device => $::IN[0], version => '2.4.1', path => '/fw/plain-check')
--- error_code: 200
--- response_headers
!Signature
!Signature-Input



=== TEST 10: gzip on for JSON: a signed answer is sent identity-coded, and verifies
--- config
    gzip on;
    gzip_types application/json;
    gzip_min_length 1;
    location = /fw/check {
        fwgate_manifest base_url=https://fw.example.com/;
        fwgate_response_signing $TEST_NGINX_RSIG_ED;
    }
    location = /fw/plain-check {
        fwgate_manifest base_url=https://fw.example.com/;
    }
--- init
main::reset_rollouts();
my $p = ::sig_parts(path => '/fw/check', device => $::IN[0],
                    version => '2.4.1');
my $r = ::http_req('GET /fw/check', $p->{headers}
    . "Signature-Input: $p->{input}\nSignature: $p->{signature}\n"
    . "Accept-Encoding: gzip\n");
Test::More::ok(!exists $r->{headers}{'content-encoding'},
               'init: not gzipped');
Test::More::is($r->{body}, main::offer6(), 'init: the offer');
Test::More::is_deeply([main::vr("$main::DIR/edge-ed.pub",
                                main::save($r->{raw}), $p->{signature})],
                      [0, 'verified'], 'init: verified');
# the unsigned location still compresses: gzip is really on
$p = ::sig_parts(path => '/fw/plain-check', device => $::IN[0],
                 version => '2.4.1');
$r = ::http_req('GET /fw/plain-check', $p->{headers}
    . "Signature-Input: $p->{input}\nSignature: $p->{signature}\n"
    . "Accept-Encoding: gzip\n");
Test::More::is($r->{headers}{'content-encoding'}, 'gzip',
               'init: unsigned answers are gzipped');
--- request
GET /fw/check
--- more_headers eval
::sign(device => $::IN[0], version => '2.4.1', path => '/fw/check')
. "Accept-Encoding: gzip\n"
--- error_code: 200
--- response_headers
!Content-Encoding
--- response_body eval
main::offer6()



=== TEST 11: with download tokens: the body holds a token, and is what is signed
--- http_config eval: $::HTTP_TOKEN
--- init
main::reset_rollouts();
my ($r, $rs) = main::ask(device => $::IN[0], version => '2.4.1');
Test::More::is($r->{status}, 200, 'init: 200');
Test::More::like($r->{body}, qr/"token":"[^"]+"/, 'init: a token in the body');
Test::More::is($r->{headers}{'content-digest'}, main::cd($r->{body}),
               'init: Content-Digest covers the body with its token');
my $f = main::save($r->{raw});
Test::More::is_deeply([main::vr("$main::DIR/edge-ed.pub", $f, $rs)],
                      [0, 'verified'], 'init: fwgatectl: verified');
Test::More::is_deeply([main::ex("$main::DIR/edge-ed.pub", $f, $rs)],
                      [0, 'verified'], 'init: verify_answer.c: verified');
# a token swapped for another of the same length is caught
(my $t = $r->{raw}) =~ s/("token":")(.)/$1 . ($2 eq 'A' ? 'B' : 'A')/e;
my ($rc, $out) = main::vr("$main::DIR/edge-ed.pub", main::save($t), $rs);
Test::More::is($rc, 1, 'init: altered token: not verified');
--- request
GET /fw/check
--- more_headers eval
::sign(device => $::IN[0], version => '2.4.1', path => '/fw/check')
--- error_code: 200
