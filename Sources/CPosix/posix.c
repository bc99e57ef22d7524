#define _GNU_SOURCE
#include "CPosix.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/openat2.h>

#ifndef SYS_close_range
#define SYS_close_range 436
#endif

static void close_from(int first) {
    if (syscall(SYS_close_range, (unsigned)first, ~0U, 0) == 0) return;
    long max = sysconf(_SC_OPEN_MAX);
    for (int fd = first; fd < max; fd++) close(fd);
}

pid_t jalm_spawn(const char *path, char *const argv[], char *const envp[], int child_fd, int stderr_fd,
                 const char *cwd) {
    pid_t parent = getpid();
    // Only async-signal-safe calls between fork and exec: the parent is multi-threaded.
    pid_t pid = fork();
    if (pid < 0) return -errno;
    if (pid > 0) return pid;

    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) _exit(126);
    if (getppid() != parent) _exit(126);  // the kernel died between fork and prctl
    setsid();
    if (cwd != NULL && chdir(cwd) != 0) _exit(126);
    int devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0) _exit(126);
    int err = stderr_fd >= 0 ? stderr_fd : devnull;
    // Move the fds we keep above 10 first so that dup2 onto 0..3 cannot clobber them.
    int keep_child = fcntl(child_fd, F_DUPFD_CLOEXEC, 10);
    int keep_err = fcntl(err, F_DUPFD_CLOEXEC, 10);
    if (keep_child < 0 || keep_err < 0) _exit(126);
    if (dup2(devnull, 0) < 0 || dup2(keep_err, 1) < 0 || dup2(keep_err, 2) < 0 || dup2(keep_child, 3) < 0) _exit(126);
    close_from(4);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    execve(path, argv, envp);
    _exit(127);
}

int jalm_openat2(int dirfd, const char *path, int flags, int mode, uint64_t resolve) {
    struct open_how how = { .flags = (uint64_t)(flags | O_CLOEXEC), .mode = (uint64_t)mode, .resolve = resolve };
    long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
    return fd < 0 ? -errno : (int)fd;
}

uint64_t jalm_resolve_beneath(void) { return RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS; }
uint64_t jalm_resolve_no_symlinks(void) { return RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_SYMLINKS; }

int jalm_renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags) {
    long r = syscall(SYS_renameat2, olddirfd, oldpath, newdirfd, newpath, flags);
    return r < 0 ? -errno : 0;
}


int jalm_o_path(void) { return O_PATH; }
int jalm_at_empty_path(void) { return AT_EMPTY_PATH; }

const char *jalm_errno_name(int err) { return strerrorname_np(err); }

long long jalm_statfs_type(const char *path) {
    struct statfs s;
    if (statfs(path, &s) != 0) return -errno;
    return (long long)s.f_type;
}

#ifndef SYS_landlock_create_ruleset
#define SYS_landlock_create_ruleset 444  /* x86_64 and aarch64 alike (the unified syscall table) */
#endif
#ifndef LANDLOCK_CREATE_RULESET_VERSION
#define LANDLOCK_CREATE_RULESET_VERSION (1U << 0)
#endif

int jalm_landlock_abi_version(void) {
    long v = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    return v < 0 ? -errno : (int)v;
}

int jalm_so_peercred(void) { return SO_PEERCRED; }
