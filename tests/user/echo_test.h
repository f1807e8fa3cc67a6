/* Test programs that talk to the echo service (services/echo) through a transport. */
#pragma once
#include "ipc_test.h"
#include "transport.h"

/* Starts the echo service on a fresh endpoint (t->ep) and connects to it with cfg; returns the
 * service's pid, registered as a child to kill if the test fails. */
static long test_connect_echo(struct transport *t, const struct transport_config *cfg)
{
    EXPECT(cfg->ops != NULL, "the transport is registered");
    cap_t ep = (cap_t)EXPECT_OK(sys_endpoint_create(), "endpoint_create");
    long pid = EXPECT_OK(sys_spawn_cap("echo", PRIO_DEFAULT, ep), "spawn echo");
    test_add_child(pid);
    EXPECT_EQ(transport_connect(t, cfg, ep), 0, "connect to the echo service");
    return pid;
}
