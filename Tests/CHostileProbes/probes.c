#define _GNU_SOURCE
// Test-only: the syscalls a confined layer must not make, for the hostile fixture plugin. Kept out of the
// production CPosix shim so that no shipped binary links them; only jalm-fixture-layer does.
#include "CHostileProbes.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
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
