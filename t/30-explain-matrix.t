# `fwgatectl explain` and the edge must agree.  For a matrix of devices
# (models, hardware revisions, active and revoked, versions, canary and
# excluded, in and out of the cohort, unknown) and artifacts (compatible,
# incompatible, unknown, rollouts paused, halted or not released, a from
# range that fails, downgrades with and without downgrade=1), the status
# and reason that `fwgatectl explain --json` prints are computed when the
# suite starts; each block then sends the same device's correctly signed
# request for the same artifact and expects exactly that status and
# X-Fwgate-Reason (and X-Firmware-Version on an allow).  repeat_each(2):
# the second round is answered from the module's cache and must agree too.

use Test::Nginx::Socket 'no_plan';
use t::FwgateTest;
use JSON::PP ();

fw_setup('fwt30:');

our $A6 = 'ls6000i-2.5.0.bin';      # LS-6000i rollout target, 50%
our $A6OLD = 'ls6000i-2.4.0.bin';   # LS-6000i, not the target
our $A7 = 'ls7000i-3.0.0.bin';      # LS-7000i rollout target, 100%
our $A8 = 'ls8000-2.0.0.bin';       # LS-8000 hw B and C only
our $A5 = 'ls5000-1.0.0.bin';       # LS-5000 target, no downgrade
our $A51 = 'ls5100-1.0.0.bin';      # LS-5100 target, downgrade=1
our $AP = 'lsp-1.0.0.bin';          # LS-P, rollout paused
our $AH = 'lsh-1.0.0.bin';          # LS-H, rollout halted
our $AN = 'lsn-1.0.0.bin';          # LS-N, no rollout at all
our $AX1 = 'lsx-1.0.0.bin';         # LS-X, rollout targets lsx-2.0.0.bin
our $AX2 = 'lsx-2.0.0.bin';
our $AC = 'lsc-1.0.0.bin';          # LS-C, rollout at 0%
our $ANONE = 'ls6000i-9.9.9.bin';   # no artifact record

artifact($A6, version => '2.5.0', models => 'LS-6000i');
artifact($A6OLD, version => '2.4.0', models => 'LS-6000i');
artifact($A7, version => '3.0.0', models => 'LS-7000i');
artifact($A8, version => '2.0.0', models => 'LS-8000:B LS-8000:C');
artifact($A5, version => '1.0.0', models => 'LS-5000');
artifact($A51, version => '1.0.0', models => 'LS-5100');
artifact($AP, version => '1.0.0', models => 'LS-P');
artifact($AH, version => '1.0.0', models => 'LS-H');
artifact($AN, version => '1.0.0', models => 'LS-N');
artifact($AX1, version => '1.0.0', models => 'LS-X');
artifact($AX2, version => '2.0.0', models => 'LS-X');
artifact($AC, version => '1.0.0', models => 'LS-C');

# LS-6000i devices by bucket of the 50% cohort (salt: the artifact name)
our @IN = pick_devices('L6-%05d', sub { bucket($A6, $_[0]) < 5000 }, 6);
our @OUT = pick_devices('L6-%05d', sub { bucket($A6, $_[0]) >= 5000 }, 3);
our ($IN1, $IN2, $IN3, $EXC, $REV, $HWB) = @IN;
our ($OUT1, $CAN, $OUT2) = @OUT;

device($IN1, model => 'LS-6000i', alg => 'ed25519');
device($IN2, model => 'LS-6000i', alg => 'hmac-sha256');
device($IN3, model => 'LS-6000i', alg => 'ecdsa-p256-sha256', sec1 => 1);
device($EXC, model => 'LS-6000i', alg => 'hmac-sha256');
device($REV, model => 'LS-6000i', alg => 'hmac-sha256', status => 'revoked');
device($HWB, model => 'LS-6000i', alg => 'hmac-sha256', hw => 'B');
device($OUT1, model => 'LS-6000i', alg => 'ecdsa-p256-sha256');
device($CAN, model => 'LS-6000i', alg => 'hmac-sha256');
device($OUT2, model => 'LS-6000i', alg => 'ed25519', status => 'revoked');
device('L7-00001', model => 'LS-7000i', alg => 'hmac-sha256');
device('L7-00002', model => 'LS-7000i', alg => 'ed25519', status => 'revoked');
device('L8-0000A', model => 'LS-8000', alg => 'hmac-sha256', hw => 'A');
device('L8-0000B', model => 'LS-8000', alg => 'ed25519', hw => 'B');
device('L8-0000C', model => 'LS-8000', alg => 'hmac-sha256', hw => 'C');
device('L8-0000N', model => 'LS-8000', alg => 'hmac-sha256');
device('L5-00001', model => 'LS-5000', alg => 'hmac-sha256');
device('L51-0001', model => 'LS-5100', alg => 'hmac-sha256');
device('LP-00001', model => 'LS-P', alg => 'hmac-sha256');
device('LH-00001', model => 'LS-H', alg => 'hmac-sha256');
device('LN-00001', model => 'LS-N', alg => 'hmac-sha256');
device('LX-00001', model => 'LS-X', alg => 'hmac-sha256');
device('LC-00001', model => 'LS-C', alg => 'hmac-sha256');

rollout('LS-6000i', artifact => $A6, percent => 50, from => '>=2.0.0');
canary('LS-6000i', $CAN);
exclude('LS-6000i', $EXC);
rollout('LS-7000i', artifact => $A7, percent => 100);
rollout('LS-8000', artifact => $A8, percent => 100);
rollout('LS-5000', artifact => $A5, percent => 100);
rollout('LS-5100', artifact => $A51, percent => 100, downgrade => 1,
        from => '<2.0.0');
rollout('LS-P', artifact => $AP, percent => 100, state => 'paused');
rollout('LS-H', artifact => $AH, percent => 100, state => 'halted');
rollout('LS-X', artifact => $AX2, percent => 100);
rollout('LS-C', artifact => $AC, percent => 0);
redis('DEL', 'fwt30:rollout:LS-N');

# The matrix, by group (one block each).  A case is
# [device, artifact, version, {model, hw (claims), signer}]; the claims
# default to the device's record, as a real device sends them.
our %HW = ($HWB => 'B', 'L8-0000A' => 'A', 'L8-0000B' => 'B',
           'L8-0000C' => 'C');
our %MODEL = (
    (map { $_ => 'LS-6000i' } @IN, @OUT),
    'L7-00001' => 'LS-7000i', 'L7-00002' => 'LS-7000i',
    'L8-0000A' => 'LS-8000', 'L8-0000B' => 'LS-8000',
    'L8-0000C' => 'LS-8000', 'L8-0000N' => 'LS-8000',
    'L5-00001' => 'LS-5000', 'L51-0001' => 'LS-5100',
    'LP-00001' => 'LS-P', 'LH-00001' => 'LS-H', 'LN-00001' => 'LS-N',
    'LX-00001' => 'LS-X', 'LC-00001' => 'LS-C',
);

sub cross {
    my ($devs, $arts, $ver) = @_;
    return map { my $d = $_; map { [$d, $_, $ver] } @$arts } @$devs;
}

our %G = (
    in_cohort => [
        cross([$IN1, $IN2, $IN3], [$A6, $A6OLD, $A7, $ANONE, $A8], '2.4.1'),
    ],
    versions => [
        map({ [$IN1, $A6, $_] } '1.9.9', '2.0.0', '2.5.0-rc.1', '2.5.0',
                                 '2.5.0+build.3', '2.6.0', '10.0.0'),
        map({ [$IN2, $A6OLD, $_] } '1.0.0', '2.5.0'),
    ],
    cohort => [
        cross([$OUT1, $CAN, $EXC], [$A6, $A6OLD, $A7], '2.4.1'),
    ],
    status => [
        cross([$REV, $OUT2, 'L7-00002'], [$A6, $A7, $ANONE], '2.4.1'),
        cross(['L7-00001'], [$A7, $A6, $A8], '2.9.0'),
        ['L6-nobody', $A6, '2.4.1', { signer => $IN2 }],
        ['L7-nobody', $A7, '2.9.0', { signer => 'L7-00001',
                                      model => 'LS-7000i' }],
    ],
    claims => [
        [$IN1, $A7, '2.4.1', { model => 'LS-7000i' }],
        [$IN2, $A6, '2.4.1', { hw => 'B' }],
        [$HWB, $A6, '2.4.1', {}],
        [$HWB, $A6, '2.4.1', { hw => 'C' }],
        ['L8-0000B', $A8, '1.0.0', { hw => 'C' }],
        ['L8-0000C', $A6, '1.0.0', { model => 'LS-6000i' }],
    ],
    hardware => [
        cross(['L8-0000A', 'L8-0000B', 'L8-0000C', 'L8-0000N'],
              [$A8, $A7], '1.0.0'),
    ],
    rollouts => [
        ['LP-00001', $AP, '0.9.0'],
        ['LH-00001', $AH, '0.9.0'],
        ['LN-00001', $AN, '0.9.0'],
        ['LX-00001', $AX1, '0.9.0'],
        ['LX-00001', $AX2, '0.9.0'],
        ['LC-00001', $AC, '0.9.0'],
        ['LP-00001', $AH, '0.9.0'],
        ['LH-00001', $ANONE, '0.9.0'],
    ],
    downgrades => [
        map({ ['L5-00001', $A5, $_] } '0.9.0', '1.0.0', '1.0.1', '1.2.0'),
        map({ ['L51-0001', $A51, $_] } '0.9.0', '1.0.0', '1.2.0', '1.9.9',
                                        '2.0.0'),
    ],
);

# explain each case now, before nginx answers any of them
our %EXP;       # "group/index" => { status, reason, target_version }
my $json = JSON::PP->new;
my $total = 0;
my %reasons;

for my $g (sort keys %G) {
    my $i = 0;
    for my $c (@{ $G{$g} }) {
        my ($dev, $art, $ver, $o) = @$c;
        $o ||= {};
        my @claims;
        push @claims, '--model', $o->{model} if defined $o->{model};
        push @claims, '--hw', $o->{hw} if defined $o->{hw};
        my ($rc, $out) = ctl('explain', '--device', $dev, '--artifact', $art,
                             '--version', $ver, @claims, '--json');
        my $e = eval { $json->decode($out) };
        ok($e && ($rc >> 8 == 0 || $rc >> 8 == 3),
           "explain $g: $dev $art $ver @claims")
            or diag("exit " . ($rc >> 8) . ": $out");
        $e ||= { status => 0, reason => 'explain-failed' };
        is(($rc >> 8) == 0 ? 1 : 0, $e->{decision} && $e->{decision} eq 'allow'
                                    ? 1 : 0,
           "explain $g: $dev $art $ver: exit status matches the decision");
        Test::More::note("$g/$i: $dev $art $ver @claims => $e->{status} $e->{reason}");
        $EXP{"$g/$i"} = $e;
        $reasons{$e->{reason}}++;
        $total++;
        $i++;
    }
}

cmp_ok($total, '>=', 30, "the matrix has at least 30 pairs ($total)");
is(join(' ', sort grep { !$reasons{$_} }
             qw(ok unknown_device revoked model_mismatch unknown_artifact
                incompatible not_released rollout_paused rollout_halted
                not_in_cohort upgrade_path downgrade)),
   '', 'the matrix reaches every registry reason');

# the block sections for group $g
sub case_claims {
    my ($c) = @_;
    my ($dev, $art, $ver, $o) = @$c;
    $o ||= {};
    my %s = (device => $dev, path => "/firmware/$art", version => $ver,
             model => defined $o->{model} ? $o->{model}
                                          : ($MODEL{$dev} || 'LS-6000i'));
    my $hw = exists $o->{hw} ? $o->{hw} : $HW{$dev};
    $s{hw} = $hw if defined $hw;
    $s{signer} = $o->{signer} if $o->{signer};
    return %s;
}

sub reqs {
    my ($g) = @_;
    return [map { "GET /firmware/$_->[1]" } @{ $G{$g} }];
}

sub hdrs {
    my ($g) = @_;
    return [map { ::sign(case_claims($_)) } @{ $G{$g} }];
}

sub codes {
    my ($g) = @_;
    return [map { $EXP{"$g/$_"}{status} } 0 .. $#{ $G{$g} }];
}

sub heads {
    my ($g) = @_;
    return [map {
        my $e = $EXP{"$g/$_"};
        my $h = "X-Fwgate-Reason: $e->{reason}\n";
        $h .= $e->{reason} eq 'ok'
              ? "X-Firmware-Version: $e->{target_version}\n"
              : "!X-Firmware-Version\n";
        $h;
    } 0 .. $#{ $G{$g} }];
}

repeat_each(2);
no_long_string();
add_block_preprocessor(\&t::FwgateTest::preprocess);

run_tests();

__DATA__

=== TEST 1: LS-6000i devices in the cohort, three algorithms, each artifact
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request eval
::reqs('in_cohort')
--- more_headers eval
::hdrs('in_cohort')
--- error_code eval
::codes('in_cohort')
--- response_headers eval
::heads('in_cohort')



=== TEST 2: device versions: from range, equal, pre-release, build, downgrade
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request eval
::reqs('versions')
--- more_headers eval
::hdrs('versions')
--- error_code eval
::codes('versions')
--- response_headers eval
::heads('versions')



=== TEST 3: out of the cohort, canary, excluded
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request eval
::reqs('cohort')
--- more_headers eval
::hdrs('cohort')
--- error_code eval
::codes('cohort')
--- response_headers eval
::heads('cohort')



=== TEST 4: revoked and unknown devices, an active LS-7000i
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request eval
::reqs('status')
--- more_headers eval
::hdrs('status')
--- error_code eval
::codes('status')
--- response_headers eval
::heads('status')



=== TEST 5: claims that differ from the record (model, hw)
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request eval
::reqs('claims')
--- more_headers eval
::hdrs('claims')
--- error_code eval
::codes('claims')
--- response_headers eval
::heads('claims')



=== TEST 6: hardware revisions against an artifact for hw B and C
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request eval
::reqs('hardware')
--- more_headers eval
::hdrs('hardware')
--- error_code eval
::codes('hardware')
--- response_headers eval
::heads('hardware')



=== TEST 7: rollouts paused, halted, absent, for another artifact, at 0%
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request eval
::reqs('rollouts')
--- more_headers eval
::hdrs('rollouts')
--- error_code eval
::codes('rollouts')
--- response_headers eval
::heads('rollouts')



=== TEST 8: downgrades without and with downgrade=1
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
--- request eval
::reqs('downgrades')
--- more_headers eval
::hdrs('downgrades')
--- error_code eval
::codes('downgrades')
--- response_headers eval
::heads('downgrades')
