/*
 * jalm-launch main: argument parsing, --help, --dry-run, and the ordered
 * confinement steps. See launch.h for the contract.
 *
 * File descriptors: the kernel passes 0-2 and the plugin socket on 3 and has
 * closed everything above; the launcher closes none of them, and every fd it
 * opens itself is O_CLOEXEC and closed again before execve.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "launch.h"

extern char **environ;

static const char usage_text[] =
    "Usage: jalm-launch [OPTIONS] -- EXECUTABLE [ARGS...]\n"
    "Confine this process, then execve EXECUTABLE with ARGS and the current environment.\n"
    "Order: cgroup, rlimit, unshare, no_new_privs, landlock, user+caps, seccomp, execve.\n"
    "  --cgroup DIR              join cgroup DIR (write 0 to DIR/cgroup.procs); repeatable\n"
    "  --rlimit NAME=SOFT[:HARD] nofile|nproc|as|core|fsize|cpu|memlock|stack|data; number or unlimited; repeatable\n"
    "  --unshare LIST            new namespaces, comma list of net,ipc,uts,mount (+user when not root)\n"
    "  --fs-ro PATH              Landlock: read, list and execute beneath PATH; repeatable\n"
    "  --fs-rw PATH              Landlock: every filesystem right beneath PATH; repeatable\n"
    "  --net MODE                Landlock TCP (ABI>=4): any (default), none, outbound (no bind), ports\n"
    "  --tcp-connect PORT        with --net ports: allow TCP connect to PORT; repeatable\n"
    "  --require-landlock        fail if Landlock is unavailable (default: warn and go on)\n"
    "  --landlock-off            apply no Landlock ruleset (for sandbox-off probes only)\n"
    "  --user UID:GID            switch to UID:GID (setgroups none, setresgid, setresuid)\n"
    "  --seccomp-default ACTION  kill-process (default), errno:N, log, or allow (needs --seccomp-off)\n"
    "  --seccomp-off             load no seccomp filter (for sandbox-off probes only)\n"
    "  --allow NAME              seccomp: allow syscall NAME (unknown names warn); repeatable\n"
    "  --errno NAME=N            seccomp: syscall NAME fails with errno N; repeatable\n"
    "  --socket-domains LIST     seccomp: socket(2) only for inet,inet6,netlink,unix; AF_UNIX gets EACCES unless listed, others kill\n"
    "  --dry-run                 print the plan, one line per step and argument, and exit 0\n"
    "  --verbose                 print one line per applied step to stderr\n"
    "  --help                    print this text and exit 0\n"
    "Always: no_new_privs, all capabilities dropped, execve and execveat allowed.\n"
    "Exit status: 126 a step failed, 127 execve failed, else the plugin's.\n";

/* ---- reporting ---------------------------------------------------------- */

void jl_fail(const char *step, const char *detail, int err)
{
    fprintf(stderr, "jalm-launch: %s: %s: %s\n", step, detail, strerror(err));
    _exit(JL_EXIT_STEP);
}

void jl_usage_fail(const char *detail, const char *value)
{
    char buf[JL_MAX_ARG + 128];
    snprintf(buf, sizeof buf, "%s%s%.200s", detail, value ? " " : "", value ? value : "");
    jl_fail("usage", buf, EINVAL);
}

static void vline(const char *step, const char *fmt, va_list ap)
{
    /* One fprintf per line: stderr is unbuffered, so build the line first to
     * keep it a single write(2) the kernel's log reader sees whole. */
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    fprintf(stderr, "jalm-launch: %s: %s\n", step, msg);
}

void jl_warn(const char *step, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vline(step, fmt, ap);
    va_end(ap);
}

void jl_note(const struct jl_opts *o, const char *step, const char *fmt, ...)
{
    va_list ap;
    if (!o->verbose)
        return;
    va_start(ap, fmt);
    vline(step, fmt, ap);
    va_end(ap);
}

/* Decimal only; rejects signs, junk and values above max. */
int jl_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (s == NULL || *s == '\0' || strlen(s) > 20)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        if (v > (max - (uint64_t)(*s - '0')) / 10)
            return -1;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return 0;
}

/* ---- parsing ------------------------------------------------------------ */

/* Appends to a bounded string list; the caller names the option for errors. */
static void push(const char **list, size_t *n, size_t max, const char *opt, const char *v)
{
    if (*n >= max)
        jl_usage_fail("too many", opt);
    list[(*n)++] = v;
}

static void parse_user(struct jl_opts *o, const char *v)
{
    uint64_t uid, gid;
    char ubuf[24];
    const char *colon = strchr(v, ':');
    size_t ulen = colon ? (size_t)(colon - v) : 0;
    if (colon == NULL || ulen == 0 || ulen >= sizeof ubuf)
        jl_usage_fail("--user wants UID:GID, got", v);
    memcpy(ubuf, v, ulen);
    ubuf[ulen] = '\0';
    /* (uid_t)-1 means "unchanged" to setresuid(2): refuse it. */
    if (jl_parse_u64(ubuf, 0xfffffffeULL, &uid) || jl_parse_u64(colon + 1, 0xfffffffeULL, &gid))
        jl_usage_fail("--user wants numeric UID:GID, got", v);
    o->has_user = 1;
    o->uid = (uid_t)uid;
    o->gid = (gid_t)gid;
}

static void parse_net(struct jl_opts *o, const char *v)
{
    if (strcmp(v, "any") == 0) o->net = JL_NET_ANY;
    else if (strcmp(v, "none") == 0) o->net = JL_NET_NONE;
    else if (strcmp(v, "outbound") == 0) o->net = JL_NET_OUTBOUND;
    else if (strcmp(v, "ports") == 0) o->net = JL_NET_PORTS;
    else jl_usage_fail("--net wants any|none|outbound|ports, got", v);
}

static void parse_port(struct jl_opts *o, const char *v)
{
    uint64_t port;
    if (jl_parse_u64(v, 65535, &port) || port == 0)
        jl_usage_fail("--tcp-connect wants a port 1-65535, got", v);
    if (o->n_ports >= JL_MAX_PORTS)
        jl_usage_fail("too many", "--tcp-connect");
    o->ports[o->n_ports++] = (uint16_t)port;
}

static void parse_errno_rule(struct jl_opts *o, char *v)
{
    uint64_t err;
    char *eq = strchr(v, '=');
    if (eq == NULL || eq == v || (size_t)(eq - v) > JL_MAX_NAME)
        jl_usage_fail("--errno wants NAME=N, got", v);
    /* errno values above 4095 are not errors to the C library (MAX_ERRNO). */
    if (jl_parse_u64(eq + 1, 4095, &err) || err == 0)
        jl_usage_fail("--errno wants N in 1-4095, got", v);
    if (o->n_errnos >= JL_MAX_ERRNOS)
        jl_usage_fail("too many", "--errno");
    *eq = '\0'; /* argv is ours to edit; NAME stays in place */
    o->errnos[o->n_errnos].name = v;
    o->errnos[o->n_errnos++].err = (int)err;
}

static void parse_rlimit(struct jl_opts *o, const char *v)
{
    if (o->n_rlimits >= JL_MAX_RLIMITS)
        jl_usage_fail("too many", "--rlimit");
    if (jl_rlimit_parse(v, &o->rlimits[o->n_rlimits]))
        jl_usage_fail("--rlimit wants NAME=SOFT[:HARD], got", v);
    o->n_rlimits++;
}

/* Options that take a value; returns 1 if opt was one of them. */
static int parse_valued(struct jl_opts *o, const char *opt, char *v)
{
    if (strcmp(opt, "--cgroup") == 0) push(o->cgroups, &o->n_cgroups, JL_MAX_CGROUPS, opt, v);
    else if (strcmp(opt, "--rlimit") == 0) parse_rlimit(o, v);
    else if (strcmp(opt, "--unshare") == 0) {
        if (jl_ns_parse(v, &o->unshare_flags))
            jl_usage_fail("--unshare wants a comma list of net,ipc,uts,mount, got", v);
        o->unshare_list = v;
    }
    else if (strcmp(opt, "--fs-ro") == 0) push(o->fs_ro, &o->n_fs_ro, JL_MAX_PATHS, opt, v);
    else if (strcmp(opt, "--fs-rw") == 0) push(o->fs_rw, &o->n_fs_rw, JL_MAX_PATHS, opt, v);
    else if (strcmp(opt, "--net") == 0) parse_net(o, v);
    else if (strcmp(opt, "--tcp-connect") == 0) parse_port(o, v);
    else if (strcmp(opt, "--user") == 0) parse_user(o, v);
    else if (strcmp(opt, "--seccomp-default") == 0) {
        if (jl_seccomp_parse_default(v, o))
            jl_usage_fail("--seccomp-default wants kill-process|errno:N|log|allow, got", v);
    }
    else if (strcmp(opt, "--allow") == 0) {
        if (strlen(v) > JL_MAX_NAME)
            jl_usage_fail("--allow name too long:", v);
        push(o->allow, &o->n_allow, JL_MAX_SYSCALLS, opt, v);
    }
    else if (strcmp(opt, "--errno") == 0) parse_errno_rule(o, v);
    else if (strcmp(opt, "--socket-domains") == 0) {
        if (jl_seccomp_parse_domains(v, o) != 0)
            jl_usage_fail("--socket-domains wants a list of inet,inet6,netlink,unix, got", v);
    }
    else return 0;
    return 1;
}

static int parse_flag(struct jl_opts *o, const char *opt)
{
    if (strcmp(opt, "--require-landlock") == 0) o->require_landlock = 1;
    else if (strcmp(opt, "--landlock-off") == 0) o->landlock_off = 1;
    else if (strcmp(opt, "--seccomp-off") == 0) o->seccomp_off = 1;
    else if (strcmp(opt, "--dry-run") == 0) o->dry_run = 1;
    else if (strcmp(opt, "--verbose") == 0) o->verbose = 1;
    else if (strcmp(opt, "--help") == 0) {
        fputs(usage_text, stdout);
        exit(0);
    }
    else return 0;
    return 1;
}

/* Cross-option rules, checked once everything is read. */
static void check_opts(const struct jl_opts *o)
{
    if (o->exec_argv == NULL || o->exec_argv[0] == NULL)
        jl_usage_fail("missing -- EXECUTABLE", NULL);
    if (o->n_ports > 0 && o->net != JL_NET_PORTS)
        jl_usage_fail("--tcp-connect needs", "--net ports");
    if (o->sc_default == JL_SC_ALLOW && !o->seccomp_off)
        jl_usage_fail("--seccomp-default allow needs", "--seccomp-off");
    if (o->landlock_off && o->require_landlock)
        jl_usage_fail("--landlock-off conflicts with", "--require-landlock");
    if (o->seccomp_off && o->sc_default != JL_SC_ALLOW)
        jl_usage_fail("--seccomp-off conflicts with a filtering", "--seccomp-default");
}

static void parse_args(struct jl_opts *o, int argc, char **argv)
{
    int i;
    for (i = 1; i < argc; i++) {
        const char *opt = argv[i];
        if (strcmp(opt, "--") == 0) {
            o->exec_argv = &argv[i + 1];
            break;
        }
        if (parse_flag(o, opt))
            continue;
        if (i + 1 >= argc)
            jl_usage_fail("missing value or unknown option", opt);
        if (strlen(argv[i + 1]) > JL_MAX_ARG)
            jl_usage_fail("value too long for", opt);
        if (!parse_valued(o, opt, argv[i + 1]))
            jl_usage_fail("unknown option", opt);
        i++;
    }
    check_opts(o);
}

/* ---- --dry-run ---------------------------------------------------------- */

static void plan_rlimits(const struct jl_opts *o)
{
    size_t i;
    for (i = 0; i < o->n_rlimits; i++) {
        const struct jl_rlimit *r = &o->rlimits[i];
        char s[24], h[24];
        if (r->soft == RLIM_INFINITY) snprintf(s, sizeof s, "unlimited");
        else snprintf(s, sizeof s, "%llu", (unsigned long long)r->soft);
        if (r->hard == RLIM_INFINITY) snprintf(h, sizeof h, "unlimited");
        else snprintf(h, sizeof h, "%llu", (unsigned long long)r->hard);
        printf("rlimit %s %s:%s\n", r->name, s, h);
    }
}

static void plan_landlock(const struct jl_opts *o)
{
    size_t i;
    if (o->landlock_off) {
        printf("landlock off\n");
        return;
    }
    printf("landlock require %s\n", o->require_landlock ? "yes" : "no (best effort)");
    for (i = 0; i < o->n_fs_ro; i++) printf("landlock fs-ro %s\n", o->fs_ro[i]);
    for (i = 0; i < o->n_fs_rw; i++) printf("landlock fs-rw %s\n", o->fs_rw[i]);
    printf("landlock net %s\n", jl_net_name(o->net));
    for (i = 0; i < o->n_ports; i++) printf("landlock tcp-connect %u\n", o->ports[i]);
    printf("landlock scope signal,abstract-unix-socket (abi>=6)\n");
}

static void plan_seccomp(const struct jl_opts *o)
{
    char buf[32];
    size_t i;
    if (o->seccomp_off) {
        printf("seccomp off\n");
        return;
    }
    printf("seccomp default %s\n", jl_seccomp_default_name(o, buf, sizeof buf));
    printf("seccomp allow execve (implicit)\nseccomp allow execveat (implicit)\n");
    for (i = 0; i < o->n_allow; i++) printf("seccomp allow %s\n", o->allow[i]);
    for (i = 0; i < o->n_errnos; i++)
        printf("seccomp errno %s=%d\n", o->errnos[i].name, o->errnos[i].err);
}

static void print_plan(const struct jl_opts *o)
{
    size_t i;
    for (i = 0; i < o->n_cgroups; i++) printf("cgroup %s\n", o->cgroups[i]);
    plan_rlimits(o);
    if (o->unshare_list)
        printf("unshare %s%s\n", o->unshare_list, geteuid() != 0 ? ",user (not root)" : "");
    printf("no_new_privs 1\n");
    plan_landlock(o);
    if (o->has_user) printf("user %u:%u\n", (unsigned)o->uid, (unsigned)o->gid);
    printf("caps drop all (ambient, bounding, effective, permitted, inheritable)\n");
    plan_seccomp(o);
    printf("exec %s", o->exec_argv[0]);
    for (i = 1; o->exec_argv[i]; i++) printf(" %s", o->exec_argv[i]);
    printf("\n");
}

/* ---- the steps ---------------------------------------------------------- */

/*
 * glibc's free() may give memory back with brk(2)/munmap(2). libseccomp frees
 * its BPF program right after loading it, when those syscalls may already be
 * forbidden. Never trim and never mmap for malloc (mallopt(3)), so the only
 * syscall after the filter is execve.
 */
static void malloc_setup(void)
{
    mallopt(M_TRIM_THRESHOLD, -1);
    mallopt(M_MMAP_MAX, 0);
}

static void exec_plugin(const struct jl_opts *o)
{
    execve(o->exec_argv[0], o->exec_argv, environ);
    /* Needs write and exit_group in the filter; every plugin allows both. */
    fprintf(stderr, "jalm-launch: exec: %s: %s\n", o->exec_argv[0], strerror(errno));
    _exit(JL_EXIT_EXEC);
}

int main(int argc, char **argv)
{
    struct jl_opts o;
    memset(&o, 0, sizeof o);
    o.sc_default = JL_SC_KILL; /* fail closed */
    parse_args(&o, argc, argv);
    if (o.dry_run) {
        print_plan(&o);
        return 0;
    }
    malloc_setup();
    o.cap_last = jl_caps_last();

    jl_cgroup_join(&o);     /* 1: first, so every later allocation is charged */
    jl_rlimit_apply(&o);    /* 2 */
    jl_ns_unshare(&o);      /* 3: needs privileges we drop below */
    jl_nnp_set(&o);         /* 4: Landlock and an unprivileged seccomp need it */
    jl_landlock_apply(&o);  /* 5 */
    jl_user_and_caps(&o);   /* 6 */
    jl_seccomp_load(&o);    /* 7: nothing but execve after this */
    exec_plugin(&o);        /* 8 */
    return JL_EXIT_EXEC;
}
