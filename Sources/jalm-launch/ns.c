/*
 * Step 3: new namespaces (unshare(2), namespaces(7), user_namespaces(7)).
 *
 * Only net, ipc, uts and mount. A new PID namespace is not supported on
 * purpose: unshare(CLONE_NEWPID) does not move the caller, only its next
 * child (pid_namespaces(7)), so it would need a fork and a waiting parent
 * here, and the kernel would then see the launcher's pid, not the plugin's.
 *
 * Not root: CLONE_NEWUSER is added so an unprivileged launcher may create the
 * others, and its own uid/gid are mapped 1:1 so files keep their owners.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "launch.h"

static const struct {
    const char *name;
    int flag;
} table[] = {
    { "net", CLONE_NEWNET }, { "ipc", CLONE_NEWIPC },
    { "uts", CLONE_NEWUTS }, { "mount", CLONE_NEWNS },
};

static int lookup(const char *name, size_t len)
{
    size_t i;
    for (i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strlen(table[i].name) == len && strncmp(table[i].name, name, len) == 0)
            return table[i].flag;
    return 0;
}

int jl_ns_parse(const char *list, int *flags)
{
    const char *p = list;
    *flags = 0;
    while (*p) {
        size_t len = strcspn(p, ",");
        int f = lookup(p, len);
        if (f == 0)
            return -1;
        *flags |= f;
        p += len;
        if (*p == ',')
            p++;
    }
    return *flags == 0 ? -1 : 0;
}

static void write_file(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    size_t len = strlen(text);
    if (fd < 0)
        jl_fail("unshare", path, errno);
    if (write(fd, text, len) != (ssize_t)len) {
        int err = errno;
        close(fd);
        jl_fail("unshare", path, err);
    }
    close(fd);
}

/* user_namespaces(7): setgroups must be denied before an unprivileged
 * process may write gid_map. */
static void map_ids(uid_t uid, gid_t gid)
{
    char line[64];
    write_file("/proc/self/setgroups", "deny");
    snprintf(line, sizeof line, "%u %u 1\n", (unsigned)uid, (unsigned)uid);
    write_file("/proc/self/uid_map", line);
    snprintf(line, sizeof line, "%u %u 1\n", (unsigned)gid, (unsigned)gid);
    write_file("/proc/self/gid_map", line);
}

void jl_ns_unshare(const struct jl_opts *o)
{
    int flags = o->unshare_flags;
    uid_t uid = geteuid();
    gid_t gid = getegid();

    if (flags == 0)
        return;
    if (uid != 0)
        flags |= CLONE_NEWUSER;
    if (unshare(flags) != 0)
        jl_fail("unshare", o->unshare_list, errno);
    if (flags & CLONE_NEWUSER)
        map_ids(uid, gid);
    /* mount_namespaces(7): a new mount namespace still shares propagation
     * with the old one; make every mount private so nothing the plugin
     * mounts or unmounts leaks out and nothing from outside leaks in. */
    if ((flags & CLONE_NEWNS) && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0)
        jl_fail("unshare", "mount / MS_REC|MS_PRIVATE", errno);
    jl_note(o, "unshare", "%s%s", o->unshare_list, (flags & CLONE_NEWUSER) ? ",user" : "");
}
