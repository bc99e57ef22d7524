/*
 * jalm-launch: the launcher every JALM plugin process starts through.
 *
 *   jalm-launch [OPTIONS] -- EXECUTABLE [ARGS...]
 *
 * Steps, always in this order (see main.c): cgroup, rlimit, unshare,
 * no_new_privs, landlock, user + capabilities, seccomp, execve.
 *
 * The only state is the parsed options struct below; every step reads it and
 * either succeeds or ends the process with exit status 126 and exactly one
 * line "jalm-launch: STEP: DETAIL: strerror" on stderr (jl_fail).
 */
#ifndef JALM_LAUNCH_H
#define JALM_LAUNCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

/* Bounds on all input: a policy larger than this is a bug in the caller. */
#define JL_MAX_CGROUPS 8
#define JL_MAX_RLIMITS 16
#define JL_MAX_PATHS 64      /* per --fs-ro and per --fs-rw */
#define JL_MAX_PORTS 64
#define JL_MAX_SYSCALLS 512  /* --allow */
#define JL_MAX_ERRNOS 64     /* --errno */
#define JL_MAX_ARG 4095      /* any single option value, PATH_MAX - 1 */
#define JL_MAX_NAME 64       /* a syscall or rlimit name */

#define JL_EXIT_STEP 126     /* a confinement step failed */
#define JL_EXIT_EXEC 127     /* execve itself failed */

enum jl_net { JL_NET_ANY, JL_NET_NONE, JL_NET_OUTBOUND, JL_NET_PORTS };
enum jl_sc_default { JL_SC_KILL, JL_SC_ERRNO, JL_SC_LOG, JL_SC_ALLOW };

struct jl_rlimit {
    const char *name;  /* points into rlimit.c's table */
    int resource;
    rlim_t soft, hard;
};

struct jl_errno_rule {
    const char *name;  /* points into argv */
    int err;
};

struct jl_opts {
    const char *cgroups[JL_MAX_CGROUPS];
    size_t n_cgroups;

    struct jl_rlimit rlimits[JL_MAX_RLIMITS];
    size_t n_rlimits;

    int unshare_flags;        /* CLONE_NEW* from --unshare, without CLONE_NEWUSER */
    const char *unshare_list; /* as given, for --dry-run and --verbose */

    const char *fs_ro[JL_MAX_PATHS];
    size_t n_fs_ro;
    const char *fs_rw[JL_MAX_PATHS];
    size_t n_fs_rw;
    enum jl_net net;
    uint16_t ports[JL_MAX_PORTS];
    size_t n_ports;
    int require_landlock;
    int landlock_off;

    int has_user;
    uid_t uid;
    gid_t gid;
    int cap_last;             /* probed before Landlock hides /proc (caps.c) */

    enum jl_sc_default sc_default;
    int sc_errno;             /* for JL_SC_ERRNO */
    int seccomp_off;
    const char *allow[JL_MAX_SYSCALLS];
    size_t n_allow;
    struct jl_errno_rule errnos[JL_MAX_ERRNOS];
    size_t n_errnos;
    /* --socket-domains: socket(2) allowed for these address families only. */
    int socket_domains[8];
    size_t n_socket_domains;

    int verbose;
    int dry_run;
    char **exec_argv;         /* points into argv, NULL-terminated */
};

/* main.c: reporting. jl_fail never returns. */
void jl_fail(const char *step, const char *detail, int err) __attribute__((noreturn));
void jl_usage_fail(const char *detail, const char *value) __attribute__((noreturn));
void jl_warn(const char *step, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void jl_note(const struct jl_opts *o, const char *step, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int jl_parse_u64(const char *s, uint64_t max, uint64_t *out);

/* cgroup.c */
void jl_cgroup_join(const struct jl_opts *o);

/* rlimit.c */
int jl_rlimit_parse(const char *spec, struct jl_rlimit *out);
void jl_rlimit_apply(const struct jl_opts *o);

/* ns.c */
int jl_ns_parse(const char *list, int *flags);
void jl_ns_unshare(const struct jl_opts *o);

/* landlock.c */
void jl_landlock_apply(const struct jl_opts *o);
const char *jl_net_name(enum jl_net net);

/* caps.c */
int jl_caps_last(void);
void jl_nnp_set(const struct jl_opts *o);
void jl_user_and_caps(const struct jl_opts *o);

/* seccomp.c */
int jl_seccomp_parse_default(const char *s, struct jl_opts *o);
int jl_seccomp_parse_domains(const char *list, struct jl_opts *o);
const char *jl_seccomp_default_name(const struct jl_opts *o, char *buf, size_t len);
void jl_seccomp_load(const struct jl_opts *o);

#endif
