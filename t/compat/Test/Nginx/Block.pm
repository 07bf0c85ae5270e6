package Test::Nginx::Block;

# The test blocks of a suite: parses the __DATA__ section in the format
# Test::Base defines and Test::Nginx uses, and gives each block accessors.
#
#   === TEST 1: name
#   optional description
#   --- section [filters]
#   value lines
#   --- section [filters]: inline value
#
# Every value goes through the filters "norm" (CRLF -> LF) and "trim"
# (drop leading blank lines and trailing whitespace after the last line
# break), then through the filters named after the section name, left to
# right: eval, chomp, chop (and a few harmless others).  Blocks with a
# "--- SKIP" section are dropped; a "--- ONLY" block is the only one kept;
# "--- LAST" drops the blocks after it.

use strict;
use warnings;
use Carp ();

our $AUTOLOAD;

my $Blocks;        # parsed list, built on first use

sub new {
    my ($class, %v) = @_;
    return bless { %v }, $class;
}

# $block->section returns the (filtered) value, undef when absent.
sub AUTOLOAD {
    my $self = shift;
    (my $name = $AUTOLOAD) =~ s/.*:://;
    return if $name eq 'DESTROY';
    Carp::croak("Not allowed to set values for '$name'") if @_;
    return $self->{$name};
}

sub set_value {
    my ($self, $name, @v) = @_;
    $self->{$name} = $v[0];
    return;
}

sub name        { $_[0]{name} }
sub description { $_[0]{description} }
sub seq_num     { $_[0]{seq_num} }

# --- filters ---------------------------------------------------------------

sub _trim {
    my $v = shift;
    $v =~ s/\A([ \t]*\n)+//;
    $v =~ s/(?<=\n)\s*\z//g;
    return $v;
}

sub _apply_filter {
    my ($filter, $v, $where) = @_;

    if ($filter eq 'eval') {
        my @r;
        {
            package main;
            no strict;
            @r = eval $v;
        }
        if ($@) {
            die "$where: eval failed: $@";
        }
        # like Test::Base: a section is read in scalar context, so a
        # list gives its first element; write [...] for several values
        return $r[0];
    }

    return $v if ref $v || !defined $v;

    if ($filter eq 'chomp') { chomp $v; return $v; }
    if ($filter eq 'chop')  { chop $v;  return $v; }
    if ($filter eq 'trim')  { return _trim($v); }
    if ($filter eq 'norm')  { $v =~ s/\015\012/\n/g; $v =~ s/\r/\n/g;
                              return $v; }
    if ($filter eq 'lines') { return [split /^/m, $v]; }
    if ($filter eq 'join')  { return $v; }

    die "$where: unknown filter '$filter'\n";
}

# --- parsing ---------------------------------------------------------------

sub _make_block {
    my ($hunk, $seq) = @_;
    my ($name, @parts, $desc, %b);

    $hunk =~ s/\A===[ \t]*(.*)\s+// or die "bad block: $hunk";
    $name = $1;

    @parts = split /^--- +\(?(\w+)\)? *(.*)?\n/m, $hunk;
    $desc = shift @parts;
    $desc = $name unless defined $desc && $desc =~ /\S/;
    $desc =~ s/\s*\z//;

    %b = (name => $name, description => $desc, seq_num => $seq,
          _order => []);

    while (@parts) {
        my ($type, $filters, $value) = splice @parts, 0, 3;
        my @filters;

        $value = '' unless defined $value;
        $filters = '' unless defined $filters;

        if ($filters =~ /:(\s|\z)/) {
            die "$name: extra lines not allowed in '$type' section\n"
                if $value =~ /\S/;
            ($filters, $value) = split /\s*:(?:\s+|\z)/, $filters, 2;
            $value = '' unless defined $value;
            $value =~ s/^\s*(.*?)\s*$/$1/;
        }

        $value =~ s/\015\012/\n/g;
        $value =~ s/\r/\n/g;
        $value = _trim($value);

        $filters =~ s/^\s+|\s+$//g;
        @filters = grep { length } split /\s+/, $filters;

        for my $f (@filters) {
            $value = _apply_filter($f, $value, "$name, section $type");
        }

        $b{$type} = $value;
        push @{ $b{_order} }, $type;
    }

    return __PACKAGE__->new(%b);
}

sub _read_spec {
    my $spec;
    local $/;
    no strict 'refs';
    my $fh = \*{'main::DATA'};
    return '' unless defined fileno($fh);
    $spec = <$fh>;
    return defined $spec ? $spec : '';
}

sub parse_spec {
    my $spec = shift;
    my (@hunks, @blocks, $seq);

    if ($spec =~ s/\A\s*<<<(.*?)>>>\s*$//sm) {
        my $code = $1;
        eval "package main; $code";
        die $@ if $@;
    }

    @hunks = ($spec =~ /^(===.*?(?=^===|\z))/msg);
    $seq = 1;

    for my $hunk (@hunks) {
        my $b = _make_block($hunk, 0);
        if (exists $b->{ONLY}) {
            print STDERR "# I found ONLY: maybe you're debugging?\n";
            @blocks = ($b);
            last;
        }
        next if exists $b->{SKIP};
        push @blocks, $b;
        last if exists $b->{LAST};
    }

    $_->{seq_num} = $seq++ for @blocks;
    return \@blocks;
}

sub all {
    $Blocks ||= parse_spec(_read_spec());
    return @$Blocks;
}

1;
