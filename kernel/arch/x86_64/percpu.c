#include "arch/x86_64/percpu.h"

#include <stddef.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/percpu_offsets.h"

_Static_assert(offsetof(struct percpu, self) == PERCPU_SELF, "percpu layout");
_Static_assert(offsetof(struct percpu, kernel_rsp) == PERCPU_KERNEL_RSP, "percpu layout");
_Static_assert(offsetof(struct percpu, user_rsp) == PERCPU_USER_RSP, "percpu layout");
_Static_assert(offsetof(struct percpu, current) == PERCPU_CURRENT, "percpu layout");
_Static_assert(offsetof(struct percpu, fault_armed) == PERCPU_FAULT_ARMED, "percpu layout");

struct percpu cpus[MAX_CPUS];
unsigned ncpus = 1;

void percpu_init(unsigned index)
{
    struct percpu *p = &cpus[index];
    p->self = p;
    p->index = index;
    p->rq_lock = (struct spinlock)SPINLOCK_INIT;
    wrmsr(MSR_GS_BASE, (uint64_t)p);
    wrmsr(MSR_KERNEL_GS, (uint64_t)p);
}
