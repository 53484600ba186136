/* tap.h: the least TAP a C unit test needs; prove and automake read it. */
#ifndef AR_TAP_H
#define AR_TAP_H
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

#define ok(cond, ...)                                                        \
    do {                                                                     \
        int ok_ = (cond) ? 1 : 0;                                            \
        printf("%sok %d - ", ok_ ? "" : "not ", ++tap_n);                    \
        printf(__VA_ARGS__);                                                 \
        printf("\n");                                                        \
        if (!ok_) {                                                          \
            tap_failed++;                                                    \
            printf("#   failed at %s line %d\n", __FILE__, __LINE__);        \
        }                                                                    \
    } while (0)

#define is_str(got, want, ...)                                               \
    do {                                                                     \
        const char *g_ = (got), *w_ = (want);                                \
        int same_ = (g_ == NULL && w_ == NULL) ||                            \
                    (g_ && w_ && strcmp(g_, w_) == 0);                       \
        ok(same_, __VA_ARGS__);                                              \
        if (!same_)                                                          \
            printf("#          got: %s\n#     expected: %s\n",              \
                   g_ ? g_ : "(null)", w_ ? w_ : "(null)");                 \
    } while (0)

static int tap_done(void)
{
    printf("1..%d\n", tap_n);
    return tap_failed ? 1 : 0;
}
#endif
