#ifndef COPENBENEATH_H
#define COPENBENEATH_H

/* openat2(2) with RESOLVE_BENEATH (Linux 5.6+), which glibc does not wrap.

   Opens `relative` (no leading '/'; "." for the folder itself) under the folder `root`, following
   symlinks only while every step stays beneath `root`: a symlink or ".." that leads out fails with
   EXDEV, an absolute symlink too (even one pointing back inside). The check is the kernel's, made
   during the open itself, so no rename or symlink swap between a caller's check and this open can
   lead it out. O_CLOEXEC is always added. Returns the descriptor, or -1 with errno set; errno is
   ENOSYS where the call does not exist (another system, or an older kernel). */
int cob_open_beneath(const char *root, const char *relative, int flags);

#endif
