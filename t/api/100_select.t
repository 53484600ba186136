# 100_select.t: vertical filtering, select= on /api/film (t/fixtures/50_query.sql).
# * (every visible column, in column order, also at /limited where a column is
# hidden), a list (only those, in that order), alias:col, col::type casts (key = the
# column's name; value = PostgreSQL's to_json of the cast value), alias:col::type,
# double-quoted names (a space; the reserved , . : ( ) in a name), JSON paths on
# jsonb, array and composite columns (-> gives JSON, ->> gives text; key = last path
# key unless aliased); errors: unknown or hidden column AR105, an ambiguous embedding
# 300 AR114 and one with no relationship 400 AR113 (t/api/160_embed.t has the rest), a cast
# with punctuation 400 (AR102/AR107), a cast to an unknown type 400, an unclosed
# quote 400. Values are checked, exactly, against json_build_object run by psql;
# key order against the text of the response.
use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/../lib";

use Apache::Test qw(-withtestmore);
use ARTest;

plan tests => 45;

my @collected;    # every response, for the leak check at the end
sub r { my $res = req(@_); push @collected, $res; $res }

sub film { r(GET => '/api/film?' . qenc(shift)) }
sub keys_of { join ' ', top_keys(body_of(shift)) }

# sel(SELECT, PAIRS_SQL, KEYS): /api/film?select=SELECT is, row by row in id order,
# json_build_object(PAIRS_SQL), and its keys appear in the order KEYS.
sub sel {
    my ($select, $pairs, $keys, $name) = @_;
    my $res = film("select=$select");
    my $ok = matches_sql($res, "SELECT json_agg(json_build_object($pairs) ORDER BY id) FROM film");
    my $got = keys_of($res);
    if ($got ne $keys) { diag("select=$select: keys ($got), expected ($keys)"); $ok = 0 }
    ok($ok, $name // "select=$select");
}

# any_error(RES, STATUS, [CODES]): that status, a JSON error body of the usual shape,
# its code one of CODES (any but AR101, unknown parameter, when none given), nothing leaked.
sub any_error {
    my ($res, $status, @codes) = @_;
    my @why;
    push @why, 'status ' . $res->code . ", expected $status" if $res->code != $status;
    push @why, 'Content-Type ' . ($res->header('Content-Type') // 'none') unless ct_ok($res);
    my $j = json_text(body_of($res), 'error body');
    if (ref $j ne 'HASH') { push @why, 'body is not a JSON object' }
    else {
        my $keys = join ' ', sort keys %$j;
        push @why, "keys are ($keys)" if $keys ne 'code details hint message';
        push @why, 'code ' . ($j->{code} // 'null') . ' is not one of ' . join('/', @codes)
            if @codes && !grep { defined $j->{code} && !ref $j->{code} && $j->{code} eq $_ } @codes;
        push @why, 'code AR101: the parameter itself was refused' if ($j->{code} // '') eq 'AR101';
    }
    my @l = leaks(body_of($res));
    push @why, "body leaks: @l" if @l;
    diag($res->request->uri->path_query . ": $_") for @why;
    return !@why;
}

my $COLS = 'id title year rating tags info released period tsv plot active Mixed Col a.b,c:d(e) budget gross origin updated';

# --- *: every column, in column order
my $star = film('select=*');
ok(matches_sql($star, 'SELECT json_agg(f ORDER BY id) FROM film f'), 'select=*: every column of every row');
is(keys_of($star), $COLS, 'select=*: keys in column order');
is(body_of($star), body_of(r(GET => '/api/film')), 'select=* is the same as no select');
my $lim = r(GET => '/limited/people?select=*');
ok(matches_sql($lim, q{SELECT json_agg(json_build_object('id', id, 'name', name, 'email', email, 'born', born,
    'team_id', team_id, 'active', active) ORDER BY id) FROM people}), '/limited/people?select=*: the hidden ssn is not in *');

# --- lists, order of keys, aliases
sel('title,id', q{'title', title, 'id', id}, 'title id', 'select=title,id: only those, in that order');
sel('id', q{'id', id}, 'id');
sel('tags,year,active', q{'tags', tags, 'year', year, 'active', active}, 'tags year active');
sel('name:title,y:year', q{'name', title, 'y', year}, 'name y', 'select=name:title,y:year: aliases');
sel('id,ID:rating', q{'id', id, 'ID', rating}, 'id ID', 'an alias differing from a column only by case');
sel('when:updated,id', q{'when', updated, 'id', id}, 'when id', 'timestamptz under an alias');

# --- casts: the key is the column's name, the value to_json(col::type)
sel('id,year::text', q{'id', id, 'year', year::text}, 'id year', 'select=id,year::text: a string');
sel('id,rating::int', q{'id', id, 'rating', rating::int}, 'id rating', 'select=id,rating::int: numeric rounded to an integer');
sel('id,r:rating::int', q{'id', id, 'r', rating::int}, 'id r', 'select=id,r:rating::int: alias and cast');
sel('id,tags::text', q{'id', id, 'tags', tags::text}, 'id tags', 'text[]::text: the array literal as a string');
sel('id,info::text', q{'id', id, 'info', info::text}, 'id info', 'jsonb::text: the JSON text as a string');
sel('id,active::int', q{'id', id, 'active', active::int}, 'id active', 'boolean::int');
sel('id,released::text', q{'id', id, 'released', released::text}, 'id released', 'date::text');
sel('id,year::numeric', q{'id', id, 'year', year::numeric}, 'id year', 'int::numeric');

# --- double-quoted names
sel('id,"Mixed Col"', q{'id', id, 'Mixed Col', "Mixed Col"}, 'id Mixed Col', 'select=id,"Mixed Col"');
sel('"a.b,c:d(e)",id', q{'a.b,c:d(e)', "a.b,c:d(e)", 'id', id}, 'a.b,c:d(e) id',
    'select="a.b,c:d(e)",id: , . : ( ) inside a quoted name');
sel('mc:"Mixed Col",odd:"a.b,c:d(e)"', q{'mc', "Mixed Col", 'odd', "a.b,c:d(e)"}, 'mc odd', 'aliases of quoted names');
sel('"id","title"', q{'id', id, 'title', title}, 'id title', 'ordinary names may be quoted too');

# --- JSON paths: jsonb
sel('id,info->director', q{'id', id, 'director', info->'director'}, 'id director', 'info->director: JSON, key director');
sel('id,info->>runtime', q{'id', id, 'runtime', info->>'runtime'}, 'id runtime', 'info->>runtime: text, key runtime');
sel('id,info->cast->0', q{'id', id, '0', info->'cast'->0}, 'id 0', 'info->cast->0: an array element, key 0');
sel('id,info->director->>name', q{'id', id, 'name', info->'director'->>'name'}, 'id name', 'info->director->>name: key name');
sel('id,info->awards->0->name', q{'id', id, 'name', info->'awards'->0->'name'}, 'id name', 'four steps deep');
sel('id,rt:info->>runtime', q{'id', id, 'rt', info->>'runtime'}, 'id rt', 'alias:info->>runtime');
sel('d:info->director,c:info->cast', q{'d', info->'director', 'c', info->'cast'}, 'd c', 'two aliased paths');
# --- JSON paths: arrays and composites (as to_jsonb(col)->...)
sel('id,tags->1', q{'id', id, '1', to_jsonb(tags)->1}, 'id 1', 'tags->1: an element of a text[]');
sel('id,origin->>country,city:origin->city', q{'id', id, 'country', to_jsonb(origin)->>'country', 'city', to_jsonb(origin)->'city'},
    'id country city', 'paths into a composite column');

# --- select with a single-row filter
ok(matches_sql(film('select=title,info->director->>name&id=eq.2'),
    q{SELECT json_agg(json_build_object('title', title, 'name', info->'director'->>'name')) FROM film WHERE id = 2}),
    'select with a path, and a filter');

# --- errors
ok(check_error(film('select=nope'), 400, 'AR105'), 'select=nope: 400 AR105');
ok(check_error(film('select=id,nope'), 400, 'AR105'), 'select=id,nope: 400 AR105');
ok(check_error(film('select=x:nope::text'), 400, 'AR105'), 'select=x:nope::text: 400 AR105');
ok(check_error(film('select=nope->>x'), 400, 'AR105'), 'select=nope->>x: 400 AR105');
ok(check_error(film('select="mixed col"'), 400, 'AR105'), 'select="mixed col" (case differs): 400 AR105');
ok(check_error(r(GET => '/limited/people?select=id,ssn'), 400, 'AR105'), '/limited/people?select=id,ssn (hidden): 400 AR105');
ok(check_error(r(GET => '/api/partly_secret?select=id,private_info'), 400, 'AR105'),
    'a column the role may not read: 400 AR105');
{
    # people and teams relate twice: people.team_id, and the junction enrollment
    my $res = r(GET => '/api/people?' . qenc('select=*,teams(*)'));
    my $j = json_text(body_of($res), 'ambiguous embedding');
    ok($res->code == 300 && ref $j eq 'HASH' && ($j->{code} // '') eq 'AR114'
            && ref $j->{details} eq 'ARRAY' && @{$j->{details}} == 2 && !leaks(body_of($res)),
        'select=*,teams(*): two relationships (team_id, enrollment): 300 AR114 listing both')
        or diag($res->code . ' ' . body_of($res));
}
ok(check_error(film('select=id,other(*)'), 400, 'AR113'), 'select=id,other(*) (no relationship): 400 AR113');
ok(any_error(film('select=id::text;drop'), 400, 'AR102', 'AR107'), 'select=id::text;drop: 400 (AR102 or AR107)');
ok(any_error(film('select=id::nosuchtype'), 400), 'select=id::nosuchtype: 400');
ok(any_error(film('select="Mixed Col'), 400), 'select="Mixed Col (unclosed quote): 400');

# --- nothing leaks
my @errors = grep { $_->code >= 300 } @collected;
my @leaky = grep { leaks(body_of($_)) } @errors;
ok(@errors >= 12 && !@leaky, 'no error body contains SELECT, FROM, host=, dbname or /tmp')
    or diag(join "\n", scalar(@errors) . ' errors', map { $_->request->uri->path_query . ': ' . join(',', leaks(body_of($_))) } @leaky);
