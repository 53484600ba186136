# 15_foreign.t: foreign tables are reflected and served like the others: the
# index lists one as kind foreign_table with its columns and comment, and its
# (empty) collection answers 200 [] with Content-Range */0.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test qw(-withtestmore);
use ARTest;

plan tests => 5;

my $index = decode_body(req(GET => '/api/'));
my ($ft) = grep { $_->{name} eq 'outside' } @{ $index->{relations} || [] };
is($ft && $ft->{kind}, 'foreign_table', 'the index lists outside as a foreign_table');
is($ft && join(',', map { "$_->{name}:$_->{type}" } @{ $ft->{columns} }), 'id:integer,note:text',
   'with its columns and types');
is($ft && $ft->{comment}, 'rows from a file', 'and its comment');
my $r = req(GET => '/api/outside');
is($r->code . ' ' . body_of($r), '200 []', 'GET /api/outside: 200 []');
is($r->header('Content-Range'), '*/0', 'Content-Range */0');
