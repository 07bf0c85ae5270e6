package t::FwgateTest;

# Shared helpers for the fwgate Test::Nginx::Socket suites (t/1*.t):
# registry seeding with redis-cli (SPEC section 3), device keys, an
# RFC 9421 signer of our own (so the suites do not trust the code under
# test to sign), cohort buckets computed here in Perl, and the common
# http_config.  Usage, from the repository root with `prove -I.`:
#
#     use t::FwgateTest;
#     fw_setup('fwt10:');       # this suite's key prefix, flushed
#
# Functions are exported into main.  Section code evaluated by the
# runners (`--- more_headers eval`, `--- init`) runs in other packages,
# so call them there as ::sign(...), ::http_config(...) and so on.
#
# Keys: Ed25519 and ECDSA P-256 keys are made and used with the openssl
# command (OpenSSL 3); HMAC secrets are random bytes.  fwgatectl is only
# used where a suite says so (ctl(), ctl_sign()), so the suites run
# before, and check, the CLI.

use strict;
use warnings;

use Exporter 'import';
use Digest::SHA qw(sha256 sha256_hex hmac_sha256);
use MIME::Base64 qw(encode_base64 decode_base64);
use File::Temp qw(tempdir);
use File::Path qw(make_path);
use IPC::Open3;
use Time::HiRes ();
use POSIX ();

our @EXPORT = qw(
    fw_setup fw_prefix redis redis_cmds flush_prefix
    keygen device artifact fw_file rollout canary exclude bump_epoch
    sign sig_parts base_for
    bucket in_cohort pick_devices
    http_config ctl ctl_ok ctl_sign
    fw_root redis_port start_extra_redis stop_extra_redis free_port
    after_log_line wait_for
    http_req http_send http_read preprocess default_config fw_bytes
    ensure_extra_redis
);

our $PREFIX = 'fwgate:';
our %KEYS;                  # device id => { alg, secret | pem }
our $SEQ = 0;

my $TMP = tempdir('fwgate-t-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $FWROOT = "$TMP/www";
make_path("$FWROOT/firmware");

# config sections may name it: root $TEST_NGINX_FW_ROOT;
$ENV{TEST_NGINX_FW_ROOT} = $FWROOT;

sub fw_root { $FWROOT }

# $t::FwgateTest::PORT, when set, sends the registry helpers to another
# redis-server (an extra one started by a suite)
our $PORT;

sub redis_port {
    return $PORT if $PORT;
    my $p = $ENV{TEST_NGINX_REDIS_PORT}
        or die "TEST_NGINX_REDIS_PORT is not set: run t/run-suites.sh\n";
    return $p;
}

sub fw_prefix { $PREFIX }

sub fw_setup {
    my ($prefix) = @_;
    $PREFIX = $prefix if defined $prefix;
    flush_prefix($PREFIX);
    return $PREFIX;
}


# --- Redis ---------------------------------------------------------------

# one command, arguments passed as they are (no shell); returns the reply
# text as redis-cli prints it without a tty (raw), chomped
sub redis {
    my (@args) = @_;
    my %o;
    %o = %{ shift @args } if ref $args[0] eq 'HASH';
    my $port = $o{port} || redis_port();
    my $pid = open3(my $in, my $out, undef,
                    'redis-cli', '-h', '127.0.0.1', '-p', $port, @args);
    close $in;
    local $/;
    my $r = <$out>;
    waitpid $pid, 0;
    $r = '' unless defined $r;
    $r =~ s/\s+\z//;
    return $r;
}

sub _resp {
    my @a = @_;
    my $s = '*' . scalar(@a) . "\r\n";
    for my $x (@a) {
        $s .= '$' . length($x) . "\r\n$x\r\n";
    }
    return $s;
}

# many commands in one go: redis_cmds([...], [...]); dies on an error
sub redis_cmds {
    my (@cmds) = @_;
    my %o;
    %o = %{ shift @cmds } if ref $cmds[0] eq 'HASH';
    return unless @cmds;
    my $port = $o{port} || redis_port();
    my $pid = open3(my $in, my $out, undef,
                    'redis-cli', '-h', '127.0.0.1', '-p', $port, '--pipe');
    binmode $in;
    print $in _resp(@$_) for @cmds;
    close $in;
    local $/;
    my $r = <$out>;
    waitpid $pid, 0;
    die "redis --pipe failed: $r\n" unless defined $r && $r =~ /errors: 0,/;
    return $r;
}

sub flush_prefix {
    my ($prefix) = @_;
    my @keys = grep { length } split /\n/,
               redis('--scan', '--pattern', "$prefix*");
    while (my @chunk = splice @keys, 0, 200) {
        redis_cmds(['DEL', @chunk]);
    }
}

sub bump_epoch {
    return redis('INCR', "${PREFIX}epoch");
}


# --- keys and registry records ---------------------------------------------

sub _run {
    my (@cmd) = @_;
    my $pid = open3(my $in, my $out, undef, @cmd);
    close $in;
    binmode $out;
    local $/;
    my $r = <$out>;
    waitpid $pid, 0;
    die "@cmd: exit " . ($? >> 8) . "\n" if $?;
    return defined $r ? $r : '';
}

# returns { alg, key_b64 (what the registry holds), ... private part }
sub keygen {
    my ($alg, %o) = @_;
    my $n = ++$SEQ;

    if ($alg eq 'hmac-sha256') {
        my $secret = $o{secret};
        unless (defined $secret) {
            open my $r, '<', '/dev/urandom' or die "urandom: $!";
            read $r, $secret, 32;
            close $r;
        }
        return { alg => $alg, secret => $secret,
                 key_b64 => encode_base64($secret, '') };
    }

    my $pem = "$TMP/key$n.pem";

    if ($alg eq 'ed25519') {
        _run('openssl', 'genpkey', '-algorithm', 'ed25519', '-out', $pem);
        my $der = _run('openssl', 'pkey', '-in', $pem, '-pubout',
                       '-outform', 'DER');
        return { alg => $alg, pem => $pem,
                 key_b64 => encode_base64(substr($der, -32), '') };
    }

    if ($alg eq 'ecdsa-p256-sha256') {
        _run('openssl', 'genpkey', '-algorithm', 'EC', '-pkeyopt',
             'ec_paramgen_curve:P-256', '-out', $pem);
        my $der = _run('openssl', 'pkey', '-in', $pem, '-pubout',
                       '-outform', 'DER');
        # SPKI by default; sec1 => 1 gives the 65-byte uncompressed point
        my $k = $o{sec1} ? substr($der, -65) : $der;
        return { alg => $alg, pem => $pem,
                 key_b64 => encode_base64($k, '') };
    }

    die "keygen: unknown alg $alg\n";
}

# device('LS6-000123', model => 'LS-6000i', alg => 'ed25519', hw => 'B',
#        status => 'active', no_alg => 1, key => $keygen_result)
sub device {
    my ($id, %o) = @_;
    my $alg = $o{alg} || 'ed25519';
    my $k = $o{key} || keygen($alg, %o);
    $KEYS{$id} = $k;
    my @f = (model => $o{model} || 'LS-6000i',
             key => $k->{key_b64},
             status => $o{status} || 'active');
    push @f, alg => $k->{alg} unless $o{no_alg};
    push @f, hw => $o{hw} if defined $o{hw};
    redis_cmds(['DEL', "${PREFIX}device:$id"],
               ['HSET', "${PREFIX}device:$id", @f]);
    return $id;
}

# a firmware file under $TEST_NGINX_FW_ROOT/firmware; returns (sha256 hex,
# size); content is deterministic in name and size
sub fw_file {
    my ($name, $size) = @_;
    $size = 4096 + length($name) * 37 unless defined $size;
    my $data = '';
    my $blk = sha256($name);
    while (length $data < $size) {
        $blk = sha256($blk);
        $data .= $blk;
    }
    $data = substr($data, 0, $size);
    open my $f, '>', "$FWROOT/firmware/$name" or die "$name: $!";
    binmode $f;
    print $f $data;
    close $f;
    return (sha256_hex($data), $size);
}

# artifact('ls6000i-2.5.0.bin', version => '2.5.0', models => 'LS-6000i')
# writes the file too unless no_file => 1
sub artifact {
    my ($name, %o) = @_;
    my ($sha, $size) = ($o{sha256}, $o{size});
    unless ($o{no_file}) {
        my ($s, $z) = fw_file($name, $o{file_size});
        $sha = $s unless defined $sha;
        $size = $z unless defined $size;
    }
    $sha = '0' x 64 unless defined $sha;
    $size = 0 unless defined $size;
    redis_cmds(['DEL', "${PREFIX}artifact:$name"],
               ['HSET', "${PREFIX}artifact:$name",
                version => $o{version}, models => $o{models},
                sha256 => $sha, size => $size,
                path => $o{path} || "/firmware/$name"]);
    return $sha;
}

# rollout('LS-6000i', artifact => ..., percent => 100, state => 'active',
#         from => '>=2.0.0', downgrade => 0, salt => ...)
sub rollout {
    my ($model, %o) = @_;
    my @f = (artifact => $o{artifact},
             percent => defined $o{percent} ? $o{percent} : 100,
             state => $o{state} || 'active');
    for my $k (qw(salt from downgrade halt_failures halt_ratio
                  halt_silence max_starts_per_min max_in_flight
                  in_flight_expiry device_failures penalty)) {
        push @f, $k => $o{$k} if defined $o{$k};
    }
    # as `fwgatectl rollout start`: a new rollout, no automatic halt
    redis_cmds(['DEL', "${PREFIX}rollout:$model", "${PREFIX}rollout:$model:halt"],
               ['HSET', "${PREFIX}rollout:$model", @f]);
}

sub canary {
    my ($model, @ids) = @_;
    redis_cmds(['DEL', "${PREFIX}rollout:$model:canary"],
               @ids ? ['SADD', "${PREFIX}rollout:$model:canary", @ids] : ());
}

sub exclude {
    my ($model, @ids) = @_;
    redis_cmds(['DEL', "${PREFIX}rollout:$model:exclude"],
               @ids ? ['SADD', "${PREFIX}rollout:$model:exclude", @ids] : ());
}


# --- cohorts, computed here independently of the C code --------------------

sub bucket {
    my ($salt, $device) = @_;
    return unpack('N', substr(sha256("$salt:$device"), 0, 4)) % 10000;
}

# SPEC 3: canary, else not excluded and bucket < round(percent * 100)
sub in_cohort {
    my ($salt, $device, $percent, %o) = @_;
    return 1 if $o{canary} && $o{canary}{$device};
    return 0 if $o{exclude} && $o{exclude}{$device};
    my $limit = POSIX::floor($percent * 100 + 0.5);
    return bucket($salt, $device) < $limit ? 1 : 0;
}

# pick_devices('fmt-%05d', sub { bucket(...) < 2500 }, 3): the first ids of
# the pattern whose bucket satisfies the test
sub pick_devices {
    my ($fmt, $test, $n) = @_;
    my @ids;
    for (my $i = 0; @ids < $n && $i < 1000000; $i++) {
        my $id = sprintf $fmt, $i;
        push @ids, $id if $test->($id);
    }
    return @ids;
}


# --- RFC 9421 signing --------------------------------------------------------

sub _sf_string {
    my ($s) = @_;
    $s =~ s/([\\"])/\\$1/g;
    return qq{"$s"};
}

sub _random_nonce {
    open my $r, '<', '/dev/urandom' or die "urandom: $!";
    read $r, my $b, 12;
    close $r;
    (my $n = encode_base64($b, '')) =~ tr{+/=}{-_}d;
    return $n;
}

# the value of one component, from the request description of sign()
sub _component_value {
    my ($c, $req) = @_;
    my ($name, $params) = $c =~ /^"([^"]*)"(.*)$/
        or die "bad component $c\n";

    my $q = defined $req->{query} ? $req->{query} : undef;

    return $req->{method} if $name eq '@method';
    return $req->{path} if $name eq '@path';
    return lc $req->{authority} if $name eq '@authority';
    return $req->{scheme} || 'http' if $name eq '@scheme';
    return $req->{path} . (defined $q ? "?$q" : '')
        if $name eq '@request-target';
    return ($req->{scheme} || 'http') . '://' . lc($req->{authority})
           . $req->{path}
           . (defined $q ? "?$q" : '') if $name eq '@target-uri';
    return '?' . (defined $q ? $q : '') if $name eq '@query';

    if ($name eq '@query-param') {
        my ($pn) = $params =~ /;name="([^"]*)"/;
        for my $kv (split /&/, defined $q ? $q : '') {
            my ($k, $v) = split /=/, $kv, 2;
            return defined $v ? $v : '' if $k eq $pn;
        }
        die "no query param $pn\n";
    }

    my $h = $req->{headers}{lc $name};
    die "component $name: no such header\n" unless defined $h;
    my @v = ref $h ? @$h : ($h);
    s/^\s+|\s+$//g for @v;
    return join ', ', @v;
}

# The signature base, RFC 9421 section 2.5.  $components: list of
# serialized component identifiers ('"@method"', '"@query-param";name="a"')
sub base_for {
    my ($req, $components, $params) = @_;
    my $base = '';
    for my $c (@$components) {
        $base .= "$c: " . _component_value($c, $req) . "\n";
    }
    $base .= qq{"\@signature-params": $params};
    return $base;
}

sub _der_to_rs {
    my ($der) = @_;
    my $p = 2;
    $p++ if ord(substr($der, 1, 1)) & 0x80;     # never for P-256, but
    my @ints;
    for (1, 2) {
        die "bad DER\n" unless substr($der, $p, 1) eq "\x02";
        my $len = ord substr($der, $p + 1, 1);
        my $v = substr($der, $p + 2, $len);
        $v =~ s/^\x00+//;
        push @ints, ("\x00" x (32 - length $v)) . $v;
        $p += 2 + $len;
    }
    return join '', @ints;
}

sub _sign_bytes {
    my ($k, $base) = @_;

    return hmac_sha256($base, $k->{secret}) if $k->{alg} eq 'hmac-sha256';

    my $bf = "$TMP/base." . $$ . '.' . (++$SEQ);
    open my $f, '>', $bf or die "$bf: $!";
    binmode $f;
    print $f $base;
    close $f;

    my $sig;
    if ($k->{alg} eq 'ed25519') {
        $sig = _run('openssl', 'pkeyutl', '-sign', '-inkey', $k->{pem},
                    '-rawin', '-in', $bf);
    } else {
        $sig = _der_to_rs(_run('openssl', 'dgst', '-sha256', '-sign',
                               $k->{pem}, $bf));
    }
    unlink $bf;
    return $sig;
}

# sig_parts(%o): everything sign() computes, as a hash:
#   { headers => 'Name: value\n...', input => Signature-Input value,
#     signature => Signature value, base => signature base, params => ..}
#
# Options (defaults in brackets):
#   device [LS6-000001]   keyid and whose key signs
#   signer                sign with another device's key instead
#   model [LS-6000i], version [2.4.1], hw   the claim headers
#   method [GET], path [/firmware/x.bin], query, authority [localhost],
#   scheme [http] (for @scheme and @target-uri)
#   components [@method @path @authority x-device-model
#               x-firmware-version] (+ "x-device-hw" when hw is given)
#   created [now], expires, nonce (1: random), alg [the key's],
#   no_alg, no_created, keyid (override), label [fw]
#   headers {name => value}   extra request headers (signed if covered)
#   omit [names]              claim headers not to send
#   tamper => sub { $_[0] }   changes the request after signing
#   sig_b64                   replaces the signature
#   params                    more serialized parameters (';tag="x"')
sub sig_parts {
    my (%o) = @_;
    my $dev = defined $o{device} ? $o{device} : 'LS6-000001';
    my $signer = defined $o{signer} ? $o{signer} : $dev;
    my $k = $o{key} || $KEYS{$signer}
        or die "sign: no key for $signer\n";

    my %h = (
        'x-device-model' => defined $o{model} ? $o{model} : 'LS-6000i',
        'x-firmware-version' => defined $o{version} ? $o{version} : '2.4.1',
    );
    $h{'x-device-hw'} = $o{hw} if defined $o{hw};
    if ($o{headers}) {
        $h{lc $_} = $o{headers}{$_} for keys %{ $o{headers} };
    }

    my $req = {
        method => $o{method} || 'GET',
        path => defined $o{path} ? $o{path} : '/firmware/x.bin',
        query => $o{query},
        authority => $o{authority} || 'localhost',
        scheme => $o{scheme} || 'http',
        headers => \%h,
    };

    my @comp = $o{components}
        ? @{ $o{components} }
        : ('@method', '@path', '@authority', 'x-device-model',
           'x-firmware-version', defined $o{hw} ? ('x-device-hw') : ());
    @comp = map { /^"/ ? $_ : _sf_string($_) } @comp;

    my $params = '(' . join(' ', @comp) . ')';
    my $created = defined $o{created} ? $o{created} : time;
    $params .= ";created=$created" unless $o{no_created};
    $params .= ";expires=$o{expires}" if defined $o{expires};
    $params .= ';keyid=' . _sf_string(defined $o{keyid} ? $o{keyid} : $dev);
    my $alg = defined $o{alg} ? $o{alg} : $k->{alg};
    $params .= ';alg=' . _sf_string($alg) unless $o{no_alg};
    if ($o{nonce}) {
        my $n = $o{nonce} eq '1' ? _random_nonce() : $o{nonce};
        $params .= ';nonce=' . _sf_string($n);
    }
    $params .= $o{params} if defined $o{params};

    my $base = base_for($req, \@comp, $params);
    my $sig = defined $o{sig_b64} ? $o{sig_b64}
                                  : encode_base64(_sign_bytes($k, $base), '');
    my $label = defined $o{label} ? $o{label} : 'fw';

    $o{tamper}->($req) if $o{tamper};

    my %omit = map { lc($_) => 1 } @{ $o{omit} || [] };
    my $hdrs = '';
    for my $name (sort keys %{ $req->{headers} }) {
        next if $omit{$name};
        my $v = $req->{headers}{$name};
        $hdrs .= "$name: $_\n" for ref $v ? @$v : ($v);
    }

    my $input = "$label=$params";
    my $signature = "$label=:$sig:";

    return {
        headers => $hdrs,
        input => $input,
        signature => $signature,
        base => $base,
        params => $params,
        sig_b64 => $sig,
    };
}

# the header lines for `--- more_headers eval`
sub sign {
    my $p = sig_parts(@_);
    return $p->{headers} . "Signature-Input: $p->{input}\n"
           . "Signature: $p->{signature}\n";
}


# sign_report(body => $json, device => ..., ...): the headers of a signed
# install report; its signature covers a Content-Digest of the body, as a
# fwgate_report location requires (a report means its body)
push @EXPORT, 'sign_report';

sub sign_report {
    my (%o) = @_;
    my $body = delete $o{body};
    my $d = 'sha-256=:' . encode_base64(sha256($body), '') . ':';
    return sign(method => 'POST',
                headers => { 'content-digest' => $d },
                components => ['@method', '@path', '@authority',
                               'x-device-model', 'x-firmware-version',
                               'content-digest'],
                %o);
}

# --- the report suites' helpers (t/21, t/29, t/33, t/34) -------------------

push @EXPORT, qw(rv logged fresh_rollout fw_download fw_check
                 report_json report_headers report_send report_post
                 report_preprocess);

# the report suites' name for redis() (which trims the reply)
sub rv { return redis(@_) }

# whether nginx's error log has a line matching $re
sub logged {
    my ($re) = @_;
    my $f = $Test::Nginx::Util::ErrLogFile
            || ($ENV{TEST_NGINX_SERVROOT} || 't/servroot') . '/logs/error.log';
    open my $fh, '<', $f or return 0;
    while (<$fh>) { return 1 if $_ =~ $re }
    return 0;
}

# fresh_rollout($model, $artifact, %rollout): a rollout of $artifact to
# every $model at 100%, with its counters and records cleared.  Options
# of ours: served => [devices] marks them as served by it (as a download
# does: only reports from devices the rollout served count); settle => s
# waits for the edge's epoch poll to see it.
sub fresh_rollout {
    my ($model, $art, %o) = @_;
    my $served = delete $o{served};
    my $settle = delete $o{settle};
    redis('DEL', (map { "$PREFIX$_:$model:$art" }
                  qw(stats downloads starts devfail)),
          "${PREFIX}stats:$model:$art:devices");
    redis('HSET', "${PREFIX}stats:$model:$art:devices",
          map { ($_, 'served') } @$served)
        if $served && @$served;
    rollout($model, artifact => $art, percent => 100, %o);
    bump_epoch();
    Time::HiRes::sleep($settle) if $settle;
}

# fw_download($artifact, $device, %sign): a signed GET of the artifact;
# headers => '...' adds header lines
sub fw_download {
    my ($art, $dev, %o) = @_;
    my $h = delete $o{headers} || '';
    return http_req("GET /firmware/$art",
                    sign(device => $dev, path => "/firmware/$art", %o) . $h);
}

# fw_check($device, %sign): a signed update check at /fw/check
sub fw_check {
    my ($dev, %o) = @_;
    return http_req('GET /fw/check',
                    sign(device => $dev, path => '/fw/check', %o));
}

# the JSON of an install report of $artifact
sub report_json {
    my ($art, $status) = @_;
    return qq({"artifact":"$art","status":"$status","version":"2.5.0"});
}

# report_headers($device, $body, %sign): the headers of a report at
# /fw/report whose signature covers a Content-Digest of $body (a
# fwgate_report location requires it: a report means its body)
sub report_headers {
    my ($dev, $body, %o) = @_;
    my $d = 'sha-256=:' . encode_base64(sha256($body), '') . ':';
    return sign(device => $dev, path => '/fw/report', method => 'POST',
                version => '2.4.1',
                headers => { 'content-digest' => $d },
                components => ['@method', '@path', 'x-device-model',
                               'x-firmware-version', 'content-digest'],
                %o)
           . "Content-Type: application/json\n";
}

# report_send($device, $body): POSTs the signed report; returns the
# socket and start time for http_read
sub report_send {
    my ($dev, $body) = @_;
    my ($s, $t0) = http_send('POST /fw/report', report_headers($dev, $body)
                             . 'Content-Length: ' . length($body) . "\n");
    print $s $body;
    return ($s, $t0);
}

# report_post($device, $body): the response to the signed report
sub report_post { return http_read(report_send(@_)) }

# report_preprocess($block, status => 1): preprocess() with the report
# suites' defaults: http_config with a 200 ms epoch poll, and locations
# /firmware/, /fw/check, /fw/report (and /status), unless the block has
# its own.  add_block_preprocessor(sub { ::report_preprocess($_[0]) })
# (its prototype wants a sub {} block under the real Test::Nginx)
sub report_preprocess {
    my ($block, %o) = @_;
    my $config = <<'_EOC_';
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
    location = /fw/check {
        fwgate_manifest base_url=https://fw.example.com;
        fwgate_expose_reason on;
    }
    location = /fw/report {
        fwgate_report;
        fwgate_expose_reason on;
    }
_EOC_
    $config .= <<'_EOC_' if $o{status};
    location = /status {
        fwgate_status;
    }
_EOC_
    $block->set_value('http_config', http_config(cache => 'poll=200ms'))
        unless defined $block->http_config;
    $block->set_value('config', $config) unless defined $block->config;
    preprocess($block);
}


# --- nginx configuration -----------------------------------------------------

# http_config(prefix => ..., redis => 'extra args', cache => 'ttl=... ',
#             port => N, replay => 1, extra => '...')
sub http_config {
    my (%o) = @_;
    my $port = $o{port} || redis_port();
    my $prefix = defined $o{prefix} ? $o{prefix} : $PREFIX;
    my $ra = defined $o{redis} ? " $o{redis}" : '';
    my $ca = defined $o{cache} ? " $o{cache}" : '';
    my $addr = $o{addr} || "127.0.0.1:$port";
    my $c = "    fwgate_redis $addr prefix=$prefix$ra;\n"
          . "    fwgate_cache fwgate_cache:1m$ca;\n";
    $c .= "    fwgate_replay_zone fwgate_replay:1m;\n"
        unless defined $o{replay} && !$o{replay};
    $c .= $o{extra} if defined $o{extra};
    return $c;
}


# --- fwgatectl -----------------------------------------------------------------

sub ctl {
    my (@args) = @_;
    my $bin = $ENV{FWGATECTL} or die "FWGATECTL is not set\n";
    my $pid = open3(my $in, my $out, undef, $bin,
                    '--redis', '127.0.0.1:' . redis_port(),
                    '--prefix', $PREFIX, @args);
    close $in;
    local $/;
    my $r = <$out>;
    waitpid $pid, 0;
    return wantarray ? ($?, defined $r ? $r : '') : $r;
}

# whether fwgatectl is built and answers `sig --help`-like calls
sub ctl_ok {
    my $bin = $ENV{FWGATECTL};
    return 0 unless $bin && -x $bin;
    return 1;
}

# `fwgatectl sig sign`: the header lines it prints, for more_headers
sub ctl_sign {
    my (@args) = @_;
    my ($rc, $out) = ctl('sig', 'sign', @args);
    die "fwgatectl sig sign @args: exit " . ($rc >> 8) . ": $out\n" if $rc;
    return $out;
}


# --- a second redis-server for fault injection -----------------------------------

my %EXTRA;      # port => pid

# free_port(): a free loopback port (exported; t/faults/lib.pl imports it
# rather than keeping its own; scripts/lib.sh has the shell one)
# below Linux's ephemeral range (as scripts/lib.sh's free_port): outgoing
# connections cannot take it between this check and the server's bind
sub free_port {
    require IO::Socket::INET;
    for (1 .. 1000) {
        my $p = 10000 + int(rand(22000));
        my $s = IO::Socket::INET->new(LocalAddr => '0.0.0.0', LocalPort => $p,
                                      Listen => 1) or next;
        return $p;
    }
    die "no free port";
}

# start_extra_redis(): a private redis-server; returns its port
# (start_extra_redis($port) restarts one on a given port)
sub start_extra_redis {
    my ($port) = @_;
    $port ||= free_port();
    my $dir = "$TMP/redis-$port";
    make_path($dir);
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        open STDOUT, '>', '/dev/null';
        open STDERR, '>', '/dev/null';
        no warnings 'exec';
        exec 'redis-server', '--port', $port, '--bind', '127.0.0.1',
             '--enable-debug-command', 'yes', '--save', '', '--appendonly', 'no', '--dir', $dir,
             '--daemonize', 'no', '--logfile', "$dir/redis.log";
        POSIX::_exit(127);
    }
    $EXTRA{$port} = $pid;
    for (1 .. 100) {
        return $port if redis({ port => $port }, 'PING') eq 'PONG';
        Time::HiRes::sleep(0.05);
    }
    die "extra redis-server on $port did not start\n";
}

sub stop_extra_redis {
    my ($port) = @_;
    my $pid = delete $EXTRA{$port} or return;
    kill 'TERM', $pid;
    waitpid $pid, 0;
}

END {
    for my $port (keys %EXTRA) {
        stop_extra_redis($port);
    }
}


# --- waiting on the server's log ---------------------------------------------------

# polls until $cond->() is true or $timeout seconds pass; returns the result
sub wait_for {
    my ($cond, $timeout) = @_;
    my $end = Time::HiRes::time() + ($timeout || 5);
    while (Time::HiRes::time() < $end) {
        my $r = $cond->();
        return $r if $r;
        Time::HiRes::sleep(0.02);
    }
    return 0;
}

# after_log_line($file, $re, $code): in a child process, waits (up to
# 10 s) for a line matching $re in $file, then runs $code; for changes
# made "between" the requests of one block
sub after_log_line {
    my ($file, $re, $code) = @_;
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    return $pid if $pid;
    my $ok = wait_for(sub {
        open my $f, '<', $file or return 0;
        while (<$f>) { return 1 if $_ =~ $re }
        return 0;
    }, 10);
    eval { $code->() if $ok; 1 } or warn "after_log_line: $@";
    POSIX::_exit(0);
}


# ensure_extra_redis($port): (re)starts the extra server if it does not
# answer; returns its port
sub ensure_extra_redis {
    my ($port) = @_;
    return $port if $port && redis({ port => $port }, 'PING') eq 'PONG';
    stop_extra_redis($port) if $port;
    return start_extra_redis($port);
}


# --- a plain HTTP client, for requests made from `--- init` code -------------

sub _server_port { $ENV{TEST_NGINX_SERVER_PORT} || 1984 }

# http_send($method_path, $header_lines): sends a request, returns the
# socket and the time it was sent
sub http_send {
    my ($req, $hdrs) = @_;
    require IO::Socket::INET;
    $req = "GET $req" unless $req =~ /^[A-Z]+ /;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => _server_port(),
                                  Proto => 'tcp')
        or die "connect: $!";
    $hdrs = '' unless defined $hdrs;
    $hdrs =~ s/\n+\z//;
    $hdrs =~ s/\n/\r\n/g;
    $hdrs .= "\r\n" if length $hdrs;
    $s->autoflush(1);
    print $s "$req HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
             . "$hdrs\r\n";
    return ($s, Time::HiRes::time());
}

# http_read($sock, $t0, $timeout): { status, headers => {lc name => value},
# body, elapsed }; status 0 on a timeout or a closed connection
sub http_read {
    my ($s, $t0, $timeout) = @_;
    $timeout ||= 5;
    my $buf = '';
    my $end = Time::HiRes::time() + $timeout;
    require IO::Select;
    my $sel = IO::Select->new($s);
    while (Time::HiRes::time() < $end) {
        last unless $sel->can_read($end - Time::HiRes::time());
        my $n = sysread $s, my $chunk, 65536;
        last unless $n;
        $buf .= $chunk;
    }
    close $s;
    my %r = (status => 0, headers => {}, body => '',
             elapsed => Time::HiRes::time() - $t0, raw => $buf);
    my ($head, $body) = split /\r\n\r\n/, $buf, 2;
    return \%r unless defined $head && $head =~ m{^HTTP/1\.\d (\d+)};
    $r{status} = $1;
    for my $l (split /\r\n/, $head) {
        $r{headers}{lc $1} = $2 if $l =~ /^([^:]+):\s*(.*)$/;
    }
    $r{body} = defined $body ? $body : '';
    return \%r;
}

sub http_req {
    my ($req, $hdrs, $timeout) = @_;
    my ($s, $t0) = http_send($req, $hdrs);
    return http_read($s, $t0, $timeout);
}

# bytes $off .. $off+$len-1 of a firmware file (undef $len: to the end)
sub fw_bytes {
    my ($name, $off, $len) = @_;
    open my $f, '<', "$FWROOT/firmware/$name" or die "$name: $!";
    binmode $f;
    local $/;
    my $d = <$f>;
    close $f;
    return defined $len ? substr($d, $off, $len) : substr($d, $off);
}


# --- block defaults ---------------------------------------------------------------

sub default_config {
    return <<'_EOC_';
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
    }
    location = /plain {
        return 200 "plain\n";
    }
_EOC_
}

# add_block_preprocessor(\&t::FwgateTest::preprocess): the suite's
# http_config and the gated location unless a block has its own, and no
# [alert]/[crit]/[emerg]/[error] unless it checks the error log itself
sub preprocess {
    my ($block) = @_;
    $block->set_value('http_config', http_config())
        unless defined $block->http_config;
    $block->set_value('config', default_config())
        unless defined $block->config;
    unless (defined $block->no_error_log || defined $block->error_log
            || defined $block->must_die)
    {
        $block->set_value('no_error_log', "[alert]\n[crit]\n[emerg]\n[error]");
    }
}

# --- metrics and concurrency helpers (t/31-metrics.t, t/32-variables.t) ----

push @EXPORT, qw(prom_python prom_parse prom_scrape http_parallel
                 redis_monitor_start redis_monitor_stop);

# the python3 that has Debian's python3-prometheus-client (/usr/bin first:
# a python3 earlier on PATH may not see Debian's dist-packages); '' if none
my $PROM_PY;

sub prom_python {
    return $PROM_PY if defined $PROM_PY;
    $PROM_PY = '';
    for my $py ('/usr/bin/python3', 'python3') {
        if (system("$py -c 'import prometheus_client.parser' "
                   . ">/dev/null 2>&1") == 0)
        {
            $PROM_PY = $py;
            last;
        }
    }
    return $PROM_PY;
}

my $PROM_SCRIPT = <<'_PY_';
import json, sys
from prometheus_client.parser import text_string_to_metric_families
with open(sys.argv[1], encoding="utf-8") as f:
    text = f.read()
fams, samples, order = {}, {}, []
for fam in text_string_to_metric_families(text):
    fams[fam.name] = fam.type
    for s in fam.samples:
        key = s.name
        if s.labels:
            key += "{" + ",".join('%s="%s"' % (k, s.labels[k])
                                  for k in sorted(s.labels)) + "}"
        samples[key] = s.value
        order.append(key)
print(json.dumps({"families": fams, "samples": samples, "order": order}))
_PY_

# prom_parse($text): the exposition parsed by prometheus_client's
# text_string_to_metric_families, as { families => {name => type},
# samples => {'name{l="v",...}' => value}, order => [keys] }, or
# { error => message } when it does not parse
sub prom_parse {
    my ($text) = @_;
    require JSON::PP;
    my $py = prom_python()
        or return { error => 'no python3 with prometheus_client '
                             . '(apt-get install python3-prometheus-client)' };
    my $f = "$TMP/prom." . $$ . '.' . (++$SEQ);
    open my $fh, '>', $f or die "$f: $!";
    binmode $fh;
    print $fh $text;
    close $fh;
    my $pid = open3(my $in, my $out, undef, $py, '-c', $PROM_SCRIPT, $f);
    close $in;
    local $/;
    my $r = <$out>;
    waitpid $pid, 0;
    my $rc = $? >> 8;
    unlink $f;
    $r = '' unless defined $r;
    return { error => "python3 exit $rc: $r" } if $rc;
    my $d = eval { JSON::PP->new->decode($r) };
    return $d || { error => "bad parser output: $r" };
}

# prom_scrape($path): GET $path (default /status) from the test server and
# parse it; also { status, body } of the response
sub prom_scrape {
    my ($path) = @_;
    my $res = http_req('GET ' . ($path || '/status'));
    my $p = $res->{status} == 200 ? prom_parse($res->{body})
                                  : { error => "status $res->{status}" };
    $p->{status} = $res->{status};
    $p->{body} = $res->{body};
    return $p;
}

# http_parallel([[$req, $hdrs, $body], ...], $timeout): opens one
# connection per request and writes every request before reading any
# reply, so they reach the server together; returns the http_read()
# results in order
sub http_parallel {
    my ($reqs, $timeout) = @_;
    my @socks;
    for my $q (@$reqs) {
        my ($req, $hdrs, $body) = @$q;
        $hdrs = '' unless defined $hdrs;
        $hdrs .= "\n" if length $hdrs && $hdrs !~ /\n\z/;
        $hdrs .= 'Content-Length: ' . length($body) . "\n" if defined $body;
        my ($s, $t0) = http_send($req, $hdrs);
        print $s $body if defined $body;
        push @socks, [$s, $t0];
    }
    return [map { http_read($_->[0], $_->[1], $timeout) } @socks];
}

# redis_monitor_start(): runs `redis-cli MONITOR` into a file; returns a
# handle for redis_monitor_stop(), which returns the lines it saw
sub redis_monitor_start {
    my $f = "$TMP/monitor." . $$ . '.' . (++$SEQ);
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        open STDOUT, '>', $f or POSIX::_exit(127);
        open STDERR, '>', '/dev/null';
        { exec 'redis-cli', '-h', '127.0.0.1', '-p', redis_port(),
               'MONITOR'; }
        POSIX::_exit(127);
    }
    # MONITOR answers OK first: wait for it so nothing sent later is missed
    wait_for(sub { -s $f }, 5);
    return { pid => $pid, file => $f };
}

sub redis_monitor_stop {
    my ($m) = @_;
    # one last command, so that what came before is flushed to the file
    my $mark = 'fwgate-monitor-end-' . $m->{pid};
    redis('ECHO', $mark);
    wait_for(sub {
        open my $fh, '<', $m->{file} or return 0;
        local $/;
        my $t = <$fh>;
        return defined $t && index($t, $mark) >= 0;
    }, 5);
    kill 'TERM', $m->{pid};
    waitpid $m->{pid}, 0;
    open my $fh, '<', $m->{file} or return [];
    my @l = <$fh>;
    close $fh;
    unlink $m->{file};
    return \@l;
}

1;
