/* libsys: capability, notification, memory object and endpoint IPC stubs (included by sys.h).
 * The register assignment is docs/abi.md's "IPC" table; the tag, buffer and statistics layouts
 * are kernel/abi/ipc.h. Every stub returns the kernel's rax: >= 0 on success, a negative ERR_*. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "abi/cap.h"
#include "abi/ipc.h"
#include "abi/syscall.h"

typedef uint32_t cap_t;

/* A message as it sits in registers: the tag (ipc_tag()) and data words 0-6. */
struct ipc_msg {
    uint64_t tag;
    uint64_t w[IPC_REG_WORDS];
};

/* The one IPC trap. In: rax = nr, rdi = endpoint, rsi = tag, rdx r10 r8 r9 r12 r13 r14 =
 * words 0-6, r15 = timeout in ticks (read only with IPC_TIMEOUT in the tag). Out: rax = result;
 * when a message arrives, rsi = its tag and the seven word registers its words, and rdi its
 * badge (recv, reply_recv); every register the kernel does not deliver into is preserved. */
static inline long ipc_trap(long nr, cap_t ep, struct ipc_msg *m, uint64_t *badge,
                            uint64_t timeout)
{
    register uint64_t rdi __asm__("rdi") = ep;
    register uint64_t rsi __asm__("rsi") = m->tag;
    register uint64_t rdx __asm__("rdx") = m->w[0];
    register uint64_t r10 __asm__("r10") = m->w[1];
    register uint64_t r8 __asm__("r8") = m->w[2];
    register uint64_t r9 __asm__("r9") = m->w[3];
    register uint64_t r12 __asm__("r12") = m->w[4];
    register uint64_t r13 __asm__("r13") = m->w[5];
    register uint64_t r14 __asm__("r14") = m->w[6];
    register uint64_t r15 __asm__("r15") = timeout;
    long ret = nr;
    __asm__ volatile("syscall"
                     : "+a"(ret), "+r"(rdi), "+r"(rsi), "+r"(rdx), "+r"(r10), "+r"(r8),
                       "+r"(r9), "+r"(r12), "+r"(r13), "+r"(r14)
                     : "r"(r15)
                     : "rcx", "r11", "memory");
    m->tag = rsi;
    m->w[0] = rdx;
    m->w[1] = r10;
    m->w[2] = r8;
    m->w[3] = r9;
    m->w[4] = r12;
    m->w[5] = r13;
    m->w[6] = r14;
    if (badge)
        *badge = rdi;
    return ret;
}

/* Sends *m and waits for the reply, which replaces *m. */
static inline long ipc_call(cap_t ep, struct ipc_msg *m)
{
    return ipc_trap(SYS_CALL, ep, m, 0, 0);
}

/* The same, giving up after `ticks` in all (sending and waiting for the reply): ERR_TIMEDOUT. */
static inline long ipc_call_timeout(cap_t ep, struct ipc_msg *m, uint64_t ticks)
{
    m->tag |= IPC_TIMEOUT;
    return ipc_trap(SYS_CALL, ep, m, 0, ticks);
}

/* Sends *m; waits until a receiver takes it (IPC_NONBLOCK in the tag: ERR_AGAIN instead). */
static inline long ipc_send(cap_t ep, const struct ipc_msg *m)
{
    struct ipc_msg copy = *m;
    return ipc_trap(SYS_SEND, ep, &copy, 0, 0);
}

/* Waits for a message on ep; *badge: the badge of the capability it was sent through. flags:
 * 0, IPC_NONBLOCK, or IPC_TIMEOUT with `ticks`. */
static inline long ipc_recv(cap_t ep, struct ipc_msg *m, uint64_t *badge, uint64_t flags,
                            uint64_t ticks)
{
    *m = (struct ipc_msg){.tag = flags}; /* nothing is sent: no stale words in registers */
    return ipc_trap(SYS_RECV, ep, m, badge, ticks);
}

/* Replies *m to the thread whose call this thread received last, then waits on ep; the next
 * message replaces *m. Without a caller to reply to it only receives. */
static inline long ipc_reply_recv(cap_t ep, struct ipc_msg *m, uint64_t *badge)
{
    return ipc_trap(SYS_REPLY_RECV, ep, m, badge, 0);
}

/* Replies *m to the last caller; ERR_NOENT when there is none (or it gave up or died). */
static inline long ipc_reply(const struct ipc_msg *m)
{
    struct ipc_msg copy = *m;
    return ipc_trap(SYS_REPLY, 0, &copy, 0, 0);
}

static inline long sys_cap_derive(cap_t cap, unsigned rights, uint64_t badge)
{
    return sys_call3(SYS_CAP_DERIVE, cap, rights, (long)badge);
}

static inline long sys_cap_delete(cap_t cap)
{
    return sys_call1(SYS_CAP_DELETE, cap);
}

static inline long sys_cap_revoke(cap_t cap)
{
    return sys_call1(SYS_CAP_REVOKE, cap);
}

/* CAP_INFO(type, rights) for a live handle. */
static inline long sys_cap_info(cap_t cap)
{
    return sys_call1(SYS_CAP_INFO, cap);
}

static inline long sys_endpoint_create(void)
{
    return sys_call0(SYS_ENDPOINT_CREATE);
}

static inline long sys_notification_create(void)
{
    return sys_call0(SYS_NOTIFICATION_CREATE);
}

static inline long sys_signal(cap_t notification, uint64_t bits)
{
    return sys_call2(SYS_SIGNAL, notification, (long)bits);
}

/* The bits signalled since the last wait (and clears them); ticks: NOTIFY_POLL,
 * NOTIFY_FOREVER, or a bound (ERR_TIMEDOUT). */
static inline long sys_notify_wait(cap_t notification, uint64_t ticks)
{
    return sys_call2(SYS_NOTIFY_WAIT, notification, (long)ticks);
}

static inline long sys_ipc_buffer(struct ipc_buffer *buf)
{
    return sys_call1(SYS_IPC_BUFFER, (long)buf);
}

static inline long sys_ipc_ctl(cap_t control, unsigned op, uint64_t arg)
{
    return sys_call3(SYS_IPC_CTL, control, op, (long)arg);
}

/* Signals `bits` on the notification each time IRQ line `irq` fires. */
static inline long sys_irq_bind(cap_t control, unsigned irq, cap_t notification, uint64_t bits)
{
    return sys_call4(SYS_IRQ_BIND, control, irq, notification, (long)bits);
}

/* A memory object of `pages` zeroed pages charged to the caller's frame quota; a handle with
 * every right (docs/memory-objects.md). */
static inline long sys_memobj_create(size_t pages)
{
    return sys_call1(SYS_MEMOBJ_CREATE, (long)pages);
}

/* Maps the whole object at addr (page aligned) with prot, in the caller (pid 0) or in one of
 * its descendants. Needs MAP and READ on the capability, WRITE for PROT_WRITE, EXECUTE for
 * PROT_EXEC; the mapping can never be made more permissive than that (SYS_MEM_PROTECT). */
static inline long sys_memobj_map(cap_t obj, void *addr, unsigned prot, int pid)
{
    return sys_call4(SYS_MEMOBJ_MAP, obj, (long)addr, prot, pid);
}

/* The caller's anonymous pages [addr, addr + len) become a new memory object without a copy;
 * MEM_GRANT_MOVE unmaps them here, MEM_GRANT_SHARE keeps them mapped as the object's. Returns
 * a handle with every right, to send to another process (which maps it). */
static inline long sys_mem_grant(void *addr, size_t len, unsigned mode)
{
    return sys_call3(SYS_MEM_GRANT, (long)addr, (long)len, mode);
}
