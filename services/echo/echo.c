/* echo: the service half of the echo workload. Spawned with an endpoint capability (its start
 * argument), it accepts one connection over whichever transport the client chose, answers each
 * request with its bytes transformed (echo_proto.h), and exits when the client closes.
 * Exit status:
 *   0  the client closed or went away (ERR_PIPE) after a clean exchange
 *   2  started without an endpoint capability
 *   3  transport_accept failed (printed)
 *   4  recv failed with anything but ERR_PIPE (printed)
 *   5  reply failed (printed) */
#include "echo_proto.h"
#include "transport.h"

static uint8_t buf[8192];

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
        long n = transport_recv(&t, buf, sizeof buf);
        if (n == ERR_PIPE)
            break;
        if (n < 0) {
            printf("echo: recv over %s: %s\n", t.ops->name, err_name((int)n));
            transport_close(&t);
            return 4;
        }
        for (long i = 0; i < n; i++)
            buf[i] = echo_transform(buf[i], (size_t)i);
        if ((err = transport_reply(&t, buf, (size_t)n))) {
            printf("echo: reply over %s: %s\n", t.ops->name, err_name(err));
            transport_close(&t);
            return 5;
        }
    }
    transport_close(&t);
    return 0;
}
