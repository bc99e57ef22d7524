/*
 * Step 7: the seccomp filter, built with libseccomp (seccomp(2),
 * seccomp_init(3), seccomp_rule_add(3), seccomp_load(3)).
 *
 * Loaded last, in this single-threaded process, so it covers the plugin's
 * first instruction and, being inherited across fork and execve, every
 * thread and child the plugin makes. No TSYNC is needed: there is one thread.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "launch.h"

int jl_seccomp_parse_default(const char *s, struct jl_opts *o)
{
    uint64_t n;
    if (strcmp(s, "kill-process") == 0) o->sc_default = JL_SC_KILL;
    else if (strcmp(s, "log") == 0) o->sc_default = JL_SC_LOG;
    else if (strcmp(s, "allow") == 0) o->sc_default = JL_SC_ALLOW;
    else if (strncmp(s, "errno:", 6) == 0 && jl_parse_u64(s + 6, 4095, &n) == 0 && n > 0) {
        o->sc_default = JL_SC_ERRNO;
        o->sc_errno = (int)n;
    }
    else return -1;
    return 0;
}

const char *jl_seccomp_default_name(const struct jl_opts *o, char *buf, size_t len)
{
    switch (o->sc_default) {
    case JL_SC_ERRNO: snprintf(buf, len, "errno:%d", o->sc_errno); return buf;
    case JL_SC_LOG: return "log";
    case JL_SC_ALLOW: return "allow";
    default: return "kill-process";
    }
}

static uint32_t default_action(const struct jl_opts *o)
{
    switch (o->sc_default) {
    case JL_SC_ERRNO: return SCMP_ACT_ERRNO((uint32_t)o->sc_errno);
    case JL_SC_LOG: return SCMP_ACT_LOG;
    default: return SCMP_ACT_KILL_PROCESS;
    }
}

/* Names differ across architectures (open vs openat only, ...), so an
 * unknown name is a warning: the policy may list both. Returns -1 then. */
static int resolve(const char *name)
{
    int nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_NATIVE, name);
    if (nr < 0)
        jl_warn("seccomp", "unknown syscall %s on this architecture, ignored", name);
    return nr < 0 ? -1 : nr;
}

/* -EACCES: the rule's action equals the default (seccomp_rule_add(3)),
 * which means the rule is already in force; not an error. */
static void add_rule(scmp_filter_ctx ctx, uint32_t action, const char *name)
{
    int rc, nr = resolve(name);
    if (nr < 0)
        return;
    rc = seccomp_rule_add(ctx, action, nr, 0);
    if (rc != 0 && rc != -EACCES)
        jl_fail("seccomp", name, -rc);
}

static int has_errno_rule(const struct jl_opts *o, const char *name)
{
    size_t i;
    for (i = 0; i < o->n_errnos; i++)
        if (strcmp(o->errnos[i].name, name) == 0)
            return 1;
    return 0;
}

int jl_seccomp_parse_domains(const char *list, struct jl_opts *o)
{
    char buf[128];
    char *save = NULL, *tok;
    if (strlen(list) >= sizeof buf)
        return -1;
    strcpy(buf, list);
    for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int d;
        if (strcmp(tok, "inet") == 0) d = AF_INET;
        else if (strcmp(tok, "inet6") == 0) d = AF_INET6;
        else if (strcmp(tok, "netlink") == 0) d = AF_NETLINK;
        else if (strcmp(tok, "unix") == 0) d = AF_UNIX;
        else return -1;
        if (o->n_socket_domains >= sizeof o->socket_domains / sizeof o->socket_domains[0])
            return -1;
        o->socket_domains[o->n_socket_domains++] = d;
    }
    return o->n_socket_domains > 0 ? 0 : -1;
}

/* socket(2) by address family: one ALLOW rule per listed family (libseccomp
 * cannot AND two conditions on one argument, so no "not in" rule). AF_UNIX,
 * when not listed, fails with EACCES rather than killing: glibc's syslog and
 * nscd lookups try it and fall back. Any other family meets the default action.
 * This is what keeps a network layer from connecting to the control socket,
 * which Landlock (ABI 7) does not mediate. */
static void add_socket_rules(const struct jl_opts *o, scmp_filter_ctx ctx)
{
    size_t i;
    int rc, unix_listed = 0;
    for (i = 0; i < o->n_socket_domains; i++) {
        rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
                              SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)o->socket_domains[i]));
        if (rc != 0)
            jl_fail("seccomp", "socket domain rule", -rc);
        if (o->socket_domains[i] == AF_UNIX)
            unix_listed = 1;
    }
    if (!unix_listed) {
        rc = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(socket), 1,
                              SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)AF_UNIX));
        if (rc != 0)
            jl_fail("seccomp", "socket AF_UNIX rule", -rc);
    }
}

static void add_rules(const struct jl_opts *o, scmp_filter_ctx ctx)
{
    size_t i;
    if (o->n_socket_domains > 0 && !has_errno_rule(o, "socket"))
        add_socket_rules(o, ctx);
    for (i = 0; i < o->n_errnos; i++)
        add_rule(ctx, SCMP_ACT_ERRNO((uint32_t)o->errnos[i].err), o->errnos[i].name);
    /* --errno wins over --allow for the same name: one action per syscall. */
    for (i = 0; i < o->n_allow; i++) {
        if (has_errno_rule(o, o->allow[i]))
            continue;
        /* With --socket-domains, socket is allowed per family above, not for all. */
        if (o->n_socket_domains > 0 && strcmp(o->allow[i], "socket") == 0)
            continue;
        add_rule(ctx, SCMP_ACT_ALLOW, o->allow[i]);
    }
    /* The launcher's own last syscall is execve; execveat too, for a policy
     * (or a plugin re-exec via fexecve) that needs it. Without these the
     * launcher would die in its own execve. */
    if (!has_errno_rule(o, "execve"))
        add_rule(ctx, SCMP_ACT_ALLOW, "execve");
    if (!has_errno_rule(o, "execveat"))
        add_rule(ctx, SCMP_ACT_ALLOW, "execveat");
}

static void set_attr(scmp_filter_ctx ctx, enum scmp_filter_attr attr, uint32_t value,
                     const char *what)
{
    int rc = seccomp_attr_set(ctx, attr, value);
    if (rc != 0)
        jl_fail("seccomp", what, -rc);
}

void jl_seccomp_load(const struct jl_opts *o)
{
    char buf[32];
    scmp_filter_ctx ctx;
    int rc;

    if (o->seccomp_off) {
        jl_warn("seccomp", "off (--seccomp-off), no filter loaded");
        return;
    }
    /* seccomp_init adds only the native architecture. */
    ctx = seccomp_init(default_action(o));
    if (ctx == NULL)
        jl_fail("seccomp", "seccomp_init", ENOMEM);
    /* no_new_privs is already set (step 4); do not let libseccomp set it. */
    set_attr(ctx, SCMP_FLTATR_CTL_NNP, 0, "SCMP_FLTATR_CTL_NNP");
    /* A syscall from another ABI (int 0x80 on x86_64) kills the process,
     * not just the thread as libseccomp's default would. */
    set_attr(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS, "SCMP_FLTATR_ACT_BADARCH");
    add_rules(o, ctx);
    /* Last output before the filter: after it, write(2) may be forbidden. */
    jl_note(o, "seccomp", "default %s, %zu allow, %zu errno, then exec %s",
            jl_seccomp_default_name(o, buf, sizeof buf), o->n_allow, o->n_errnos,
            o->exec_argv[0]);
    rc = seccomp_load(ctx);
    if (rc != 0)
        jl_fail("seccomp", "seccomp_load", -rc);
    /* No seccomp_release: freeing could need syscalls the filter forbids,
     * and execve follows at once. */
}
