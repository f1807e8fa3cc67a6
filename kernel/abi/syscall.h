/* The system call ABI, shared by the kernel and user space (services/libsys). docs/abi.md has
 * the register assignment; this header is the single source of the numbers.
 *
 * syscall: rax = number, arguments in rdi, rsi, rdx, r10, r8, r9; result in rax (>= 0, or a
 * negative ERR_* code from kernel/lib/err.h). rcx and r11 are clobbered by the instruction;
 * every other register is preserved. */
#pragma once

enum sys_number {
    SYS_NULL = 0,          /* () -> 0; the cost of a round trip into the kernel */
    SYS_EXIT = 1,          /* (int status) -> does not return; ends the whole process */
    SYS_WRITE = 2,         /* (const char *buf, size_t len) -> len; to the console */
    SYS_YIELD = 3,         /* () -> 0 */
    SYS_SPAWN = 4,         /* (const char *module, size_t len, unsigned prio, cap) -> pid */
    SYS_WAIT = 5,          /* (int pid, int *status) -> pid; pid -1 = any child */
    SYS_KILL = 6,          /* (int pid) -> 0; only own descendants */
    SYS_GETPID = 7,        /* () -> pid */
    SYS_THREAD_CREATE = 8, /* (void (*entry)(uint64_t), void *stack_top, uint64_t arg) -> tid */
    SYS_THREAD_EXIT = 9,   /* (int status) -> does not return; the last thread ends the process */
    SYS_THREAD_JOIN = 10,  /* (int tid, int *status) -> 0 */
    SYS_SUSPEND = 11,      /* (int tid) -> 0; a thread of the caller's process */
    SYS_RESUME = 12,       /* (int tid) -> 0 */
    SYS_SET_PRIO = 13,     /* (int tid, unsigned prio) -> 0; tid 0 = the caller */
    SYS_MEM_MAP = 14,      /* (void *addr, size_t len, unsigned prot) -> 0; anonymous, zeroed */
    SYS_MEM_UNMAP = 15,    /* (void *addr, size_t len) -> 0 */
    SYS_MEM_PROTECT = 16,  /* (void *addr, size_t len, unsigned prot) -> 0 */
    SYS_SLEEP = 17,        /* (uint64_t ticks) -> 0; one tick = 1 ms */
    SYS_GETTID = 18,       /* () -> tid */
    SYS_PIN = 19,          /* (int on) -> the CPU index; pins the caller to its CPU, or unpins */

    /* Capabilities and kernel objects (kernel/abi/ipc.h has the rights, types and layouts). */
    SYS_CAP_DERIVE = 20,   /* (cap, rights, badge) -> new cap: a child with fewer rights */
    SYS_CAP_DELETE = 21,   /* (cap) -> 0 */
    SYS_CAP_REVOKE = 22,   /* (cap) -> how many derived capabilities were deleted */
    SYS_CAP_INFO = 23,     /* (cap) -> CAP_INFO(type, rights); for tests and debugging */
    SYS_ENDPOINT_CREATE = 24,     /* () -> cap with every right */
    SYS_NOTIFICATION_CREATE = 25, /* () -> cap with every right */
    SYS_SIGNAL = 26,       /* (notification cap, bits) -> 0; ORs bits in, wakes a waiter */
    SYS_NOTIFY_WAIT = 27,  /* (notification cap, timeout ticks) -> the bits, cleared */
    SYS_IPC_BUFFER = 28,   /* (struct ipc_buffer *buf) -> 0; the calling thread's; NULL: none */
    SYS_IPC_CTL = 29,      /* (control cap, op, arg) -> per IPC_CTL_* */
    SYS_IRQ_BIND = 30,     /* (control cap, irq line, notification cap, bits) -> 0 */

    /* Memory objects (docs/memory-objects.md): pages that several address spaces may map. */
    SYS_MEMOBJ_CREATE = 31, /* (size_t pages) -> cap with every right; zeroed frames charged
                               to the caller; 1..MEMOBJ_MAX_PAGES */
    SYS_MEMOBJ_MAP = 32,    /* (cap, void *addr, unsigned prot, int pid) -> 0; the whole object
                               at addr; pid 0: the caller, else a descendant; needs MAP and
                               READ, plus WRITE / EXECUTE for PROT_WRITE / PROT_EXEC */
    SYS_MEM_GRANT = 33,     /* (void *addr, size_t len, unsigned mode) -> cap with every right:
                               the caller's anonymous pages become the object's; MEM_GRANT_* */

    /* IPC on endpoints: the message travels in registers (docs/abi.md, "IPC"). Numbers from
     * SYS_IPC_FIRST on enter through the path that saves every user register. */
    SYS_IPC_FIRST = 48,
    SYS_CALL = 48,         /* send, then wait for the reply, atomically */
    SYS_REPLY_RECV = 49,   /* reply to the last caller (if any), then receive */
    SYS_RECV = 50,
    SYS_SEND = 51,
    SYS_REPLY = 52,
    SYS_COUNT
};

/* prot bits for SYS_MEM_MAP, SYS_MEM_PROTECT and SYS_MEMOBJ_MAP; W and X together are refused
 * (W^X). */
#define PROT_READ  1u
#define PROT_WRITE 2u
#define PROT_EXEC  4u

/* SYS_MEM_GRANT modes: the caller's pages become a memory object's, without a copy. MOVE
 * unmaps them from the caller (every CPU that may cache them is shot down); SHARE leaves them
 * mapped there, now as a mapping of the object. */
#define MEM_GRANT_MOVE  1u
#define MEM_GRANT_SHARE 2u

/* The largest memory object, in pages (256 MiB): SYS_MEMOBJ_CREATE and SYS_MEM_GRANT refuse
 * more with ERR_INVAL; below it the caller's frame quota decides (ERR_NOMEM). */
#define MEMOBJ_MAX_PAGES (1ul << 16)

/* User space: [USER_BASE, USER_TOP). Everything else belongs to the kernel. */
#define USER_BASE 0x0000000000001000ul
#define USER_TOP  0x00007ffffffff000ul

/* Exit status of a process killed by the kernel: USER_KILLED_BASE + the exception vector
 * (e.g. 14 for a page fault, 13 for a general protection fault). */
#define USER_KILLED_BASE 256
