#ifndef JALM_CHOSTILEPROBES_H
#define JALM_CHOSTILEPROBES_H

#include <sys/types.h>

// Probes of the hostile fixture plugin (Tests/FixtureLayers/HostileProbes.swift): each tries one thing a
// confined layer must not do, through the raw syscall, and returns 0 (or a count) on success or -errno.
// Under a kill-process seccomp policy the call does not return: the process dies by SIGSYS.

/// ptrace(PTRACE_ATTACH, pid) then PTRACE_DETACH; pid 0 means PTRACE_TRACEME.
int jalm_probe_ptrace(pid_t pid);
/// mount("jalm-probe", target, "tmpfs") and, when that worked, umount2(target, MNT_DETACH) at once.
int jalm_probe_mount_tmpfs(const char *target);
/// bpf(BPF_PROG_LOAD) of the smallest socket filter ("r0 = 0; exit"); closes the program fd on success.
int jalm_probe_bpf_prog_load(void);
/// unshare(CLONE_NEWNS) through syscall(2).
int jalm_probe_unshare_mount_ns(void);
/// Forks up to `n` children that wait on a pipe; stores the errno that stopped it (0 if none) in
/// *stopped_by, then closes the pipe and reaps every child it made. Returns how many forks succeeded.
int jalm_probe_fork_bomb(int n, int *stopped_by);
/// Allocates `mb` MiB in 1 MiB chunks and writes every page; frees them again. Returns the MiB touched,
/// or -ENOMEM if malloc failed first (an OOM kill does not return).
int jalm_probe_mem_bomb(int mb);
/// socket(AF_INET, SOCK_STREAM) and, if port > 0, connect to 127.0.0.1:port. Returns 0 or -errno.
int jalm_probe_tcp(int port);
/// socket(AF_UNIX, SOCK_STREAM) and connect to `path`. Returns 0 or -errno.
int jalm_probe_connect_unix(const char *path);

#endif
