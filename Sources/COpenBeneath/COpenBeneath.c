#define _GNU_SOURCE  /* O_PATH */

#include "COpenBeneath.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#if defined(__linux__)
#include <sys/syscall.h>
#if __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#else
struct open_how {
    unsigned long long flags;
    unsigned long long mode;
    unsigned long long resolve;
};
#define RESOLVE_NO_MAGICLINKS 0x02
#define RESOLVE_BENEATH 0x08
#endif
#endif

int cob_open_beneath(const char *root, const char *relative, int flags) {
#if defined(__linux__) && defined(SYS_openat2)
    int folder = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (folder < 0) {
        return -1;
    }
    struct open_how how = {
        .flags = (unsigned long long)(flags | O_CLOEXEC),
        .mode = 0,
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
    };
    int fd;
    int attempts = 0;
    do {
        /* EAGAIN: a rename elsewhere on the file system raced the lookup; the kernel asks for a retry. */
        fd = (int)syscall(SYS_openat2, folder, relative, &how, sizeof how);
    } while (fd < 0 && errno == EAGAIN && ++attempts < 8);
    int saved = errno;
    close(folder);
    errno = saved;
    return fd;
#else
    (void)root;
    (void)relative;
    (void)flags;
    errno = ENOSYS;
    return -1;
#endif
}
