/* echo_client: the echo workload. Its argument string (`ipc=<transport>;ncpus=<n>;
 * requests=<count>;api=<inplace|copy>`, as the kernel hands it to the workloads it starts)
 * picks the transport; the program spawns the echo service on a new endpoint, connects, sends
 * `count` requests whose lengths and bytes derive from their sequence numbers (echo_proto.h),
 * checks every byte of every response, closes, and checks the service's exit status. `api`
 * (default inplace) picks the transport calls: in place, the request is written into the
 * transport's buffer and the response checked where it lies (over zcopy no byte is copied);
 * copy, through the program's own buffers. Nothing is timed.
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

/* The value of `key` in "k=v;k=v", up to the next ';' or the end; NULL when absent. */
static const char *arg_find(const char *args, const char *key)
{
    size_t klen = strlen(key);
    for (const char *p = args; p && *p; p++)
        if ((p == args || p[-1] == ';') && !strncmp(p, key, klen) && p[klen] == '=')
            return p + klen + 1;
    return NULL;
}

static uint64_t arg_u64(const char *args, const char *key, uint64_t dflt)
{
    const char *p = arg_find(args, key);
    if (!p)
        return dflt;
    uint64_t v = 0;
    for (; *p >= '0' && *p <= '9'; p++)
        v = v * 10 + (uint64_t)(*p - '0');
    return v;
}

static bool arg_is(const char *value, const char *want)
{
    size_t n = strlen(want);
    return !strncmp(value, want, n) && (value[n] == ';' || value[n] == '\0');
}

static int check(uint64_t n, size_t len, long got, const uint8_t *in)
{
    if (got != (long)len) {
        printf("echo_client: response %lu: length %ld, want %lu\n", (unsigned long)n, got,
               (unsigned long)len);
        return 4;
    }
    for (size_t i = 0; i < len; i++)
        if (in[i] != echo_transform(echo_request_byte(n, i), i)) {
            printf("echo_client: response %lu: byte %lu is %#x, want %#x\n", (unsigned long)n,
                   (unsigned long)i, in[i], echo_transform(echo_request_byte(n, i), i));
            return 4;
        }
    return 0;
}

/* One request through the in-place API: written into the transport's buffer, answered where
 * the response lies. */
static long call_in_place(struct transport *t, uint64_t n, size_t len, const uint8_t **in)
{
    void *out;
    int err = transport_buffer(t, len, &out);
    if (err)
        return err;
    uint8_t *o = out;
    for (size_t i = 0; i < len; i++)
        o[i] = echo_request_byte(n, i);
    const void *r = NULL;
    long got = transport_call_in_place(t, len, &r);
    *in = r;
    return got;
}

static long call_copy(struct transport *t, uint64_t n, size_t len, const uint8_t **in)
{
    for (size_t i = 0; i < len; i++)
        req[i] = echo_request_byte(n, i);
    *in = resp;
    return transport_call(t, req, len, resp, sizeof resp);
}

static int run(struct transport *t, uint64_t requests, bool in_place)
{
    size_t limit = in_place ? transport_max_in_place(t) : t->ops->max_payload;
    size_t max = limit < sizeof req ? limit : sizeof req;
    for (uint64_t n = 0; n < requests; n++) {
        size_t len = echo_request_len(n, max);
        const uint8_t *in = NULL;
        long got = in_place ? call_in_place(t, n, len, &in) : call_copy(t, n, len, &in);
        if (got < 0) {
            printf("echo_client: call %lu (%lu bytes) over %s: %s\n", (unsigned long)n,
                   (unsigned long)len, t->ops->name, err_name((int)got));
            return 3;
        }
        int bad = check(n, len, got, in);
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
    const char *api = arg_find(args, "api");
    if (api && !arg_is(api, "inplace") && !arg_is(api, "copy")) {
        printf("echo_client: api must be inplace or copy in '%s'\n", args);
        return 1;
    }
    bool in_place = !api || arg_is(api, "inplace");
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
        status = run(&t, requests, in_place);
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
    printf("echo_client: %lu requests over %s (%s, max payload %lu bytes), every byte verified\n",
           (unsigned long)requests, cfg.ops->name, in_place ? "in place" : "copied",
           (unsigned long)t.ops->max_payload);
    return 0;
}
