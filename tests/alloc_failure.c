/* An LD_PRELOAD shim for end-to-end tests: the environment variable
 * SENSORHUB_FAIL_CALLOC="SIZE:N" makes the next N calls calloc(1, SIZE) fail
 * with ENOMEM, as they would when memory runs out (a systemd MemoryMax, a
 * full Raspberry Pi). Every other allocation goes to glibc. Not usable under
 * AddressSanitizer, whose runtime must come first. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

void *__libc_calloc(size_t count, size_t size);

static size_t fail_size;
static int fail_left = -1; /* -1: the variable is not read yet */

void *calloc(size_t count, size_t size)
{
    if (__atomic_load_n(&fail_left, __ATOMIC_ACQUIRE) < 0) {
        int left = 0;
        const char *spec = getenv("SENSORHUB_FAIL_CALLOC");
        unsigned long spec_size = 0;
        if (spec != NULL && sscanf(spec, "%lu:%d", &spec_size, &left) == 2)
            fail_size = spec_size;
        __atomic_store_n(&fail_left, left, __ATOMIC_RELEASE);
    }
    if (count == 1 && size == fail_size && fail_size != 0) {
        int left = __atomic_load_n(&fail_left, __ATOMIC_ACQUIRE);
        while (left > 0)
            if (__atomic_compare_exchange_n(&fail_left, &left, left - 1, false, __ATOMIC_ACQ_REL,
                                            __ATOMIC_ACQUIRE)) {
                errno = ENOMEM;
                return NULL;
            }
    }
    return __libc_calloc(count, size);
}
