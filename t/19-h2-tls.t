# Signed downloads over HTTP/2: with TLS (a throwaway CA and certificate
# made here with openssl) and in cleartext (h2c, prior knowledge), with
# Debian's curl as the device.  @authority comes from :authority and
# @scheme is "https" under TLS, as RFC 9421 section 2.2 derives them.
#
# Each block's checks run in its --- init against the extra servers of
# its http_config; the block's own request is a plain one on the main
# server (Test::Nginx's client speaks HTTP/1.x only).

use Test::Nginx::Socket 'no_plan';
use t::FwgateTest;
use File::Temp qw(tempdir);
use Digest::SHA qw(sha256_hex);

fw_setup('fwt19:');

device('LS6-900001', model => 'LS-6000i', alg => 'ed25519');
device('LS6-900002', model => 'LS-6000i', alg => 'hmac-sha256');

our $A6 = 'ls6000i-2.5.0.bin';
our $A7 = 'ls7000i-3.0.0.bin';
our $SHA6 = artifact($A6, version => '2.5.0', models => 'LS-6000i',
                     file_size => 70000);
artifact($A7, version => '3.0.0', models => 'LS-7000i', file_size => 3000);
rollout('LS-6000i', artifact => $A6);

# a CA and a certificate for localhost signed by it
our $PKI = tempdir('fwgate-t19-XXXXXX', TMPDIR => 1, CLEANUP => 1);
{
    my @q = ('>/dev/null', '2>&1');
    my $run = sub { system("@_ @q") == 0 or die "openssl failed: @_\n" };
    $run->("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256"
           . " -nodes -days 2 -subj /CN=fwgate-test-ca"
           . " -keyout $PKI/ca.key -out $PKI/ca.pem");
    $run->("openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
           . " -subj /CN=localhost -keyout $PKI/srv.key -out $PKI/srv.csr");
    open my $f, '>', "$PKI/ext" or die;
    print $f "subjectAltName=DNS:localhost,IP:127.0.0.1\n";
    close $f;
    $run->("openssl x509 -req -in $PKI/srv.csr -CA $PKI/ca.pem"
           . " -CAkey $PKI/ca.key -CAcreateserial -days 2"
           . " -extfile $PKI/ext -out $PKI/srv.pem");
}
$ENV{TEST_NGINX_PKI} = $PKI;

# the TLS + HTTP/2 server and the h2c server
our $SERVERS = <<'_EOC_';
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_1 ssl http2;
        server_name localhost;
        ssl_certificate $TEST_NGINX_PKI/srv.pem;
        ssl_certificate_key $TEST_NGINX_PKI/srv.key;
        location /firmware/ {
            root $TEST_NGINX_FW_ROOT;
            fwgate on;
            fwgate_expose_reason on;
            fwgate_required_components @method @path @authority @scheme
                                       x-device-model x-firmware-version;
        }
    }
    server {
        listen 127.0.0.1:$TEST_NGINX_RAND_PORT_2 http2;
        server_name localhost;
        location /firmware/ {
            root $TEST_NGINX_FW_ROOT;
            fwgate on;
            fwgate_expose_reason on;
            fwgate_required_components @method @path @authority @scheme
                                       x-device-model x-firmware-version;
        }
    }
_EOC_

our @COMP = ('@method', '@path', '@authority', '@scheme', 'x-device-model',
             'x-firmware-version');

# port of $TEST_NGINX_RAND_PORT_N in the running block's config
sub rand_port {
    my ($n) = @_;
    my $conf = ($ENV{TEST_NGINX_SERVROOT} || 't/servroot') . '/conf/nginx.conf';
    open my $f, '<', $conf or die "$conf: $!";
    my @ports;
    while (<$f>) { push @ports, $1 if /listen\s+127\.0\.0\.1:(\d+)\s+(?:ssl )?http2/ }
    return $ports[$n - 1];
}

# curl as the device: returns { status, version, headers, body }
sub h2_get {
    my (%o) = @_;
    my $tls = $o{tls};
    my $port = rand_port($tls ? 1 : 2);
    my $auth = "localhost:$port";
    my $path = $o{path} || "/firmware/$main::A6";
    my $h = ::sign(device => $o{device} || 'LS6-900001',
                   path => $path, components => \@main::COMP,
                   authority => $o{authority} || $auth,
                   scheme => $o{scheme} || ($tls ? 'https' : 'http'),
                   model => $o{model} || 'LS-6000i', nonce => 1);
    my @args = ('curl', '-s', '--max-time', '5', '-D', '-',
                '-o', "$main::PKI/body", '--resolve', "$auth:127.0.0.1",
                '-w', '\n%{http_version}');
    push @args, $tls ? ('--http2', '--cacert', "$main::PKI/ca.pem")
                     : ('--http2-prior-knowledge');
    push @args, '-H', $_ for split /\n/, $h;
    push @args, '-H', "Range: $o{range}" if $o{range};
    push @args, ($tls ? 'https' : 'http') . "://$auth$path";
    open my $c, '-|', @args or die "curl: $!";
    local $/;
    my $out = <$c>;
    close $c;
    my %r = (headers => {});
    ($r{version}) = $out =~ /\n(\S+)\z/;
    ($r{status}) = $out =~ m{^HTTP/\S+ (\d+)}m;
    $r{headers}{lc $1} = $2 while $out =~ /^([A-Za-z0-9-]+): ([^\r\n]*)/mg;
    open my $b, '<', "$main::PKI/body" or die;
    binmode $b;
    $r{body} = <$b>;
    $r{body} = '' unless defined $r{body};
    close $b;
    return \%r;
}

sub http_cfg { ::http_config() . $main::SERVERS }

repeat_each(1);
no_long_string();
add_block_preprocessor(\&t::FwgateTest::preprocess);

run_tests();

__DATA__

=== TEST 1: HTTP/2 over TLS: an allowed download, @scheme "https" and
@authority from :authority; the image's bytes
--- http_config eval: main::http_cfg()
--- init
my $r = main::h2_get(tls => 1);
Test::More::is($r->{version}, '2', 'init: HTTP/2');
Test::More::is($r->{status}, 200, 'init: 200');
Test::More::is($r->{headers}{'x-fwgate-reason'}, 'ok', 'init: ok');
Test::More::is(Digest::SHA::sha256_hex($r->{body}), $main::SHA6,
               'init: the sha256 of the registry');
$r = main::h2_get(tls => 1, device => 'LS6-900002');
Test::More::is($r->{status}, 200, 'init: an hmac device too');
--- request
GET /plain
--- response_body
plain



=== TEST 2: HTTP/2 over TLS: a 6000i asking for the 7000i image is refused
--- http_config eval: main::http_cfg()
--- init
my $r = main::h2_get(tls => 1, path => "/firmware/$main::A7");
Test::More::is($r->{version}, '2', 'init: HTTP/2');
Test::More::is($r->{status}, 403, 'init: 403');
Test::More::is($r->{headers}{'x-fwgate-reason'}, 'incompatible',
               'init: incompatible');
Test::More::unlike($r->{body}, qr/\A\Q${\ ::fw_bytes($main::A7, 0, 64)}\E/,
                   'init: none of its bytes');
--- request
GET /plain
--- response_body
plain
--- error_log
reason=incompatible



=== TEST 3: HTTP/2 over TLS: a Range request of an allowed artifact
--- http_config eval: main::http_cfg()
--- init
my $r = main::h2_get(tls => 1, range => 'bytes=65536-');
Test::More::is($r->{status}, 206, 'init: 206');
Test::More::is($r->{body}, ::fw_bytes($main::A6, 65536),
               'init: the bytes from 65536');
Test::More::is($r->{headers}{'content-range'}, 'bytes 65536-69999/70000',
               'init: Content-Range');
--- request
GET /plain
--- response_body
plain



=== TEST 4: under TLS @scheme is "https": a signature over "http" does not
verify, nor one over another authority
--- http_config eval: main::http_cfg()
--- init
my $r = main::h2_get(tls => 1, scheme => 'http');
Test::More::is($r->{status}, 401, 'init: @scheme http under TLS: 401');
Test::More::is($r->{headers}{'x-fwgate-reason'}, 'bad_signature',
               'init: bad_signature');
$r = main::h2_get(tls => 1, authority => 'fw.example.com');
Test::More::is($r->{status}, 401, 'init: another :authority: 401');
--- request
GET /plain
--- response_body
plain
--- error_log
reason=bad_signature



=== TEST 5: h2c (cleartext HTTP/2): allowed with @scheme "http", refused
for another model's image
--- http_config eval: main::http_cfg()
--- init
my $r = main::h2_get(tls => 0);
Test::More::is($r->{version}, '2', 'init: HTTP/2 without TLS');
Test::More::is($r->{status}, 200, 'init: 200');
Test::More::is(Digest::SHA::sha256_hex($r->{body}), $main::SHA6,
               'init: the image');
$r = main::h2_get(tls => 0, path => "/firmware/$main::A7");
Test::More::is($r->{status}, 403, 'init: the 7000i image: 403');
$r = main::h2_get(tls => 0, scheme => 'https');
Test::More::is($r->{status}, 401, 'init: @scheme https without TLS: 401');
--- request
GET /plain
--- response_body
plain
--- error_log
reason=incompatible
