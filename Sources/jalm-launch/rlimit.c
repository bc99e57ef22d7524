/*
 * Step 2: resource limits (setrlimit(2), getrlimit(2)).
 *
 * Applied before dropping privileges so a root kernel can raise a hard limit
 * where the policy asks; a non-root launcher can only lower them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "launch.h"

static const struct {
    const char *name;
    int resource;
} table[] = {
    { "nofile", RLIMIT_NOFILE }, { "nproc", RLIMIT_NPROC },   { "as", RLIMIT_AS },
    { "core", RLIMIT_CORE },     { "fsize", RLIMIT_FSIZE },   { "cpu", RLIMIT_CPU },
    { "memlock", RLIMIT_MEMLOCK }, { "stack", RLIMIT_STACK }, { "data", RLIMIT_DATA },
};

static int parse_value(const char *s, rlim_t *out)
{
    uint64_t v;
    if (strcmp(s, "unlimited") == 0) {
        *out = RLIM_INFINITY;
        return 0;
    }
    /* RLIM_INFINITY is ~0; a number must stay below it. */
    if (jl_parse_u64(s, (uint64_t)RLIM_INFINITY - 1, &v))
        return -1;
    *out = (rlim_t)v;
    return 0;
}

/* NAME=SOFT[:HARD]; HARD defaults to SOFT. */
int jl_rlimit_parse(const char *spec, struct jl_rlimit *out)
{
    char buf[JL_MAX_NAME * 2];
    const char *eq = strchr(spec, '=');
    char *colon;
    size_t i, nlen;

    if (eq == NULL || strlen(eq + 1) >= sizeof buf)
        return -1;
    nlen = (size_t)(eq - spec);
    for (i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strlen(table[i].name) == nlen && strncmp(table[i].name, spec, nlen) == 0)
            break;
    if (i == sizeof table / sizeof table[0])
        return -1;
    out->name = table[i].name;
    out->resource = table[i].resource;
    strcpy(buf, eq + 1);
    colon = strchr(buf, ':');
    if (colon)
        *colon = '\0';
    if (parse_value(buf, &out->soft))
        return -1;
    if (colon == NULL)
        out->hard = out->soft;
    else if (parse_value(colon + 1, &out->hard))
        return -1;
    if (out->hard != RLIM_INFINITY && (out->soft == RLIM_INFINITY || out->soft > out->hard))
        return -1;
    return 0;
}

static const char *fmt_value(rlim_t v, char *buf, size_t len)
{
    if (v == RLIM_INFINITY)
        return "unlimited";
    snprintf(buf, len, "%llu", (unsigned long long)v);
    return buf;
}

void jl_rlimit_apply(const struct jl_opts *o)
{
    size_t i;
    for (i = 0; i < o->n_rlimits; i++) {
        const struct jl_rlimit *r = &o->rlimits[i];
        struct rlimit rl = { .rlim_cur = r->soft, .rlim_max = r->hard };
        char s[24], h[24];
        if (setrlimit(r->resource, &rl) != 0)
            jl_fail("rlimit", r->name, errno);
        jl_note(o, "rlimit", "%s %s:%s", r->name, fmt_value(r->soft, s, sizeof s),
                fmt_value(r->hard, h, sizeof h));
    }
}
