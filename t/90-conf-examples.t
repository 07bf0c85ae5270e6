# Every conf-examples/*.conf passes `nginx -t` with the built module, and
# bad fwgate arguments are refused at configuration time with the
# directive and the argument named.  Plain Test::More.
#
# The examples are written for a real host; before testing, their module
# path, Redis and listen ports, and file system paths are replaced with
# ones inside a temporary directory.

use strict;
use warnings;

use Test::More;
use File::Temp qw(tempdir);
use File::Path qw(make_path);
use IO::Socket::INET;

my $nginx = $ENV{TEST_NGINX_BINARY} || 'nginx';
my $module = $ENV{TEST_NGINX_FWGATE_MODULE} || 'build/ngx_http_fwgate_module.so';
my $redis_port = $ENV{TEST_NGINX_REDIS_PORT} || 6379;

plan skip_all => "module not built: $module" unless -f $module;

my @examples = sort glob('conf-examples/*.conf');
ok(scalar @examples >= 3, 'there are conf examples') or diag('none found');

my $tmp = tempdir('fwgate-conf-XXXXXX', TMPDIR => 1, CLEANUP => 1);

sub free_port {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Listen => 1) or die "no free port: $!";
    return $s->sockport;
}

# the host-specific parts of an example, made local
sub localize {
    my ($conf, $dir) = @_;
    make_path("$dir/www", "$dir/cache", "$dir/logs");
    $conf =~ s{^(\s*load_module\s+)\S+;}{$1$module;}m
        or die "no load_module line\n";
    $conf =~ s{\b(127\.0\.0\.[12]):6379\b}{$1:$redis_port}g;
    $conf =~ s{\blisten\s+(?:127\.0\.0\.1:)?\d+\b}
              {'listen 127.0.0.1:' . free_port()}ge;
    $conf =~ s{/var/www/firmware}{$dir/www}g;
    $conf =~ s{/var/cache/nginx/fwgate}{$dir/cache}g;
    $conf =~ s{/var/log/nginx/}{$dir/logs/}g;
    return $conf;
}

sub nginx_t {
    my ($conf, $name) = @_;
    my $dir = "$tmp/$name";
    make_path("$dir/conf", "$dir/logs");
    $conf = localize($conf, $dir);
    open my $f, '>', "$dir/conf/nginx.conf" or die "$dir: $!";
    print $f $conf;
    close $f;
    my $out = `$nginx -t -p $dir/ -c $dir/conf/nginx.conf -e $dir/logs/error.log -g 'pid $dir/logs/nginx.pid;' 2>&1`;
    return ($? >> 8, $out);
}

sub slurp {
    my ($p) = @_;
    open my $f, '<', $p or die "$p: $!";
    local $/;
    return <$f>;
}

for my $ex (@examples) {
    (my $name = $ex) =~ s{.*/|\.conf$}{}g;
    my ($rc, $out) = nginx_t(slurp($ex), $name);
    is($rc, 0, "$ex: nginx -t exits 0") or diag($out);
    like($out, qr/test is successful/, "$ex: test is successful");
    unlike($out, qr/\[(?:warn|alert|crit|emerg)\]/, "$ex: no warnings")
        or diag($out);
}

# configuration-time validation: each bad argument is named by nginx -t

my $base = slurp('conf-examples/minimal-edge.conf');

my @bad = (
    ['fwgate maybe;', qr/maybe/, 'replace'],
    ['fwgate_algorithms ed25519 rsa-pss-sha512;', qr/rsa-pss-sha512/],
    ['fwgate_max_age forever;', qr/forever/],
    ['fwgate_clock_skew -5s;', qr/-5s/],
    ['fwgate_require_nonce sometimes;', qr/sometimes/],
    ['fwgate_required_components "@bogus";', qr/\@bogus/],
    ['fwgate_signature_label "a b";', qr/a b|fwgate_signature_label/],
);

my @bad_http = (
    ['fwgate_cache fwgate_cache:16m ttl=soon;', qr/ttl=soon/],
    ['fwgate_cache nosize;', qr/nosize/],
    ['fwgate_redis 127.0.0.1:99999;', qr/99999/],
    ['fwgate_redis redis.example.com:6379;', qr/redis\.example\.com/],
    ['fwgate_redis 127.0.0.1:6379 timeout=never;', qr/timeout=never/],
    ['fwgate_redis 127.0.0.1:6379 db=x;', qr/db=x/],
    ['fwgate_redis 127.0.0.1:6379 colour=blue;', qr/colour=blue/],
    ['fwgate_replay_zone nosize;', qr/nosize/],
);

for my $b (@bad) {
    my ($line, $re, $replace) = @$b;
    my $conf = $base;
    if ($replace) {
        $conf =~ s{(location /firmware/ \{\n\s*)fwgate on;}{$1$line}
            or die "cannot place $line";
    } else {
        $conf =~ s{(location /firmware/ \{\n\s*fwgate on;)}{$1\n            $line}
            or die "cannot place $line";
    }
    (my $directive = $line) =~ s/\s.*//s;
    my ($rc, $out) = nginx_t($conf, 'bad-loc');
    isnt($rc, 0, "refused: $line");
    like($out, qr/\Q$directive\E/, "names the directive: $line") or diag($out);
    like($out, $re, "names the bad argument: $line") or diag($out);
}

for my $b (@bad_http) {
    my ($line, $re) = @$b;
    (my $directive = $line) =~ s/\s.*//s;
    (my $conf = $base) =~ s{\n\s*\Q$directive\E\s[^;]*;}{\n    $line}s
        or die "cannot place $line";
    my ($rc, $out) = nginx_t($conf, 'bad-http');
    isnt($rc, 0, "refused: $line");
    like($out, $re, "names the bad argument: $line") or diag($out);
}

# fwgate_response_signing: the key is checked (and never shown) by nginx -t
{
    my $k = "$tmp/edge";
    system("openssl genpkey -algorithm ed25519 -out $k.pem 2>/dev/null") == 0
        or die "openssl genpkey";
    system("openssl pkey -in $k.pem -pubout -out $k.pub 2>/dev/null") == 0
        or die "openssl pkey";
    my $secret = slurp("$k.pem");
    $secret =~ s/-----[^\n]*-----\n?//g;
    $secret =~ s/\s+//g;
    my @rs = (
        ["fwgate_response_signing $k.pem;", undef],
        ["fwgate_response_signing $k.pem keyid=edge-1 label=edge;", undef],
        ["fwgate_response_signing off;", undef],
        ["fwgate_response_signing $k.pub;", qr/not an ed25519 or P-256 private key/],
        ["fwgate_response_signing $tmp/none.pem;", qr/none\.pem/],
        ["fwgate_response_signing $k.pem label=Bad;", qr/label/],
        ["fwgate_response_signing $k.pem colour=blue;", qr/colour=blue/],
    );
    for my $b (@rs) {
        my ($line, $re) = @$b;
        my $conf = $base;
        $conf =~ s{(location /firmware/ \{\n\s*fwgate on;)}{$1\n            $line}
            or die "cannot place $line";
        my ($rc, $out) = nginx_t($conf, 'rsig');
        if (defined $re) {
            isnt($rc, 0, "refused: $line");
            like($out, $re, "says why: $line") or diag($out);
            like($out, qr/fwgate_response_signing/, "names the directive: $line");
        } else {
            is($rc, 0, "accepted: $line") or diag($out);
        }
        unlike($out, qr/\Q$secret\E/, "no key material in the output: $line");
    }
}

# fwgate on without any fwgate_redis
{
    (my $conf = $base) =~ s{\n\s*fwgate_redis\s[^;]*;}{}s or die;
    $conf =~ s{\n\s*fwgate_cache\s[^;]*;}{}s;
    my ($rc, $out) = nginx_t($conf, 'no-redis');
    isnt($rc, 0, 'fwgate on without fwgate_redis is refused');
    like($out, qr/fwgate_redis/, '... and the message says so') or diag($out);
}

done_testing();
