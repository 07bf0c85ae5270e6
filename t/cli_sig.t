# fwgatectl sig: RFC 9421 Appendix B vectors, sign/verify round trips,
# tampering and bad input.  No nginx; runs under prove.

use strict;
use warnings;

use File::Temp qw(tempdir);
use IPC::Open3;
use Symbol qw(gensym);
use Test::More;

my $ctl = $ENV{FWGATECTL} || './fwgatectl';
my $data = 't/data/rfc9421';

plan skip_all => "$ctl not built (make cli)" unless -x $ctl;

my $tmp = tempdir(CLEANUP => 1);

# runs fwgatectl; returns (exit code, stdout, stderr)
sub run {
    my ($stdin, @args) = @_;
    my $err = gensym;
    my $pid = open3(my $in, my $out, $err, $ctl, @args);
    binmode $_ for $in, $out, $err;
    print $in $stdin if defined $stdin;
    close $in;
    my $o = do { local $/; <$out> } // '';
    my $e = do { local $/; <$err> } // '';
    waitpid($pid, 0);
    return ($? >> 8, $o, $e);
}

sub slurp {
    my ($f) = @_;
    open my $fh, '<:raw', $f or die "$f: $!";
    local $/;
    return <$fh>;
}

sub spew {
    my ($f, $s) = @_;
    open my $fh, '>:raw', $f or die "$f: $!";
    print $fh $s;
    close $fh;
    return $f;
}

my ($rc, $out, $err);

# --- Appendix B signature bases, byte for byte --------------------------

for my $b (qw(b21 b25 b26)) {
    ($rc, $out, $err) = run(undef, 'sig', 'base', "$data/$b-request.txt");
    is($rc, 0, "$b: base exits 0");
    ok($out eq slurp("$data/$b-base.txt"), "$b: base matches the RFC")
        or diag("got:\n$out\nstderr: $err");
}

($rc, $out) = run(slurp("$data/b26-request.txt"), 'sig', 'base', '-');
ok($rc == 0 && $out eq slurp("$data/b26-base.txt"), 'base from stdin');

($rc, $out) = run(undef, 'sig', 'base', '--label', 'sig-b26',
                  "$data/b26-request.txt");
ok($rc == 0 && $out eq slurp("$data/b26-base.txt"), 'base with --label');

($rc, $out, $err) = run(undef, 'sig', 'base', '--label', 'nope',
                        "$data/b26-request.txt");
is($rc, 1, 'absent label: exit 1');
like($err, qr/^fwgatectl: malformed_signature: .*label/, 'absent label: why');

# --- B.2.5 and B.2.6 verify, and fail when altered ------------------------

for my $k ('test-key-ed25519.pub', 'test-key-ed25519.pem') {
    ($rc, $out) = run(undef, 'sig', 'verify', '--key', "$data/$k",
                      "$data/b26-request.txt");
    is($rc, 0, "B.2.6 verifies with $k");
    is($out, "verified\n", "B.2.6 prints verified ($k)");
}

($rc, $out) = run(undef, 'sig', 'verify', '--key',
                  "$data/test-shared-secret.b64", "$data/b25-request.txt");
is($rc, 0, 'B.2.5 verifies');
is($out, "verified\n", 'B.2.5 prints verified');

($rc, $out) = run(undef, 'sig', 'verify', '--alg', 'hmac-sha256', '--key',
                  "$data/test-shared-secret.b64", "$data/b25-request.txt");
is($rc, 0, 'B.2.5 verifies with --alg');

my %alter = (
    'covered header' => sub { s/02:07:55 GMT/02:07:54 GMT/ },
    'method'         => sub { s/^POST /PUT / },
    'authority'      => sub { s/^Host: example\.com/Host: example.org/m },
    'signature'      => sub { s/(Signature: sig-b2\d=:)(.)/$1 . ($2 eq 'A' ? 'B' : 'A')/e },
    'created'        => sub { s/created=1618884473/created=1618884472/ },
    'covered list'   => sub { s/\("date" /("date" "content-digest" / },
);

for my $what (sort keys %alter) {
    for my $v (['b26', 'test-key-ed25519.pub'],
               ['b25', 'test-shared-secret.b64'])
    {
        next if $what eq 'method' && $v->[0] eq 'b25';   # not covered
        local $_ = slurp("$data/$v->[0]-request.txt");
        $alter{$what}->();
        ($rc, $out) = run($_, 'sig', 'verify', '--key', "$data/$v->[1]", '-');
        is($rc, 1, "$v->[0] altered ($what): exit 1");
        like($out, qr/^bad_signature/, "$v->[0] altered ($what): reason");
    }
}

# an uncovered header may change
{
    local $_ = slurp("$data/b26-request.txt");
    s/^Content-Digest: .*$/Content-Digest: sha-256=:AAAA:/m;
    ($rc, $out) = run($_, 'sig', 'verify', '--key',
                      "$data/test-key-ed25519.pub", '-');
    is($rc, 0, 'an uncovered header may change');
}

# wrong key type, wrong --alg, freshness
($rc, $out) = run(undef, 'sig', 'verify', '--key',
                  "$data/test-key-ed25519.pub", "$data/b25-request.txt");
is($rc, 1, 'hmac signature with an ed25519 key fails');

($rc, $out) = run(undef, 'sig', 'verify', '--alg', 'ed25519', '--key',
                  "$data/test-shared-secret.b64", "$data/b25-request.txt");
is($rc, 1, 'an hmac secret read as ed25519 fails');

($rc, $out) = run(undef, 'sig', 'verify', '--max-age', '300', '--key',
                  "$data/test-key-ed25519.pub", "$data/b26-request.txt");
is($rc, 1, '2021 signature is stale with --max-age');
like($out, qr/^stale: created \d+ s ago/, 'stale reason');

($rc, $out) = run(undef, '--json', 'sig', 'verify', '--key',
                  "$data/test-key-ed25519.pub", "$data/b26-request.txt");
is($out, '{"verified":true,"label":"sig-b26","keyid":"test-key-ed25519",'
       . '"alg":"ed25519"}' . "\n", 'verify --json');

# --- keygen, sign, verify round trips -----------------------------------

my @claims = ('-H', 'X-Device-Model: LS-6000i',
              '-H', 'X-Firmware-Version: 2.4.1');

for my $alg (qw(ed25519 ecdsa-p256-sha256 hmac-sha256)) {
    my $prefix = "$tmp/dev-$alg";

    ($rc, $out, $err) = run(undef, 'sig', 'keygen', '--alg', $alg,
                            '--out', $prefix);
    is($rc, 0, "keygen $alg");
    my $rec = $out;
    chomp $rec;
    my $len = { 'ed25519' => 44, 'ecdsa-p256-sha256' => 88,
                'hmac-sha256' => 44 }->{$alg};
    like($rec, qr{^[A-Za-z0-9+/]{@{[$len - 4]}}[A-Za-z0-9+/=]{4}$},
         "keygen $alg prints the registry key");

    my ($priv, $pub) = $alg eq 'hmac-sha256'
                     ? ("$prefix.key", "$prefix.key")
                     : ("$prefix.pem", "$prefix.pub");
    ok(-f $priv && -f $pub, "keygen $alg wrote its files");
    is((stat $priv)[2] & 0777, 0600, "keygen $alg: private file is 0600");

    ($rc, $out, $err) = run(undef, 'sig', 'keygen', '--alg', $alg,
                            '--out', $prefix);
    is($rc, 1, "keygen $alg refuses to overwrite");

    ($rc, $out, $err) = run(undef, 'sig', 'sign', '--key', $priv,
                            '--keyid', 'LS6-000123', '--nonce', 'b3k2pPz9',
                            @claims, 'GET',
                            'https://fw.example.com/firmware/a.bin?x=1');
    is($rc, 0, "sign $alg") or diag($err);
    like($out, qr/^Signature-Input: fw=\("\@method" "\@path" "\@authority" "x-device-model" "x-firmware-version"\);created=\d+;keyid="LS6-000123";alg="$alg";nonce="b3k2pPz9"\nSignature: fw=:[A-Za-z0-9+\/=]+:\n\z/,
         "sign $alg output");

    (my $hdrs = $out) =~ s/\n/\r\n/g;
    my $req = "GET /firmware/a.bin?x=1 HTTP/1.1\r\n"
            . "Host: fw.example.com\r\n"
            . "X-Device-Model: LS-6000i\r\nX-Firmware-Version: 2.4.1\r\n"
            . $hdrs . "\r\n";

    ($rc, $out) = run($req, 'sig', 'verify', '--max-age', '60',
                      '--key', $pub, '-');
    is($out, "verified\n", "sign/verify round trip $alg");

    # the registry form verifies too
    spew("$tmp/rec-$alg", "$rec\n");
    ($rc, $out) = run($req, 'sig', 'verify', '--alg', $alg,
                      '--key', "$tmp/rec-$alg", '-');
    is($out, "verified\n", "registry key verifies $alg");

    (my $bad = $req) =~ s/2\.4\.1/2.4.2/;
    ($rc, $out) = run($bad, 'sig', 'verify', '--key', $pub, '-');
    is($rc, 1, "claim changed after signing: $alg fails");

    (my $http = $req) =~ s/^Host:/X-Forwarded-Host:/m;
    $http =~ s/^GET \//GET https:\/\/fw.example.com\//;
    ($rc, $out) = run($http, 'sig', 'verify', '--key', $pub, '-');
    is($out, "verified\n", "absolute-form request target $alg");

    ($rc, $out) = run($req, 'sig', 'verify', '--scheme', 'http',
                      '--key', $pub, '-');
    is($rc, 0, "scheme is not covered by default ($alg)");
}

# every component type, signed and verified
($rc, $out, $err) = run(undef, 'sig', 'sign', '--key',
    "$tmp/dev-ed25519.pem", '--keyid', 'd', '--label', 'sig1',
    '--created', '1700000000', '--expires', '+4000000000', '--tag', 't',
    '--components', '"@method" "@target-uri" "@scheme" "@request-target" '
    . '"@query" "@query-param";name="a" "x-dict";sf "x-dict";key="b" '
    . '"x-dict";bs',
    '-H', 'X-Dict:  a=1,  b=2', 'POST',
    'https://Fw.Example.com:443/p%20q?a=x+y&b=2');
is($rc, 0, 'sign with every component type') or diag($err);
(my $hdrs = $out) =~ s/\n/\r\n/g;
my $req = "POST /p%20q?a=x+y&b=2 HTTP/1.1\r\nHost: fw.example.com\r\n"
        . "X-Dict:  a=1,  b=2\r\n$hdrs\r\n";
($rc, $out) = run($req, 'sig', 'verify', '--key', "$tmp/dev-ed25519.pub",
                  '-');
is($out, "verified\n", 'every component type verifies');
($rc, $out) = run($req, 'sig', 'base', '-');
is($out, <<'EOF' . '"@signature-params": ("@method" "@target-uri" "@scheme" "@request-target" "@query" "@query-param";name="a" "x-dict";sf "x-dict";key="b" "x-dict";bs);created=1700000000;expires=5700000000;keyid="d";alg="ed25519";tag="t"', 'base of every component type');
"@method": POST
"@target-uri": https://fw.example.com/p%20q?a=x+y&b=2
"@scheme": https
"@request-target": /p%20q?a=x+y&b=2
"@query": ?a=x+y&b=2
"@query-param";name="a": x%20y
"x-dict";sf: a=1, b=2
"x-dict";key="b": 2
"x-dict";bs: :YT0xLCAgYj0y:
EOF

# --curl
($rc, $out) = run(undef, 'sig', 'sign', '--curl', '--key',
                  "$tmp/dev-ed25519.pem", '--keyid', "it's", @claims,
                  'GET', 'https://fw.example.com/a.bin');
is($rc, 0, 'sign --curl');
like($out, qr/^-H 'X-Device-Model: LS-6000i' -H 'X-Firmware-Version: 2\.4\.1' -H 'Signature-Input: fw=\(.*\);created=\d+;keyid="it'\\''s";alg="ed25519"' -H 'Signature: fw=:[A-Za-z0-9+\/=]+:'\n\z/,
     'curl arguments, shell-quoted');

# --- bad arguments: exit 2, one line on stderr ----------------------------

my @bad = (
    [ 'sig' ],
    [ 'sig', 'bogus' ],
    [ 'sig', 'keygen' ],
    [ 'sig', 'keygen', '--alg', 'rsa-pss-sha512' ],
    [ 'sig', 'sign', 'GET', 'https://h/' ],
    [ 'sig', 'sign', '--key', "$tmp/dev-ed25519.pem", '--keyid', 'x',
      'GET', 'ftp://h/' ],
    [ 'sig', 'sign', '--key', "$tmp/dev-ed25519.pem", '--keyid', 'x',
      'GET', 'https://h/' ],
    [ 'sig', 'sign', '--key', "$tmp/dev-ed25519.pem", '--keyid', 'x',
      '--components', '"@method" @path', 'GET', 'https://h/' ],
    [ 'sig', 'sign', '--key', "$tmp/dev-ed25519.pem", '--keyid', 'x',
      '--components', '"@method" "@method"', 'GET', 'https://h/' ],
    [ 'sig', 'sign', '--key', "$tmp/dev-ed25519.pem", '--keyid', "caf\xc3\xa9",
      '--components', '"@method"', 'GET', 'https://h/' ],
    [ 'sig', 'sign', '--key', "$tmp/dev-ed25519.pem", '--keyid', 'x',
      '-H', 'no colon', 'GET', 'https://h/' ],
    [ 'sig', 'verify', "$data/b26-request.txt" ],
    [ 'sig', 'verify', '--key' ],
    [ 'sig', 'verify', '--max-age', 'soon', '--key', 'k', 'f' ],
    [ 'sig', 'base' ],
    [ 'nonsense' ],
    [ '--bogus', 'sig' ],
);

for my $args (@bad) {
    ($rc, $out, $err) = run(undef, @$args);
    is($rc, 2, "exit 2: @$args");
    like($err, qr/\A[^\n]+\n\z|\Ausage:/, "one stderr line: @$args");
}

# --- hostile requests: exit 1, never a crash ------------------------------

my $b26 = slurp("$data/b26-request.txt");
my %hostile = (
    'obs-fold'        => $b26 =~ s/^(Date: .*)$/$1\n  folded/mr,
    'no request line' => "\n\n",
    'HTTP/0.9'        => "GET /\n",
    'huge Signature-Input' => $b26 =~ s/^Signature-Input: sig-b26=/"Signature-Input: " . ("a=(), " x 3000) . "sig-b26="/mer,
    '1000 components' => $b26 =~ s/\("date"/"(" . join(' ', map { "\"h$_\"" } 1 .. 1000) . ' "date"'/er,
    'duplicate component' => $b26 =~ s/\("date"/("date" "date"/r,
    'bad base64'      => $b26 =~ s/:wqcA/:w*cA/r,
    'signature not bytes' => $b26 =~ s/=:(wqcA.*):$/="$1"/mr,
    'no Signature'    => $b26 =~ s/^Signature: .*\n//mr,
    'keyid odd bytes' => $b26 =~ s/keyid="test-key-ed25519"/keyid="\x01\xff"/r,
    'two Hosts'       => $b26 =~ s/^(Host: .*)$/$1\nHost: evil.example/mr,
    'NUL in header'   => $b26 =~ s/^(Date: Tue)/$1\0/mr,
    'uppercase component' => $b26 =~ s/\("date"/("Date"/r,
    'response component' => $b26 =~ s/\("date"/("\@status"/r,
);

for my $what (sort keys %hostile) {
    ($rc, $out, $err) = run($hostile{$what}, 'sig', 'verify', '--key',
                            "$data/test-key-ed25519.pub", '-');
    is($rc, 1, "hostile ($what): exit 1");
    ($rc, $out, $err) = run($hostile{$what}, 'sig', 'base', '-');
    is($rc, 1, "hostile ($what): base exit 1");
    like($err, qr/\Afwgatectl: [^\n]+\n\z/, "hostile ($what): one line");
}

($rc, $out, $err) = run(undef, 'sig', 'base', "$tmp/absent");
is($rc, 1, 'absent request file: exit 1');

($rc, $out, $err) = run(undef, 'sig', 'verify', '--key', "$tmp/absent",
                        "$data/b26-request.txt");
is($rc, 1, 'absent key file: exit 1');

($rc, $out) = run(undef, '--help');
is($rc, 0, '--help');
like($out, qr/^\s+sig\s/m, '--help lists sig');

done_testing();
