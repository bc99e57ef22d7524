/*
 * Steps 4 and 6: no_new_privs, the service user, and dropping every
 * capability (prctl(2), capabilities(7), setresuid(2), setgroups(2)).
 *
 * PR_SET_DUMPABLE is left alone on purpose: dumpable 0 makes the files in /proc/PID
 * owned by root (proc(5)), and a non-root kernel could then no longer read
 * the plugin's /proc/PID/status to audit its confinement.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "launch.h"

/* Read before Landlock may hide /proc; falls back to the header's value. */
int jl_caps_last(void)
{
    char buf[16];
    ssize_t n;
    int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return CAP_LAST_CAP;
    n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return CAP_LAST_CAP;
    buf[n] = '\0';
    n = strtol(buf, NULL, 10);
    return (n > 0 && n < 64) ? (int)n : CAP_LAST_CAP;
}

/* Step 4. After this no execve can gain privileges (setuid bits and file
 * capabilities are ignored), which Landlock and seccomp both rely on. */
void jl_nnp_set(const struct jl_opts *o)
{
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        jl_fail("no_new_privs", "PR_SET_NO_NEW_PRIVS", errno);
    jl_note(o, "no_new_privs", "1");
}

static int have_setpcap(void)
{
    struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct d[2];
    memset(d, 0, sizeof d);
    if (syscall(SYS_capget, &h, d) != 0)
        return 0;
    return (d[0].effective >> CAP_SETPCAP) & 1;
}

/* PR_CAPBSET_DROP needs CAP_SETPCAP, so this runs before the user switch.
 * Without CAP_SETPCAP (a non-root launcher outside a user namespace) the
 * bounding set cannot shrink; with no_new_privs set, execve cannot gain
 * capabilities from it anyway (capabilities(7), file caps are ignored). */
static int drop_bounding(const struct jl_opts *o)
{
    int cap;
    if (!have_setpcap())
        return 0;
    for (cap = 0; cap <= o->cap_last; cap++) {
        if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) != 1)
            continue;
        if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0) {
            char detail[48];
            snprintf(detail, sizeof detail, "PR_CAPBSET_DROP %d", cap);
            jl_fail("caps", detail, errno);
        }
    }
    return 1;
}

static void switch_user(const struct jl_opts *o)
{
    char detail[64];
    snprintf(detail, sizeof detail, "%u:%u", (unsigned)o->uid, (unsigned)o->gid);
    /* Supplementary groups first: they would survive the uid change. */
    if (setgroups(0, NULL) != 0)
        jl_fail("user", "setgroups", errno);
    if (setresgid(o->gid, o->gid, o->gid) != 0)
        jl_fail("user", detail, errno);
    if (setresuid(o->uid, o->uid, o->uid) != 0)
        jl_fail("user", detail, errno);
    jl_note(o, "user", "%s", detail);
}

/* capset(2) with version 3: two 32-bit words per set, all zero. */
static void clear_sets(void)
{
    struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
    struct __user_cap_data_struct d[2];
    memset(d, 0, sizeof d);
    if (syscall(SYS_capset, &h, d) != 0)
        jl_fail("caps", "capset 0", errno);
}

/* Step 6. Order matters: ambient and bounding sets while CAP_SETPCAP is
 * still held, then the user switch (setgroups/setres*id need CAP_SETGID and
 * CAP_SETUID), then effective/permitted/inheritable. */
void jl_user_and_caps(const struct jl_opts *o)
{
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0)
        jl_fail("caps", "PR_CAP_AMBIENT_CLEAR_ALL", errno);
    int bounding = drop_bounding(o);
    if (o->has_user)
        switch_user(o);
    clear_sets();
    if (bounding)
        jl_note(o, "caps", "all dropped (ambient, bounding 0-%d, effective, permitted, "
                "inheritable)", o->cap_last);
    else
        jl_note(o, "caps", "dropped ambient, effective, permitted, inheritable; bounding set "
                "kept: no CAP_SETPCAP (no_new_privs keeps execve from using it)");
}
