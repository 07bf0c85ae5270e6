# fwgatectl signed release metadata: release-key gen, artifact add
# --sign-key, artifact sign, artifact show's keyid, rollout floor, and
# explain --release-keys (unsigned_artifact, unsigned_floor, below_floor)
# against a private redis-server (no nginx), as t/cli_registry.t.

use strict;
use warnings;

use Test::More;
use t::FwgateCli;

my ($ctl, $dir, $port, $prefix) = cli_start('fwtrel:');

my ($rc, $out, $err);

# ------------------------------------------------------------ release-key

($rc, $out) = ctl('release-key', '--help');
is $rc, 0, 'release-key --help exits 0';
like $out, qr/usage: fwgatectl release-key gen/, 'release-key usage';

($rc, $out, $err) = ctl('release-key', 'gen', '--out', "$dir/rk1");
is $rc, 0, 'release-key gen' or diag $err;
my ($kid1) = $out =~ /release key ([0-9a-f]{16})/;
ok $kid1, 'keyid printed';
is((stat "$dir/rk1.key")[2] & 0777, 0600, 'private key is mode 0600');
like slurp("$dir/rk1.key"), qr/^-----BEGIN PRIVATE KEY-----/,
     'private key is PEM';
like slurp("$dir/rk1.pub"), qr{\Aed25519 [A-Za-z0-9+/]{43}=\n\z},
     'public key is one "ed25519 <base64>" line';

($rc, $out, $err) = ctl('release-key', 'gen', '--out', "$dir/rk2", '--json');
is $rc, 0, 'second key' or diag $err;
my ($kid2) = $out =~ /"keyid":"([0-9a-f]{16})"/;
ok $kid2 && $kid2 ne $kid1, 'another keyid';

($rc, $out, $err) = ctl('release-key', 'gen', '--out', "$dir/rk1");
is $rc, 1, 'an existing key is never overwritten';
like $err, qr/^fwgatectl: cannot create .*rk1\.key: File exists\n\z/,
     'one-line error';

($rc, undef, $err) = ctl('release-key', 'gen');
is $rc, 2, 'gen without --out: exit 2';
($rc) = ctl('release-key', 'make');
is $rc, 2, 'unknown subcommand: exit 2';

# the keyid is the first 8 bytes of SHA-256(raw public key), in hex
{
    require Digest::SHA;
    require MIME::Base64;
    my ($b64) = slurp("$dir/rk1.pub") =~ /^ed25519 (\S+)/;
    is substr(Digest::SHA::sha256_hex(MIME::Base64::decode_base64($b64)),
              0, 16), $kid1, 'keyid = SHA-256(raw key)[0..8] hex';
}

# --------------------------------------------------------------- artifact

open my $fw, '>', "$dir/fw7.bin" or die;
print $fw 'x' x 5000;
close $fw;

my $e0 = epoch();

($rc, $out, $err) = ctl('artifact', 'add', 'ls7000i-3.0.0.bin',
                        '--version', '3.0.0', '--models', 'LS-7000i',
                        '--file', "$dir/fw7.bin",
                        '--path', '/firmware/ls7000i-3.0.0.bin',
                        '--sign-key', "$dir/rk1.key");
is $rc, 0, 'artifact add --sign-key' or diag $err;
like $out, qr/signed by $kid1/, 'add says which key signed';
my $a7 = hash_of("${prefix}artifact:ls7000i-3.0.0.bin");
like $a7->{sig}, qr{^$kid1:[A-Za-z0-9+/]{86}==\z}, 'sig = keyid:base64';
ok epoch() > $e0, 'epoch bumped';

# the signature is over the canonical form of docs/redis-schema.md,
# checked here with openssl rather than the C code
SKIP: {
    my $canon = "fwgate-artifact-v1\nname=ls7000i-3.0.0.bin\n"
              . "version=3.0.0\nmodels=LS-7000i\nsha256=$a7->{sha256}\n"
              . "size=5000\npath=/firmware/ls7000i-3.0.0.bin\n";
    my ($b64) = slurp("$dir/rk1.pub") =~ /^ed25519 (\S+)/;
    # SPKI DER of an ed25519 key: a fixed 12-byte prefix, then the key
    my $der = pack('H*', '302a300506032b6570032100')
            . MIME::Base64::decode_base64($b64);
    open my $p, '>', "$dir/pub.der" or die;
    binmode $p;
    print $p $der;
    close $p;
    open my $m, '>', "$dir/canon" or die;
    print $m $canon;
    close $m;
    open my $s, '>', "$dir/sig" or die;
    binmode $s;
    print $s MIME::Base64::decode_base64(substr($a7->{sig}, 17));
    close $s;
    my $v = system("openssl pkeyutl -verify -pubin -inkey $dir/pub.der "
                   . "-keyform DER -rawin -in $dir/canon -sigfile $dir/sig "
                   . ">/dev/null 2>&1");
    is $v, 0, 'openssl verifies the sig over the canonical form';
}

($rc, $out) = ctl('artifact', 'show', 'ls7000i-3.0.0.bin');
like $out, qr/^sig\s+keyid $kid1$/m, 'show prints the keyid';
($rc, $out) = ctl('artifact', 'show', 'ls7000i-3.0.0.bin', '--json');
like $out, qr/"sig_keyid":"$kid1"/, 'show --json has sig_keyid';

($rc, $out, $err) = ctl('artifact', 'add', 'ls6000i-2.5.0.bin',
                        '--version', '2.5.0', '--models', 'LS-6000i',
                        '--file', "$dir/fw7.bin",
                        '--path', '/firmware/ls6000i-2.5.0.bin');
is $rc, 0, 'unsigned artifact add' or diag $err;
($rc, $out) = ctl('artifact', 'show', 'ls6000i-2.5.0.bin');
like $out, qr/^sig\s+none \(unsigned\)$/m, 'show: unsigned';

# bad keys: nothing written
($rc, $out, $err) = ctl('artifact', 'add', 'bad-1.0.0.bin',
                        '--version', '1.0.0', '--models', 'LS-6000i',
                        '--file', "$dir/fw7.bin",
                        '--path', '/firmware/bad-1.0.0.bin',
                        '--sign-key', "$dir/rk1.pub");
is $rc, 1, 'a public key cannot sign';
like $err, qr/^fwgatectl: [^\n]*\n\z/, 'one-line error';
is_deeply redis('HGETALL', "${prefix}artifact:bad-1.0.0.bin"), [],
     'nothing written';
($rc, undef, $err) = ctl('artifact', 'sign', 'ls6000i-2.5.0.bin',
                         '--key', "$dir/nope.key");
is $rc, 1, 'sign with a missing key file fails';
like $err, qr/^fwgatectl: [^\n]*nope\.key[^\n]*\n\z/, 'one-line error';
($rc) = ctl('artifact', 'sign', 'ls6000i-2.5.0.bin');
is $rc, 2, 'sign without --key: exit 2';
($rc, undef, $err) = ctl('artifact', 'sign', 'nothere.bin', '--key',
                         "$dir/rk1.key");
is $rc, 1, 'sign an unknown artifact: exit 1';

$e0 = epoch();
($rc, $out, $err) = ctl('artifact', 'sign', 'ls6000i-2.5.0.bin', '--key',
                        "$dir/rk2.key");
is $rc, 0, 'artifact sign' or diag $err;
like hash_of("${prefix}artifact:ls6000i-2.5.0.bin")->{sig}, qr/^$kid2:/,
     'sig written with the second key';
ok epoch() > $e0, 'sign bumps the epoch';

# ------------------------------------------------------------------ floor

($rc, $out, $err) = ctl('rollout', 'floor', 'LS-6000i', '2.0.0',
                        '--sign-key', "$dir/rk1.key");
is $rc, 0, 'rollout floor --sign-key' or diag $err;
my $ro = hash_of("${prefix}rollout:LS-6000i");
is $ro->{floor}, '2.0.0', 'floor stored in the rollout record';
like $ro->{floor_sig}, qr/^$kid1:/, 'floor_sig stored';

($rc, undef, $err) = ctl('rollout', 'floor', 'LS-6000i', '1.9.0');
is $rc, 1, 'lowering the floor is refused';
like $err, qr/below the current floor 2\.0\.0.*--force/, 'says --force';
($rc) = ctl('rollout', 'floor', 'LS-6000i', 'two');
is $rc, 2, 'floor must be SemVer';

($rc, $out, $err) = ctl('rollout', 'start', 'LS-6000i', '--artifact',
                        'ls6000i-2.5.0.bin', '--percent', '50');
is $rc, 0, 'rollout start' or diag $err;
$ro = hash_of("${prefix}rollout:LS-6000i");
is $ro->{floor}, '2.0.0', 'start keeps the floor';
like $ro->{floor_sig}, qr/^$kid1:/, 'start keeps floor_sig';
($rc) = ctl('rollout', 'set', 'LS-6000i', '--percent', '100');
is hash_of("${prefix}rollout:LS-6000i")->{floor}, '2.0.0', 'set keeps it';

($rc, $out) = ctl('rollout', 'status', 'LS-6000i');
like $out, qr/^floor\s+2\.0\.0 \(signed by $kid1\)$/m, 'status shows it';

# explain: the floor above the artifact refuses it whatever downgrade says
($rc, $out, $err) = ctl('rollout', 'floor', 'LS-6000i', '3.0.0',
                        '--sign-key', "$dir/rk1.key");
is $rc, 0, 'raise the floor' or diag $err;

($rc, undef, $err) = ctl('rollout', 'start', 'LS-6000i', '--artifact',
                         'ls6000i-2.5.0.bin', '--percent', '50',
                         '--allow-downgrade');
is $rc, 1, 'start refuses an artifact below the floor';
like $err, qr/below the security floor 3\.0\.0/, 'says the floor';

# ---------------------------------------------------------------- explain

sub decide {
    my ($rc, $out, $err) = ctl('explain', @_);
    my ($status, $reason) = $out =~ /^=> (\d+) (\w+)$/m;
    return ($rc, $status // '', $reason // '', $out, $err);
}

open my $both, '>', "$dir/both.pub" or die;
print $both slurp("$dir/rk1.pub"), slurp("$dir/rk2.pub");
close $both;

redis('HSET', "${prefix}device:LS6-1", 'model', 'LS-6000i', 'alg',
      'hmac-sha256', 'key', 'c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0', 'status',
      'active');

my @r;
@r = decide('--device', 'LS6-1', '--artifact', 'ls6000i-2.5.0.bin',
            '--version', '2.4.1');
is "$r[1] $r[2]", '403 below_floor', 'explain: below_floor' or diag $r[3];

($rc) = ctl('rollout', 'floor', 'LS-6000i', '2.5.0', '--force');
is $rc, 0, 'floor lowered with --force, unsigned';

@r = decide('--device', 'LS6-1', '--artifact', 'ls6000i-2.5.0.bin',
            '--version', '2.4.1');
is "$r[1] $r[2]", '200 ok', 'explain without keys: unsigned floor applies'
    or diag $r[3];

@r = decide('--device', 'LS6-1', '--artifact', 'ls6000i-2.5.0.bin',
            '--version', '2.4.1', '--release-keys', "$dir/both.pub");
is "$r[1] $r[2]", '403 unsigned_floor', 'explain --release-keys: '
    . 'unsigned_floor' or diag $r[3];

($rc) = ctl('rollout', 'floor', 'LS-6000i', '2.5.0', '--sign-key',
            "$dir/rk2.key");
@r = decide('--device', 'LS6-1', '--artifact', 'ls6000i-2.5.0.bin',
            '--version', '2.4.1', '--release-keys', "$dir/both.pub");
is "$r[1] $r[2]", '200 ok', 'explain --release-keys: signed, rotated key'
    or diag $r[3];
like $r[3], qr/release signature verified/, 'explain says it verified';

@r = decide('--device', 'LS6-1', '--artifact', 'ls6000i-2.5.0.bin',
            '--version', '2.4.1', '--release-keys', "$dir/rk1.pub");
is "$r[1] $r[2]", '403 unsigned_artifact', 'explain: unknown keyid'
    or diag $r[3];
like $r[3], qr/unknown keyid/, 'explain says why';

# the LockState write
redis('HSET', "${prefix}artifact:ls7000i-3.0.0.bin", 'models',
      'LS-7000i LS-6000i');
redis('HSET', "${prefix}rollout:LS-6000i", 'artifact', 'ls7000i-3.0.0.bin');
redis('HDEL', "${prefix}rollout:LS-6000i", 'floor', 'floor_sig');

@r = decide('--device', 'LS6-1', '--artifact', 'ls7000i-3.0.0.bin',
            '--version', '2.4.1');
is "$r[1] $r[2]", '200 ok', 'explain without keys: the rewrite passes'
    or diag $r[3];
@r = decide('--device', 'LS6-1', '--artifact', 'ls7000i-3.0.0.bin',
            '--version', '2.4.1', '--release-keys', "$dir/both.pub");
is "$r[1] $r[2]", '403 unsigned_artifact', 'explain: LockState refused'
    or diag $r[3];
is $r[0], 3, 'exit 3';
like $r[3], qr/signature does not verify/, 'detail';

($rc, undef, $err) = ctl('explain', '--device', 'LS6-1', '--artifact',
                         'ls7000i-3.0.0.bin', '--release-keys',
                         "$dir/rk1.key");
is $rc, 2, 'explain --release-keys with a non-key file: exit 2';
like $err, qr/^fwgatectl: explain: --release-keys [^\n]*\n\z/,
     'one-line error';

# models reordered: same canonical form, still verifies
redis('HSET', "${prefix}artifact:ls7000i-3.0.0.bin", 'models', 'LS-7000i');
($rc) = ctl('artifact', 'sign', 'ls7000i-3.0.0.bin', '--key',
            "$dir/rk1.key");
redis('HSET', "${prefix}artifact:ls7000i-3.0.0.bin", 'models',
      '  LS-7000i ');
redis('HSET', "${prefix}device:LS7-1", 'model', 'LS-7000i', 'alg',
      'hmac-sha256', 'key', 'c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0', 'status',
      'active');
redis('HSET', "${prefix}rollout:LS-7000i", 'artifact', 'ls7000i-3.0.0.bin',
      'percent', '100', 'state', 'active');
@r = decide('--device', 'LS7-1', '--artifact', 'ls7000i-3.0.0.bin',
            '--version', '2.4.1', '--release-keys', "$dir/both.pub");
is "$r[1] $r[2]", '200 ok', 'extra spaces in models: still verifies'
    or diag $r[3];

done_testing();
