/* Capability types and rights, shared by the kernel (kernel/cap/captable.h) and user space.
 * docs/capabilities.md has the rules. */
#pragma once

enum cap_type {
    CAP_TYPE_ANY = 0, /* lookups only: accept every type; no object has it */
    CAP_TYPE_THREAD,
    CAP_TYPE_ASPACE,
    CAP_TYPE_ENDPOINT,
    CAP_TYPE_NOTIFICATION,
    CAP_TYPE_MEMORY,
    CAP_TYPE_IRQ,
    CAP_TYPE_IOPORT,
    CAP_TYPE_CONTROL, /* kernel control: IRQ binding, IPC configuration; root processes only */
    CAP_TYPE_COUNT
};

#define CAP_RIGHT_SEND    (1u << 0)
#define CAP_RIGHT_RECEIVE (1u << 1)
#define CAP_RIGHT_GRANT   (1u << 2) /* on an endpoint: may carry capabilities in messages */
#define CAP_RIGHT_MAP     (1u << 3)
#define CAP_RIGHT_READ    (1u << 4)
#define CAP_RIGHT_WRITE   (1u << 5)
#define CAP_RIGHT_EXECUTE (1u << 6)
#define CAP_RIGHT_MANAGE  (1u << 7)
#define CAP_RIGHTS_ALL    0xFFu

/* SYS_CAP_INFO's result: the type in bits 0-7, the rights in bits 8-15. */
#define CAP_INFO(type, rights) ((long)(type) | ((long)(rights) << 8))
#define CAP_INFO_TYPE(info)    ((unsigned)(info)&0xFFu)
#define CAP_INFO_RIGHTS(info)  ((unsigned)((info) >> 8) & 0xFFu)

/* A process the kernel starts (not one spawned by another process) finds a control
 * capability at this handle (slot 0, generation 1); no other process has one unless it is
 * passed on. */
#define CAP_ROOT_CONTROL 0x10000u
