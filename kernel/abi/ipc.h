/* IPC on endpoints and notifications: the message tag, the per-thread IPC buffer and the
 * statistics layout, shared by the kernel and user space. docs/abi.md ("IPC") has the register
 * assignment; services/libsys/sys_ipc.h the stubs.
 *
 * A message is a tag plus up to IPC_MAX_WORDS data words. Words 0-6 travel in registers (the
 * whole 64-byte "FastMessage" never touches memory); words 7 and up, and capabilities, travel
 * through the sender's and the receiver's IPC buffers. */
#pragma once
#include <stdint.h>

#define IPC_REG_WORDS 7  /* data words carried in registers */
#define IPC_MAX_WORDS 64 /* data words in one message, registers included */
#define IPC_MAX_CAPS  4  /* capabilities in one message */

/* Tag layout (one 64-bit register, rsi):
 *   bits  0-6   len: data words, 0..IPC_MAX_WORDS
 *   bits  8-10  caps: capabilities to transfer, 0..IPC_MAX_CAPS (handles in ipc_buffer.caps)
 *   bit  12     IPC_NONBLOCK: fail with ERR_AGAIN instead of waiting for a partner
 *   bit  13     IPC_TIMEOUT: wait at most r15 ticks (1 ms each) in all; then ERR_TIMEDOUT
 *   bit  14     IPC_CAP_MOVE: move the capabilities instead of copying them
 *   bits 16-63  label: the sender's, delivered unchanged (a method number, say)
 * Other bits must be 0 (ERR_INVAL). The receiver's tag carries label, len and caps as
 * delivered, and no flags. */
#define IPC_TAG_LEN_MASK   0x7Full
#define IPC_TAG_CAPS_SHIFT 8
#define IPC_TAG_CAPS_MASK  (0x7ull << IPC_TAG_CAPS_SHIFT)
#define IPC_NONBLOCK       (1ull << 12)
#define IPC_TIMEOUT        (1ull << 13)
#define IPC_CAP_MOVE       (1ull << 14)
#define IPC_TAG_FLAGS      (IPC_NONBLOCK | IPC_TIMEOUT | IPC_CAP_MOVE)
#define IPC_TAG_LABEL_SHIFT 16
#define IPC_TAG_RESERVED   ((1ull << 7) | (1ull << 11) | (1ull << 15))

static inline uint64_t ipc_tag(uint64_t label, unsigned len, unsigned caps)
{
    return (label << IPC_TAG_LABEL_SHIFT) | ((uint64_t)caps << IPC_TAG_CAPS_SHIFT) | len;
}

static inline unsigned ipc_tag_len(uint64_t tag)
{
    return (unsigned)(tag & IPC_TAG_LEN_MASK);
}

static inline unsigned ipc_tag_caps(uint64_t tag)
{
    return (unsigned)((tag & IPC_TAG_CAPS_MASK) >> IPC_TAG_CAPS_SHIFT);
}

static inline uint64_t ipc_tag_label(uint64_t tag)
{
    return tag >> IPC_TAG_LABEL_SHIFT;
}

/* A thread's IPC buffer (SYS_IPC_BUFFER): 8-byte aligned and inside one page. The kernel reads
 * the sender's and writes the receiver's only while a message that needs it is transferred. */
struct ipc_buffer {
    uint64_t words[IPC_MAX_WORDS]; /* words[7..len-1]; words[0..6] are unused (registers) */
    uint32_t caps[IPC_MAX_CAPS];   /* sending: handles in the sender's table; receiving: the new
                                      handles in the receiver's */
};

/* SYS_NOTIFY_WAIT timeouts. */
#define NOTIFY_POLL    0ull          /* return ERR_AGAIN at once if no bit is set */
#define NOTIFY_FOREVER (~0ull)
/* Notification words are 63 bits wide, so that every result is a non-negative long. */
#define NOTIFY_BITS_MASK 0x7FFFFFFFFFFFFFFFull

/* SYS_IPC_CTL operations (the control capability is CAP_ROOT_CONTROL). */
#define IPC_CTL_FASTPATH 0 /* arg 0/1: turn the fast path off/on; returns the previous state */
#define IPC_CTL_STATS    1 /* arg: struct ipc_stats *, filled with the sums over every CPU */

/* Why a call or reply_recv left the fast path; counted per CPU. */
enum ipc_slow_reason {
    IPC_SLOW_DISABLED,   /* fastpath=off, or IPC_CTL_FASTPATH 0 */
    IPC_SLOW_MESSAGE,    /* long message, capabilities, or flags */
    IPC_SLOW_CAP,        /* the handle does not name an endpoint with the right (an error) */
    IPC_SLOW_NO_PARTNER, /* no receiver waiting (call); no caller to reply to (reply_recv) */
    IPC_SLOW_REMOTE,     /* the partner last ran on another CPU */
    IPC_SLOW_PARTNER,    /* the partner has a timeout, a pending kill or suspension */
    IPC_SLOW_QUEUED,     /* reply_recv: senders are already queued on the endpoint */
    IPC_SLOW_POLICY,     /* the scheduler declined the direct switch (higher priority runnable) */
    IPC_SLOW_REASONS
};

struct ipc_stats {
    uint64_t fast_call, fast_reply_recv;   /* calls and reply_recvs that took the fast path */
    uint64_t slow_call, slow_reply_recv;   /* ... and that did not */
    uint64_t slow_other;                   /* send, recv, reply: always the slow path */
    uint64_t slow_reason[IPC_SLOW_REASONS];
    uint64_t fastpath_enabled;
};
