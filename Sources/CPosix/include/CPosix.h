#ifndef JALM_CPOSIX_H
#define JALM_CPOSIX_H

#include <sys/types.h>
#include <stdint.h>

/// Starts `path` with `argv`/`envp` in a new session, with `child_fd` as its fd 3 and every other fd
/// above 2 closed; stdin is /dev/null, stdout goes to stderr_fd (or /dev/null when -1), stderr to
/// stderr_fd. The child gets SIGKILL when the spawning thread exits (PR_SET_PDEATHSIG), and starts in
/// `cwd` when it is not NULL (a plugin's own folder, so its manifest can name files relative to it).
/// Returns the pid, or -errno.
pid_t jalm_spawn(const char *path, char *const argv[], char *const envp[], int child_fd, int stderr_fd,
                 const char *cwd);

/// openat2(2) with RESOLVE_* flags; returns the fd or -errno.
int jalm_openat2(int dirfd, const char *path, int flags, int mode, uint64_t resolve);

/// RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS (the io-file confinement flags).
uint64_t jalm_resolve_beneath(void);
uint64_t jalm_resolve_no_symlinks(void);

/// renameat2(2); flags may be 0 or RENAME_NOREPLACE (1). Returns 0 or -errno.
int jalm_renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags);


/// O_PATH and AT_EMPTY_PATH are behind _GNU_SOURCE, which Swift's Glibc module does not define.
int jalm_o_path(void);
int jalm_at_empty_path(void);

/// The symbolic name of an errno value ("EACCES"), or NULL when glibc has none (strerrorname_np).
const char *jalm_errno_name(int err);

// Sandbox (JALMSandbox): the two kernel facts Swift's Glibc module makes awkward to reach.

/// statfs(2)'s f_type of `path` (CGROUP2_SUPER_MAGIC 0x63677270, CGROUP_SUPER_MAGIC 0x27e0eb, ...), or -errno.
/// A shim because Glibc's `struct statfs` and `statfs()` share a name, which Swift cannot tell apart.
long long jalm_statfs_type(const char *path);
/// The Landlock ABI version the kernel offers (landlock_create_ruleset(NULL, 0, VERSION)), or -errno
/// (-ENOSYS: not built in; -EOPNOTSUPP: built in but disabled at boot).
int jalm_landlock_abi_version(void);

/// SO_PEERCRED (hidden from Swift's Glibc module): who is on the other end of a Unix socket.
int jalm_so_peercred(void);

#endif
