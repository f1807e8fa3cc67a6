/* The zcopy transport's wire format (docs/transport.md), for programs that speak it by hand:
 * the hostile-descriptor test does. A request is an endpoint call labelled TRANSPORT_OP_DATA
 * whose words 0 and 1 are the (offset, length) of the payload in the shared pool; the response
 * is the reply in the same form. */
#pragma once

#define ZCOPY_POOL_PAGES 16u
#define ZCOPY_POOL_BYTES (ZCOPY_POOL_PAGES * 4096u)
/* The client writes requests in [0, ZCOPY_AREA_BYTES), the server responses in
 * [ZCOPY_AREA_BYTES, ZCOPY_POOL_BYTES): neither ever reads what it is writing. */
#define ZCOPY_AREA_BYTES (ZCOPY_POOL_BYTES / 2)
#define ZCOPY_REQ_OFF    0u
#define ZCOPY_RESP_OFF   ZCOPY_AREA_BYTES
/* Payloads over ZCOPY_AREA_BYTES, up to this, travel as granted pages (TRANSPORT_OP_GRANT: word
 * 0 the length, one memory-object capability of exactly the pages the length needs). */
#define ZCOPY_GRANT_MAX (4u << 20)
