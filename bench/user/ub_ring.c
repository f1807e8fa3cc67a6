#include "ub_ring.h"

#include "sys.h"
#include "ubench.h"

/* Room for two rings of UB_RING_MAX_SLOTS, mapped once: ub_map never gives memory back, and the
 * benchmark functions run many times. */
#define REGION_BYTES (2 * (320 + 64 * UB_RING_MAX_SLOTS))

static int sleep_on(long note)
{
    long r = sys_notify_wait((cap_t)note, NOTIFY_FOREVER);
    return r < 0 ? (int)r : 0;
}

/* The producer sleeps on its notification and wakes the consumer on the other; and conversely. */
static int prod_sleep(void *ctx)
{
    return sleep_on(((struct ub_ring *)ctx)->prod_note);
}

static void prod_notify(void *ctx)
{
    sys_signal((cap_t)((struct ub_ring *)ctx)->cons_note, 1);
}

static int cons_sleep(void *ctx)
{
    return sleep_on(((struct ub_ring *)ctx)->cons_note);
}

static void cons_notify(void *ctx)
{
    sys_signal((cap_t)((struct ub_ring *)ctx)->prod_note, 1);
}

bool ub_ring_open(struct lb_state *s, struct ub_ring *r, unsigned which, uint32_t slots,
                  uint32_t spin)
{
    static uint8_t *region;
    if (!region && !(region = ub_map(REGION_BYTES))) {
        lb_fail(s, "no memory for the rings");
        return false;
    }
    size_t bytes = spsc_ring_region_bytes(slots);
    void *at = region + which * (REGION_BYTES / 2);
    if (which > 1 || slots > UB_RING_MAX_SLOTS || !bytes || spsc_ring_init(at, bytes, slots) ||
        spsc_ring_producer_attach(&r->p, at, bytes) ||
        spsc_ring_consumer_attach(&r->c, at, bytes)) {
        lb_fail(s, ub_msg("cannot set up ring %u of %u slots", which, slots));
        return false;
    }
    r->prod_note = sys_notification_create();
    r->cons_note = r->prod_note < 0 ? r->prod_note : sys_notification_create();
    if (r->cons_note < 0) {
        if (r->prod_note >= 0)
            sys_cap_delete((cap_t)r->prod_note);
        lb_fail(s, ub_msg("sys_notification_create failed: %ld", r->cons_note));
        return false;
    }
    r->pw = (struct spsc_waiter){prod_sleep, prod_notify, r, spin};
    r->cw = (struct spsc_waiter){cons_sleep, cons_notify, r, spin};
    return true;
}

void ub_ring_close(struct ub_ring *r)
{
    sys_cap_delete((cap_t)r->prod_note);
    sys_cap_delete((cap_t)r->cons_note);
}

uint64_t ub_read_words(const void *p, size_t len)
{
    const uint64_t *w = p;
    uint64_t sum = 0;
    for (size_t i = 0; i < len / 8; i++)
        sum += w[i];
    return sum;
}
