/*
 * text_rules.c: what a text is, byte by byte: well-formed UTF-8 (what a
 * JSON text sent to PostgreSQL must be: a body as it is parsed, a request
 * header as a claim, a cursor's key), and a JSON number (what to_json()
 * writes bare).
 *
 * Pure core, beside json_out.c's encoders, which call ar_json_is_number
 * for a number that is not a column's own; nothing here is on a row's
 * inline path.
 */
#include <string.h>

#include <apr.h>

#include "autorest.h"

int ar_utf8_lead(unsigned char c, int *need, unsigned char *lo, unsigned char *hi)
{
    *lo = 0x80;
    *hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF)
        *need = 1;
    else if (c >= 0xE0 && c <= 0xEF) {
        *need = 2;
        if (c == 0xE0)
            *lo = 0xA0;
        else if (c == 0xED)
            *hi = 0x9F;
    }
    else if (c >= 0xF0 && c <= 0xF4) {
        *need = 3;
        if (c == 0xF0)
            *lo = 0x90;
        else if (c == 0xF4)
            *hi = 0x8F;
    }
    else
        return 0;
    return 1;
}

int ar_utf8_valid(const char *s, apr_size_t len)
{
    const unsigned char *in = (const unsigned char *)s, *end = in + len;

    while (in < end) {
        unsigned char c, lo, hi;
        int need;
        apr_uint64_t word;

        if (end - in >= 8) { /* ASCII, eight bytes at a time */
            memcpy(&word, in, sizeof(word));
            if (!(word & APR_UINT64_C(0x8080808080808080))) {
                in += sizeof(word);
                continue;
            }
        }
        c = *in++;
        if (c < 0x80)
            continue;
        if (!ar_utf8_lead(c, &need, &lo, &hi) || end - in < need || *in < lo || *in > hi)
            return 0;
        for (in++; --need > 0; in++)
            if ((*in & 0xC0) != 0x80)
                return 0;
    }
    return 1;
}

/* RFC 8259 number grammar: what to_json() checks before writing a numeric
 * bare (NaN, Infinity and -Infinity become strings). */
int ar_json_is_number(const char *s, apr_size_t len)
{
    apr_size_t i = 0;

    if (i < len && s[i] == '-')
        i++;
    if (i >= len)
        return 0;
    if (s[i] == '0')
        i++;
    else if (s[i] >= '1' && s[i] <= '9')
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
    else
        return 0;
    if (i < len && s[i] == '.') {
        apr_size_t start = ++i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == start)
            return 0;
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        apr_size_t start;
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        start = i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == start)
            return 0;
    }
    return i == len;
}
