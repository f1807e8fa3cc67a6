/* The policy registry: a table of sched_ops pointers that each policy file drops into the
 * `sched_policies` section with SCHED_POLICY, so that adding a policy touches no other file. */
#include "sched.h"

#include "lib/kstring.h"

/* Weak so that a program linking no policy still links (the table is then empty). */
extern const struct sched_ops *const __start_sched_policies[] __attribute__((weak));
extern const struct sched_ops *const __stop_sched_policies[] __attribute__((weak));

static size_t policy_table(const struct sched_ops *const **table)
{
    if (!__start_sched_policies || !__stop_sched_policies) {
        *table = NULL;
        return 0;
    }
    *table = __start_sched_policies;
    return (size_t)(__stop_sched_policies - __start_sched_policies);
}

const struct sched_ops *sched_policy_find(const char *name)
{
    const struct sched_ops *const *table;
    size_t n = policy_table(&table);

    if (!name)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (table[i] && table[i]->name && strcmp(table[i]->name, name) == 0)
            return table[i];
    }
    return NULL;
}

/* Appends s to buf[*len..size), always leaving buf NUL-terminated; a name that does not fit is
 * cut rather than dropped so that a short buffer still shows that something was there. */
static void append(char *buf, size_t size, size_t *len, const char *s)
{
    while (*s && *len + 1 < size)
        buf[(*len)++] = *s++;
    buf[*len] = '\0';
}

const char *sched_policy_names(char *buf, size_t size)
{
    const struct sched_ops *const *table;
    size_t n = policy_table(&table), len = 0;
    const char *prev = NULL;

    if (!buf || size == 0)
        return buf;
    buf[0] = '\0';
    /* Sorted by name rather than in link order, so that boot logs and error messages read the
     * same whatever order the linker met the policy files in. The table is a handful of entries:
     * a repeated minimum search needs no scratch memory. Duplicate names are listed once. */
    for (;;) {
        const char *next = NULL;
        for (size_t i = 0; i < n; i++) {
            const char *name = table[i] ? table[i]->name : NULL;
            if (!name || (prev && strcmp(name, prev) <= 0))
                continue;
            if (!next || strcmp(name, next) < 0)
                next = name;
        }
        if (!next)
            break;
        if (prev)
            append(buf, size, &len, ", ");
        append(buf, size, &len, next);
        prev = next;
    }
    return buf;
}
