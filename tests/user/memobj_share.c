/* memobj_share: memory objects and page grants between processes, end to end, with a
 * memobj_peer partner spawned on an endpoint (capabilities travel in IPC messages). The
 * kernel starts it with the argument "quota_pages=N" (its frame quota) for stage 8.
 * Expected exit status: 0.
 *   1  setup (endpoint, IPC buffer, spawning a peer, the argument)
 *   2  one object, three mappings in two processes: a copy of the capability sent to the peer,
 *      which maps it; each side reads what the other wrote, through every mapping; the
 *      mappings outlive our deleted capability
 *   3  read-only views: a capability derived with MAP | READ maps read-only and nothing more
 *      (PROT_WRITE, SYS_MEM_PROTECT to RW or RX: ERR_PERM), here and in the peer; the peer's
 *      write through it kills the peer (status 270) and the page is unchanged
 *   4  mapping into a descendant: the peer sees the object without ever holding a capability;
 *      ERR_EXIST over its mapping; ERR_PERM into ourselves by pid, into a parent (the peer
 *      into us) and into a sibling (a hog); ERR_NOENT for a pid nobody has; the hog, holding
 *      a mapping of the object, killed; both survivors' mappings intact
 *   5  grant MOVE, both ways: the granted pages leave the granter (we can map fresh zero pages
 *      there; the peer reading them is killed, status 270) and arrive with their contents;
 *      a moved handle is stale at the sender
 *   6  grant SHARE, both ways: both sides see each other's writes; the granter's mapping has
 *      every right as its ceiling; its pages cannot be granted again (ERR_INVAL)
 *   7  MEMOBJ_MAX_PAGES + 1 pages is ERR_INVAL, MEMOBJ_MAX_PAGES is over the quota (ERR_NOMEM)
 *   8  lifetime and quota: an object whose creator (the peer) has ended stays charged to us,
 *      its parent, so that a second object of 60% of the quota is refused; it still is after
 *      our last capability is deleted while the mapping remains; once unmapped the frames and
 *      the charge come back and such an object can be made (twice)
 *   9  the peers' exit */
#include "memobj_test.h"

static cap_t ep;
static struct ipc_buffer *buf;
static long peer;

static long spawn_peer(void)
{
    long pid = EXPECT_OK(sys_spawn_cap("memobj_peer", PRIO_DEFAULT, ep), "spawn memobj_peer");
    test_add_child(pid);
    return pid;
}

/* Sends request op with words w0-w3 (and buf->caps[0] when cap, moved when move) to the peer;
 * returns the reply's w0. The whole reply is left in *out when it is not NULL. */
static long request(uint64_t op, uint64_t w0, uint64_t w1, uint64_t w2, uint64_t w3, cap_t cap,
                    int move, struct ipc_msg *out)
{
    struct ipc_msg m = {.tag = ipc_tag(op, 4, cap ? 1 : 0) | (move ? IPC_CAP_MOVE : 0)};
    m.w[0] = w0;
    m.w[1] = w1;
    m.w[2] = w2;
    m.w[3] = w3;
    buf->caps[0] = cap;
    EXPECT_EQ(ipc_call(ep, &m), 0, "a request to the peer");
    EXPECT_EQ(ipc_tag_label(m.tag), op, "the reply's label");
    if (out)
        *out = m;
    return (long)m.w[0];
}

#define REQ(op, w0, w1, w2) request(op, (uint64_t)(w0), (uint64_t)(w1), (uint64_t)(w2), 0, 0, 0, 0)

/* A request meant to kill the peer: the call fails with ERR_PIPE (the server died owing the
 * reply) and the peer's status is the page fault's. A fresh peer takes its place. */
static void peer_killed_by(uint64_t op, void *addr, uint64_t value, const char *what)
{
    struct ipc_msg m = {.tag = ipc_tag(op, 2, 0)};
    m.w[0] = (uint64_t)addr;
    m.w[1] = value;
    EXPECT_EQ(ipc_call(ep, &m), ERR_PIPE, what);
    int status = -1;
    EXPECT_EQ(sys_wait((int)peer, &status), peer, "wait for the killed peer");
    EXPECT_EQ(status, USER_KILLED_BASE + 14, what);
    test_forget_child(peer);
    peer = spawn_peer();
}

static void peer_exit(long pid)
{
    int status = -1;
    EXPECT_EQ(REQ(MO_EXIT, 0, 0, 0), 0, "MO_EXIT");
    EXPECT_EQ(sys_wait((int)pid, &status), pid, "wait for the peer");
    EXPECT_EQ(status, 0, "the peer's exit status");
    test_forget_child(pid);
}

static void two_processes_one_object(void)
{
    test_stage = 2;
    cap_t obj = (cap_t)EXPECT_OK(sys_memobj_create(3), "memobj_create 3 pages");
    EXPECT_EQ(sys_cap_info(obj), CAP_INFO(CAP_TYPE_MEMORY, CAP_RIGHTS_ALL), "the new handle");
    EXPECT_EQ(sys_memobj_map(obj, MO_SLOT(0), RW, 0), 0, "map it here");
    EXPECT(mo_zero(MO_SLOT(0), 3), "a new object is zero");
    mo_fill(MO_SLOT(0), 3, 1);

    struct ipc_msg r;
    EXPECT_EQ(request(MO_MAP, (uint64_t)MO_SLOT(10), RW, 0, 0, obj, 0, &r), 0,
              "the peer maps a copy of our capability");
    EXPECT_EQ(r.w[1], CAP_INFO(CAP_TYPE_MEMORY, CAP_RIGHTS_ALL), "the peer's copy");
    EXPECT_EQ(REQ(MO_CHECK, MO_SLOT(10), 3, 1), 0, "the peer reads what we wrote");
    EXPECT_EQ(REQ(MO_FILL, MO_SLOT(10), 3, 2), 0, "the peer writes");
    EXPECT_EQ(mo_mismatches(MO_SLOT(0), 3, 2), 0, "we read what the peer wrote");

    EXPECT_EQ(sys_memobj_map(obj, MO_SLOT(1), RW, 0), 0, "a second mapping here");
    EXPECT_EQ(mo_mismatches(MO_SLOT(1), 3, 2), 0, "the second mapping is the same memory");
    mo_fill(MO_SLOT(1), 3, 3);
    EXPECT_EQ(mo_mismatches(MO_SLOT(0), 3, 3), 0,
              "a write through one mapping, read through the other");
    EXPECT_EQ(REQ(MO_CHECK, MO_SLOT(10), 3, 3), 0, "... and in the peer");

    EXPECT_EQ(sys_cap_delete(obj), 0, "delete our capability");
    EXPECT_EQ(mo_mismatches(MO_SLOT(0), 3, 3), 0, "our mappings outlive it");
    EXPECT_EQ(sys_mem_unmap(MO_SLOT(1) + PAGE_SIZE, PAGE_SIZE), 0, "unmap one page of one");
    EXPECT(mo_unmapped(MO_SLOT(1) + PAGE_SIZE, 1), "that page is gone");
    EXPECT_EQ(((volatile uint64_t *)MO_SLOT(1))[2 * PAGE_WORDS], mo_word(3, 2 * PAGE_WORDS),
              "the next page is still the object's third");
    EXPECT_EQ(sys_mem_unmap(MO_SLOT(1), 3 * PAGE_SIZE), 0, "unmap the rest of it");
    EXPECT_EQ(sys_mem_unmap(MO_SLOT(0), 3 * PAGE_SIZE), 0, "unmap the first mapping");
    EXPECT_EQ(REQ(MO_CHECK, MO_SLOT(10), 3, 3), 0, "the peer's mapping is untouched");
    EXPECT_EQ(REQ(MO_UNMAP, MO_SLOT(10), 3 * PAGE_SIZE, 0), 0, "the peer unmaps");
}

static void read_only_views(void)
{
    test_stage = 3;
    cap_t obj = (cap_t)EXPECT_OK(sys_memobj_create(1), "memobj_create");
    EXPECT_EQ(sys_memobj_map(obj, MO_SLOT(2), RW, 0), 0, "map it RW here");
    mo_fill(MO_SLOT(2), 1, 4);
    cap_t ro = (cap_t)EXPECT_OK(sys_cap_derive(obj, CAP_RIGHT_MAP | CAP_RIGHT_READ, 0),
                                "derive MAP | READ");
    EXPECT_EQ(sys_memobj_map(ro, MO_SLOT(3), RW, 0), ERR_PERM, "RW through a read-only cap");
    EXPECT_EQ(sys_memobj_map(ro, MO_SLOT(3), PROT_READ | PROT_EXEC, 0), ERR_PERM,
              "RX through a cap without EXECUTE");
    EXPECT(mo_unmapped(MO_SLOT(3), 1), "the refused maps left nothing");
    EXPECT_EQ(sys_memobj_map(ro, MO_SLOT(3), PROT_READ, 0), 0, "R through it");
    EXPECT_EQ(mo_mismatches(MO_SLOT(3), 1, 4), 0, "the read-only view reads the object");
    EXPECT_EQ(sys_mem_protect(MO_SLOT(3), PAGE_SIZE, RW), ERR_PERM, "protect it to RW");
    EXPECT_EQ(sys_mem_protect(MO_SLOT(3), PAGE_SIZE, PROT_READ | PROT_EXEC), ERR_PERM,
              "protect it to RX");
    EXPECT_EQ(sys_mem_protect(MO_SLOT(3), PAGE_SIZE, PROT_READ), 0, "protect it to R");
    /* A range across both mappings: the RW one may not change either when the RO one refuses. */
    EXPECT_EQ(sys_memobj_map(obj, MO_SLOT(3) - PAGE_SIZE, RW, 0), 0, "RW just below it");
    EXPECT_EQ(sys_mem_protect(MO_SLOT(3) - PAGE_SIZE, 2 * PAGE_SIZE, PROT_READ | PROT_EXEC),
              ERR_PERM, "protect both to RX");
    ((volatile uint64_t *)(MO_SLOT(3) - PAGE_SIZE))[7] = mo_word(4, 7);
    EXPECT_EQ(sys_mem_unmap(MO_SLOT(3) - PAGE_SIZE, 2 * PAGE_SIZE), 0, "unmap both");

    struct ipc_msg r;
    EXPECT_EQ(request(MO_MAP, (uint64_t)MO_SLOT(11), RW, 0, 0, ro, 0, &r), ERR_PERM,
              "the peer maps our read-only cap RW");
    EXPECT_EQ(r.w[1], CAP_INFO(CAP_TYPE_MEMORY, CAP_RIGHT_MAP | CAP_RIGHT_READ),
              "the peer's copy has our rights");
    EXPECT_EQ(request(MO_MAP, (uint64_t)MO_SLOT(11), PROT_READ, 0, 0, ro, 0, NULL), 0,
              "the peer maps it R");
    EXPECT_EQ(REQ(MO_CHECK, MO_SLOT(11), 1, 4), 0, "the peer reads it");
    EXPECT_EQ(REQ(MO_PROTECT, MO_SLOT(11), PAGE_SIZE, RW), ERR_PERM, "the peer protects it RW");
    EXPECT_EQ(REQ(MO_READ, MO_SLOT(11), 0, 0), (long)mo_word(4, 0), "and can still read it");
    peer_killed_by(MO_WRITE, MO_SLOT(11), 0x5eed, "the peer writes through its R mapping");
    EXPECT_EQ(mo_mismatches(MO_SLOT(2), 1, 4), 0, "the page is unchanged");
    EXPECT_EQ(sys_cap_delete(ro), 0, "delete the read-only cap");
    EXPECT_EQ(sys_cap_delete(obj), 0, "delete the object's cap");
    EXPECT_EQ(sys_mem_unmap(MO_SLOT(2), PAGE_SIZE), 0, "unmap it");
}

static void into_descendants(void)
{
    test_stage = 4;
    cap_t obj = (cap_t)EXPECT_OK(sys_memobj_create(2), "memobj_create");
    EXPECT_EQ(sys_memobj_map(obj, MO_SLOT(12), RW, (int)peer), 0, "map into the peer");
    EXPECT_EQ(sys_memobj_map(obj, MO_SLOT(12), RW, (int)peer), ERR_EXIST,
              "map into the peer over that mapping");
    EXPECT_EQ(sys_memobj_map(obj, MO_SLOT(4), RW, 0), 0, "map it here");
    mo_fill(MO_SLOT(4), 2, 5);
    EXPECT_EQ(REQ(MO_CHECK, MO_SLOT(12), 2, 5), 0, "the peer reads it without a capability");
    EXPECT_EQ(REQ(MO_FILL, MO_SLOT(12), 2, 6), 0, "and writes it");
    EXPECT_EQ(mo_mismatches(MO_SLOT(4), 2, 6), 0, "we read what the peer wrote");

    long self = sys_getpid();
    EXPECT_EQ(sys_memobj_map(obj, MO_SLOT(5), RW, (int)self), ERR_PERM,
              "map into ourselves by pid");
    EXPECT_EQ(sys_memobj_map(obj, MO_SLOT(5), RW, 0x7ffffff0), ERR_NOENT, "map into no process");
    EXPECT_EQ(sys_memobj_map(obj, MO_SLOT(5), RW, -5), ERR_NOENT, "map into pid -5");
    EXPECT(mo_unmapped(MO_SLOT(5), 2), "the refused maps left nothing");

    /* A sibling of the peer: hog spins until it is killed, so it is surely alive. */
    long sibling = EXPECT_OK(sys_spawn("hog", PRIO_MIN), "spawn hog");
    test_add_child(sibling);
    EXPECT_EQ(sys_memobj_map(obj, MO_SLOT(14), PROT_READ, (int)sibling), 0,
              "map into the sibling, our child");
    struct ipc_msg r;
    EXPECT_EQ(request(MO_MAP, (uint64_t)MO_SLOT(13), RW, 0, 0, obj, 0, &r), 0,
              "the peer maps a copy");
    cap_t theirs = (cap_t)r.w[2];
    EXPECT_EQ(request(MO_MAP_INTO, theirs, (uint64_t)MO_SLOT(5), RW, (uint64_t)self, 0, 0, NULL),
              ERR_PERM, "the peer maps into us, its parent");
    EXPECT_EQ(request(MO_MAP_INTO, theirs, (uint64_t)MO_SLOT(5), RW, (uint64_t)sibling, 0, 0, NULL),
              ERR_PERM, "the peer maps into its sibling");
    EXPECT(mo_unmapped(MO_SLOT(5), 2), "nothing was mapped into us");
    EXPECT_EQ(REQ(MO_UNMAP, MO_SLOT(13), 2 * PAGE_SIZE, 0), 0, "the peer unmaps its own map");

    /* The sibling ends with its mapping in place. */
    int status = -1;
    EXPECT_EQ(sys_kill((int)sibling), 0, "kill the sibling");
    EXPECT_EQ(sys_wait((int)sibling, &status), sibling, "wait for it");
    EXPECT_EQ(status, KILL_STATUS, "its status");
    test_forget_child(sibling);
    EXPECT_EQ(mo_mismatches(MO_SLOT(4), 2, 6), 0, "our mapping is untouched");
    EXPECT_EQ(REQ(MO_CHECK, MO_SLOT(12), 2, 6), 0, "and the peer's");
    EXPECT_EQ(sys_cap_delete(obj), 0, "delete the cap");
    EXPECT_EQ(sys_mem_unmap(MO_SLOT(4), 2 * PAGE_SIZE), 0, "unmap it");
}

static void grant_move(void)
{
    test_stage = 5;
    EXPECT_EQ(sys_mem_map(MO_SLOT(6), 4 * PAGE_SIZE, RW), 0, "map 4 anonymous pages");
    mo_fill(MO_SLOT(6), 4, 7);
    cap_t h = (cap_t)EXPECT_OK(sys_mem_grant(MO_SLOT(6), 4 * PAGE_SIZE, MEM_GRANT_MOVE),
                               "grant them, MOVE");
    EXPECT_EQ(sys_cap_info(h), CAP_INFO(CAP_TYPE_MEMORY, CAP_RIGHTS_ALL), "the grant's handle");
    EXPECT(mo_unmapped(MO_SLOT(6), 4), "the moved pages left our address space");
    EXPECT_EQ(request(MO_MAP, (uint64_t)MO_SLOT(15), RW, 0, 0, h, 1, NULL), 0,
              "the peer maps the handle we moved to it");
    EXPECT_EQ(sys_cap_info(h), ERR_STALE, "our handle after the move");
    EXPECT_EQ(REQ(MO_CHECK, MO_SLOT(15), 4, 7), 0, "the pages arrived with their contents");
    EXPECT_EQ(REQ(MO_UNMAP, MO_SLOT(15), 4 * PAGE_SIZE, 0), 0, "the peer unmaps them");

    struct ipc_msg r;
    EXPECT_EQ(request(MO_GRANT, (uint64_t)MO_SLOT(16), 3, MEM_GRANT_MOVE, 8, 0, 0, &r), 0,
              "the peer grants 3 pages to us, MOVE");
    EXPECT_EQ(ipc_tag_caps(r.tag), 1, "with a capability");
    cap_t got = buf->caps[0];
    EXPECT_EQ(sys_cap_info(got), CAP_INFO(CAP_TYPE_MEMORY, CAP_RIGHTS_ALL), "the granted handle");
    EXPECT_EQ(sys_memobj_map(got, MO_SLOT(7), RW, 0), 0, "map them here");
    EXPECT_EQ(mo_mismatches(MO_SLOT(7), 3, 8), 0, "they arrived with their contents");
    peer_killed_by(MO_READ, MO_SLOT(16), 0, "the peer reads a page it moved away");
    EXPECT_EQ(mo_mismatches(MO_SLOT(7), 3, 8), 0, "the pages outlive their granter");
    EXPECT_EQ(sys_cap_delete(got), 0, "delete the granted handle");
    EXPECT_EQ(sys_mem_unmap(MO_SLOT(7), 3 * PAGE_SIZE), 0, "unmap them");
}

static void grant_share(void)
{
    test_stage = 6;
    EXPECT_EQ(sys_mem_map(MO_SLOT(8), 2 * PAGE_SIZE, RW), 0, "map 2 anonymous pages");
    mo_fill(MO_SLOT(8), 2, 9);
    cap_t h = (cap_t)EXPECT_OK(sys_mem_grant(MO_SLOT(8), 2 * PAGE_SIZE, MEM_GRANT_SHARE),
                               "grant them, SHARE");
    EXPECT_EQ(mo_mismatches(MO_SLOT(8), 2, 9), 0, "the shared pages stay, unchanged");
    EXPECT_EQ(sys_mem_grant(MO_SLOT(8), 2 * PAGE_SIZE, MEM_GRANT_SHARE), ERR_INVAL,
              "grant them again");
    EXPECT_EQ(sys_mem_grant(MO_SLOT(8) + PAGE_SIZE, PAGE_SIZE, MEM_GRANT_MOVE), ERR_INVAL,
              "move one of them");
    EXPECT_EQ(request(MO_MAP, (uint64_t)MO_SLOT(17), RW, 0, 0, h, 0, NULL), 0,
              "the peer maps a copy of the handle");
    EXPECT_EQ(REQ(MO_CHECK, MO_SLOT(17), 2, 9), 0, "the peer reads our pages");
    EXPECT_EQ(REQ(MO_FILL, MO_SLOT(17), 2, 10), 0, "the peer writes them");
    EXPECT_EQ(mo_mismatches(MO_SLOT(8), 2, 10), 0, "we see the peer's writes");
    mo_fill(MO_SLOT(8), 2, 11);
    EXPECT_EQ(REQ(MO_CHECK, MO_SLOT(17), 2, 11), 0, "the peer sees ours");
    EXPECT_EQ(sys_mem_protect(MO_SLOT(8), 2 * PAGE_SIZE, PROT_READ), 0, "protect ours R");
    EXPECT_EQ(sys_mem_protect(MO_SLOT(8), 2 * PAGE_SIZE, RW), 0, "and RW again: every right");
    EXPECT_EQ(sys_mem_unmap(MO_SLOT(8), 2 * PAGE_SIZE), 0, "unmap ours");
    EXPECT_EQ(REQ(MO_CHECK, MO_SLOT(17), 2, 11), 0, "the peer keeps them");
    EXPECT_EQ(sys_cap_delete(h), 0, "delete our handle");
    EXPECT_EQ(REQ(MO_UNMAP, MO_SLOT(17), 2 * PAGE_SIZE, 0), 0, "the peer unmaps them");

    struct ipc_msg r;
    EXPECT_EQ(request(MO_GRANT, (uint64_t)MO_SLOT(18), 1, MEM_GRANT_SHARE, 12, 0, 0, &r), 0,
              "the peer grants a page to us, SHARE");
    cap_t got = buf->caps[0];
    EXPECT_EQ(sys_memobj_map(got, MO_SLOT(9), RW, 0), 0, "map it here");
    EXPECT_EQ(mo_mismatches(MO_SLOT(9), 1, 12), 0, "it arrived with its contents");
    mo_fill(MO_SLOT(9), 1, 13);
    EXPECT_EQ(REQ(MO_CHECK, MO_SLOT(18), 1, 13), 0, "the peer sees our writes");
    EXPECT_EQ(sys_cap_delete(got), 0, "delete the handle");
    EXPECT_EQ(sys_mem_unmap(MO_SLOT(9), PAGE_SIZE), 0, "unmap it");
}

static void too_large(void)
{
    test_stage = 7;
    EXPECT_EQ(sys_memobj_create(MEMOBJ_MAX_PAGES + 1), ERR_INVAL, "MEMOBJ_MAX_PAGES + 1 pages");
    EXPECT_EQ(sys_memobj_create(MEMOBJ_MAX_PAGES), ERR_NOMEM, "MEMOBJ_MAX_PAGES (over quota)");
}

static uint64_t quota_pages(void)
{
    const char *arg = (const char *)sys_start_arg;
    const char *key = "quota_pages=";
    EXPECT(arg && !strncmp(arg, key, strlen(key)), "started with quota_pages=N");
    uint64_t n = 0;
    for (const char *p = arg + strlen(key); *p >= '0' && *p <= '9'; p++)
        n = n * 10 + (uint64_t)(*p - '0');
    EXPECT(n >= 1024 && n * 6 / 10 <= 16384, "a quota this test can work with");
    return n;
}

static void lifetime_and_quota(uint64_t quota)
{
    test_stage = 8;
    uint64_t n = quota * 6 / 10;
    struct ipc_msg r;
    EXPECT_EQ(request(MO_CREATE, n, (uint64_t)MO_SLOT(19), 14, 0, 0, 0, &r), 0,
              "the peer creates an object of 60% of the quota");
    cap_t big = buf->caps[0];
    peer_exit(peer);
    peer = spawn_peer();
    EXPECT_EQ(sys_memobj_map(big, MO_SLOT(20), PROT_READ, 0), 0, "map the dead peer's object");
    EXPECT_EQ(mo_mismatches(MO_SLOT(20), n, 14), 0, "it kept what its creator wrote");
    EXPECT_EQ(sys_memobj_create(n), ERR_NOMEM, "another such object: its charge is ours now");
    EXPECT_EQ(sys_cap_delete(big), 0, "delete our only capability");
    EXPECT_EQ(mo_mismatches(MO_SLOT(20), 1, 14), 0, "the mapping keeps the object");
    EXPECT_EQ(sys_memobj_create(n), ERR_NOMEM, "still charged while mapped");
    EXPECT_EQ(sys_mem_unmap(MO_SLOT(20), n * PAGE_SIZE), 0, "unmap it");
    for (int i = 0; i < 2; i++) {
        cap_t again = (cap_t)EXPECT_OK(sys_memobj_create(n), "the charge came back");
        EXPECT_EQ(sys_cap_delete(again), 0, "delete it");
    }
}

int main(void)
{
    test_name = "memobj_share";
    test_stage = 1;
    uint64_t quota = quota_pages();
    buf = test_ipc_buffer(0);
    ep = (cap_t)EXPECT_OK(sys_endpoint_create(), "endpoint_create");
    peer = spawn_peer();

    two_processes_one_object();
    read_only_views();
    into_descendants();
    grant_move();
    grant_share();
    too_large();
    lifetime_and_quota(quota);

    test_stage = 9;
    peer_exit(peer);
    EXPECT_EQ(sys_cap_delete(ep), 0, "delete the endpoint");
    printf("memobj_share: shared, read-only, descendant, moved and shared pages all behave\n");
    return 0;
}
