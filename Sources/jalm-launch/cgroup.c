/*
 * Step 1: join the layer's cgroups.
 *
 * Writing "0" to cgroup.procs moves the writing process itself (cgroups(7),
 * "Creating cgroups and moving processes"; the same holds on v2), so the
 * plugin, which is this process after execve, starts inside its limits and
 * every child it forks stays there. On cgroup v1 the kernel passes one
 * directory per controller (memory, pids, cpu); on v2 one leaf.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "launch.h"

static void join_one(const struct jl_opts *o, const char *dir)
{
    char path[JL_MAX_ARG + 32];
    int fd;
    ssize_t n;

    if ((size_t)snprintf(path, sizeof path, "%s/cgroup.procs", dir) >= sizeof path)
        jl_fail("cgroup", dir, ENAMETOOLONG);
    fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        jl_fail("cgroup", path, errno);
    n = write(fd, "0\n", 2);
    if (n != 2) {
        int err = n < 0 ? errno : EIO;
        close(fd);
        jl_fail("cgroup", path, err);
    }
    close(fd);
    jl_note(o, "cgroup", "joined %s", dir);
}

void jl_cgroup_join(const struct jl_opts *o)
{
    size_t i;
    for (i = 0; i < o->n_cgroups; i++)
        join_one(o, o->cgroups[i]);
}
