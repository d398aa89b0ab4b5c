#ifndef CPROCESSSPAWN_H
#define CPROCESSSPAWN_H

#include <spawn.h>

/* GNU extensions Swift's Glibc module does not show (it is built without _GNU_SOURCE). */

/* pipe2(fds, O_CLOEXEC): both ends close on exec, atomically, so a script started by another
   thread at the same moment cannot inherit them. */
int csp_pipe_cloexec(int fds[2]);

/* posix_spawn_file_actions_addchdir_np (glibc 2.29+): the child starts in `path`. */
int csp_spawn_add_chdir(posix_spawn_file_actions_t *actions, const char *path);

/* posix_spawn_file_actions_addclosefrom_np (glibc 2.34+): the child keeps only fds below `from`. */
int csp_spawn_add_closefrom(posix_spawn_file_actions_t *actions, int from);

#endif
