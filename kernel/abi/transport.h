/* The user-level transports the `ipc=` boot option may name, shared by the kernel (which checks
 * the option and hands the choice to the workloads it starts) and libsys (whose registry holds
 * one implementation per name). docs/transport.md has the interface and the protocols. */
#pragma once

#define TRANSPORT_DEFAULT "fastpath"
/* Every name a libsys transport registers under, for the kernel's check of `ipc=`. */
#define TRANSPORT_NAMES   {"fastpath", "ring", "zcopy"}
#define TRANSPORT_NAME_MAX 16 /* bytes, the terminating NUL included */
