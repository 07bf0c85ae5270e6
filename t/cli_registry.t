# fwgatectl registry commands and explain against a private redis-server
# (no nginx).  Plain Test::More: `prove -I. t/cli_registry.t` from the
# repository root.  FWGATECTL names the binary (default ./fwgatectl).

use strict;
use warnings;

use Test::More;
use t::FwgateCli;

my ($ctl, $dir, $port, $prefix) = cli_start('fwt:');

my ($rc, $out, $err);

# ------------------------------------------------------------------ help

($rc, $out) = ctl('device', '--help');
is $rc, 0, 'device --help exits 0';
like $out, qr/device add ID/, 'device --help shows usage';
for my $cmd (qw(artifact rollout canary exclude explain)) {
    ($rc, $out) = ctl($cmd, '--help');
    is $rc, 0, "$cmd --help exits 0";
    like $out, qr/usage: fwgatectl $cmd/, "$cmd --help shows usage";
}

# ---------------------------------------------------------------- device

my $e0 = epoch();

($rc, $out, $err) = ctl('device', 'add', 'LS6-1', '--model', 'LS-6000i',
                        '--alg', 'hmac-sha256', '--gen-key', "$dir/k1");
is $rc, 0, 'device add with --gen-key (hmac)' or diag $err;
ok -f "$dir/k1.key", 'hmac secret written';
is((stat "$dir/k1.key")[2] & 0777, 0600, 'secret is mode 0600');
ok epoch() > $e0, 'epoch bumped';

my $dev = hash_of("${prefix}device:LS6-1");
is $dev->{model}, 'LS-6000i', 'model stored';
is $dev->{alg}, 'hmac-sha256', 'alg stored';
is $dev->{status}, 'active', 'status active';
ok !exists $dev->{hw}, 'no hw';
open my $kf, '<', "$dir/k1.key" or die;
my $secret = <$kf>;
chomp $secret;
is $dev->{key}, $secret, 'registry holds the secret as base64';

($rc, $out, $err) = ctl('device', 'add', 'LS6-2', '--model', 'LS-6000i',
                        '--hw', 'r2', '--alg', 'ed25519', '--gen-key',
                        "$dir/k2");
is $rc, 0, 'device add ed25519 with hw' or diag $err;
ok -f "$dir/k2.pem" && -f "$dir/k2.pub.pem", 'ed25519 key pair written';

($rc, $out, $err) = ctl('device', 'add', 'LS6-3', '--model', 'LS-6000i',
                        '--alg', 'ed25519', '--key', "$dir/k2.pub.pem");
is $rc, 0, 'device add from a public key PEM' or diag $err;
is hash_of("${prefix}device:LS6-3")->{key},
   hash_of("${prefix}device:LS6-2")->{key}, 'same public key stored';

($rc, $out, $err) = ctl('device', 'add', 'LS6-4', '--model', 'LS-6000i',
                        '--alg', 'ecdsa-p256-sha256', '--gen-key', "$dir/k4");
is $rc, 0, 'device add ecdsa-p256-sha256' or diag $err;

($rc, $out, $err) = ctl('device', 'add', 'LS7-1', '--model', 'LS-7000i',
                        '--alg', 'hmac-sha256', '--key', "$dir/k1.key");
is $rc, 0, 'a 7000i device' or diag $err;

($rc, undef, $err) = ctl('device', 'add', 'LS6-1', '--model', 'LS-6000i',
                         '--alg', 'hmac-sha256', '--key', "$dir/k1.key");
isnt $rc, 0, 'existing device refused';
like $err, qr/exists/, '... saying it exists';
is scalar(split /\n/, $err), 1, '... in one line';

($rc, undef, $err) = ctl('device', 'add', 'LS6-9', '--model', 'LS 6000i',
                         '--alg', 'hmac-sha256', '--key', "$dir/k1.key");
isnt $rc, 0, 'bad model name refused';

($rc, undef, $err) = ctl('device', 'add', 'LS6-9', '--model', 'LS-6000i',
                         '--alg', 'rsa', '--key', "$dir/k1.key");
isnt $rc, 0, 'unknown alg refused';

($rc, undef, $err) = ctl('device', 'add', 'LS6-9', '--model', 'LS-6000i',
                         '--alg', 'ed25519', '--key', "$dir/k4.pem");
isnt $rc, 0, 'key of another alg refused';

($rc, undef, $err) = ctl('device', 'add', 'LS6-9', '--model', 'LS-6000i',
                         '--alg', 'ed25519', '--key', "$dir/nonexistent");
isnt $rc, 0, 'missing key file refused';
ok !redis('EXISTS', "${prefix}device:LS6-9"), 'nothing written';

($rc, $out) = ctl('device', 'show', 'LS6-1');
is $rc, 0, 'device show';
like $out, qr/model:\s+LS-6000i/, 'shows the model';
unlike $out, qr/\Q$secret\E/, 'never shows an HMAC secret';

($rc, $out) = ctl('--json', 'device', 'show', 'LS6-2');
is $rc, 0, 'device show --json';
like $out, qr/^\{.*"model":"LS-6000i".*"hw":"r2".*\}$/s, 'json record';

($rc, $out) = ctl('device', 'show', 'LS6-2', '--json');
like $out, qr/"status":"active"/, '--json after the command works too';

($rc, undef, $err) = ctl('device', 'show', 'NOPE');
isnt $rc, 0, 'show of an unknown device fails';
like $err, qr/not found/, '... not found';

# import: good rows, a header, a comment, rejected rows, an existing id

open my $csv, '>', "$dir/dev.csv" or die;
print $csv "id,model,hw,alg,key\n";
print $csv "IMP-1,LS-6000i,,hmac-sha256,$secret\n";
print $csv "IMP-2,LS-6000i,r2,ed25519,"
         . "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=\n";
print $csv "# a comment\n\n";
print $csv "IMP-3,LS 6000i,,hmac-sha256,$secret\n";
print $csv "IMP-4,LS-6000i,,ed25519,AAAA\n";
print $csv "LS6-1,LS-6000i,,hmac-sha256,$secret\n";
print $csv "IMP-5,LS-6000i\n";
close $csv;

$e0 = epoch();
($rc, $out, $err) = ctl('device', 'import', "$dir/dev.csv");
is $rc, 1, 'import with rejected rows exits 1';
like $out, qr/^imported 2, skipped 1, rejected 3$/m, 'import summary';
like $err, qr/^line 6: bad model$/m, 'rejected row: bad model';
like $err, qr/^line 7: /m, 'rejected row: bad key';
like $err, qr/^line 9: expected 5 fields/m, 'rejected row: short';
unlike $err, qr/importing \[/, 'no progress bar when not a tty';
is hash_of("${prefix}device:IMP-2")->{hw}, 'r2', 'imported hw';
ok epoch() > $e0, 'import bumps the epoch';

($rc, $out) = ctl('device', 'import', "$dir/dev.csv", '--json');
like $out, qr/"imported":0,"skipped":3,"rejected":3/, 'reimport skips';

# ------------------------------------------------------------- artifact

open my $fw, '>', "$dir/fw6.bin" or die;
print $fw 'x' x 1000;
close $fw;
open $fw, '>', "$dir/fw7.bin" or die;
print $fw 'y' x 2000;
close $fw;

($rc, $out, $err) = ctl('artifact', 'add', 'ls6000i-2.5.0.bin', '--version',
                        '2.5.0', '--models', 'LS-6000i LS-5000', '--file',
                        "$dir/fw6.bin", '--path',
                        '/firmware/ls6000i-2.5.0.bin');
is $rc, 0, 'artifact add' or diag $err;
my $art = hash_of("${prefix}artifact:ls6000i-2.5.0.bin");
is $art->{size}, 1000, 'size computed';
require Digest::SHA;
is $art->{sha256}, Digest::SHA::sha256_hex('x' x 1000), 'sha256 computed';
is $art->{models}, 'LS-6000i LS-5000', 'models stored';
is $art->{version}, '2.5.0', 'version stored';

($rc, $out) = ctl('artifact', 'show', 'ls6000i-2.5.0.bin');
is $rc, 0, 'artifact show';
like $out, qr/^version\s+2\.5\.0$/m, 'artifact show: version';
($rc, $out) = ctl('artifact', 'show', 'ls6000i-2.5.0.bin', '--json');
like $out, qr/^\{"artifact":"ls6000i-2\.5\.0\.bin".*"size":1000,/,
     'artifact show --json';
($rc) = ctl('artifact', 'show', 'nope.bin');
is $rc, 1, 'artifact show: unknown artifact exits 1';

($rc, $out, $err) = ctl('artifact', 'add', 'ls7000i-3.0.0.bin', '--version',
                        '3.0.0', '--models', 'LS-7000i', '--file',
                        "$dir/fw7.bin", '--path',
                        '/firmware/ls7000i-3.0.0.bin', '--json');
is $rc, 0, 'artifact add --json' or diag $err;
like $out, qr/"size":2000/, 'json output';

ctl('artifact', 'add', 'ls6000i-2.4.0.bin', '--version', '2.4.0',
    '--models', 'LS-6000i', '--file', "$dir/fw6.bin", '--path',
    '/firmware/ls6000i-2.4.0.bin');
ctl('artifact', 'add', 'ls6000i-2.6.0.bin', '--version', '2.6.0',
    '--models', 'LS-6000i', '--file', "$dir/fw6.bin", '--path',
    '/firmware/ls6000i-2.6.0.bin');

($rc, undef, $err) = ctl('artifact', 'add', 'x.bin', '--version', '2.5',
                         '--models', 'LS-6000i', '--file', "$dir/fw6.bin",
                         '--path', '/firmware/x.bin');
isnt $rc, 0, 'bad version refused';
like $err, qr/SemVer/, '... saying so';

($rc, undef, $err) = ctl('artifact', 'add', 'x.bin', '--version', '2.5.0',
                         '--models', 'LS-6000i', '--file', "$dir/none",
                         '--path', '/firmware/x.bin');
isnt $rc, 0, 'missing file refused';

($rc, undef, $err) = ctl('artifact', 'add', 'ls6000i-2.5.0.bin',
                         '--version', '2.5.1', '--models', 'LS-6000i',
                         '--file', "$dir/fw6.bin", '--path',
                         '/firmware/other.bin');
isnt $rc, 0, 'existing name refused';
like $err, qr/exists/, '... saying it exists';

($rc, undef, $err) = ctl('artifact', 'add', 'x.bin', '--version', '2.5.0',
                         '--models', 'LS-6000i', '--file', "$dir/fw6.bin",
                         '--path', '/firmware/ls7000i-3.0.0.bin');
isnt $rc, 0, 'clashing path refused';
like $err, qr/ls7000i-3\.0\.0\.bin/, '... naming the other artifact';
ok !redis('EXISTS', "${prefix}artifact:x.bin"), 'nothing written';

($rc, undef, $err) = ctl('artifact', 'add', 'x.bin', '--version', '2.5.0',
                         '--models', 'LS-6000i!', '--file', "$dir/fw6.bin",
                         '--path', '/firmware/x.bin');
isnt $rc, 0, 'bad models list refused';

# -------------------------------------------------------------- rollout

($rc, undef, $err) = ctl('rollout', 'start', 'LS-6000i', '--artifact',
                         'ls7000i-3.0.0.bin', '--percent', '100');
isnt $rc, 0, 'rollout of an incompatible artifact refused';
like $err, qr/refused.*LS-7000i/, '... saying what it is built for';
ok !redis('EXISTS', "${prefix}rollout:LS-6000i"), 'no rollout written';

($rc, $out, $err) = ctl('rollout', 'start', 'LS-6000i', '--artifact',
                        'ls6000i-2.5.0.bin', '--percent', '25',
                        '--from', '>=2.0.0', '--halt-failures', '5',
                        '--halt-ratio', '0.1', '--halt-silence', '3600');
is $rc, 0, 'rollout start' or diag $err;
my $ro = hash_of("${prefix}rollout:LS-6000i");
is $ro->{state}, 'active', 'state active';
is $ro->{percent}, '25', 'percent';
is $ro->{artifact}, 'ls6000i-2.5.0.bin', 'artifact';
is $ro->{from}, '>=2.0.0', 'from';
is $ro->{downgrade}, '0', 'downgrade 0';
is $ro->{halt_failures}, '5', 'halt_failures';
is $ro->{halt_ratio}, '0.1', 'halt_ratio';
is $ro->{halt_silence}, '3600', 'halt_silence';

($rc, undef, $err) = ctl('rollout', 'start', 'LS-6000i', '--artifact',
                         'ls6000i-2.4.0.bin', '--percent', '25');
isnt $rc, 0, 'downgrade of the target refused';
like $err, qr/below the current target.*--allow-downgrade/,
     '... saying why and how';
is hash_of("${prefix}rollout:LS-6000i")->{artifact}, 'ls6000i-2.5.0.bin',
   'rollout unchanged';

for my $bad (['--percent', '101'], ['--percent', '1.234'],
             ['--percent', 'x'], ['--from', '>>2'],
             ['--halt-failures', '3'])
{
    ($rc) = ctl('rollout', 'start', 'LS-6000i', '--artifact',
                'ls6000i-2.6.0.bin', '--percent', '10', @$bad);
    isnt $rc, 0, "rollout start refuses @$bad";
}

($rc, $out, $err) = ctl('rollout', 'set', 'LS-6000i', '--percent', '0');
is $rc, 0, 'rollout set' or diag $err;
is hash_of("${prefix}rollout:LS-6000i")->{percent}, '0', 'percent set';

($rc) = ctl('rollout', 'set', 'LS-6000i', '--percent', '100.5');
isnt $rc, 0, 'bad percent refused';

($rc) = ctl('rollout', 'set', 'LS-9', '--percent', '5');
isnt $rc, 0, 'set on a missing rollout refused';

# ------------------------------------------------------ canary, exclude

($rc, $out, $err) = ctl('canary', 'add', 'LS-6000i', 'LS6-1', 'IMP-1');
is $rc, 0, 'canary add' or diag $err;
is_deeply [ sort @{ redis('SMEMBERS', "${prefix}rollout:LS-6000i:canary") } ],
          [ 'IMP-1', 'LS6-1' ], 'canary set';
($rc) = ctl('canary', 'rm', 'LS-6000i', 'IMP-1');
is $rc, 0, 'canary rm';
is_deeply redis('SMEMBERS', "${prefix}rollout:LS-6000i:canary"), ['LS6-1'],
          'removed';
($rc) = ctl('exclude', 'add', 'LS-6000i', 'LS6-3', 'LS6-4');
is $rc, 0, 'exclude add';
($rc) = ctl('exclude', 'rm', 'LS-6000i', 'LS6-4');
is $rc, 0, 'exclude rm';
is_deeply redis('SMEMBERS', "${prefix}rollout:LS-6000i:exclude"), ['LS6-3'],
          'exclude set';
($rc) = ctl('canary', 'add', 'LS-6000i', 'bad id');
isnt $rc, 0, 'bad id refused';

# --------------------------------------------------------------- status

($rc, $out, $err) = ctl('rollout', 'status', 'LS-6000i');
is $rc, 0, 'rollout status' or diag $err;
like $out, qr/state\s+active/, 'status: state';
like $out, qr/ls6000i-2\.5\.0\.bin \(2\.5\.0\)/, 'status: target';
like $out, qr/percent\s+0% \[\.+\]/, 'status: percent bar';
like $out, qr/cohort\s+1 of 6 registered LS-6000i devices/,
     'status: cohort is the canary of 6 devices';

($rc, $out) = ctl('rollout', 'set', 'LS-6000i', '--percent', '100');
($rc, $out) = ctl('rollout', 'status', 'LS-6000i', '--json');
is $rc, 0, 'rollout status --json';
like $out, qr/"devices":6,"cohort":5,/, 'json: all but the excluded one';
like $out, qr/"state":"active"/, 'json: state';

redis('HSET', "${prefix}stats:LS-6000i:ls6000i-2.5.0.bin", 'success', '7');
($rc, $out) = ctl('rollout', 'status', 'LS-6000i');
like $out, qr/success 7/, 'status shows report counters';

# --------------------------------------------------------------- explain

sub decide {
    my ($rc, $out, $err) = ctl('explain', @_);
    my ($status, $reason) = $out =~ /^=> (\d+) (\w+)$/m;
    return ($rc, $status // '', $reason // '', $out, $err);
}

my @r;

@r = decide('--device', 'LS6-1', '--artifact', 'ls6000i-2.5.0.bin',
             '--version', '2.4.1');
is "$r[1] $r[2]", '200 ok', 'explain: allowed' or diag $r[3], $r[4];
is $r[0], 0, 'explain: exit 0 when allowed';
like $r[3], qr/^\s*1\s+signature present\s+skip/m, 'steps printed';
like $r[3], qr/^\s*16\s+not a downgrade\s+pass/m, 'every step printed';

@r = decide('--device', 'LS6-1', '--artifact', 'ls7000i-3.0.0.bin',
             '--version', '2.4.1');
is "$r[1] $r[2]", '403 incompatible', 'explain: the incident is refused';
is $r[0], 3, 'explain: exit 3 when refused';
like $r[3], qr/^\s*12\s+artifact lists model\s+FAIL/m, 'failing step shown';

@r = decide('--device', 'LS6-3', '--artifact', 'ls6000i-2.5.0.bin');
is "$r[1] $r[2]", '403 not_in_cohort', 'explain: excluded';

ctl('rollout', 'set', 'LS-6000i', '--percent', '0');
@r = decide('--device', 'IMP-1', '--artifact', 'ls6000i-2.5.0.bin');
is "$r[1] $r[2]", '403 not_in_cohort', 'explain: outside the percent';

@r = decide('--device', 'LS6-1', '--artifact', 'ls6000i-2.5.0.bin',
             '--version', '1.9.0');
is "$r[1] $r[2]", '403 upgrade_path', 'explain: from range';

@r = decide('--device', 'LS6-1', '--artifact', 'ls6000i-2.5.0.bin',
             '--version', '2.5.1');
is "$r[1] $r[2]", '403 downgrade', 'explain: downgrade';

@r = decide('--device', 'LS6-1', '--artifact', 'ls6000i-2.6.0.bin');
is "$r[1] $r[2]", '403 not_released', 'explain: another artifact';

@r = decide('--device', 'LS6-1', '--artifact', 'nope.bin');
is "$r[1] $r[2]", '404 unknown_artifact', 'explain: unknown artifact';

@r = decide('--device', 'NOPE', '--artifact', 'ls6000i-2.5.0.bin');
is "$r[1] $r[2]", '401 unknown_device', 'explain: unknown device';

@r = decide('--device', 'LS6-1', '--artifact', 'ls6000i-2.5.0.bin',
             '--model', 'LS-7000i');
is "$r[1] $r[2]", '403 model_mismatch', 'explain: claimed model differs';

@r = decide('--device', 'LS6-2', '--artifact', 'ls6000i-2.5.0.bin',
             '--hw', 'r3');
is "$r[1] $r[2]", '403 model_mismatch', 'explain: claimed hw differs';

($rc) = ctl('rollout', 'pause', 'LS-6000i');
is $rc, 0, 'rollout pause';
is hash_of("${prefix}rollout:LS-6000i")->{state}, 'paused', 'paused';
@r = decide('--device', 'LS6-1', '--artifact', 'ls6000i-2.5.0.bin');
is "$r[1] $r[2]", '403 rollout_paused', 'explain: paused';

($rc) = ctl('rollout', 'resume', 'LS-6000i');
is $rc, 0, 'rollout resume';
@r = decide('--device', 'LS6-1', '--artifact', 'ls6000i-2.5.0.bin');
is "$r[1] $r[2]", '200 ok', 'explain: resumed';

($rc) = ctl('rollout', 'halt', 'LS-6000i');
is $rc, 0, 'rollout halt';
@r = decide('--device', 'LS6-1', '--artifact', 'ls6000i-2.5.0.bin');
is "$r[1] $r[2]", '403 rollout_halted', 'explain: halted';
ctl('rollout', 'resume', 'LS-6000i');

@r = decide('--device', 'LS7-1', '--artifact', 'ls7000i-3.0.0.bin');
is "$r[1] $r[2]", '403 not_released', 'explain: no rollout for the model';

$e0 = epoch();
($rc, $out, $err) = ctl('device', 'revoke', 'LS6-1');
is $rc, 0, 'device revoke' or diag $err;
ok epoch() > $e0, 'revoke bumps the epoch';
is hash_of("${prefix}device:LS6-1")->{status}, 'revoked', 'status revoked';
@r = decide('--device', 'LS6-1', '--artifact', 'ls6000i-2.5.0.bin');
is "$r[1] $r[2]", '403 revoked', 'explain: revoked';

($rc, $out) = ctl('explain', '--device', 'LS6-2', '--artifact',
                  'ls7000i-3.0.0.bin', '--json');
is $rc, 3, 'explain --json exit 3';
like $out, qr/^\{.*"decision":"deny".*"status":403.*"reason":"incompatible"/s,
     'explain --json verdict';
like $out, qr/"steps":\[\{"step":1,/, 'explain --json steps';

# rollback with --allow-downgrade

($rc, $out, $err) = ctl('rollout', 'start', 'LS-6000i', '--artifact',
                        'ls6000i-2.4.0.bin', '--percent', '100',
                        '--allow-downgrade');
is $rc, 0, 'downgrade allowed when asked' or diag $err;
is hash_of("${prefix}rollout:LS-6000i")->{downgrade}, '1', 'downgrade=1';
@r = decide('--device', 'LS6-2', '--artifact', 'ls6000i-2.4.0.bin',
             '--version', '2.5.0');
is "$r[1] $r[2]", '200 ok', 'explain: rollback allowed';

# errors: unreachable registry, bad arguments

{
    my $pid = fork // die;
    if ($pid == 0) {
        open STDOUT, '>', "$dir/o2";
        open STDERR, '>', "$dir/e2";
        exec $ctl, '--redis', '127.0.0.1:1', 'device', 'show', 'LS6-2';
        exit 127;
    }
    waitpid $pid, 0;
    is $? >> 8, 1, 'unreachable registry: exit 1';
    open my $f, '<', "$dir/e2";
    local $/;
    like <$f>, qr/^fwgatectl: .*127\.0\.0\.1:1/, 'one-line error';
}

($rc) = ctl('explain', '--device', 'LS6-2');
is $rc, 2, 'explain without --artifact: exit 2';

done_testing();
