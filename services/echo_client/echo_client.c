/* echo_client: the echo workload. Its argument string (`ipc=<transport>;ncpus=<n>;
 * requests=<count>`, as the kernel hands it to the workloads it starts) picks the transport;
 * the program spawns the echo service on a new endpoint, connects, sends `count` requests whose
 * lengths and bytes derive from their sequence numbers (echo_proto.h), checks every byte of
 * every response, closes, and checks the service's exit status. Nothing is timed.
 * Exit status:
 *   0  every response verified, the service ended with 0
 *   1  setup: bad arguments, no such transport, endpoint or spawn failed
 *   2  transport_connect failed
 *   3  a call failed
 *   4  a response had the wrong length or a wrong byte
 *   5  the service's exit status was not 0 */
#include "../echo/echo_proto.h"
#include "transport.h"

static uint8_t req[8192], resp[8192];

static uint64_t arg_u64(const char *args, const char *key, uint64_t dflt)
{
    size_t klen = strlen(key);
    for (const char *p = args; p && *p; p++) {
        if ((p == args || p[-1] == ';') && !strncmp(p, key, klen) && p[klen] == '=') {
            uint64_t v = 0;
            for (p += klen + 1; *p >= '0' && *p <= '9'; p++)
                v = v * 10 + (uint64_t)(*p - '0');
            return v;
        }
    }
    return dflt;
}

static int check(uint64_t n, size_t len, long got)
{
    if (got != (long)len) {
        printf("echo_client: response %lu: length %ld, want %lu\n", (unsigned long)n, got,
               (unsigned long)len);
        return 4;
    }
    for (size_t i = 0; i < len; i++)
        if (resp[i] != echo_transform(echo_request_byte(n, i), i)) {
            printf("echo_client: response %lu: byte %lu is %#x, want %#x\n", (unsigned long)n,
                   (unsigned long)i, resp[i], echo_transform(echo_request_byte(n, i), i));
            return 4;
        }
    return 0;
}

static int run(struct transport *t, uint64_t requests)
{
    size_t max = t->ops->max_payload < sizeof req ? t->ops->max_payload : sizeof req;
    for (uint64_t n = 0; n < requests; n++) {
        size_t len = echo_request_len(n, max);
        for (size_t i = 0; i < len; i++)
            req[i] = echo_request_byte(n, i);
        long got = transport_call(t, req, len, resp, sizeof resp);
        if (got < 0) {
            printf("echo_client: call %lu (%lu bytes) over %s: %s\n", (unsigned long)n,
                   (unsigned long)len, t->ops->name, err_name((int)got));
            return 3;
        }
        int bad = check(n, len, got);
        if (bad)
            return bad;
    }
    return 0;
}

int main(void)
{
    const char *args = (const char *)sys_start_arg;
    struct transport_config cfg;
    if (!args || transport_config_parse(args, &cfg)) {
        printf("echo_client: no transport in '%s'\n", args ? args : "");
        return 1;
    }
    uint64_t requests = arg_u64(args, "requests", 1000);
    long ep = sys_endpoint_create();
    long pid = ep < 0 ? ep : sys_spawn_cap("echo", PRIO_DEFAULT, (cap_t)ep);
    if (pid < 0) {
        printf("echo_client: endpoint or spawn: %s\n", err_name((int)pid));
        return 1;
    }
    struct transport t;
    int err = transport_connect(&t, &cfg, (cap_t)ep);
    int status = 2;
    if (err)
        printf("echo_client: connect over %s: %s\n", cfg.ops->name, err_name(err));
    else {
        status = run(&t, requests);
        transport_close(&t);
    }
    if (status) {
        sys_kill((int)pid);
        sys_wait((int)pid, NULL);
        return status;
    }
    int echo_status = -1;
    sys_wait((int)pid, &echo_status);
    sys_cap_delete((cap_t)ep);
    if (echo_status != 0) {
        printf("echo_client: echo ended with %d\n", echo_status);
        return 5;
    }
    printf("echo_client: %lu requests over %s (max payload %lu bytes), every byte verified\n",
           (unsigned long)requests, cfg.ops->name, (unsigned long)t.ops->max_payload);
    return 0;
}
