/*
 * hash.c: one fast 64-bit hash of bytes, for the ETag of an answer, the
 * statements a connection keeps prepared (by their text), and the reads
 * kept planned per request shape. None of these is a secret: a hash here
 * only finds or tells apart; every table compares its keys in full.
 */
#include <string.h>

#include "autorest.h"

/* Four lanes, so that the multiplies of neighbouring words overlap. */
static const apr_uint64_t lane_mul[4] = {
    APR_UINT64_C(0x9e3779b97f4a7c15), APR_UINT64_C(0xbf58476d1ce4e5b9),
    APR_UINT64_C(0x94d049bb133111eb), APR_UINT64_C(0xff51afd7ed558ccd)};

void ar_hash_init(ar_hash *h)
{
    int i;

    for (i = 0; i < 4; i++)
        h->lane[i] = lane_mul[i] >> 7;
    h->bytes = 0;
}

/* Each 8-byte word is xored into its lane and multiplied by an odd
 * constant: a change in any word changes its lane (an odd multiplier loses
 * nothing of the difference's lowest bit), and ar_hash_value mixes the
 * lanes down. About half an instruction per byte. A block is padded to
 * whole words with zeros; the byte count, mixed in at the end, tells a
 * padded block apart. */
void ar_hash_add(ar_hash *h, const void *data, apr_size_t len)
{
    const char *bytes = data;
    apr_uint64_t a = h->lane[0], b = h->lane[1], c = h->lane[2], d = h->lane[3], w[4];
    char tail[32];
    apr_size_t i;

    /* four scalar lanes: the compiler's vector form of 64-bit multiplies
     * (SSE2 has none) costs twice the instructions */
    for (i = 0; i < len; i += 32) {
        const char *words = bytes + i;
        if (len - i < 32) {
            memset(tail, 0, sizeof(tail));
            memcpy(tail, words, len - i);
            words = tail;
        }
        memcpy(w, words, sizeof(w));
        a = (a ^ w[0]) * lane_mul[0];
        b = (b ^ w[1]) * lane_mul[1];
        c = (c ^ w[2]) * lane_mul[2];
        d = (d ^ w[3]) * lane_mul[3];
    }
    h->lane[0] = a ^ (a >> 31);
    h->lane[1] = b ^ (b >> 31);
    h->lane[2] = c ^ (c >> 31);
    h->lane[3] = d ^ (d >> 31);
    h->bytes += len;
}

apr_uint64_t ar_hash_value(const ar_hash *h)
{
    apr_uint64_t v = h->bytes * lane_mul[0];
    int i;

    for (i = 0; i < 4; i++) {
        v = (v ^ h->lane[i]) * lane_mul[(i + 1) % 4];
        v ^= v >> 29;
    }
    return v;
}

apr_uint64_t ar_hash_bytes(const void *data, apr_size_t len)
{
    ar_hash h;

    ar_hash_init(&h);
    ar_hash_add(&h, data, len);
    return ar_hash_value(&h);
}

unsigned int ar_hash_for_table(const char *key, apr_ssize_t *klen)
{
    if (*klen == APR_HASH_KEY_STRING)
        *klen = (apr_ssize_t)strlen(key);
    return (unsigned int)ar_hash_bytes(key, (apr_size_t)*klen);
}
