/* libbench's internals shared between its files: the state of one lb_run_list, error messages,
 * and benchmark selection (select.c). Not for benchmarks or environments: use libbench.h. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libbench/json.h"
#include "libbench/libbench.h"

struct run {
    const struct lb_env *env;
    const struct lb_benchmark *const *list;
    size_t n;
    const char *filter; /* NULL when everything is selected */
    int errors;
    uint64_t hz, min_ticks, overhead;
    unsigned reps;
    struct lb_json j;
    bool first_entry;
};

/* One error: counted, cut at LB_ERROR_MAX and handed to env->error. */
void lb__report(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The usable benchmark following prev (r->n: start) in name order, or r->n past the last one. */
size_t lb__next_in_order(const struct run *r, size_t prev);
/* Whether the filter selects b. */
bool lb__selected(const struct run *r, const struct lb_benchmark *b);
/* Reports registrations without a name or function, and duplicate names (here or elsewhere). */
void lb__check_registry(struct run *r);
/* Reports filter elements that match no benchmark here or elsewhere (unless deferred). */
void lb__check_filter(struct run *r);
