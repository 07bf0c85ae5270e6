package Test::Nginx::Socket;

# A small work-alike of OpenResty's Test::Nginx::Socket, written from its
# documented behaviour, for machines without it (t/run-suites.sh puts
# t/compat on PERL5LIB only when `perl -MTest::Nginx::Socket -e1` fails).
# Core Perl only.  See docs/testing.md for what it supports.
#
# For each block: write t/servroot/conf/nginx.conf, (re)start nginx, send
# the request(s) repeat_each() times, and check the status, headers, body
# and error log, one TAP test per check, named as the real module names
# them ("t/foo.t TEST 1: name - status code ok"), so that the same plan
# counts hold under both.

use strict;
use warnings;

use IO::Select ();
use IO::Socket::INET ();
use List::Util qw(shuffle);
use Time::HiRes qw(sleep time);
use Test::More ();

use Test::Nginx::Block ();
use Test::Nginx::Util;

our $VERSION = '0.33-compat';

our @EXPORT = (qw(blocks plan run_tests run_test add_response_body_check),
               @Test::Nginx::Util::EXPORT);

our @ResponseBodyChecks;
our $PrevConfig;

# share the settings that live in Test::Nginx::Util
our ($ServerName, $ServerAddr, $ServerPort, $ServerPortForClient,
     $RandPorts, $RepeatEach, $NoShuffle, $ErrLogFilePos, $NginxVersion,
     $ConfFile, $ErrLogFile, @BlockPreprocessors, @TestCleanupHandlers);
BEGIN {
    no strict 'refs';
    for my $v (qw(ServerName ServerAddr ServerPort ServerPortForClient
                  RandPorts RepeatEach NoShuffle ErrLogFilePos NginxVersion
                  ConfFile ErrLogFile))
    {
        *{"Test::Nginx::Socket::$v"} = \${"Test::Nginx::Util::$v"};
    }
    for my $v (qw(BlockPreprocessors TestCleanupHandlers)) {
        *{"Test::Nginx::Socket::$v"} = \@{"Test::Nginx::Util::$v"};
    }
}

sub import {
    my ($class, @args) = @_;
    my $caller = caller;

    no strict 'refs';
    for my $f (@EXPORT) {
        *{"${caller}::$f"} = \&{$f};
    }
    for my $f (@Test::More::EXPORT) {
        next if $f eq 'plan';
        *{"${caller}::$f"} = \&{"Test::More::$f"};
    }
    Test::More->builder->exported_to($caller);

    Test::More::plan(@args) if @args;
}

sub plan { Test::More::plan(@_) }

sub blocks () {
    my @b = Test::Nginx::Block::all();
    return wantarray ? @b : scalar @b;
}

sub add_response_body_check ($) { push @ResponseBodyChecks, shift; }

# --- requests -------------------------------------------------------------

# "METHOD [URI [VERSION]]\nbody" -> the bytes to send.
sub build_request ($$$$) {
    my ($name, $req, $more_headers, $conn) = @_;
    my ($first, $body, $meth, $uri, $ver, $hdrs, $is_chunked);

    ($first, $body) = split /\n/, $req, 2;
    $first = '' unless defined $first;
    if ($first !~ /^\s*(\S+)(?:\s+(\S+))?(?:\s+(\S+))?\s*$/) {
        bail_out("$name - Request line is not valid. Should be "
                 . "'meth [url [version]]' but got \"$first\".");
    }
    ($meth, $uri, $ver) = ($1, $2, $3);
    $uri = '/' unless defined $uri;
    $ver = 'HTTP/1.1' unless defined $ver;

    $hdrs = '';
    for my $h (split /\n+/, $more_headers) {
        next if $h =~ /^\s*#/;
        my ($k, $v) = split /:\s*/, $h, 2;
        next unless defined $k && length $k;
        $v = '' unless defined $v;
        $is_chunked = 1 if lc $k eq 'transfer-encoding' && $v eq 'chunked';
        $hdrs .= "$k: $v\r\n";
    }

    $body = '' unless defined $body;
    if (!$is_chunked) {
        $body =~ s/^\s+|\s+$//gs;
    }

    my $out = "$meth $uri $ver\r\n";
    $out .= "Host: $ServerName\r\n" if $hdrs !~ /(?:^|\n)Host:/i;
    $out .= "Connection: $conn\r\n" if $hdrs !~ /(?:^|\n)Connection/i;
    $out .= $hdrs;
    if (!$is_chunked && $body ne '' && $hdrs !~ /(?:^|\n)Content-Length:/i) {
        $out .= "Content-Length: " . length($body) . "\r\n";
    }
    return "$out\r\n$body";
}

sub strip_request_comments ($) {
    my $r = shift;
    return $r if !defined $r || ref $r;
    1 while $r =~ s/^\s*\#[^\n]+\s+|^\s+//gs;
    return $r;
}

sub more_headers_for ($$$) {
    my ($name, $mh, $i) = @_;
    return '' unless defined $mh;
    return $mh unless ref $mh eq 'ARRAY';
    bail_out("$name - --- more_headers lacks data for request $i")
        unless defined $mh->[$i];
    return $mh->[$i];
}

# Returns a list of requests; each is a list of packets (strings) sent
# on one connection.
sub requests_of ($) {
    my $block = shift;
    my $name = $block->name;
    my $mh = $block->more_headers;
    my $rp = $RandPorts;

    if (defined $block->raw_request) {
        my $raw = $block->raw_request;
        return [ref $raw eq 'ARRAY' ? @$raw : $raw];
    }

    if (defined(my $reqs = $block->pipelined_requests)) {
        my ($all, $i) = ('', 0);
        bail_out("$name - invalid entries in --- pipelined_requests")
            unless ref $reqs eq 'ARRAY';
        for my $r (@$reqs) {
            $r = expand_env_in_text($r, $name, $rp);
            $all .= build_request($name, $r, more_headers_for($name, $mh, $i),
                                  $i == $#$reqs ? 'close' : 'keep-alive');
            $i++;
        }
        return [$all];
    }

    my $req = strip_request_comments($block->request);
    bail_out("$name - request empty") unless defined $req;

    if (!ref $req) {
        return [build_request($name, $req, more_headers_for($name, $mh, 0),
                              'close')];
    }

    bail_out("$name - invalid --- request: MUST be string or array")
        unless ref $req eq 'ARRAY';

    my @out;
    for my $i (0 .. $#$req) {
        my $r = $req->[$i];
        my $h = more_headers_for($name, $mh, $i);
        if (!ref $r) {
            push @out, [build_request($name, $r, $h, 'close')];
        } elsif (ref $r eq 'ARRAY') {
            # packets sent one by one (each may carry delay_before):
            # the added headers go into the first one, which holds the
            # request line; the later ones are sent as written
            my @p = map { ref $_ eq 'HASH' ? {%$_} : { value => $_ } } @$r;
            my $tail = join '', map { $_->{value} } @p[1 .. $#p];
            my $built = build_request($name, join('', map { $_->{value} } @p),
                                      $h, 'close');
            $p[0]{value} = substr($built, 0, length($built) - length($tail));
            my @sent = @p;
            push @out, \@sent;
        } else {
            bail_out("$name - invalid request element");
        }
    }
    return @out;
}

sub send_request ($$$) {
    my ($packets, $timeout, $block) = @_;
    my $name = $block->name;
    my ($sock, $sel, $resp, $deadline, $timed_out);

    for my $try (1 .. 5) {
        $sock = IO::Socket::INET->new(PeerAddr => $ServerAddr,
                                      PeerPort => $ServerPortForClient,
                                      Proto => 'tcp', Timeout => $timeout);
        last if $sock;
        sleep 0.2;
    }
    if (!$sock) {
        Test::More::fail("$name - Can't connect to "
                         . "$ServerAddr:$ServerPortForClient: $! (aborted)\n");
        return undef;
    }
    binmode $sock;
    $sock->autoflush(1);
    local $SIG{PIPE} = 'IGNORE';

    for my $p (@$packets) {
        my ($data, $delay) = ref $p ? ($p->{value}, $p->{delay_before})
                                    : ($p, undef);
        sleep $delay if $delay;
        my $off = 0;
        while ($off < length $data) {
            my $n = syswrite($sock, $data, length($data) - $off, $off);
            last unless defined $n && $n > 0;
            $off += $n;
        }
    }

    $resp = '';
    $sel = IO::Select->new($sock);
    $deadline = time + $timeout;
    for (;;) {
        my $left = $deadline - time;
        if ($left <= 0 || !$sel->can_read($left)) {
            $timed_out = 1;
            last;
        }
        my $n = sysread($sock, my $buf, 65536);
        last unless $n;
        $resp .= $buf;
    }
    close $sock;

    # a counted failure, as in the real module, unless --- abort
    if ($timed_out && !defined $block->abort) {
        Test::More::fail("ERROR: client socket timed out - $name\n");
    }
    return $resp;
}

# --- responses ------------------------------------------------------------

# A small response object: code, header(name), content.
package Test::Nginx::Socket::Response {
    sub new { my ($c, %a) = @_; bless { %a }, $c }
    sub code { $_[0]{code} }
    sub content { $_[0]{content} }
    sub header {
        my ($self, $k) = @_;
        my @v = map { $_->[1] } grep { lc $_->[0] eq lc $k }
                @{ $self->{headers} };
        return wantarray ? @v : (@v ? join(', ', @v) : undef);
    }
}

# Parses one response off the front of $raw; returns (res, raw headers,
# the bytes left after it).
sub parse_response ($$$) {
    my ($name, $raw, $head_req) = @_;
    my ($head, $rest, $code, @headers, $res, $left, $body);

    if ($raw !~ /\A(.*?\r?\n)\r?\n(.*)\z/s) {
        return (Test::Nginx::Socket::Response->new(
                    code => undef, headers => [], content => $raw),
                '', undef);
    }
    ($head, $rest) = ($1, $2);

    my @lines = split /\r?\n/, $head;
    my $status = shift @lines;
    $code = $status =~ m{^HTTP/\d+(?:\.\d+)?\s+(\d{3})} ? $1 : undef;
    for my $l (@lines) {
        if ($l =~ /^([^:\s]+)\s*:\s*(.*?)\s*$/) {
            push @headers, [$1, $2];
        } elsif ($l =~ /^\s+(.*)/ && @headers) {
            $headers[-1][1] .= " $1";
        }
    }
    $res = Test::Nginx::Socket::Response->new(code => $code,
                                              headers => \@headers);

    my $te = $res->header('Transfer-Encoding');
    my $len = $res->header('Content-Length');

    if ($head_req || (defined $code && ($code == 304 || $code == 204
                                        || $code =~ /^1/)))
    {
        $body = '';
        $left = $rest;

    } elsif (defined $te && $te =~ /\bchunked\b/i) {
        $body = '';
        for (;;) {
            if ($rest !~ s/\A[ \t]*([0-9A-Fa-f]+)[^\r\n]*\r\n//) {
                Test::More::fail("$name - invalid chunked body received: "
                                 . substr($rest, 0, 80));
                last;
            }
            my $n = hex $1;
            if ($n == 0) {
                # trailers, then the empty line
                $rest =~ s/\A(?:[^\r\n]+\r\n)*\r\n//;
                last;
            }
            if (length $rest < $n + 2) {
                Test::More::fail("$name - invalid chunked data received "
                                 . "(not enough octets for the data section)");
                $body .= $rest;
                $rest = '';
                last;
            }
            $body .= substr($rest, 0, $n);
            $rest = substr($rest, $n);
            $rest =~ s/\A\r\n// or do {
                Test::More::fail("$name - invalid chunked data received "
                                 . "(expected CRLF).");
                last;
            };
        }
        $left = $rest;

    } elsif (defined $len && $len =~ /^\d+$/) {
        if (length $rest < $len) {
            warn "WARNING: $name - response body truncated: $len expected, "
                 . "but got ", length $rest, "\n";
            $body = $rest;
            $left = '';
        } else {
            $body = substr($rest, 0, $len);
            $left = substr($rest, $len);
        }

    } else {
        $body = $rest;
        $left = '';
    }

    $res->{content} = $body;
    return ($res, $head, (defined $left && length $left) ? $left : undef);
}

# --- checks -----------------------------------------------------------------

sub indexed ($$$$) {
    my ($name, $v, $i, $need_array) = @_;
    if ($need_array) {
        return $v->[$i] if ref $v eq 'ARRAY';
        bail_out("$name - You asked for many requests, the expected "
                 . "results should be arrays as well.");
    }
    return ref $v eq 'ARRAY' ? $v->[0] : $v;
}

sub subst_port ($) {
    my $v = shift;
    return $v if !defined $v || ref $v;
    $v =~ s/\$ServerPortForClient\b/$ServerPortForClient/g;
    $v =~ s/\$ServerPort\b/$ServerPort/g;
    return $v;
}

sub check_error_code ($$$$) {
    my ($block, $res, $i, $need_array) = @_;
    my $name = $block->name;
    my $got = ($res && $res->code) || '';

    if (defined $block->error_code_like) {
        my $v = indexed($name, $block->error_code_like, $i, $need_array);
        Test::More::like($got, qr/$v/sm, "$name - status code ok");
    } elsif (defined $block->error_code) {
        Test::More::is($got, indexed($name, $block->error_code, $i,
                                     $need_array), "$name - status code ok");
    } else {
        Test::More::is($got, 200, "$name - status code ok");
    }
}

sub parse_header_spec ($) {
    my $s = shift;
    my %h;
    for my $l (split /\n/, $s) {
        $l =~ s/^\s+|\s+$//g;
        next unless length $l;
        if ($l =~ s/^!\s*//) {
            $h{$l} = undef;
        } else {
            my ($k, $v) = split /\s*:\s*/, $l, 2;
            $h{$k} = defined $v ? $v : '';
        }
    }
    return \%h;
}

sub check_response_headers ($$$$$) {
    my ($block, $res, $raw_headers, $i, $need_array) = @_;
    my $name = $block->name;

    if (defined $block->raw_response_headers_like) {
        my $v = indexed($name, $block->raw_response_headers_like, $i,
                        $need_array);
        Test::More::like($raw_headers, qr/$v/s,
                         "$name - raw resp headers like");
    }
    if (defined $block->raw_response_headers_unlike) {
        my $v = indexed($name, $block->raw_response_headers_unlike, $i,
                        $need_array);
        Test::More::unlike($raw_headers, qr/$v/s,
                           "$name - raw resp headers unlike");
    }

    if (defined $block->response_headers) {
        my $h = parse_header_spec(indexed($name, $block->response_headers,
                                          $i, $need_array));
        for my $k (sort keys %$h) {
            if (!defined $h->{$k}) {
                Test::More::unlike($raw_headers, qr/^\s*\Q$k\E\s*:/ms,
                    "$name - header $k not present in the raw headers");
                next;
            }
            my $got = $res ? $res->header($k) : undef;
            Test::More::is(defined $got ? $got : '', subst_port($h->{$k}),
                           "$name - header $k ok");
        }

    } elsif (defined $block->response_headers_like) {
        my $h = parse_header_spec(indexed($name,
                                          $block->response_headers_like,
                                          $i, $need_array));
        for my $k (sort keys %$h) {
            my $got = $res ? $res->header($k) : undef;
            my $v = defined $h->{$k} ? $h->{$k} : '';
            Test::More::like(defined $got ? $got : '', qr/^$v$/,
                             "$name - header $k like ok");
        }
    }
}

sub check_response_body ($$$$$) {
    my ($block, $res, $i, $rep, $need_array) = @_;
    my $name = $block->name;
    my $content = $res ? $res->content : undef;

    if (defined $block->response_body) {
        my $exp = indexed($name, $block->response_body, $i, $need_array);
        if (defined $exp && !ref $exp) {
            $exp = subst_port($exp);
            $exp = expand_env_in_text($exp, $name, $RandPorts);
        }
        my $t = "$name - response_body - response is expected "
                . "(repeated req $rep, req $i)";
        if (ref $exp) {
            Test::More::like($content, $exp,
                "$name - response_body - like (repeated req $rep, req $i)");
        } else {
            Test::More::is($content, $exp, $t);
        }

    } elsif (defined $block->response_body_like
             || defined $block->response_body_unlike)
    {
        my $like = defined $block->response_body_like;
        my $pat = indexed($name, $like ? $block->response_body_like
                                       : $block->response_body_unlike,
                          $i, $need_array);
        my $summary = defined $content ? $content : '';
        my $type = $like ? 'like' : 'unlike';
        $pat = subst_port($pat);
        $summary =~ s/^\s+|\s+$//g;
        if ($like) {
            Test::More::like($content, qr/$pat/s,
                "$name - response_body_like - response is expected "
                . "($summary)");
        } else {
            Test::More::unlike($content, qr/$pat/s,
                "$name - response_body_unlike - response is expected "
                . "($summary)");
        }
    }

    for my $check (@ResponseBodyChecks) {
        $check->($block, $content, $i, $rep, 0);
    }
}

sub pattern_list ($) {
    my $p = shift;
    return [$p] if ref $p eq 'Regexp';
    return [@$p] if ref $p eq 'ARRAY';
    chomp(my $s = $p);
    return [split /\n+/, $s];
}

sub fmt ($) {
    my $s = shift;
    $s = "$s";
    chomp $s;
    $s =~ s/\n/\\n/g;
    return $s;
}

sub pat_matches ($$) {
    my ($pat, $line) = @_;
    return ref $pat ? $line =~ $pat : index($line, $pat) >= 0;
}

sub contains_level ($$) {
    my ($pats, $lvl) = @_;
    return 0 unless defined $pats;
    for my $p (@{ pattern_list($pats) }) {
        next unless defined $p;
        return 1 if !ref $p && index($p, "[$lvl") >= 0;
    }
    return 0;
}

sub check_error_log ($$) {
    my ($block, $rep) = @_;
    my $name = $block->name;
    my $lines = error_log_data();

    if (defined $block->grep_error_log) {
        my $gp = $block->grep_error_log;
        my $exp = $block->grep_error_log_out;
        $gp = $gp->[$rep] if ref $gp eq 'ARRAY';
        $exp = $exp->[$rep] if ref $exp eq 'ARRAY';
        my $out = '';
        for my $l (@$lines) {
            if (ref $gp ? $l =~ /$gp/ : $l =~ /\Q$gp\E/) {
                my $m = $&;
                $out .= "$m\n" if $m !~ /\n/;
            }
        }
        if (ref $exp eq 'Regexp') {
            Test::More::like($out, $exp,
                             "$name - grep_error_log_out (req $rep)");
        } else {
            Test::More::is($out, $exp,
                           "$name - grep_error_log_out (req $rep)");
        }
    }

    if (defined $block->error_log) {
        my $pats = pattern_list($block->error_log);
        for my $line (@$lines) {
            for my $p (@$pats) {
                next unless defined $p;
                if (pat_matches($p, $line)) {
                    Test::More::pass("$name - pattern \"$p\" matches a line "
                                     . "in error.log (req $rep)");
                    undef $p;
                }
            }
        }
        for my $p (@$pats) {
            next unless defined $p;
            Test::More::fail("$name - pattern \"$p\" should match a line in "
                             . "error.log (req $rep)");
        }
    }

    if (defined $block->no_error_log) {
        my $pats = pattern_list($block->no_error_log);
        for my $p (@$pats) {
            next unless defined $p;
            my ($hit) = grep { pat_matches($p, $_) } @$lines;
            if (defined $hit) {
                Test::More::fail("$name - pattern \"" . fmt($p)
                    . "\" should not match any line in error.log but "
                    . "matches line \"" . fmt($hit) . "\" (req $rep)");
            } else {
                Test::More::pass("$name - pattern \"" . fmt($p)
                    . "\" does not match a line in error.log (req $rep)");
            }
        }
    }

    # like the real module: unexpected alerts only warn (a must_die
    # block expects its [emerg])
    for my $lvl (qw(alert crit emerg)) {
        next if $lvl eq 'emerg' && defined $block->must_die;
        next if contains_level($block->error_log, $lvl)
             || contains_level($block->no_error_log, $lvl);
        for my $l (grep { /\[$lvl\]/ } @$lines) {
            warn "WARNING: $name - " . fmt($l) . "\n";
        }
    }
}

# --- running ----------------------------------------------------------------

sub check_skip ($) {
    my $block = shift;
    my $name = $block->name;

    if (defined(my $s = $block->skip_nginx)) {
        if ($s !~ /^\s*(\d+)\s*:\s*([<>]=?)\s*(\d+)\.(\d+)\.(\d+)
                   (?:\s*:\s*(.*))?\s*$/xs)
        {
            bail_out("$name - Invalid --- skip_nginx spec: $s");
        }
        my ($n, $op, $reason) = ($1, $2, $6);
        my $want = get_canon_version($3, $4, $5);
        $reason = "nginx version $op $3.$4.$5" unless $reason;
        my $skip = !defined $NginxVersion ? $op =~ /^</
                 : eval "$NginxVersion $op $want";
        return ($n, $reason) if $skip;
    }

    if (defined(my $s = $block->skip_eval)) {
        if ($s =~ /^\s*(\d+)\s*:\s*(.*)/s) {
            my ($n, $code) = ($1, $2);
            my $skip = eval "package main; $code";
            bail_out("$name - skip_eval - failed to eval \"$code\": $@")
                if $@;
            return ($n, 'skip_eval') if $skip;
        } else {
            bail_out("$name - Invalid --- skip_eval spec: $s");
        }
    }

    return;
}

sub run_requests ($$) {
    my ($block, $rep) = @_;
    my $name = $block->name;
    my @reqs = requests_of($block);
    my $timeout = parse_time($block->timeout);
    my $n_pipe = $block->pipelined_requests
                 ? scalar @{ $block->pipelined_requests } : 0;
    my $need_array = $n_pipe ? 1 : @reqs > 1;
    my $idx = 0;

    $timeout = timeout() unless defined $timeout;

    for my $k (0 .. $#reqs) {
        my $packets = $reqs[$k];
        my $first = ref $packets->[0] ? $packets->[0]{value} : $packets->[0];
        my $head = defined $first && $first =~ /^\s*HEAD\b/;
        my $raw = send_request($packets, $timeout, $block);
        my $count = $n_pipe || 1;

        $raw = '' unless defined $raw;

        for my $c (1 .. $count) {
            my ($res, $raw_headers, $left);

            if (!defined $block->ignore_response) {
                ($res, $raw_headers, $left) = parse_response($name, $raw,
                                                             $head);
                if ($c == $count && defined $left) {
                    (my $l = $left) =~ s/([\0-\037\200-\377])/
                                         sprintf('\x{%02x}', ord $1)/eg;
                    warn "WARNING: $name - unexpected extra bytes after "
                         . "last chunk in response: \"$l\"\n";
                }
                $raw = defined $left ? $left : '';

                check_error_code($block, $res, $idx, $need_array);
                check_response_headers($block, $res, $raw_headers, $idx,
                                       $need_array);
                check_response_body($block, $res, $idx, $rep, $need_array);
            }

            # the real module checks the log after every request but the
            # last one here, and once more after the loop
            if ($c < $count || $k < $#reqs) {
                sleep parse_time($block->wait) if $block->wait;
                check_error_log($block, $rep);
            }
            $idx++;
        }
    }

    sleep parse_time($block->wait) if $block->wait;
    check_error_log($block, $rep);
}

sub run_test ($) {
    my $block = shift;
    my $name = $block->name;
    my ($config, $must_die, $n_skip, $reason, $status, $err);

    return if defined $block->SKIP;

    $RandPorts = {};
    $config = $block->config;
    if (!defined $config) {
        bail_out("$name - No '--- config' section specified and could not "
                 . "get previous one.") unless defined $PrevConfig;
        $config = $PrevConfig;
    }
    $PrevConfig = $config;
    $config = expand_env_in_text($config, $name, $RandPorts);
    $must_die = $block->must_die;

    ($n_skip, $reason) = check_skip($block);
    if (defined $n_skip) {
        for (1 .. $RepeatEach) {
            SKIP: { Test::More::skip("$name - $reason", $n_skip); }
        }
        return;
    }

    Test::Nginx::Util::stop_nginx($name);
    Test::Nginx::Util::setup_server_root();
    if ($block->post_setup_server_root) {
        eval $block->post_setup_server_root;
        bail_out("$name - post_setup_server_root failed: $@") if $@;
    }
    Test::Nginx::Util::write_user_files($block, $RandPorts);
    Test::Nginx::Util::write_config_file($block, $config, $RandPorts);

    if (defined $must_die) {
        $ErrLogFilePos = 0;
        for my $rep (0 .. $RepeatEach - 1) {
            ($status, $err) = Test::Nginx::Util::start_nginx($name);
            if ($must_die =~ /^\d+$/) {
                Test::More::is($status >> 8, $must_die,
                               "$name - die with the expected exit code");
            } else {
                Test::More::isnt($status, 0, "$name - die as expected");
            }
            check_error_log($block, $rep);
            if ($status == 0) {
                warn "WARNING: $name - nginx must die but it does not; "
                     . "killing it (req $rep)\n";
                Test::Nginx::Util::stop_nginx($name);
            }
        }
        return;
    }

    ($status, $err) = Test::Nginx::Util::start_nginx($name);
    if ($status != 0) {
        chomp $err;
        $err = Test::Nginx::Util::slurp($ErrLogFile) unless $err =~ /\S/;
        Test::More::fail("$name - nginx failed to start (status "
                         . ($status >> 8) . "): $err");
        Test::More::diag("nginx.conf: $ConfFile");
    }

    if ($block->init) {
        eval $block->init;
        bail_out("$name - init failed: $@") if $@;
    }

    $ErrLogFilePos = 0;
    for my $rep (0 .. $RepeatEach - 1) {
        run_requests($block, $rep);
    }
}

sub run_tests () {
    my $seed = $ENV{TEST_NGINX_RANDOM_SEED};
    my @blocks;

    $seed = int(time * 1000) ^ $$ unless defined $seed && $seed =~ /^\d+$/;
    srand($seed);

    $NginxVersion = get_nginx_version();
    $ENV{TEST_NGINX_SERVER_PORT} = $ServerPort
        unless defined $ENV{TEST_NGINX_SERVER_PORT};

    @blocks = blocks();
    if (!$NoShuffle) {
        Test::More::note("shuffling blocks, TEST_NGINX_RANDOM_SEED=$seed");
        @blocks = shuffle(@blocks);
    }

    for my $block (@blocks) {
        for my $h (@BlockPreprocessors) {
            $h->($block);
        }
        $block->set_value('name', "$0 " . $block->name);
        run_test($block);
        for my $h (@TestCleanupHandlers) {
            $h->($block);
        }
    }

    Test::More::done_testing() unless Test::More->builder->has_plan;
}

1;
