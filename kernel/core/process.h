/* Processes: an address space and, for now, one thread, started from a boot module. */
#pragma once
#include <stdint.h>

#include "mm/vmspace.h"

struct thread;

struct process {
    struct vmspace vs;
    struct thread *main;
    uint64_t entry, stack_top;
};

/* Loads the boot module named `name` (the basename of its path) into a new address space and
 * starts it at priority prio. Returns 0 or ERR_NOENT (no such module), ERR_INVAL (not a valid
 * program; the reason is printed), ERR_NOMEM. */
int process_spawn(const char *name, unsigned prio, struct process **out);
/* Waits for the process to end, frees everything it held and returns its exit status. */
int process_wait(struct process *p);
