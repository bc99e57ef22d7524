/*
 * Step 5: Landlock (landlock(7), landlock_create_ruleset(2),
 * landlock_add_rule(2), landlock_restrict_self(2)).
 *
 * Best effort by ABI: the ruleset handles every right the running kernel
 * knows, so anything not granted by a rule below is denied. Needs
 * no_new_privs (step 4) when not CAP_SYS_ADMIN.
 *
 * The installed <linux/landlock.h> may predate the running kernel (this one
 * has ABI 7), so the structs and constants are defined here and that header
 * is not included.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "launch.h"

#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#endif
#ifndef __NR_landlock_add_rule
#define __NR_landlock_add_rule 445
#endif
#ifndef __NR_landlock_restrict_self
#define __NR_landlock_restrict_self 446
#endif

#ifndef LANDLOCK_CREATE_RULESET_VERSION
#define LANDLOCK_CREATE_RULESET_VERSION (1U << 0)
#endif
/* ABI 1 */
#ifndef LANDLOCK_ACCESS_FS_EXECUTE
#define LANDLOCK_ACCESS_FS_EXECUTE (1ULL << 0)
#define LANDLOCK_ACCESS_FS_WRITE_FILE (1ULL << 1)
#define LANDLOCK_ACCESS_FS_READ_FILE (1ULL << 2)
#define LANDLOCK_ACCESS_FS_READ_DIR (1ULL << 3)
#define LANDLOCK_ACCESS_FS_MAKE_SYM (1ULL << 12)
#endif
/* ABI 2, 3, 5 */
#ifndef LANDLOCK_ACCESS_FS_REFER
#define LANDLOCK_ACCESS_FS_REFER (1ULL << 13)
#endif
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif
/* ABI 4 */
#ifndef LANDLOCK_ACCESS_NET_BIND_TCP
#define LANDLOCK_ACCESS_NET_BIND_TCP (1ULL << 0)
#define LANDLOCK_ACCESS_NET_CONNECT_TCP (1ULL << 1)
#endif
/* ABI 6 */
#ifndef LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET
#define LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define LANDLOCK_SCOPE_SIGNAL (1ULL << 1)
#endif

/* enum landlock_rule_type */
#define JL_RULE_PATH_BENEATH 1
#define JL_RULE_NET_PORT 2

/* The kernel accepts this full-size struct on older ABIs as long as the
 * fields it does not know are zero (copy_struct_from_user). */
struct jl_ruleset_attr {
    uint64_t handled_access_fs;
    uint64_t handled_access_net;
    uint64_t scoped;
};

struct jl_path_beneath_attr {
    uint64_t allowed_access;
    int32_t parent_fd;
} __attribute__((packed));

struct jl_net_port_attr {
    uint64_t allowed_access;
    uint64_t port;
};

#define RO_RIGHTS (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_READ_FILE | \
                   LANDLOCK_ACCESS_FS_READ_DIR)
/* The only rights a rule on a non-directory may carry (landlock_add_rule(2):
 * EINVAL otherwise). */
#define FILE_RIGHTS (LANDLOCK_ACCESS_FS_EXECUTE | LANDLOCK_ACCESS_FS_WRITE_FILE | \
                     LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_TRUNCATE | \
                     LANDLOCK_ACCESS_FS_IOCTL_DEV)

const char *jl_net_name(enum jl_net net)
{
    switch (net) {
    case JL_NET_NONE: return "none";
    case JL_NET_OUTBOUND: return "outbound";
    case JL_NET_PORTS: return "ports";
    default: return "any";
    }
}

/* Every filesystem right the ABI knows (landlock(7), "Filesystem flags"). */
static uint64_t fs_rights(int abi)
{
    uint64_t r = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1; /* ABI 1: bits 0-12 */
    if (abi >= 2) r |= LANDLOCK_ACCESS_FS_REFER;
    if (abi >= 3) r |= LANDLOCK_ACCESS_FS_TRUNCATE;
    if (abi >= 5) r |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
    return r;
}

static uint64_t net_rights(enum jl_net net, int abi)
{
    if (abi < 4) return 0;
    switch (net) {
    case JL_NET_OUTBOUND: return LANDLOCK_ACCESS_NET_BIND_TCP;
    case JL_NET_NONE:
    case JL_NET_PORTS: return LANDLOCK_ACCESS_NET_BIND_TCP | LANDLOCK_ACCESS_NET_CONNECT_TCP;
    default: return 0;
    }
}

/* Returns 1 if a rule was added, 0 if the path does not exist. */
static int add_path(int ruleset, const char *path, uint64_t rights)
{
    struct jl_path_beneath_attr pb;
    struct stat st;
    int fd = open(path, O_PATH | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT) {
        jl_warn("landlock", "skipping %s: %s", path, strerror(errno));
        return 0;
    }
    if (fd < 0 || fstat(fd, &st) != 0)
        jl_fail("landlock", path, errno);
    memset(&pb, 0, sizeof pb);
    pb.allowed_access = S_ISDIR(st.st_mode) ? rights : (rights & FILE_RIGHTS);
    pb.parent_fd = fd;
    if (syscall(__NR_landlock_add_rule, ruleset, JL_RULE_PATH_BENEATH, &pb, 0) != 0)
        jl_fail("landlock", path, errno);
    close(fd);
    return 1;
}

static size_t add_paths(int ruleset, const char *const *paths, size_t n, uint64_t rights)
{
    size_t i, added = 0;
    for (i = 0; i < n; i++)
        added += (size_t)add_path(ruleset, paths[i], rights);
    return added;
}

static void add_ports(const struct jl_opts *o, int ruleset)
{
    size_t i;
    for (i = 0; i < o->n_ports; i++) {
        struct jl_net_port_attr np = { LANDLOCK_ACCESS_NET_CONNECT_TCP, o->ports[i] };
        if (syscall(__NR_landlock_add_rule, ruleset, JL_RULE_NET_PORT, &np, 0) != 0)
            jl_fail("landlock", "tcp-connect rule", errno);
    }
}

/* ENOSYS: not built in; EOPNOTSUPP: built in but disabled at boot. */
static int landlock_abi(const struct jl_opts *o)
{
    long abi = syscall(__NR_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
    if (abi >= 1)
        return (int)abi;
    if (o->require_landlock)
        jl_fail("landlock", "unavailable (--require-landlock)", errno);
    jl_warn("landlock", "unavailable, not applied: %s", strerror(errno));
    return 0;
}

void jl_landlock_apply(const struct jl_opts *o)
{
    struct jl_ruleset_attr attr;
    size_t rules;
    int ruleset, abi;

    if (o->landlock_off) {
        jl_warn("landlock", "off (--landlock-off), no ruleset applied");
        return;
    }
    abi = landlock_abi(o);
    if (abi == 0)
        return;
    memset(&attr, 0, sizeof attr);
    attr.handled_access_fs = fs_rights(abi);
    attr.handled_access_net = net_rights(o->net, abi);
    if (abi >= 6)
        attr.scoped = LANDLOCK_SCOPE_SIGNAL | LANDLOCK_SCOPE_ABSTRACT_UNIX_SOCKET;
    if (abi < 4 && o->net != JL_NET_ANY)
        jl_warn("landlock", "abi %d has no TCP rules, --net %s not enforced by Landlock",
                abi, jl_net_name(o->net));
    ruleset = (int)syscall(__NR_landlock_create_ruleset, &attr, sizeof attr, 0);
    if (ruleset < 0)
        jl_fail("landlock", "create_ruleset", errno);
    rules = add_paths(ruleset, o->fs_ro, o->n_fs_ro, RO_RIGHTS);
    rules += add_paths(ruleset, o->fs_rw, o->n_fs_rw, attr.handled_access_fs);
    if (attr.handled_access_net & LANDLOCK_ACCESS_NET_CONNECT_TCP)
        add_ports(o, ruleset);
    if (syscall(__NR_landlock_restrict_self, ruleset, 0) != 0)
        jl_fail("landlock", "restrict_self", errno);
    close(ruleset);
    /* Scoping (abi >= 6) is always on and so not printed. */
    jl_note(o, "landlock", "abi %d, fs rules %zu, net %s", abi, rules,
            abi >= 4 ? jl_net_name(o->net) : "not enforced");
}
