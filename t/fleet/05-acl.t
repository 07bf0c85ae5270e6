# Scenario 5: edge credentials.  The edge ACL user of docs/many-edges.md
# ("Least privilege": its `ACL SETUSER fwgate-edge ...`, with the test's
# prefix and a random secret) is created on the primary and on every
# replica (ACLs are not replicated); a fourth edge reads replica 1 then
# the primary as that user (password_file=).  It serves, takes reports,
# holds its subscription and sees a halt within a second; the same
# credential cannot rewrite an artifact or a device.  Skipped when the
# doc has no such section.

use strict;
use warnings;
no warnings 'once';
use FindBin;
BEGIN { require "$FindBin::Bin/lib.pl" }

my $doc = slurp("$main::ROOT/docs/many-edges.md");
my ($sec) = $doc =~ /^## Least privilege\n(.*?)(?=^## |\z)/ms;
my ($acl) = ($sec // '') =~ /^(ACL SETUSER fwgate-edge\b.*?\n(?:[ \t]+\S.*\n)*)/m;
unless ($acl) {
    plan skip_all => 'docs/many-edges.md has no "Least privilege" section '
                   . 'with an ACL SETUSER fwgate-edge line (the edge ACL '
                   . 'user is not defined yet)';
}

my $secret = join '', map { ('a' .. 'z', 0 .. 9)[rand 36] } 1 .. 24;
$acl =~ s/fwgate:/$main::PREFIX/g;
$acl =~ s/EDGE-SECRET/$secret/g;
my @acl = split ' ', $acl;
diag("edge user from docs/many-edges.md: @acl[0 .. 3] ... "
     . scalar(@acl) . ' words');

my $F = fleet_start();
my $aclok = 1;
for my $r ($F->{P}, @{ $F->{R} }) {
    is(rcli($r->{port}, @acl), 'OK', "ACL SETUSER fwgate-edge on $r->{port}")
        or $aclok = 0;
}
unless ($aclok) {
    fleet_stop($F);
    done_testing();
    exit;
}
my $pw = "$main::TMP/edge.pass";
open my $f, '>', $pw or die;
print $f "$secret\n";
close $f;
chmod 0600, $pw;

my $E4 = nginx_start(listen => 'reuseport', http => edge_http(
    "127.0.0.1:$F->{R}[0]{port} 127.0.0.1:$F->{P}{port}",
    redis_extra => " user=fwgate-edge password_file=$pw"));
push @{ $F->{E} }, $E4;
unlike(slurp("$E4->{dir}/conf/nginx.conf"), qr/\Q$secret\E/,
       'the secret is not in nginx.conf');

my $served = sub { $_[0]{status} == 200 };
my @pool = map { ka_signed(dev_id($_)) } 0 .. 7;
my $k = 0;
my $T0 = 0;
my $res = probe(edges => [$E4], reqs => sub { $pool[$k++ % @pool] },
                timeout => 4, done => done_when_all([$E4], $served, \$T0));
my ($first) = first_per_worker($res, $served);
is(scalar keys %$first, scalar(my @w = workers($E4)),
   'as fwgate-edge: every worker serves (' . count_status($res) . ')');

my $body = qq({"artifact":"$main::ART","status":"success","version":"2.5.0"});
my $stats = "${main::PREFIX}stats:$main::MODEL:$main::ART";
my $before = rcli($F->{P}{port}, 'HGET', $stats, 'success') || 0;
my $rep = req($E4->{port}, signed(dev_id(5), method => 'POST',
                                  path => '/fw/report', body => $body));
is($rep->{status}, 204, 'as fwgate-edge: a report is taken (204)')
    or diag('reason ' . ($rep->{h}{'x-fwgate-reason'} // '-'));
is(rcli($F->{P}{port}, 'HGET', $stats, 'success'), $before + 1,
   'and counted on the primary');

if (has_push($F)) {
    ok(wait_subscriptions({ E => [$E4] }, 1),
       'as fwgate-edge: the subscription to the invalidate channel is up');
    my @t = measure_change({ %$F, E => [$E4] }, name => 'acl.halt',
        rounds => 3, edges => [$E4],
        change => sub { ('rollout', 'halt', $main::MODEL) },
        undo => sub { ctlq($F->{P}{port}, 'rollout', 'resume',
                           $main::MODEL) },
        is => sub { $_[0]{status} == 403
                    && $_[0]{reason} eq 'rollout_halted' },
        served => $served, ok_before => $served,
        reqs => sub { my @p = map { ka_signed(dev_id($_)) } 0 .. 7;
                      my $i = 0; sub { $p[$i++ % @p] } });
    report_times('acl.halt', @t);
    cmp_ok(pct(99, @t), '<', 1.0, 'as fwgate-edge: a halt refused by every '
           . 'worker within 1 s');
} else {
    diag('SKIP acl.halt: the module has no pushed invalidation');
}

my @as = ('--user', 'fwgate-edge', '--pass', $secret, '--no-auth-warning');
like(rcli($F->{P}{port}, @as, 'HSET', "${main::PREFIX}artifact:$main::ART",
          'models', 'LS-6000i OTHER'), qr/NOPERM/,
     'the edge credential cannot rewrite an artifact (NOPERM)');
like(rcli($F->{P}{port}, @as, 'HSET', "${main::PREFIX}device:" . dev_id(1),
          'key', 'AAAA'), qr/NOPERM/,
     'nor re-key a device (NOPERM)');
is(log_count($E4, qr/NOPERM|NOAUTH|WRONGPASS/), 0,
   'no NOPERM/NOAUTH in the edge error log');
unlike(slurp($E4->{log}), qr/\Q$secret\E/, 'the secret is not logged');

fleet_stop($F);
done_testing();
