/*
 * json_out.c: rows to JSON bytes, in C, from PostgreSQL's text results.
 *
 * Pure core: no httpd, no libpq. Values are written the way PostgreSQL's
 * to_json() writes them (src/backend/utils/adt/json.c), so a response parses
 * to the same value as json_agg(t) would have built inside the database, at a
 * fraction of its cost (../shared/NOTES.md measures 2.2-3.7x).
 *
 * The session is set to DateStyle ISO and IntervalStyle postgres by db.c;
 * the timestamp rewrites below rely on that.
 */
#include <string.h>

#include <apr_strings.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "autorest.h"

/* Inline, whatever the compiler's estimate of its size: as a call from the
 * row loop put_scalar cost 20,000 instructions of a 100-row page, and
 * copy_short a call per number. */
#if defined(__GNUC__)
#define ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define ALWAYS_INLINE inline
#endif

/* ------------------------------------------------------------- the sink */

void ar_out_init(ar_out *o, apr_pool_t *p, apr_size_t chunk,
                 ar_flush_fn flush, void *ctx)
{
    o->pool = p;
    o->chunk = chunk ? chunk : 16384;
    /* A growing buffer starts small: most documents built whole are far
     * below 16 KiB, and a large first block per request would stay in every
     * thread's allocator. A chunk given without flush is its first size. */
    o->cap = flush || chunk ? o->chunk : 16384;
    o->buf = apr_palloc(p, o->cap);
    o->len = 0;
    o->flush = flush;
    o->ctx = ctx;
    o->failed = 0;
}

int ar_out_flush(ar_out *o)
{
    int rc;

    if (o->failed)
        return -1;
    if (!o->flush || !o->len)
        return 0;
    rc = o->flush(o->ctx, o->buf, o->len);
    o->len = 0;
    if (rc == AR_OUT_KEPT) {
        o->cap = o->chunk;
        o->buf = apr_palloc(o->pool, o->cap);
    }
    else if (rc != AR_OUT_DONE)
        o->failed = 1;
    return o->failed ? -1 : 0;
}

/* Makes room for need more bytes: hands the chunk on, or grows the one
 * buffer. Afterwards cap - len >= need even when the client is gone, so the
 * writers below never check twice. */
static void out_make_room(ar_out *o, apr_size_t need)
{
    apr_size_t cap;
    char *nbuf;

    if (o->flush) {
        ar_out_flush(o);
        o->len = 0;
        if (need <= o->cap)
            return;
        /* One value larger than a chunk gets a chunk of its own size. */
        o->buf = apr_palloc(o->pool, need);
        o->cap = need;
        return;
    }
    cap = o->cap * 2;
    while (cap < o->len + need)
        cap *= 2;
    /* Old buffers stay in the pool until it dies; growth is geometric, so
     * the waste is bounded by the final size. */
    nbuf = apr_palloc(o->pool, cap);
    memcpy(nbuf, o->buf, o->len);
    o->buf = nbuf;
    o->cap = cap;
}

/* Where the next need bytes go, with room for them; NULL once the client is
 * gone (then nothing more is written). */
static char *out_reserve(ar_out *o, apr_size_t need)
{
    if (o->failed)
        return NULL;
    if (o->len + need > o->cap) {
        out_make_room(o, need);
        if (o->failed)
            return NULL;
    }
    return o->buf + o->len;
}

void ar_out_write(ar_out *o, const char *data, apr_size_t len)
{
    char *w = out_reserve(o, len);

    if (!w)
        return;
    memcpy(w, data, len);
    o->len += len;
}

void ar_out_puts(ar_out *o, const char *s)
{
    ar_out_write(o, s, strlen(s));
}

/* --------------------------------------------------------------- scalars */

static const char hex_digits[] = "0123456789abcdef";

/* Bytes a JSON string cannot hold as they are: controls, '"' and '\\'. */
static const unsigned char needs_escape[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
};

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define WORD_SCAN 1
#define BYTES_1 APR_UINT64_C(0x0101010101010101)

/* The bytes of x (eight, the first lowest) that need an escape, each as its
 * high bit. A borrow can mark a byte above one that truly needs it, never
 * below, so the lowest mark is exact. (A byte's high bit is the same in x
 * and in x xor '"' or '\\', hence one ~x for all three tests.) */
static apr_uint64_t escapes_in_word(apr_uint64_t x)
{
    apr_uint64_t quote = x ^ (BYTES_1 * '"'), bslash = x ^ (BYTES_1 * '\\');

    return ((x - BYTES_1 * 0x20) | (quote - BYTES_1) | (bslash - BYTES_1)) & ~x
           & (BYTES_1 * 0x80);
}
#endif

/* Copies n (<= 16) bytes with moves of fixed size, overlapping: no call. */
static ALWAYS_INLINE void copy_short(char *out, const unsigned char *in, apr_size_t n)
{
    if (n >= 8) {
        memcpy(out, in, 8);
        memcpy(out + n - 8, in + n - 8, 8);
    }
    else if (n >= 4) {
        memcpy(out, in, 4);
        memcpy(out + n - 4, in + n - 4, 4);
    }
    else if (n > 0) {
        out[0] = (char)in[0];
        out[n / 2] = (char)in[n / 2];
        out[n - 1] = (char)in[n - 1];
    }
}

#if defined(__SSE2__)
static __m128i load_block(const unsigned char *p)
{
    return _mm_loadu_si128((const __m128i *)(const void *)p);
}

/* The bytes of the block x that need an escape, one bit each: '"', '\\',
 * and controls (x == min(x, 0x1f), unsigned). */
static unsigned escapes_in_block(__m128i x)
{
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\');
    const __m128i ctl = _mm_set1_epi8(0x1f);
    __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, bslash)),
                               _mm_cmpeq_epi8(_mm_min_epu8(x, ctl), x));

    return (unsigned)_mm_movemask_epi8(hit);
}
#endif

/* Copies the run of bytes that need no escape starting at in (in a string
 * that starts at start) to *w, and returns where it ends. Text columns are
 * mostly such runs, so they are checked and moved sixteen bytes at a time
 * (SSE2, every x86-64) or eight (a word); a block is stored whole, also
 * past the run's end: the writer has room for the worst case of the bytes
 * still to come, and what follows overwrites them. A string's last bytes
 * are checked in the block that ends with it, read again, not one by one;
 * no call to memcpy per value, which cost more than short copies. */
static const unsigned char *copy_plain_run(const unsigned char *start, const unsigned char *in,
                                           const unsigned char *end, char **w)
{
    char *out = *w;

#if defined(__SSE2__)
    while (end - in >= 16) {
        __m128i x = load_block(in);
        unsigned mask = escapes_in_block(x);

        _mm_storeu_si128((__m128i *)(void *)out, x);
        if (mask) {
            apr_size_t n = (apr_size_t)__builtin_ctz(mask);
            *w = out + n;
            return in + n;
        }
        in += 16;
        out += 16;
    }
    if (in < end && end - start >= 16) {
        apr_size_t rest = (apr_size_t)(end - in);
        unsigned mask = escapes_in_block(load_block(end - 16)) >> (16 - rest);
        apr_size_t n = mask ? (apr_size_t)__builtin_ctz(mask) : rest;

        copy_short(out, in, n);
        *w = out + n;
        return in + n;
    }
#endif
#ifdef WORD_SCAN
    while (end - in >= 8) {
        apr_uint64_t x, mask;

        memcpy(&x, in, 8);
        memcpy(out, &x, 8);
        if ((mask = escapes_in_word(x)) != 0) {
            apr_size_t n = (apr_size_t)__builtin_ctzll(mask) / 8;
            *w = out + n;
            return in + n;
        }
        in += 8;
        out += 8;
    }
#endif
    while (in < end && !needs_escape[*in])
        *out++ = (char)*in++;
    *w = out;
    return in;
}

/* Writes s as a JSON string at w, which has room for the worst case
 * (len * 6 + 2: every byte as \u00XX); returns the end. */
static char *put_string(char *w, const char *s, apr_size_t len)
{
    const unsigned char *in = (const unsigned char *)s, *end = in + len;

    *w++ = '"';
    while (in < end) {
        unsigned char c;

        in = copy_plain_run((const unsigned char *)s, in, end, &w);
        if (in == end)
            break;
        c = *in++;
        *w++ = '\\';
        switch (c) {
        case '"':  *w++ = '"'; break;
        case '\\': *w++ = '\\'; break;
        case '\b': *w++ = 'b'; break;
        case '\f': *w++ = 'f'; break;
        case '\n': *w++ = 'n'; break;
        case '\r': *w++ = 'r'; break;
        case '\t': *w++ = 't'; break;
        default:
            *w++ = 'u';
            *w++ = '0';
            *w++ = '0';
            *w++ = hex_digits[c >> 4];
            *w++ = hex_digits[c & 15];
        }
    }
    *w++ = '"';
    return w;
}

/* put_string, for a row's text values. Most are short (codes, names,
 * dates, a line of text) and need no escape: 17 to 32 bytes are checked
 * and stored as two overlapping blocks, 8 to 16 as two overlapping words,
 * 4 to 7 as the two overlapping halves of one, inline in the row loop; the
 * rest take the call. put_string went a word and then byte after byte, and
 * its frame alone cost 13 instructions a value. This, with the next row's
 * comma in its own room (write_row) and copy_short and copy_key inline,
 * took L1's page from 393,118 to 364,819 instructions. */
static ALWAYS_INLINE char *put_text(char *w, const char *s, apr_size_t len)
{
#if defined(__SSE2__)
    if (len > 16 && len <= 32) {
        __m128i head = load_block((const unsigned char *)s),
                tail = load_block((const unsigned char *)s + len - 16);

        if (!(escapes_in_block(head) | escapes_in_block(tail))) {
            *w = '"';
            _mm_storeu_si128((__m128i *)(void *)(w + 1), head);
            _mm_storeu_si128((__m128i *)(void *)(w + 1 + len - 16), tail);
            w[len + 1] = '"';
            return w + len + 2;
        }
    }
    else
#endif
#ifdef WORD_SCAN
    if (len >= 8 && len <= 16) {
        apr_uint64_t head, tail;

        memcpy(&head, s, 8);
        memcpy(&tail, s + len - 8, 8);
        if (!(escapes_in_word(head) | escapes_in_word(tail))) {
            *w = '"';
            memcpy(w + 1, &head, 8);
            memcpy(w + 1 + len - 8, &tail, 8);
            w[len + 1] = '"';
            return w + len + 2;
        }
    }
    else if (len >= 4 && len < 8) {
        apr_uint32_t head, tail;

        memcpy(&head, s, 4);
        memcpy(&tail, s + len - 4, 4);
        if (!escapes_in_word(head | (apr_uint64_t)tail << 32)) {
            *w = '"';
            memcpy(w + 1, &head, 4);
            memcpy(w + 1 + len - 4, &tail, 4);
            w[len + 1] = '"';
            return w + len + 2;
        }
    }
#endif
    return put_string(w, s, len);
}

#define STRING_ROOM(len) ((len) * 6 + 2)

void ar_json_write_string(ar_out *o, const char *s, apr_size_t len)
{
    char *w = out_reserve(o, STRING_ROOM(len));

    if (w)
        o->len = (apr_size_t)(put_string(w, s, len) - o->buf);
}

/* Where the zone begins in "HH:MM:SS[.ffffff]+HH[:MM[:SS]]", or len. */
static apr_size_t zone_start(const char *s, apr_size_t from, apr_size_t len)
{
    apr_size_t i;

    for (i = from; i < len; i++)
        if (s[i] == '+' || s[i] == '-')
            return i;
    return len;
}

/* Only what DateStyle ISO prints; values are not NUL-terminated. */
static int timestamp_chars(const char *s, apr_size_t len)
{
    apr_size_t i;

    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!((c >= '0' && c <= ':') || c == '-' || c == '+' || c == '.' || c == ' '
              || c == 'B' || c == 'C'))
            return 0;
    }
    return 1;
}

/* DateStyle ISO "2024-01-02 03:04:05.5+01" -> "2024-01-02T03:04:05.5+01:00",
 * as to_json() writes timestamps (time with time zone it leaves as text),
 * at w, which has room for the text as a string (VALUE_ROOM: the rewrite
 * adds at most five bytes). A BC date keeps its " BC" suffix after
 * the zone, as to_json() does; text of any other shape (infinity) goes out
 * as is. */
static char *put_timestamp(char *w, const char *s, apr_size_t len)
{
    const char *space = memchr(s, ' ', len);
    apr_size_t date_len, zs, end = len;
    int bc = len > 3 && memcmp(s + len - 3, " BC", 3) == 0;

    if (bc)
        end -= 3;
    if (!space || (apr_size_t)(space - s) >= end || !timestamp_chars(s, len))
        return put_string(w, s, len);
    date_len = (apr_size_t)(space - s);
    *w++ = '"';
    memcpy(w, s, date_len);
    w += date_len;
    *w++ = 'T';
    zs = zone_start(s, date_len + 1, end);
    memcpy(w, s + date_len + 1, zs - date_len - 1);
    w += zs - date_len - 1;
    if (zs < end) {
        /* ISO "+05" / "-03:30" / "+00" to XSD "+05:00" / "-03:30" / "+00:00" */
        memcpy(w, s + zs, end - zs);
        w += end - zs;
        if (end - zs == 3) {
            memcpy(w, ":00", 3);
            w += 3;
        }
    }
    if (bc) {
        memcpy(w, " BC", 3);
        w += 3;
    }
    *w++ = '"';
    return w;
}

/* json_agg() puts "\n " between elements. A raw line break is never inside
 * a JSON string (it would be written \n), so dropping it and the space
 * after it changes no value: responses stay one line, as at the top. */
static char *put_without_breaks(char *w, const char *v, apr_size_t len)
{
    const char *end = v + len, *nl;

    while ((nl = memchr(v, '\n', (apr_size_t)(end - v))) != NULL) {
        memcpy(w, v, (apr_size_t)(nl - v));
        w += nl - v;
        v = nl + 1;
        if (v < end && *v == ' ')
            v++;
    }
    memcpy(w, v, (apr_size_t)(end - v));
    return w + (end - v);
}

/* The room a scalar of len bytes may take at most: every byte escaped,
 * or "false" for the shortest. */
#define VALUE_ROOM(len) (STRING_ROOM(len) + 4)

/* The text as it is: numbers are short, and a call to memcpy costs more
 * than their copy. */
static ALWAYS_INLINE char *put_bare(char *w, const char *v, apr_size_t len)
{
    if (len <= 16)
        copy_short(w, (const unsigned char *)v, len);
    else
        memcpy(w, v, len);
    return w + len;
}

/* Whether the text of a numeric, float4 or float8 is a JSON number:
 * numeric_out and float8out write one, or NaN, Infinity or -Infinity, which
 * start with no digit, so the first bytes tell (ar_json_is_number, which
 * walks the grammar, cost 7,000 instructions a page of 100 rows with one
 * numeric column). */
static ALWAYS_INLINE int decimal_text(const char *v, apr_size_t len)
{
    return len > 0
           && ((v[0] >= '0' && v[0] <= '9')
               || (v[0] == '-' && len > 1 && v[1] >= '0' && v[1] <= '9'));
}

/* Puts a scalar at w, which has room for its worst case (VALUE_ROOM): every
 * encoding but arrays (NULL: the caller writes those). */
static ALWAYS_INLINE char *put_scalar(char *w, ar_encoding enc, const char *v, apr_size_t len)
{
    switch (enc) {
    case AR_ENC_STRING:
        return put_text(w, v, len);
    case AR_ENC_DECIMAL:
        return decimal_text(v, len) ? put_bare(w, v, len) : put_string(w, v, len);
    case AR_ENC_NUMBER:
        return ar_json_is_number(v, len) ? put_bare(w, v, len) : put_string(w, v, len);
    case AR_ENC_INTEGER:
    case AR_ENC_JSON:
    case AR_ENC_SQL_JSON:
        return put_bare(w, v, len);
    case AR_ENC_TIMESTAMP:
        return put_timestamp(w, v, len);
    case AR_ENC_EMBED:
        return put_without_breaks(w, v, len);
    case AR_ENC_BOOL:
        if (len > 0 && v[0] == 't') {
            memcpy(w, "true", 4);
            return w + 4;
        }
        memcpy(w, "false", 5);
        return w + 5;
    default:
        return NULL;
    }
}

static void write_scalar(ar_out *o, ar_encoding enc, const char *v, apr_size_t len)
{
    char *w, *end;

    if (!(w = out_reserve(o, VALUE_ROOM(len))))
        return;
    end = put_scalar(w, enc, v, len);
    if (!end) /* not a scalar encoding: its text */
        end = put_string(w, v, len);
    o->len = (apr_size_t)(end - o->buf);
}

/* ---------------------------------------------------------------- arrays */

/*
 * PostgreSQL's array text: {1,2,NULL}, {"a b","q\"uote"}, {{1,2},{3,4}},
 * and "[0:1]={...}" when a lower bound is not 1 (to_json drops the bounds).
 * Elements are quoted when they need it, with backslash escapes inside;
 * an unquoted NULL is SQL NULL. Parsing never reads past len: a malformed
 * literal ends the array early rather than the process.
 */
typedef struct {
    const char *s;
    apr_size_t i, len;
    ar_encoding elem;
    char *scratch;          /* unescaped element, reused */
    apr_size_t scratch_cap;
} array_reader;

static void write_array_level(ar_out *o, array_reader *r);

static void write_array_element(ar_out *o, array_reader *r)
{
    apr_size_t n = 0;
    const char *s = r->s;

    if (r->i < r->len && s[r->i] == '"') {
        r->i++;
        while (r->i < r->len && s[r->i] != '"') {
            if (s[r->i] == '\\' && r->i + 1 < r->len)
                r->i++;
            if (n == r->scratch_cap) {
                /* cannot happen: scratch is as long as the whole literal */
                break;
            }
            r->scratch[n++] = s[r->i++];
        }
        if (r->i < r->len)
            r->i++; /* closing quote */
        write_scalar(o, r->elem, r->scratch, n);
        return;
    }
    {
        apr_size_t start = r->i;
        while (r->i < r->len && s[r->i] != ',' && s[r->i] != '}')
            r->i++;
        n = r->i - start;
        if (n == 4 && strncmp(s + start, "NULL", 4) == 0)
            ar_out_write(o, "null", 4);
        else
            write_scalar(o, r->elem, s + start, n);
    }
}

static void write_array_level(ar_out *o, array_reader *r)
{
    int first = 1;

    r->i++; /* '{' */
    ar_out_write(o, "[", 1);
    while (r->i < r->len && r->s[r->i] != '}') {
        if (!first)
            ar_out_write(o, ",", 1);
        first = 0;
        if (r->s[r->i] == '{')
            write_array_level(o, r);
        else
            write_array_element(o, r);
        if (r->i < r->len && r->s[r->i] == ',')
            r->i++;
    }
    if (r->i < r->len)
        r->i++; /* '}' */
    ar_out_write(o, "]", 1);
}

static void write_array(ar_out *o, ar_encoding elem, const char *s, apr_size_t len)
{
    array_reader r;
    const char *eq;

    r.s = s;
    r.len = len;
    r.i = 0;
    r.elem = elem;
    if (len > 0 && s[0] == '[' && (eq = memchr(s, '=', len)) != NULL)
        r.i = (apr_size_t)(eq - s) + 1;
    if (r.i >= len || s[r.i] != '{') {
        ar_json_write_string(o, s, len);
        return;
    }
    r.scratch_cap = len;
    r.scratch = apr_palloc(o->pool, len + 1);
    write_array_level(o, &r);
}

void ar_json_write_value(ar_out *o, ar_encoding enc, ar_encoding elem_enc,
                         const char *value, apr_size_t len)
{
    if (!value)
        ar_out_write(o, "null", 4);
    else if (enc == AR_ENC_ARRAY)
        write_array(o, elem_enc, value, len);
    else
        write_scalar(o, enc, value, len);
}

/* ------------------------------------------------------------------ rows */

#define KEY_BLOCK 16
#define KEY_PADDED(len) (((len) + KEY_BLOCK - 1) / KEY_BLOCK * KEY_BLOCK)
/* The room column i of a row takes at most, with a value of len bytes:
 * its key, padded for copy_key, and the value. */
#define COLUMN_ROOM(f, i, len) (KEY_PADDED((f)->key_lens[i]) + VALUE_ROOM(len))

/* Keys are short and copied once per row each: a block at a time with a
 * constant size (a move or two, no call) was cheaper than a memcpy call per
 * key, which the profile of 1,000-row pages showed at 5% of the child. The
 * bytes past len are padding of the key and room reserved in the buffer. */
static ALWAYS_INLINE void copy_key(char *dst, const char *key, apr_size_t len)
{
    apr_size_t i;

    memcpy(dst, key, KEY_BLOCK); /* every key has one */
    for (i = KEY_BLOCK; i < len; i += KEY_BLOCK)
        memcpy(dst + i, key + i, KEY_BLOCK);
}

ar_row_format *ar_row_format_make(apr_pool_t *p, const apr_array_header_t *columns)
{
    ar_row_format *f = apr_pcalloc(p, sizeof(*f));
    int i;

    f->ncols = columns->nelts;
    f->keys = apr_palloc(p, sizeof(char *) * (f->ncols + 1));
    f->key_lens = apr_palloc(p, sizeof(apr_size_t) * (f->ncols + 1));
    f->enc = apr_palloc(p, sizeof(ar_encoding) * (f->ncols + 1));
    f->elem_enc = apr_palloc(p, sizeof(ar_encoding) * (f->ncols + 1));
    f->room = 1; /* the closing brace */
    for (i = 0; i < f->ncols; i++) {
        const ar_output_column *c = &APR_ARRAY_IDX(columns, i, ar_output_column);
        const char *name = c->name ? c->name : c->column->name;
        apr_size_t len = strlen(name);
        /* written in place, in room for the worst case padded to whole
         * blocks for copy_key (every read makes these: no sink of its own) */
        char *key = apr_pcalloc(p, KEY_PADDED(STRING_ROOM(len) + 2)), *end;

        key[0] = i == 0 ? '{' : ',';
        end = put_string(key + 1, name, len);
        *end++ = ':';
        f->keys[i] = key;
        f->key_lens[i] = (apr_size_t)(end - key);
        f->enc[i] = c->enc;
        /* a column's own number, not an aggregate's or a domain's: its
         * type's output function wrote it */
        if (c->enc == AR_ENC_NUMBER && c->column && !c->agg && !c->count_rows && !c->path
            && !c->cast)
            f->enc[i] = ar_type_is_integer(c->column->type_oid)   ? AR_ENC_INTEGER
                        : ar_type_is_decimal(c->column->type_oid) ? AR_ENC_DECIMAL
                                                                   : AR_ENC_NUMBER;
        f->elem_enc[i] = c->elem_enc;
        f->room += COLUMN_ROOM(f, i, 0);
    }
    return f;
}

/* The room the row's keys and values after column i take at most. */
static apr_size_t row_room_after(const ar_row_format *f, int i, const int *lens)
{
    apr_size_t room = 1;

    for (i++; i < f->ncols; i++)
        room += COLUMN_ROOM(f, i, (apr_size_t)lens[i]);
    return room;
}

/* One row as an object, after a comma when next (the rows of an array
 * after its first: in the same room, not a write of its own, which cost
 * 44 instructions a row). The worst case of the whole row (each key, and
 * each value as an escaped string) is reserved once, then keys and values
 * are written with no further checks: at 1,000 rows a page this loop is
 * most of what the module does. Arrays take the general path, and the rest
 * of the row is reserved again after one. */
static ALWAYS_INLINE void write_row(ar_out *o, const ar_row_format *f,
                                    const char *const *values, const int *lens, int next)
{
    apr_size_t room = f->room + (next != 0), text = 0;
    char *w;
    int i;

    if (f->ncols == 0) {
        ar_out_write(o, next ? ",{}" : "{}", next ? 3 : 2);
        return;
    }
    /* f->room counts every value as empty; a NULL's length is 0
     * (ar_db_row_values), and VALUE_ROOM(0) holds "null" */
    for (i = 0; i < f->ncols; i++)
        text += (apr_size_t)lens[i];
    room += VALUE_ROOM(text) - VALUE_ROOM(0);
    if (!(w = out_reserve(o, room)))
        return;
    if (next)
        *w++ = ',';
    for (i = 0; i < f->ncols; i++) {
        const char *v = values[i];
        char *end;

        copy_key(w, f->keys[i], f->key_lens[i]);
        w += f->key_lens[i];
        if (!v) {
            memcpy(w, "null", 4);
            w += 4;
            continue;
        }
        if ((end = put_scalar(w, f->enc[i], v, (apr_size_t)lens[i])) != NULL) {
            w = end;
            continue;
        }
        o->len = (apr_size_t)(w - o->buf);
        ar_json_write_value(o, f->enc[i], f->elem_enc[i], v, (apr_size_t)lens[i]);
        if (!(w = out_reserve(o, row_room_after(f, i, lens))))
            return;
    }
    *w++ = '}';
    o->len = (apr_size_t)(w - o->buf);
}

void ar_json_write_row(ar_out *o, const ar_row_format *f,
                       const char *const *values, const int *lens)
{
    write_row(o, f, values, lens, 0);
}

void ar_json_write_next_row(ar_out *o, const ar_row_format *f,
                            const char *const *values, const int *lens)
{
    write_row(o, f, values, lens, 1);
}

/* ------------------------------------------------------------------- csv */

static void csv_field(ar_out *o, const char *v, apr_size_t len)
{
    apr_size_t i, run = 0;
    int quote = len == 0;

    for (i = 0; i < len && !quote; i++)
        quote = v[i] == ',' || v[i] == '"' || v[i] == '\r' || v[i] == '\n';
    if (!quote) {
        ar_out_write(o, v, len);
        return;
    }
    ar_out_write(o, "\"", 1);
    for (i = 0; i < len; i++) {
        if (v[i] == '"') {
            ar_out_write(o, v + run, i - run + 1); /* up to and with the quote */
            ar_out_write(o, "\"", 1);
            run = i + 1;
        }
    }
    ar_out_write(o, v + run, len - run);
    ar_out_write(o, "\"", 1);
}

void ar_csv_write_header(ar_out *o, const apr_array_header_t *columns)
{
    int i;

    for (i = 0; i < columns->nelts; i++) {
        const ar_output_column *c = &APR_ARRAY_IDX(columns, i, ar_output_column);
        const char *name = c->name ? c->name : c->column->name;
        if (i)
            ar_out_write(o, ",", 1);
        csv_field(o, name, strlen(name));
    }
    ar_out_write(o, "\r\n", 2);
}

void ar_csv_write_row(ar_out *o, int ncols, const char *const *values, const int *lens)
{
    int i;

    for (i = 0; i < ncols; i++) {
        if (i)
            ar_out_write(o, ",", 1);
        if (values[i])
            csv_field(o, values[i], (apr_size_t)lens[i]);
    }
    ar_out_write(o, "\r\n", 2);
}
