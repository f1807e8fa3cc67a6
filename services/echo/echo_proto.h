/* The echo workload's payloads, shared by the service (services/echo) and its client
 * (services/echo_client). Request n's length and every byte derive from n, so the client can
 * check a response without keeping the request; the service answers with each byte mixed with
 * its position, so that a buffer the transport failed to overwrite (a stale request or
 * response) never passes for the answer. */
#pragma once
#include <stddef.h>
#include <stdint.h>

static inline uint64_t echo_mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    return x ^ (x >> 33);
}

/* Mostly short requests, as calls to a service are, with every 16th one anywhere up to max:
 * every length from 0 to max comes up, the word-boundary and slot-boundary ones included. */
static inline size_t echo_request_len(uint64_t n, size_t max)
{
    uint64_t h = echo_mix(n);
    size_t bound = n % 16 == 15 ? max : (max < 120 ? max : 120);
    return (size_t)(h % (bound + 1));
}

static inline uint8_t echo_request_byte(uint64_t n, size_t i)
{
    return (uint8_t)(echo_mix(n * 4099 + i / 8) >> (i % 8 * 8));
}

static inline uint8_t echo_transform(uint8_t b, size_t i)
{
    return (uint8_t)(b ^ (0x5a + i * 7));
}
