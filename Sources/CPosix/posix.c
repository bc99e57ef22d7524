#define _GNU_SOURCE
#include "CPosix.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
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

// ---- hostile fixture probes (see CPosix.h) ----

#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <linux/bpf.h>
#include <sched.h>

static int neg_errno(long r) { return r < 0 ? -errno : (int)r; }

int jalm_probe_ptrace(pid_t pid) {
    if (pid == 0) return neg_errno(syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0));
    if (syscall(SYS_ptrace, PTRACE_ATTACH, pid, 0, 0) < 0) return -errno;
    int status;
    waitpid(pid, &status, __WALL);  // the attach stop, so that DETACH is accepted
    syscall(SYS_ptrace, PTRACE_DETACH, pid, 0, 0);
    return 0;
}

int jalm_probe_mount_tmpfs(const char *target) {
    if (syscall(SYS_mount, "jalm-probe", target, "tmpfs", 0UL, "size=64k") < 0) return -errno;
    syscall(SYS_umount2, target, MNT_DETACH);
    return 0;
}

int jalm_probe_bpf_prog_load(void) {
    struct bpf_insn prog[2];
    memset(prog, 0, sizeof prog);
    prog[0].code = BPF_ALU64 | BPF_MOV | BPF_K;  // r0 = 0
    prog[1].code = BPF_JMP | BPF_EXIT;
    char license[] = "GPL";
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
    attr.insn_cnt = 2;
    attr.insns = (uint64_t)(uintptr_t)prog;
    attr.license = (uint64_t)(uintptr_t)license;
    long fd = syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof attr);
    if (fd < 0) return -errno;
    close((int)fd);
    return 0;
}

int jalm_probe_unshare_mount_ns(void) { return neg_errno(syscall(SYS_unshare, CLONE_NEWNS)); }

int jalm_probe_fork_bomb(int n, int *stopped_by) {
    *stopped_by = 0;
    if (n <= 0) return 0;
    // The children wait on a pipe and leave when it closes: no kill(2), which no policy allows.
    int gate[2];
    if (pipe2(gate, O_CLOEXEC) < 0) { *stopped_by = errno; return 0; }
    int made = 0;
    for (; made < n; made++) {
        pid_t pid = fork();
        if (pid < 0) { *stopped_by = errno; break; }
        if (pid == 0) {  // async-signal-safe only: the parent is multi-threaded
            char c;
            close(gate[1]);
            while (read(gate[0], &c, 1) < 0 && errno == EINTR) {}
            _exit(0);
        }
    }
    close(gate[1]);
    close(gate[0]);
    for (int reaped = 0; reaped < made;) {
        if (waitpid(-1, NULL, __WALL) > 0) reaped++;
        else if (errno != EINTR) break;
    }
    return made;
}

int jalm_probe_mem_bomb(int mb) {
    enum { MIB = 1 << 20 };
    char **chunks = calloc((size_t)(mb > 0 ? mb : 1), sizeof *chunks);
    if (chunks == NULL) return -ENOMEM;
    int touched = 0;
    for (; touched < mb; touched++) {
        chunks[touched] = malloc(MIB);
        if (chunks[touched] == NULL) break;
        memset(chunks[touched], 0xA5, MIB);  // every page, so the memory is really charged
    }
    int result = touched < mb && touched == 0 ? -ENOMEM : touched;
    for (int i = 0; i < touched; i++) free(chunks[i]);
    free(chunks);
    return result;
}

int jalm_probe_tcp(int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    int r = 0;
    if (port > 0) {
        struct sockaddr_in addr;
        memset(&addr, 0, sizeof addr);
        addr.sin_family = AF_INET;
        addr.sin_port = htons((uint16_t)port);
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0) r = -errno;
    }
    close(fd);
    return r;
}

int jalm_probe_connect_unix(const char *path) {
    struct sockaddr_un addr;
    memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    if (strlen(path) >= sizeof addr.sun_path) return -ENAMETOOLONG;
    strcpy(addr.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    int r = connect(fd, (struct sockaddr *)&addr, sizeof addr) < 0 ? -errno : 0;
    close(fd);
    return r;
}

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
