# Cohorts (SPEC section 3): bucket = uint32_be(SHA-256(salt ":" id)[0..3])
# mod 10000, in when canary, or not excluded and bucket < round(percent *
# 100).  Buckets are computed here in Perl, independently of the C code,
# and devices are chosen on both sides of each boundary.

use Test::Nginx::Socket 'no_plan';
use t::FwgateTest;
use POSIX qw(floor);

fw_setup('fwt14:');

our %C;     # model => { req => [...], hdr => [...], code => [...], exp => [...] }

sub limit_of { floor($_[0] * 100 + 0.5) }

# a rollout of $model at $percent, devices picked by their buckets:
#   in/out: how many ordinary devices each side of the boundary
#   edge:   also the devices of bucket limit-1 (in) and limit (out)
#   canary/exclude: counts of out-devices made canaries, in-devices
#   excluded; both: out-devices in both sets (the canary wins)
sub cohort_case {
    my ($model, $percent, %o) = @_;
    (my $art = lc $model) =~ s/[^a-z0-9]+//g;
    $art .= '-1.0.0.bin';
    my $salt = defined $o{salt} ? $o{salt} : $art;
    my $limit = limit_of($percent);
    my $pat = "$model-%06d";

    my @in = $limit > 0
        ? pick_devices($pat, sub { bucket($salt, $_[0]) < $limit },
                       ($o{in} // 2) + ($o{exclude} || 0))
        : ();
    my @out = $limit < 10000
        ? pick_devices($pat, sub { bucket($salt, $_[0]) >= $limit },
                       ($o{out} // 2) + ($o{canary} || 0) + ($o{both} || 0))
        : ();

    if ($o{edge}) {
        push @in, pick_devices($pat, sub { bucket($salt, $_[0]) == $limit - 1 }, 1);
        push @out, pick_devices($pat, sub { bucket($salt, $_[0]) == $limit }, 1);
    }

    my %seen;
    @in = grep { !$seen{$_}++ } @in;
    @out = grep { !$seen{$_}++ } @out;

    my @excl = splice @in, 0, $o{exclude} || 0;
    my @can = splice @out, 0, $o{canary} || 0;
    my @both = splice @out, 0, $o{both} || 0;

    artifact($art, version => '1.0.0', models => $model, file_size => 512);
    rollout($model, artifact => $art, percent => $percent,
            defined $o{salt} ? (salt => $o{salt}) : ());
    canary($model, @can, @both);
    exclude($model, @excl, @both);

    my %c = (req => [], hdr => [], code => [], exp => []);
    my @cases = ((map { [$_, 200, 'ok'] } @in, @can, @both),
                 (map { [$_, 403, 'not_in_cohort'] } @out, @excl));
    for my $case (@cases) {
        my ($id, $code, $reason) = @$case;
        device($id, model => $model, alg => 'hmac-sha256');
        push @{ $c{req} }, "GET /firmware/$art";
        push @{ $c{hdr} }, sign(device => $id, model => $model,
                                version => '0.9.0', path => "/firmware/$art");
        push @{ $c{code} }, $code;
        push @{ $c{exp} }, "X-Fwgate-Reason: $reason\n"
                           . 'X-Bucket: ' . bucket($salt, $id) . "\n"
                           . "X-Device: $id";
    }
    $C{$model} = \%c;
}

cohort_case('CM-10', 10, in => 2, out => 2, edge => 1);
cohort_case('CM-50', 50, in => 2, out => 2, canary => 1, exclude => 1,
            both => 1);
cohort_case('CM-1234', 12.34, in => 1, out => 1, edge => 1);
cohort_case('CM-001', 0.01, in => 0, out => 2, edge => 1);
cohort_case('CM-0', 0, out => 3, canary => 2);
cohort_case('CM-100', 100, in => 3, exclude => 1);
cohort_case('CM-SALT', 30, in => 2, out => 2, salt => 'spring-2026',
            edge => 1);

# the same device id under two salts lands in different buckets: the test
# above would not notice a module that ignored the salt unless the
# default-salt bucket of its devices disagreed somewhere
{
    my $disagree = grep {
        my $id = (split /: /, (split /\n/, $_)[2])[1];
        (bucket('spring-2026', $id) < 3000)
            != (bucket('cmsalt-1.0.0.bin', $id) < 3000)
    } @{ $C{'CM-SALT'}{exp} };
    die "CM-SALT: pick devices whose buckets differ by salt\n"
        unless $disagree;
}

repeat_each(2);
no_long_string();
add_block_preprocessor(sub {
    my $block = shift;
    $block->set_value('config', <<'_EOC_') unless defined $block->config;
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
        add_header X-Bucket $fwgate_bucket always;
        add_header X-Device $fwgate_device always;
    }
_EOC_
    t::FwgateTest::preprocess($block);
});

run_tests();

__DATA__

=== TEST 1: 10 percent, on both sides of bucket 1000
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
        add_header X-Bucket $fwgate_bucket always;
        add_header X-Device $fwgate_device always;
    }
--- request eval: $::C{'CM-10'}{req}
--- more_headers eval: $::C{'CM-10'}{hdr}
--- error_code eval: $::C{'CM-10'}{code}
--- response_headers eval: $::C{'CM-10'}{exp}



=== TEST 2: 50 percent with a canary, an excluded device, and one in both
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
        add_header X-Bucket $fwgate_bucket always;
        add_header X-Device $fwgate_device always;
    }
--- request eval: $::C{'CM-50'}{req}
--- more_headers eval: $::C{'CM-50'}{hdr}
--- error_code eval: $::C{'CM-50'}{code}
--- response_headers eval: $::C{'CM-50'}{exp}



=== TEST 3: 12.34 percent: bucket 1233 in, bucket 1234 out
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
        add_header X-Bucket $fwgate_bucket always;
        add_header X-Device $fwgate_device always;
    }
--- request eval: $::C{'CM-1234'}{req}
--- more_headers eval: $::C{'CM-1234'}{hdr}
--- error_code eval: $::C{'CM-1234'}{code}
--- response_headers eval: $::C{'CM-1234'}{exp}



=== TEST 4: 0.01 percent: only bucket 0
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
        add_header X-Bucket $fwgate_bucket always;
        add_header X-Device $fwgate_device always;
    }
--- request eval: $::C{'CM-001'}{req}
--- more_headers eval: $::C{'CM-001'}{hdr}
--- error_code eval: $::C{'CM-001'}{code}
--- response_headers eval: $::C{'CM-001'}{exp}



=== TEST 5: 0 percent: canaries only
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
        add_header X-Bucket $fwgate_bucket always;
        add_header X-Device $fwgate_device always;
    }
--- request eval: $::C{'CM-0'}{req}
--- more_headers eval: $::C{'CM-0'}{hdr}
--- error_code eval: $::C{'CM-0'}{code}
--- response_headers eval: $::C{'CM-0'}{exp}



=== TEST 6: 100 percent: everyone but the excluded
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
        add_header X-Bucket $fwgate_bucket always;
        add_header X-Device $fwgate_device always;
    }
--- request eval: $::C{'CM-100'}{req}
--- more_headers eval: $::C{'CM-100'}{hdr}
--- error_code eval: $::C{'CM-100'}{code}
--- response_headers eval: $::C{'CM-100'}{exp}



=== TEST 7: 30 percent with its own salt
--- config
    location /firmware/ {
        root $TEST_NGINX_FW_ROOT;
        fwgate on;
        fwgate_expose_reason on;
        add_header X-Bucket $fwgate_bucket always;
        add_header X-Device $fwgate_device always;
    }
--- request eval: $::C{'CM-SALT'}{req}
--- more_headers eval: $::C{'CM-SALT'}{hdr}
--- error_code eval: $::C{'CM-SALT'}{code}
--- response_headers eval: $::C{'CM-SALT'}{exp}
