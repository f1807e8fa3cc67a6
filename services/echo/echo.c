/* echo: the service half of the echo workload. Spawned with an endpoint capability (its start
 * argument), it accepts one connection over whichever transport the client chose, answers each
 * request with its bytes transformed (echo_proto.h), and exits when the client closes. It uses
 * the in-place API: it reads the request where the transport received it and writes the answer
 * straight into the transport's buffer, so over zcopy no byte is copied on the way.
 * Exit status:
 *   0  the client closed or went away (ERR_PIPE) after a clean exchange
 *   2  started without an endpoint capability
 *   3  transport_accept failed (printed)
 *   4  recv failed with anything but ERR_PIPE (printed)
 *   5  reply failed (printed) */
#include "echo_proto.h"
#include "transport.h"

int main(void)
{
    cap_t ep = (cap_t)sys_start_arg;
    if (!ep)
        return 2;
    struct transport t;
    int err = transport_accept(&t, ep);
    if (err) {
        printf("echo: accept: %s\n", err_name(err));
        return 3;
    }
    for (;;) {
        const void *req;
        void *out;
        long n = transport_recv_in_place(&t, &req);
        if (n == ERR_PIPE)
            break;
        if (n < 0) {
            printf("echo: recv over %s: %s\n", t.ops->name, err_name((int)n));
            transport_close(&t);
            return 4;
        }
        if (!(err = transport_buffer(&t, (size_t)n, &out))) {
            const uint8_t *in = req;
            uint8_t *o = out;
            for (long i = 0; i < n; i++)
                o[i] = echo_transform(in[i], (size_t)i);
            err = transport_reply_in_place(&t, (size_t)n);
        }
        if (err) {
            printf("echo: reply over %s: %s\n", t.ops->name, err_name(err));
            transport_close(&t);
            return 5;
        }
    }
    transport_close(&t);
    return 0;
}
